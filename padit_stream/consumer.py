"""Bulk delivery of the hot topics: a fetched partition batch goes to its agent in one call.

Faust hands every record to its stream on its own: a ``ConsumerMessage`` and an ``Event``
per record, two tasks and an ``asyncio.wait`` per record in the consumer's drain loop (so
that a rebalance can interrupt it), a queue put and get, sensors and an ack each. A profile
of the worker put most of its CPU there rather than in PADIT's code; ``make bench`` (1,000
series, features on every metric) gave 2,985 metrics/s through Faust's path and
15,000-20,000/s through this one on the same machine.
For the topics registered with :meth:`padit_stream.app.PaditApp.bulk_agent` this consumer
instead passes each partition's records of a fetch, raw, to the agent's handler, in slices
of ``batch_size``; then it flushes
the agents' outputs and acknowledges the offsets in one step. Other topics (changelogs
during recovery, low-volume agents) take Faust's path unchanged.

The override is tied to faust-streaming 0.15.3 (pinned in ``pyproject.toml``): it replaces
``Consumer._drain_messages`` and keeps that method's offset, gap and flow-control rules.

No record can stop the stream: a handler that raises for a slice is called again with each
of its records alone (after its agent dropped the decoded state of that partition, so state
is what RocksDB holds), and a record that fails alone is dead-lettered with the reason. Only
when every record fails alone is the fault taken to be the worker's (a disk, a bug outside
the records): it raises :class:`~padit_stream.errors.StreamStalledError` and the worker
stops for its supervisor to restart it. The consumer also keeps the time of its last
progress, which ``/health`` compares with the input waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers.aiokafka import Consumer as _KafkaConsumer
from faust.transport.drivers.aiokafka import Producer as _KafkaProducer
from faust.transport.drivers.aiokafka import Transport as _KafkaTransport
from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from padit_stream.errors import StreamStalledError
from padit_stream.sender import BatchSender
from padit_stream.stages import internal_error

__all__ = ["BulkAgent", "BulkConsumer", "BulkHandler", "BulkTransport", "RawRecord"]

logger = logging.getLogger(__name__)


class RawRecord(Protocol):
    """What a bulk handler gets: aiokafka's ``ConsumerRecord`` (fields read-only)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


#: ``handler(partition, records)``: synchronous, queues its outputs (they are flushed and the
#: inputs acknowledged after it returns); it must not raise for one bad record.
BulkHandler = Callable[[int, Sequence[Any]], None]


@dataclass(frozen=True, slots=True)
class BulkAgent:
    """A bulk topic's handler, the stage its dead letters name, and how to reset it."""

    handler: BulkHandler
    stage: str
    #: Drop the decoded state of one partition (after a handler raised part-way).
    reset: Callable[[int], None] = lambda partition: None


def run_contained(
    agent: BulkAgent, partition: int, records: Sequence[Any], sender: BatchSender
) -> int:
    """Call the agent's handler on a slice; contain what it raises. Returns records failed.

    Raises:
        StreamStalledError: every record of a slice of several failed on its own.
    """
    try:
        agent.handler(partition, records)
        return 0
    except Exception:
        logger.exception("%s failed on a slice of %d records of partition %d: retrying "
                         "them one by one", agent.stage, len(records), partition)  # fmt: skip
    agent.reset(partition)
    failed = 0
    error: BaseException | None = None
    for record in records:
        try:
            agent.handler(partition, (record,))
        except Exception as exc:
            agent.reset(partition)
            failed += 1
            error = exc
            sender.dead_letter(record, internal_error(exc), agent.stage)
    if failed and failed == len(records) > 1:
        raise StreamStalledError(
            f"{agent.stage}: all {failed} records of a slice failed alone; last: {error!r}"
        ) from error
    return failed


def _no_metrics(topic: str, partition: int, records: Sequence[Any], started: float) -> None:
    pass


class BulkConsumer(_KafkaConsumer):
    """Faust's aiokafka consumer with bulk delivery for the app's bulk topics."""

    #: Flush outputs and acknowledge inputs after this many bulk records at most.
    flush_every = 5_000

    #: ``time.monotonic()`` of the last slice completed, or of the last fetch that found
    #: nothing to do (see :meth:`stalled_for`).
    progress_at: float = 0.0

    def stalled_for(self) -> float:
        """Seconds without progress while input is waiting (0 when none is waiting)."""
        if not self.progress_at or not self.input_waiting():
            return 0.0
        return time.monotonic() - self.progress_at

    def input_waiting(self) -> bool:
        """Whether an assigned partition of a bulk topic has records not yet read."""
        bulk = getattr(self.app, "bulk_agents", {})
        try:
            assigned = self.assignment()
        except Exception:
            return False
        for tp in assigned:
            if tp.topic not in bulk:
                continue
            high = self.highwater(tp)
            read = self._read_offset.get(tp)
            if high is not None and high > (read if read is not None else -1) + 1:
                return True
        return False

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - needs Kafka
        agents: dict[str, BulkAgent] = getattr(self.app, "bulk_agents", {})
        sender: BatchSender = self.app.sender  # type: ignore[attr-defined]
        flush: Callable[[], Awaitable[None]] = self.app.flush_bulk  # type: ignore[attr-defined]
        slice_size: int = getattr(self.app, "bulk_slice", 500)
        app = self.app
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        acks_enabled_for = app.topics.acks_enabled_for
        # Metrics are counted once per slice (padit_stream.telemetry), never per record.
        telemetry = getattr(app, "telemetry", None)
        on_slice = telemetry.on_slice if telemetry is not None else _no_metrics
        self.progress_at = time.monotonic()
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                records, active = await self._wait_next_records(1.0)
                await self.sleep(0)
                if not records or self.should_stop:
                    # Idle is progress only when nothing waits (a dead broker fetches nothing
                    # while the partitions still have records to read).
                    if not self.input_waiting():
                        self.progress_at = time.monotonic()
                    self.diag.unset_flag(CONSUMER_FETCHING)
                    continue
                if not self.flow_active:
                    # As Faust's getmany: records fetched while the flow was stopped are
                    # dropped and the fetcher goes back to the committed offsets.
                    try:
                        await self.perform_seek()
                    except Exception as exc:
                        logger.warning("seek while the flow is stopped failed: %r", exc)
                    self.diag.unset_flag(CONSUMER_FETCHING)
                    continue
                generation = app.consumer_generation_id
                pending: list[tuple[TP, list[int]]] = []
                since_flush = 0
                for tp, batch in records.items():
                    if not self.flow_active or app.consumer_generation_id != generation:
                        break
                    if (
                        active is not None
                        and tp not in active
                        and tp not in self._buffered_partitions
                    ):
                        continue
                    app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                    r_offset = get_read_offset(tp)
                    if r_offset is not None:
                        batch = [r for r in batch if r.offset >= r_offset]
                    if not batch:
                        continue
                    agent = agents.get(tp.topic)
                    if agent is None:
                        await self._deliver_one_by_one(tp, batch)
                        continue
                    if acks_enabled_for(tp.topic):
                        await self._record_gaps(tp, r_offset, batch)
                    for start in range(0, len(batch), slice_size):
                        if not self.flow_active or app.consumer_generation_id != generation:
                            break  # rebalancing: the rest is read again by its next owner
                        part = batch[start : start + slice_size]
                        started = time.perf_counter()
                        run_contained(agent, tp.partition, part, sender)
                        on_slice(tp.topic, tp.partition, part, started)
                        pending.append((tp, [r.offset for r in part]))
                        since_flush += len(part)
                        if since_flush >= self.flush_every:
                            await self._complete(flush, pending, generation)
                            pending, since_flush = [], 0
                        else:
                            await asyncio.sleep(0)  # let the web view and timers run
                        set_read_offset(tp, part[-1].offset)
                if pending:
                    await self._complete(flush, pending, generation)
                self.progress_at = time.monotonic()
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _deliver_one_by_one(self, tp: TP, batch: list[Any]) -> None:
        """Faust's own path for a topic without a bulk handler."""
        to_message = self._to_message
        callback = self.callback
        for record in batch:
            r_offset = self._read_offset[tp]
            offset = record.offset
            if r_offset and offset - r_offset > 1 and self.app.topics.acks_enabled_for(tp.topic):
                await self._add_gap(tp, r_offset + 1, offset)
            if self._commit_every is not None and self._n_acked >= self._commit_every:
                self._n_acked = 0
                await self.commit()
            await self.wait_first(callback(to_message(tp, record)), self.suspend_flow.wait())
            self._read_offset[tp] = offset

    async def _record_gaps(self, tp: TP, r_offset: int | None, batch: list[Any]) -> None:
        """Offsets the broker skipped (transaction markers, compaction) count as done."""
        previous = r_offset
        first = batch[0].offset if previous is None else previous + 1
        if batch[-1].offset - first + 1 == len(batch):
            return  # no hole: the common case costs one subtraction
        for record in batch:
            if previous is not None and record.offset - previous > 1:
                await self._add_gap(tp, previous + 1, record.offset)
            previous = record.offset

    async def _complete(
        self,
        flush: Callable[[], Awaitable[None]],
        pending: list[tuple[TP, list[int]]],
        generation: int,
    ) -> None:
        """Hand the outputs to the producer, then acknowledge the inputs they came from."""
        await flush()
        if self.app.consumer_generation_id != generation:
            # Revoked meanwhile: the new owner reads these again and the windows skip the
            # offsets they already hold, so dropping the acks loses nothing.
            return
        for tp, offsets in pending:
            self.ack_offsets(tp, offsets)
        if self._commit_every is not None and self._n_acked >= self._commit_every:
            self._n_acked = 0
            await self.commit()

    def ack_offsets(self, tp: TP, offsets: list[int]) -> None:
        """Acknowledge consecutive offsets of ``tp`` at once (``Consumer.ack`` per record)."""
        with ack_lock:
            committed = self._committed_offset[tp]
            if committed is not None:
                offsets = [o for o in offsets if o >= committed]
            index = self._acked_index[tp]
            fresh = [o for o in offsets if o not in index]
            index.update(fresh)
            self._acked[tp].extend(fresh)
            self._n_acked += len(fresh)
            notify(self._waiting_for_ack)


class SettlingProducer(_KafkaProducer):
    """Faust's aiokafka producer whose flush also settles the batch sender.

    Faust flushes the producer right before it commits input offsets: settling there means
    no offset is committed ahead of an output the broker refused and that was not yet sent
    again or dead-lettered.
    """

    async def flush(self) -> None:
        sender: BatchSender | None = getattr(self.transport.app, "sender", None)
        if sender is not None:
            await sender.settle()
        await super().flush()


class BulkTransport(_KafkaTransport):
    """Faust's aiokafka transport, with :class:`BulkConsumer` and :class:`SettlingProducer`."""

    Consumer = BulkConsumer
    Producer = SettlingProducer
