"""The notification log: what was notified about each group, and what is still to deliver.

Alertmanager's ``nflog`` remembers, per receiver and group, which alerts were last
notified firing and when, so that a flush with nothing new sends nothing, a repeat waits
``repeat_interval``, and a restarted worker does not notify again what it notified before.
:class:`NotificationLog` does that here (one small entry per group, written when the group
is notified). :class:`Outbox` holds each notification until every integration of its
receiver has it, in order, and remembers recently delivered ones so that a replayed
notification is not sent twice.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from padit_stream.alerting.notification import Notification
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["NflogEntry", "NotificationLog", "Outbox", "OutboxEntry", "notified_mark"]

#: Keys of recently delivered entries remembered to drop a replayed duplicate.
_DELIVERED_MEMORY = 2048


def notified_mark(alert: Alert) -> str:
    """What identifies a firing alert as notified: its incident and its severity, so a
    new incident of the series or an escalation is a change worth notifying."""
    return f"{alert.alert_id}/{alert.severity}"


@dataclass(slots=True)
class NflogEntry:
    """What was last notified about one group."""

    #: fingerprint -> :func:`notified_mark` of each alert last notified as firing.
    firing: dict[str, str] = field(default_factory=dict)
    last_sent_at: float | None = None
    #: Notifications made for the group so far; part of their ids.
    seq: int = 0

    def encode(self) -> bytes:
        """JSON bytes (a table value)."""
        return orjson.dumps(
            {"firing": self.firing, "last_sent_at": self.last_sent_at, "seq": self.seq}
        )

    @classmethod
    def decode(cls, data: bytes) -> NflogEntry:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded entry.
        """
        try:
            obj = orjson.loads(data)
            last = obj["last_sent_at"]
            return cls(
                firing={str(k): str(v) for k, v in obj["firing"].items()},
                last_sent_at=None if last is None else float(last),
                seq=int(obj["seq"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DecodeError(f"not an encoded NflogEntry: {exc}") from exc


class NotificationLog:
    """Entries by group key (receiver and group); pure, time passed in.

    Example:
        >>> log = NotificationLog()
        >>> log.changed("g", {"fp": "id/warning"}, resolved=())
        True
        >>> log.record("g", {"fp": "id/warning"}, resolved=(), now=10.0).seq
        1
        >>> log.changed("g", {"fp": "id/warning"}, resolved=())
        False
        >>> log.repeat_due("g", now=100.0, repeat_interval=60.0)
        True
    """

    def __init__(self, entries: Mapping[str, NflogEntry] | None = None) -> None:
        self.entries: dict[str, NflogEntry] = dict(entries or {})

    def get(self, key: str) -> NflogEntry:
        """The entry of a group (empty if it was never notified)."""
        return self.entries.get(key) or NflogEntry()

    def notified(self, key: str, fp: str) -> bool:
        """Whether the alert ``fp`` was notified firing in the group ``key``."""
        entry = self.entries.get(key)
        return entry is not None and fp in entry.firing

    def changed(self, key: str, firing: Mapping[str, str], resolved: Iterable[str]) -> bool:
        """Whether notifying ``firing`` (fingerprint -> mark) and the ``resolved``
        fingerprints would tell the receiver anything new."""
        entry = self.get(key)
        if any(fp in entry.firing for fp in resolved):
            return True
        return any(entry.firing.get(fp) != mark for fp, mark in firing.items())

    def repeat_due(self, key: str, now: float, repeat_interval: float) -> bool:
        """Whether the last notification of the group is ``repeat_interval`` old."""
        last = self.get(key).last_sent_at
        return last is not None and now - last >= repeat_interval

    def record(
        self, key: str, firing: Mapping[str, str], resolved: Iterable[str], now: float
    ) -> NflogEntry:
        """Log a notification made at ``now``; returns the group's entry."""
        entry = self.entries.setdefault(key, NflogEntry())
        entry.seq += 1
        entry.last_sent_at = now
        entry.firing.update(firing)
        for fp in resolved:
            entry.firing.pop(fp, None)
        return entry

    def forget_alert(self, key: str, fp: str) -> None:
        """The alert left the group."""
        entry = self.entries.get(key)
        if entry is not None:
            entry.firing.pop(fp, None)

    def forget(self, key: str) -> None:
        """The group is gone."""
        self.entries.pop(key, None)


@dataclass(slots=True)
class OutboxEntry:
    """One notification waiting for one integration."""

    key: str
    integration: str
    notification: Notification
    enqueued_at: float
    next_attempt_at: float
    seq: int = 0
    parts_done: int = 0
    attempts: int = 0
    last_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "key": self.key,
            "integration": self.integration,
            "notification": self.notification.to_dict(),
            "enqueued_at": self.enqueued_at,
            "next_attempt_at": self.next_attempt_at,
            "seq": self.seq,
            "parts_done": self.parts_done,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> OutboxEntry:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**obj, "notification": Notification.from_dict(obj["notification"])})

    def encode(self) -> bytes:
        """JSON bytes (a table value)."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> OutboxEntry:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded entry.
        """
        try:
            return cls.from_dict(orjson.loads(data))
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise DecodeError(f"not an encoded OutboxEntry: {exc}") from exc


class Outbox:
    """Undelivered notifications by integration, in the order they were queued."""

    def __init__(self, entries: Iterable[OutboxEntry] = (), delivered: Iterable[str] = ()) -> None:
        self.entries: dict[str, OutboxEntry] = {e.key: e for e in entries}
        self.delivered: deque[str] = deque(delivered, maxlen=_DELIVERED_MEMORY)
        self._seq = max((e.seq for e in self.entries.values()), default=0)

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, entry: OutboxEntry) -> bool:
        """Queue an entry; ``False`` if it is queued or was delivered already, or if it
        is a repeat of a group that already waits in this integration's queue."""
        if entry.key in self.entries or entry.key in self.delivered:
            return False
        if entry.notification.repeat and any(
            e.notification.group_key == entry.notification.group_key
            for e in self.queue(entry.integration)
        ):
            return False
        self._seq += 1
        entry.seq = self._seq
        self.entries[entry.key] = entry
        return True

    def queue(self, integration: str) -> list[OutboxEntry]:
        """The entries of one integration, oldest first."""
        return sorted(
            (e for e in self.entries.values() if e.integration == integration),
            key=lambda e: e.seq,
        )

    def integrations(self) -> list[str]:
        """Integrations with queued entries."""
        return sorted({e.integration for e in self.entries.values()})

    def remove(self, key: str, delivered: bool) -> None:
        """Drop an entry, remembering it if it was delivered."""
        self.entries.pop(key, None)
        if delivered:
            self.delivered.append(key)

    def oldest(self, count: int) -> list[OutboxEntry]:
        """The ``count`` oldest entries of all integrations."""
        return sorted(self.entries.values(), key=lambda e: e.seq)[:count]

    def pending(self) -> dict[str, int]:
        """Queued entries per integration."""
        return dict(Counter(e.integration for e in self.entries.values()))

    def encode(self) -> bytes:
        """JSON bytes of the whole outbox."""
        return orjson.dumps(
            {
                "entries": [
                    e.to_dict() for e in sorted(self.entries.values(), key=lambda e: e.seq)
                ],
                "delivered": list(self.delivered),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> Outbox:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded outbox.
        """
        try:
            obj = orjson.loads(data)
            entries = [OutboxEntry.from_dict(e) for e in obj["entries"]]
            delivered = [str(k) for k in obj.get("delivered", [])]
        except (orjson.JSONDecodeError, KeyError, TypeError, DecodeError) as exc:
            raise DecodeError(f"not an encoded Outbox: {exc}") from exc
        return cls(entries, delivered)
