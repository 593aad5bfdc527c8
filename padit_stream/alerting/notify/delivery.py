"""Delivery of notifications to integrations, with retries and exponential backoff
(Alertmanager's ``notify`` retry stage), over the outbox of
:mod:`padit_stream.alerting.nflog`.

Each integration (``receiver/kind[i]``) has its own ordered queue: a notification is
sent only after every earlier one of that integration, so a receiver that was down gets
the firing before the resolved, each once. A notification with several messages
(PagerDuty: one event per alert) records how many were sent, so a retry resumes after
them. The stream job stores outbox entries in a table through the ``on_change`` hook and
the counters through :meth:`DeliveryStats.take_changes`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from padit_stream.alerting.config import AlertingConfig, DeliveryConfig
from padit_stream.alerting.nflog import Outbox, OutboxEntry
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import DeliveryError, Notifier
from padit_stream.alerting.notify.integrations import build_notifiers
from padit_stream.alerting.notify.stats import DeliveryStats

__all__ = ["Delivery", "OnChange"]

logger = logging.getLogger(__name__)


#: Called with an entry's key and the entry (``None`` once it left the outbox).
OnChange = Callable[[str, OutboxEntry | None], None]


class Delivery:
    """Sends notifications to their receivers' integrations, with retries and an outbox.

    ``clock`` (wall time) and ``sleep`` are injectable so that tests need not wait.
    """

    def __init__(
        self,
        delivery: DeliveryConfig,
        notifiers: Mapping[str, Sequence[Notifier]],
        outbox: Outbox | None = None,
        stats: DeliveryStats | None = None,
        *,
        on_change: OnChange | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.config = delivery
        self.notifiers = {k: list(v) for k, v in notifiers.items()}
        self.by_name = {n.name: n for v in self.notifiers.values() for n in v}
        self.outbox = outbox if outbox is not None else Outbox()
        self.stats = stats if stats is not None else DeliveryStats()
        self.on_change = on_change
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(
        cls, config: AlertingConfig, outbox: Outbox | None = None, **kwargs: Any
    ) -> Delivery:
        """A delivery with its own HTTP client and the configured notifiers.

        Raises:
            ConfigError: a secret's environment variable is unset.
        """
        client = httpx.AsyncClient()
        notifiers = build_notifiers(config, client)
        self = cls(config.delivery, notifiers, outbox, **kwargs)
        self._client = client
        return self

    async def aclose(self) -> None:
        """Close the HTTP client if this delivery created it."""
        for n in self.by_name.values():
            await n.aclose()
        if self._client is not None:
            await self._client.aclose()

    def _changed(self, entry: OutboxEntry, gone: bool = False) -> None:
        if self.on_change is not None:
            self.on_change(entry.key, None if gone else entry)

    def enqueue(self, notification: Notification) -> list[str]:
        """Queue a notification for each integration of its receiver; returns those
        integrations (none for an unknown receiver or a duplicate)."""
        now = self.clock()
        names = []
        for notifier in self.notifiers.get(notification.receiver, []):
            entry = OutboxEntry(
                key=f"{notification.id}@{notifier.name}",
                integration=notifier.name,
                notification=notification,
                enqueued_at=now,
                next_attempt_at=now,
            )
            if self.outbox.put(entry):
                self._changed(entry)
                names.append(notifier.name)
        if notification.receiver not in self.notifiers:
            logger.error(
                "notification %s for unknown receiver %r", notification.id, notification.receiver
            )
        self._trim()
        return names

    def _trim(self) -> None:
        excess = len(self.outbox) - self.config.max_outbox
        for entry in self.outbox.oldest(max(0, excess)):
            self._fail(entry, "outbox full: dropped the oldest notification")

    async def deliver(self, notification: Notification) -> None:
        """Queue a notification and try to send it (and what waits before it) now."""
        names = self.enqueue(notification)
        await asyncio.gather(*(self._drain(n) for n in names))

    async def flush(self) -> None:
        """Retry every integration whose oldest queued notification is due."""
        await asyncio.gather(*(self._drain(n) for n in self.outbox.integrations()))

    def next_attempt(self) -> float | None:
        """Earliest wall time at which :meth:`flush` has something to retry."""
        return min((e.next_attempt_at for e in self.outbox.entries.values()), default=None)

    async def _drain(self, integration: str) -> None:
        lock = self._locks.setdefault(integration, asyncio.Lock())
        async with lock:
            while True:
                queue = self.outbox.queue(integration)
                if not queue:
                    return
                entry = queue[0]
                now = self.clock()
                if entry.next_attempt_at > now:
                    return
                if now - entry.enqueued_at > self.config.give_up_after:
                    self._fail(entry, f"undelivered after {self.config.give_up_after:.0f} s")
                    continue
                notifier = self.by_name.get(integration)
                if notifier is None:
                    self._fail(entry, "integration no longer configured")
                    continue
                if not await self._attempt(notifier, entry):
                    return

    def _backoff(self, attempts: int) -> float:
        cfg = self.config
        return float(min(cfg.max_backoff, cfg.initial_backoff * 2 ** max(0, attempts - 1)))

    async def _attempt(self, notifier: Notifier, entry: OutboxEntry) -> bool:
        """Send what is left of ``entry``; ``True`` when it left the queue."""
        cfg = self.config
        try:
            messages = notifier.render(entry.notification)
        except Exception as exc:  # a bug in one notifier must not stop the others
            logger.exception("cannot render %s", entry.key)
            self._fail(entry, f"render failed: {exc!r}")
            return True
        inline_limit = cfg.initial_backoff * 2 ** max(0, cfg.max_attempts - 2)
        tries = 0
        while entry.parts_done < len(messages):
            if entry.last_error:
                # The previous try of this message failed: this one is a retry.
                self.stats.count_retry(entry.integration)
            try:
                try:
                    await notifier.send(messages[entry.parts_done], self.clock())
                except DeliveryError:
                    raise
                except Exception as exc:
                    # Not a receiver's answer but a fault here (bad URL, bug): retrying
                    # cannot help.
                    logger.exception("unexpected error sending %s", entry.key)
                    raise DeliveryError(f"{notifier.name}: {exc!r}", False) from exc
            except DeliveryError as exc:
                entry.attempts += 1
                entry.last_error = str(exc)
                self.stats.note_error(entry.integration, str(exc))
                if not exc.retryable:
                    logger.error("giving up on %s: %s", entry.key, exc)
                    self._fail(entry, str(exc))
                    return True
                tries += 1
                wait = self._backoff(entry.attempts)
                if exc.retry_after is not None:
                    wait = min(max(wait, exc.retry_after), cfg.max_retry_after)
                if tries < cfg.max_attempts and wait <= inline_limit:
                    logger.info("retrying %s in %.1f s: %s", entry.key, wait, exc)
                    self._changed(entry)
                    await self.sleep(wait)
                    continue
                logger.warning(
                    "%s kept in the outbox, next try in %.1f s: %s", entry.key, wait, exc
                )
                entry.next_attempt_at = self.clock() + wait
                self._changed(entry)
                return False
            entry.parts_done += 1
            entry.last_error = ""
            if entry.parts_done < len(messages):
                self._changed(entry)
        self.outbox.remove(entry.key, delivered=True)
        self._changed(entry, gone=True)
        if messages:
            self.stats.count_sent(entry.integration, self.clock())
        return True

    def _fail(self, entry: OutboxEntry, reason: str) -> None:
        self.outbox.remove(entry.key, delivered=False)
        self.stats.count_failed(entry.integration, reason)
        self._changed(entry, gone=True)
