"""The stream's per-batch work, as plain functions over (records, state, emit).

Each stage is a callable ``stage(partition, records)`` built from its state (decoded-state
caches over row stores) and an :class:`Emit` (the batch sender in the stream; a list in the
unit tests). No Faust import: the agents in :mod:`padit_stream.agents` only adapt Faust to
these, and unit tests drive them without Kafka.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Emit", "internal_error"]

_MAX_ERROR_CHARS = 200


def internal_error(exc: BaseException) -> str:
    """Dead-letter reason for a bug hit by one record (bounded: never echoes the input)."""
    text = str(exc)
    if len(text) > _MAX_ERROR_CHARS:
        text = text[:_MAX_ERROR_CHARS] + "..."
    return f"internal error: {type(exc).__name__}: {text}"


class Emit(Protocol):
    """Where a stage's outputs go (:class:`padit_stream.sender.BatchSender` in the stream)."""

    def add(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one record (raises ``RecordTooLargeError`` when it cannot be sent)."""

    def dead_letter(
        self, record: Any, reason: str, stage: str, *, partition: int | None = None
    ) -> None:
        """Queue the dead letter of an input record (never raises)."""
