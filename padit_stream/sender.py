"""Batched output: every record the stream produces goes to Kafka through one sender.

Faust's ``send_soon`` costs ~100 µs of Python per record (future objects, callbacks, a
buffer drained one record at a time) and ran PADIT at a few hundred metrics per second; and
one record its producer could not send crashed the whole worker. Every output (features,
anomalies, alert events, alerts, re-keyed metrics, dead letters and changelog rows) instead
fills one aiokafka ``BatchBuilder`` per (topic, partition), handed to the producer whole at
the end of each input batch, before the input records are acknowledged.

Failures stay with the records they concern:

- a record larger than a producer batch is refused at :meth:`BatchSender.add`
  (:class:`~padit_stream.errors.RecordTooLargeError`); the caller dead-letters its input;
- a dead letter is truncated to ``dead_letter_max_bytes`` first (:mod:`padit_stream.deadletter`),
  so it always fits;
- the producer refusing a batch at enqueue time (no metadata yet, broker away) is retried
  with backoff: the stream waits rather than losing or crashing;
- a batch the broker rejects is settled by :meth:`BatchSender.settle` before input offsets
  are committed: retriable errors and changelog rows are sent again; otherwise each record
  is sent alone, and a record that fails alone is dead-lettered with the reason (a dead letter
  that cannot be sent either is logged and counted as lost).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from aiokafka.errors import KafkaTimeoutError
from aiokafka.record.default_records import DefaultRecordBatch
from faust.types import TP

from padit_stream.deadletter import Headers, dead_letter_record, reason_class
from padit_stream.errors import RecordTooLargeError

__all__ = ["BATCH_BYTES", "BatchSender", "Headers"]

logger = logging.getLogger(__name__)

#: The producer's batch size (``producer_max_batch_size``), and so the largest record sent:
#: a batch that holds records refuses one that would take it past this, so a larger record
#: is always alone in its batch. The broker's own limit (``message.max.bytes``) is ~1 MiB.
BATCH_BYTES = 512 * 1024
_LOG_PERIOD_SEC = 10.0
_LOG_PER_PERIOD = 50
_BACKOFF_START = 0.2
_BACKOFF_MAX = 5.0


class _Sent(NamedTuple):
    future: asyncio.Future[Any]
    topic: str
    partition: int
    builder: Any
    alone: bool  # a single record re-sent to isolate a failure


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, KafkaTimeoutError | asyncio.CancelledError) or bool(
        getattr(exc, "retriable", False)
    )


def _records_of(builder: Any) -> list[tuple[bytes | None, bytes | None, Headers]]:
    """The records of a built batch (slow path: only after the broker refused it)."""
    batch = DefaultRecordBatch(bytes(builder._build()))
    return [(r.key, r.value, list(r.headers)) for r in batch]


class BatchSender:
    """Per-(topic, partition) batches, sent by :meth:`flush` and settled by :meth:`settle`.

    Args:
        producer: returns the started aiokafka producer.
        dead_letter_topic: where records go that cannot be sent.
        dead_letter_max_bytes: dead letters are truncated to this size.
    """

    def __init__(
        self,
        producer: Callable[[], Any],
        *,
        dead_letter_topic: str,
        dead_letter_max_bytes: int = 65_536,
    ) -> None:
        self._producer = producer
        self.dead_letter_topic = dead_letter_topic
        self.dead_letter_max_bytes = dead_letter_max_bytes
        self._open: dict[tuple[str, int], Any] = {}
        self._full: list[tuple[str, int, Any]] = []
        self._inflight: list[_Sent] = []
        # Records of refused batches, each to be sent alone to find the one the broker refuses.
        self._alone: list[tuple[str, int, tuple[bytes | None, bytes | None, Headers]]] = []
        # changelog topic -> table, to record what the local store holds (Faust does this in
        # its changelog callback; recovery then starts from there instead of offset 0).
        self._tables: dict[str, Any] = {}
        #: What went wrong, for /health and the logs: dead_letters, send_retries, resent,
        #: undeliverable (dead-lettered because the broker refused them), lost.
        self.stats: Counter[str] = Counter()
        #: Records the broker acknowledged per topic, and dead letters per (stage, reason
        #: class): read by the metrics collector (padit_stream.telemetry).
        self.produced: Counter[str] = Counter()
        self.dead_letter_classes: Counter[tuple[str, str]] = Counter()
        #: Set while the worker stops: retries give up so that shutdown completes.
        self.closing = False
        self._log_period_start = 0.0
        self._logged = 0
        self._log_suppressed = 0
        # Agents share this sender. A flush must not return while records added before it
        # are still being enqueued by another agent's flush: the caller acknowledges its
        # input next, and an offset committed ahead of its changelog rows is a lost metric
        # if the worker dies then. Flushes therefore run one at a time.
        self._lock = asyncio.Lock()

    def track_changelog(self, table: Any) -> None:
        self._tables[table.changelog_topic.get_topic_name()] = table

    def add(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None,
        headers: Headers | None = None,
    ) -> None:  # fmt: skip
        """Queue one record for ``topic[partition]`` (``value=None`` is a tombstone).

        Raises:
            RecordTooLargeError: the record is larger than a producer batch
                (:data:`BATCH_BYTES`).
        """
        if headers is None:
            headers = []  # aiokafka's builder wants a list
        slot = (topic, partition)
        builder = self._open.get(slot)
        if builder is None:
            builder = self._open[slot] = self._producer().create_batch()
        meta = builder.append(timestamp=None, key=key, value=value, headers=headers)
        if meta is None or meta.size > BATCH_BYTES:
            self._add_slow(slot, builder, meta, key, value, headers)

    def _add_slow(
        self,
        slot: tuple[str, int],
        builder: Any,
        meta: Any,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
    ) -> None:
        topic, partition = slot
        if meta is None:  # the batch is full: start the next one
            self._full.append((topic, partition, builder))
            builder = self._open[slot] = self._producer().create_batch()
            meta = builder.append(timestamp=None, key=key, value=value, headers=headers)
        if meta.size > BATCH_BYTES:
            # An empty batch takes a record of any size; a full one refuses it. So a record
            # this large is alone in its batch: drop the batch with it.
            del self._open[slot]
            raise RecordTooLargeError(topic, meta.size)

    def dead_letter(
        self, record: Any, reason: str, stage: str, *, partition: int | None = None
    ) -> None:
        """Queue the dead letter of ``record`` (a Kafka record: topic, partition, offset,
        key, value). Never raises: a dead letter is truncated until it fits."""
        self.stats["dead_letters"] += 1
        self.dead_letter_classes[stage, reason_class(reason)] += 1
        key, value, headers = dead_letter_record(
            record.key,
            record.value,
            reason=reason,
            stage=stage,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            max_bytes=self.dead_letter_max_bytes,
        )
        self._log_dead_letter(record, reason, stage)
        # Same partition as the input: dead letters of one input partition stay in order.
        target = record.partition if partition is None else partition
        try:
            self.add(self.dead_letter_topic, target, key, value, headers)
        except RecordTooLargeError:  # only if dead_letter_max_bytes exceeds a batch
            self.stats["lost"] += 1
            logger.error("dead letter of %s[%d]@%d does not fit a batch: dropped",
                         record.topic, record.partition, record.offset)  # fmt: skip

    def _log_dead_letter(self, record: Any, reason: str, stage: str) -> None:
        # One line per dead letter, up to a bound per period: a flood of bad records must
        # not become a flood of log lines (the topic and the counters hold them all).
        now = time.monotonic()
        if now - self._log_period_start >= _LOG_PERIOD_SEC:
            if self._log_suppressed:
                logger.warning("%d more dead letters in the last %.0f s (not logged one by one)",
                               self._log_suppressed, _LOG_PERIOD_SEC)  # fmt: skip
            self._log_period_start, self._logged, self._log_suppressed = now, 0, 0
        if self._logged < _LOG_PER_PERIOD:
            self._logged += 1
            logger.warning("dead-letter from %s[%d]@%d (%s): %.300s", record.topic,
                           record.partition, record.offset, stage, reason)  # fmt: skip
        else:
            self._log_suppressed += 1

    async def flush(self) -> None:
        """Hand every queued batch to the producer (delivery completes asynchronously).

        On return, every record added before the call is in the producer's queue, whoever
        added it. :meth:`settle` then deals with what the broker refuses.
        """
        async with self._lock:
            await self._flush()

    async def _flush(self) -> None:
        if not self._open and not self._full:
            return
        pending = self._full + [(t, p, b) for (t, p), b in self._open.items()]
        self._full = []
        self._open = {}
        producer = self._producer()
        # aiokafka queues one batch per partition at a time (a new one waits for the last to
        # be sent): enqueue all partitions at once so the waits overlap. Batches of the same
        # partition stay in order: a flush's batches for one partition go in sequence.
        by_partition: dict[tuple[str, int], list[Any]] = {}
        for topic, partition, builder in pending:
            by_partition.setdefault((topic, partition), []).append(builder)
        await asyncio.gather(
            *(self._enqueue(producer, t, p, builders) for (t, p), builders in by_partition.items())
        )
        # Delivered batches need no settling: keep the list as long as what is in flight.
        self._inflight = [s for s in self._inflight if not s.future.done() or _failed(s.future)]

    async def _enqueue(
        self, producer: Any, topic: str, partition: int, builders: list[Any], alone: bool = False
    ) -> None:
        table = self._tables.get(topic)
        for builder in builders:
            count = builder.record_count()
            future = await self._send_batch(producer, builder, topic, partition)
            if future is None:
                continue  # shutting down: the inputs are not committed and are read again
            self._inflight.append(_Sent(future, topic, partition, builder, alone))
            future.add_done_callback(functools.partial(self._delivered, topic, count))
            if table is not None:
                future.add_done_callback(self._persisted(table, topic, partition, count))

    async def _send_batch(
        self, producer: Any, builder: Any, topic: str, partition: int
    ) -> asyncio.Future[Any] | None:
        delay = _BACKOFF_START
        while True:
            try:
                future: asyncio.Future[Any] = await producer.send_batch(
                    builder, topic, partition=partition
                )
                return future
            except Exception as exc:
                if self.closing:
                    logger.warning("not sending a batch to %s[%d] while stopping: %r",
                                   topic, partition, exc)  # fmt: skip
                    return None
                self.stats["send_retries"] += 1
                logger.warning("producer refused a batch for %s[%d] (%r); retrying in %.1f s",
                               topic, partition, exc, delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)

    async def settle(self) -> None:
        """Wait for the batches in flight; send again or dead-letter what the broker refused.

        Called before input offsets are committed (the producer's flush), so that no offset
        is committed ahead of an output that was lost.
        """
        async with self._lock:
            await self._flush()
            delay = _BACKOFF_START
            while self._inflight:
                sent, self._inflight = self._inflight, []
                await asyncio.wait([s.future for s in sent])
                failed = [s for s in sent if _failed(s.future)]
                if not failed:
                    continue
                again = False
                for item in failed:
                    again |= self._handle_failure(item)
                if self.closing:
                    self._open, self._full = {}, []
                    return
                if again:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)
                await self._flush_alone()
                await self._flush()

    def _handle_failure(self, item: _Sent) -> bool:
        """Requeue or dead-letter the records of a refused batch; True when retrying as is."""
        exc: BaseException = (
            asyncio.CancelledError() if item.future.cancelled() else item.future.exception()  # type: ignore[assignment]
        )
        records = _records_of(item.builder)
        if _retriable(exc) or item.topic in self._tables:
            # Transient, or changelog rows (state must not diverge): the same batch again.
            self.stats["send_retries"] += 1
            logger.warning("%d records to %s[%d] not delivered (%r): sending again",
                           len(records), item.topic, item.partition, exc)  # fmt: skip
            for key, value, headers in records:
                self.add(item.topic, item.partition, key, value, headers)
            return True
        if not item.alone:
            # Find the record(s) the broker refuses: each goes alone next time.
            self.stats["resent"] += len(records)
            self._alone.extend((item.topic, item.partition, r) for r in records)
            return False
        key, value, headers = records[0]
        if item.topic == self.dead_letter_topic:
            self.stats["lost"] += 1
            logger.error("dead letter to %s[%d] refused by the broker (%r): dropped",
                         item.topic, item.partition, exc)  # fmt: skip
            return False
        self.stats["undeliverable"] += 1
        self.dead_letter(
            _Refused(item.topic, item.partition, -1, key, value),
            f"the broker refused the record for {item.topic}[{item.partition}]: {exc!r}",
            "send",
        )
        return False

    async def _flush_alone(self) -> None:
        alone, self._alone = self._alone, []
        producer = self._producer()
        for topic, partition, (key, value, headers) in alone:
            builder = producer.create_batch()
            builder.append(timestamp=None, key=key, value=value, headers=headers)
            await self._enqueue(producer, topic, partition, [builder], alone=True)

    def _delivered(self, topic: str, count: int, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.produced[topic] += count

    @staticmethod
    def _persisted(table: Any, topic: str, partition: int, count: int) -> Any:
        def done(fut: asyncio.Future[Any]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                return
            last = fut.result().offset + count - 1
            try:
                table.data.set_persisted_offset(TP(topic, partition), last)
            except Exception as exc:
                logger.debug("persisted offset of %s[%d] not recorded: %s", topic, partition, exc)

        return done


class _Refused(NamedTuple):
    """An output record the broker refused, in the shape :meth:`BatchSender.dead_letter` takes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
