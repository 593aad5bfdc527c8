"""The notification stage: silences, inhibition, grouping and delivery over stored rows.

It sees every alert (the stream feeds it from a one-partition topic) and keeps everything it
must not lose in rows of one table partition: the groups, the silences and one row per
undelivered notification. No Faust import: the stream passes a row store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.delivery import Dispatcher, Outbox, OutboxEntry
from padit_stream.alerting.grouping import Groups
from padit_stream.alerting.model import Alert
from padit_stream.alerting.muting import mark_muted
from padit_stream.alerting.silences import Silence, SilenceStore

__all__ = ["NotificationStage", "RowStoreLike"]

logger = logging.getLogger(__name__)

PARTITION = 0
GROUPS_KEY = b"groups"
SILENCES_KEY = b"silences"
OUTBOX_PREFIX = b"outbox/"


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
        dispatcher_factory: Callable[..., Dispatcher] = Dispatcher.from_config,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.lock = asyncio.Lock()
        raw = store.get(PARTITION, GROUPS_KEY)
        self.groups = Groups.decode(config, raw) if raw is not None else Groups(config)
        raw = store.get(PARTITION, SILENCES_KEY)
        self.silences = SilenceStore.decode(raw) if raw is not None else SilenceStore()
        entries = [OutboxEntry.decode(v) for _, v in store.items(PARTITION, OUTBOX_PREFIX)]
        if entries:
            logger.info("notification stage: %d undelivered notification(s) kept", len(entries))
        self.dispatcher = dispatcher_factory(
            config, outbox=Outbox(entries), on_change=self._outbox_changed
        )

    def _outbox_changed(self, key: str, entry: OutboxEntry | None) -> None:
        value = entry.encode() if entry is not None else None
        self.store.write(PARTITION, [(OUTBOX_PREFIX + key.encode(), value)])

    def _save_groups(self) -> None:
        self.store.write(PARTITION, [(GROUPS_KEY, self.groups.encode())])

    def _save_silences(self) -> None:
        self.store.write(PARTITION, [(SILENCES_KEY, self.silences.encode())])

    async def on_alert(self, alert: Alert) -> Alert:
        """Mark the alert with what mutes it now and add it to its groups.

        Returns the record to publish (silenced alerts are published too, marked).
        """
        async with self.lock:
            now = self.clock()
            marked = mark_muted(
                alert, now, self.silences, self.groups.inhibitor, self.groups.inhibition
            )
            self.groups.on_alert(marked, now)
            self._save_groups()
        return marked

    async def tick(self) -> int:
        """Send the notifications that are due, and retry undelivered ones; returns sent."""
        async with self.lock:
            due = self.groups.due(self.clock(), self.silences)
            if due:
                self._save_groups()
        for notification in due:
            await self.dispatcher.deliver(notification)
        if self.dispatcher.outbox:
            await self.dispatcher.flush()
        return len(due)

    def create_silence(self, body: Mapping[str, Any]) -> Silence:
        """Raises ``SilenceError`` for an invalid body."""
        silence = self.silences.create(body, now=self.clock())
        self._save_silences()
        return silence

    def list_silences(self) -> list[dict[str, Any]]:
        now = self.clock()
        return [s.to_api(now) for s in self.silences.list(now)]

    def expire_silence(self, silence_id: str) -> Silence:
        """Raises ``SilenceNotFoundError`` for an unknown id."""
        silence = self.silences.expire(silence_id, now=self.clock())
        self._save_silences()
        return silence

    def delivery_stats(self) -> dict[str, Any]:
        return self.dispatcher.stats.to_dict(self.dispatcher.outbox)

    async def close(self) -> None:
        await self.dispatcher.aclose()
