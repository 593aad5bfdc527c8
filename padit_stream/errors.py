"""The error hierarchy: every error PADIT raises derives from :class:`PaditError`."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DecodeError",
    "LateSampleError",
    "PaditError",
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
