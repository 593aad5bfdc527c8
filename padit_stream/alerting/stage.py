"""The notification stage: silences, inhibition, grouping and delivery over stored rows.

It sees every alert (the stream feeds it from a one-partition topic) and keeps everything it
must not lose in rows of one table partition, each item in its own row so that a change
rewrites only what changed: a row per group, per alert of a group, per group's log entry,
per inhibiting alert, per silence, per undelivered notification and per integration's
delivery figures. No Faust import: the stream passes a row store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import orjson

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.dispatch import Dispatcher, GroupState, Row
from padit_stream.alerting.inhibit import Inhibitor
from padit_stream.alerting.mute import mute_alert
from padit_stream.alerting.nflog import NflogEntry, NotificationLog, Outbox, OutboxEntry
from padit_stream.alerting.notify.delivery import Delivery
from padit_stream.alerting.notify.stats import DeliveryStats
from padit_stream.alerting.silence import SILENCE_PREFIX, Silence, SilenceStore
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["NotificationStage", "RowStoreLike"]

logger = logging.getLogger(__name__)

PARTITION = 0
OUTBOX_PREFIX = b"outbox/"
#: Rows holding every group (and the inhibition state) or every silence in one document;
#: a store that has them is split into per-item rows when the stage loads it.
WHOLE_GROUPS_KEY = b"groups"
WHOLE_SILENCES_KEY = b"silences"


class RowStoreLike(Protocol):
    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]: ...

    def write(self, partition: int, rows: list[tuple[bytes, bytes | None]]) -> int: ...


class NotificationStage:
    """Loads its state from ``store`` on creation and writes every change back."""

    def __init__(
        self,
        config: AlertingConfig,
        store: RowStoreLike,
        clock: Callable[[], float] = time.time,
        delivery_factory: Callable[..., Delivery] = Delivery.from_config,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.lock = asyncio.Lock()
        rows = _split_whole_documents(store, store.items(PARTITION))
        self.silences = SilenceStore.from_rows(rows)
        self.inhibitor = Inhibitor.from_rows(config.inhibit_rules, rows)
        self.dispatcher = Dispatcher.from_rows(config, rows, self.mute)
        entries = [OutboxEntry.decode(v) for k, v in rows if k.startswith(OUTBOX_PREFIX)]
        if entries:
            logger.info("notification stage: %d undelivered notification(s) kept", len(entries))
        self._buffer: list[Row] | None = None
        self.delivery = delivery_factory(
            config,
            outbox=Outbox(entries),
            stats=DeliveryStats.from_rows(rows),
            on_change=self._outbox_changed,
        )

    def mute(self, alert: Alert, now: float) -> Alert:
        """The alert marked with what mutes it at ``now`` (see :func:`.mute.mute_alert`)."""
        return mute_alert(alert, now, self.silences, self.inhibitor)

    def _outbox_changed(self, key: str, entry: OutboxEntry | None) -> None:
        row = (OUTBOX_PREFIX + key.encode(), entry.encode() if entry is not None else None)
        if self._buffer is not None:
            self._buffer.append(row)
        else:
            self._write([row])

    def _write(self, rows: list[Row]) -> None:
        if rows:
            self.store.write(PARTITION, rows)

    async def on_alert(self, alert: Alert) -> Alert:
        """Mark the alert with what mutes it now and add it to its groups.

        Returns the record to publish (suppressed alerts are published too, marked).
        """
        async with self.lock:
            now = self.clock()
            marked = self.mute(alert, now)
            self.inhibitor.observe(alert)
            self.dispatcher.on_alert(marked, now)
            self._write(self.inhibitor.take_changes() + self.dispatcher.take_changes())
        return marked

    async def tick(self) -> int:
        """Send the notifications that are due, retry undelivered ones and forget silences
        past their retention; returns the notifications made."""
        async with self.lock:
            now = self.clock()
            forgotten = self.silences.gc(now, self.config.data_retention)
            if forgotten:
                logger.info("forgot %d silence(s) expired for over the retention", forgotten)
            due = self.dispatcher.due(now)
            # The groups' new state and the outbox entries made from it go in one write, so
            # a stop between the two can neither lose a notification nor make it twice.
            self._buffer = []
            try:
                for notification in due:
                    self.delivery.enqueue(notification)
            finally:
                rows, self._buffer = self._buffer, None
            self._write(
                [
                    *self.silences.take_changes(),
                    *self.dispatcher.take_changes(),
                    *rows,
                    *self.delivery.stats.take_changes(),
                ]
            )
        if self.delivery.outbox:
            await self.delivery.flush()
            self._write(self.delivery.stats.take_changes())
        return len(due)

    def create_silence(self, body: Mapping[str, Any]) -> Silence:
        """Raises ``SilenceError`` for an invalid body."""
        silence = self.silences.create(body, now=self.clock())
        self._write(self.silences.take_changes())
        return silence

    def list_silences(self) -> list[dict[str, Any]]:
        """Every silence kept (expired ones until the retention ends), API view."""
        now = self.clock()
        return [s.to_api(now) for s in self.silences.list(now)]

    def expire_silence(self, silence_id: str) -> Silence:
        """Raises ``SilenceNotFoundError`` for an unknown id."""
        silence = self.silences.expire(silence_id, now=self.clock())
        self._write(self.silences.take_changes())
        return silence

    def list_alerts(self) -> list[dict[str, Any]]:
        """The alerts in some group, as Alertmanager's API lists them, with their mute
        status now."""
        now = self.clock()
        return [self.mute(a, now).to_api() for a in self.dispatcher.alerts()]

    def delivery_stats(self) -> dict[str, Any]:
        """Delivery figures per integration, counted across restarts."""
        return self.delivery.stats.to_dict(self.delivery.outbox)

    async def close(self) -> None:
        await self.delivery.aclose()


def _split_whole_documents(
    store: RowStoreLike, rows: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """The stored rows, with whole-document rows replaced by per-item rows (also stored)."""
    out: list[tuple[bytes, bytes]] = []
    written: list[Row] = []
    for key, value in rows:
        if key == WHOLE_SILENCES_KEY:
            silences: list[Silence] = []
            try:
                silences = list(SilenceStore.decode(value).silences.values())
            except DecodeError:
                logger.exception("unreadable silences row: dropped")
            split: list[Row] = [
                (SILENCE_PREFIX + s.id.encode(), orjson.dumps(s.model_dump(mode="json")))
                for s in silences
            ]
        elif key == WHOLE_GROUPS_KEY:
            try:
                split = _split_groups(value)
            except (DecodeError, orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                logger.exception("unreadable groups row: dropped")
                split = []
        else:
            out.append((key, value))
            continue
        written += [*split, (key, None)]
        out += [(k, v) for k, v in split if v is not None]
    if written:
        store.write(PARTITION, written)
    return out


def _split_groups(value: bytes) -> list[Row]:
    obj = orjson.loads(value)
    groups: dict[str, GroupState] = {}
    entries: dict[str, NflogEntry] = {}
    for key, g in obj["groups"].items():
        group = GroupState.from_meta(g)
        group.alerts = {fp: Alert.from_dict(a) for fp, a in g["alerts"].items()}
        groups[key] = group
        entries[key] = NflogEntry(dict(g["notified"]), g["last_sent_at"], int(g["seq"]))
    dispatcher = Dispatcher(AlertingConfig(), None, groups, NotificationLog(entries))
    inhibitor = Inhibitor([], obj.get("inhibition") or {})
    return dispatcher.rows() + inhibitor.rows()
