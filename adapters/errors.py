"""Errors of the adapters: configuration problems stop start-up, probe failures become data."""

from __future__ import annotations

from typing import Literal

from padit_stream.errors import ConfigError, PaditError

__all__ = [
    "AdapterConfigError",
    "AdapterError",
    "ErrorKind",
    "ProbeError",
]

#: What went wrong in a probe, as the ``error`` label of the ``up`` metric.
ErrorKind = Literal[
    "timeout", "refused", "dns", "tls", "protocol", "auth", "permission", "unreachable", "internal"
]


class AdapterError(PaditError):
    """Root of the adapter errors."""


class AdapterConfigError(ConfigError, AdapterError):
    """The adapters' YAML (or an adapter's endpoint section) is invalid.

    The message names the file, the adapter, the endpoint (index and id) and the key.
    """


class ProbeError(AdapterError):
    """A probe failed in a way the adapter already classified.

    Args:
        kind: the ``error`` label value.
        message: a human-readable detail for the log.
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message
