"""Delivery counters per integration, kept across restarts.

The stream job stores one row per integration (:meth:`DeliveryStats.take_changes`) in the
notification stage's table, so ``/alerts/delivery`` counts since the table was created, not
since the worker started.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from padit_stream.errors import DecodeError

__all__ = ["STATS_PREFIX", "DeliveryStats"]

STATS_PREFIX = b"stats\0"


class _Pending(Protocol):
    def pending(self) -> dict[str, int]: ...


@dataclass(slots=True)
class DeliveryStats:
    """Delivery outcomes per integration: ``sent`` (delivered entries), ``retried``
    (attempts after a failure), ``failed`` (entries dropped undelivered); ``pending``
    comes from the outbox.

    Example:
        >>> stats = DeliveryStats()
        >>> stats.count_sent("ops/webhook[0]", now=10.0)
        >>> restored = DeliveryStats.from_rows(stats.take_changes())
        >>> restored.to_dict()["sent"], stats.take_changes()
        (1, [])
    """

    sent: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, str] = field(default_factory=dict)
    last_sent_at: dict[str, float] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)

    def count_sent(self, integration: str, now: float) -> None:
        """One entry was delivered at ``now``."""
        self.sent[integration] += 1
        self.last_sent_at[integration] = now
        self._changed.add(integration)

    def count_retry(self, integration: str) -> None:
        """One more attempt after a failure."""
        self.retried[integration] += 1
        self._changed.add(integration)

    def count_failed(self, integration: str, reason: str) -> None:
        """One entry was dropped undelivered."""
        self.failed[integration] += 1
        self.last_error[integration] = reason
        self._changed.add(integration)

    def note_error(self, integration: str, error: str) -> None:
        """The last error of an integration."""
        self.last_error[integration] = error
        self._changed.add(integration)

    def to_dict(self, outbox: _Pending | None = None) -> dict[str, Any]:
        """Totals and per-integration figures, JSON-ready."""
        pending = outbox.pending() if outbox is not None else {}
        names = sorted(set(self.sent) | set(self.retried) | set(self.failed) | set(pending))
        per = {
            n: {
                "sent": self.sent[n],
                "retried": self.retried[n],
                "failed": self.failed[n],
                "pending": pending.get(n, 0),
                "last_error": self.last_error.get(n, ""),
                "last_sent_at": self.last_sent_at.get(n),
            }
            for n in names
        }
        return {
            "sent": sum(self.sent.values()),
            "retried": sum(self.retried.values()),
            "failed": sum(self.failed.values()),
            "pending": sum(pending.values()),
            "integrations": per,
        }

    def _row(self, name: str) -> bytes:
        return orjson.dumps(
            {
                "sent": self.sent[name],
                "retried": self.retried[name],
                "failed": self.failed[name],
                "last_error": self.last_error.get(name, ""),
                "last_sent_at": self.last_sent_at.get(name),
            }
        )

    def take_changes(self) -> list[tuple[bytes, bytes | None]]:
        """Rows of the integrations whose figures changed since the last call."""
        rows: list[tuple[bytes, bytes | None]] = [
            (STATS_PREFIX + name.encode(), self._row(name)) for name in sorted(self._changed)
        ]
        self._changed.clear()
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[bytes, bytes | None]]) -> DeliveryStats:
        """Rebuild from stored rows; rows of other prefixes are ignored.

        Raises:
            DecodeError: a row is not an integration's figures.
        """
        stats = cls()
        for key, value in rows:
            if not key.startswith(STATS_PREFIX) or value is None:
                continue
            name = key[len(STATS_PREFIX) :].decode()
            try:
                obj = orjson.loads(value)
                stats.sent[name] = int(obj["sent"])
                stats.retried[name] = int(obj["retried"])
                stats.failed[name] = int(obj["failed"])
                if obj["last_error"]:
                    stats.last_error[name] = str(obj["last_error"])
                if obj["last_sent_at"] is not None:
                    stats.last_sent_at[name] = float(obj["last_sent_at"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise DecodeError(f"not encoded delivery figures of {name!r}: {exc}") from exc
        return stats
