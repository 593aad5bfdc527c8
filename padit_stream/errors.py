"""The error hierarchy: every error PADIT raises derives from :class:`PaditError`."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DecodeError",
    "LateSampleError",
    "PaditError",
    "RecordTooLargeError",
    "StreamStalledError",
]


class PaditError(Exception):
    """Root of all PADIT errors."""


class ConfigError(PaditError):
    """A configuration file or environment value is invalid.

    The message names the file, the key and what was expected.
    """


class DecodeError(PaditError):
    """A record on a topic is not valid; ``reason`` says why, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LateSampleError(PaditError):
    """A sample arrived later than the allowed lateness of its window."""


class RecordTooLargeError(PaditError):
    """An output record does not fit a producer batch; its input goes to the dead letters."""

    def __init__(self, topic: str, size: int) -> None:
        super().__init__(f"a {size}-byte record for {topic} does not fit a producer batch")
        self.topic = topic
        self.size = size


class StreamStalledError(PaditError):
    """Every record of a batch failed on its own: the fault is not in the records.

    The worker stops (and its supervisor restarts it) rather than dead-letter good input.
    """
