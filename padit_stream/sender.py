"""Batched output: the agents' records go to Kafka a partition batch at a time.

Faust's ``send_soon`` costs ~100 µs of Python per record (future objects, callbacks, a
buffer drained one record at a time) and ran PADIT at a few hundred metrics per second. The
hot outputs (features, anomalies, changelog rows) instead fill one aiokafka ``BatchBuilder``
per (topic, partition) and hand it to the producer whole at the end of each input batch,
before the input records are acknowledged, so offsets are never committed ahead of them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.types import TP

__all__ = ["BatchSender"]

logger = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


class BatchSender:
    """Per-(topic, partition) batches, sent by :meth:`flush`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._open: dict[tuple[str, int], Any] = {}
        self._full: list[tuple[str, int, Any]] = []
        # changelog topic -> table, to record what the local store holds (Faust does this in
        # its changelog callback; recovery then starts from there instead of offset 0).
        self._tables: dict[str, Any] = {}
        # Agents share this sender. A flush must not return while records added before it
        # are still being enqueued by another agent's flush: the caller acknowledges its
        # input next, and an offset committed ahead of its changelog rows is a lost metric
        # if the worker dies then. Flushes therefore run one at a time.
        self._lock = asyncio.Lock()

    def track_changelog(self, table: Any) -> None:
        self._tables[table.changelog_topic.get_topic_name()] = table

    def _producer(self) -> Any:
        return self.app.producer._ensure_producer()

    def add(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None,
        headers: Headers | None = None,
    ) -> None:  # fmt: skip
        """Queue one record for ``topic[partition]`` (``value=None`` is a tombstone)."""
        if headers is None:
            headers = []  # aiokafka's builder wants a list
        slot = (topic, partition)
        builder = self._open.get(slot)
        if builder is None:
            builder = self._open[slot] = self._producer().create_batch()
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            self._full.append((topic, partition, builder))
            builder = self._open[slot] = self._producer().create_batch()
            if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                raise ValueError(f"record for {topic} larger than a producer batch")

    async def flush(self) -> None:
        """Hand every queued batch to the producer (delivery completes asynchronously).

        On return, every record added before the call is in the producer's queue, whoever
        added it; Faust's commit flushes that queue before it commits input offsets.
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

    async def _enqueue(
        self, producer: Any, topic: str, partition: int, builders: list[Any]
    ) -> None:
        table = self._tables.get(topic)
        for builder in builders:
            count = builder.record_count()
            future = await producer.send_batch(builder, topic, partition=partition)
            if table is not None:
                future.add_done_callback(self._persisted(table, topic, partition, count))

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
