"""History and verdicts from Kafka: the metrics topic over a time range, the feedback topic.

The metrics topic is read between the offsets that ``offsets_for_times`` gives for the two
ends of the range widened by ``lateness`` (record timestamps: when a sample reached Kafka,
which trails its event time and is only roughly in order), and each sample is kept only if
its own event time is in the range. A topic whose record timestamps are further out of
order than ``lateness`` (a history replayed series after series) needs a larger one.

Memory is bounded: at most ``max_series`` series (the first seen; later ones are counted and
skipped) and the latest ``max_rows`` samples of each, held in flat arrays of doubles (16
bytes a sample). A progress bar counts the records read.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from padit_stream.errors import DecodeError
from padit_stream.schema import decode_metric
from padit_stream.topic_reader import open_consumer, partitions_of
from padit_stream.tuning.history import Selector, Series, TuneError

__all__ = ["MetricsRead", "read_metrics"]

log = logging.getLogger(__name__)

_POLL_MS = 500


@dataclass
class _Buffer:
    labels: Mapping[str, str]
    timestamps: array[float] = field(default_factory=lambda: array("d"))
    values: array[float] = field(default_factory=lambda: array("d"))

    def add(self, t: float, v: float, max_rows: int) -> None:
        self.timestamps.append(t)
        self.values.append(v)
        if len(self.timestamps) >= 2 * max_rows:
            del self.timestamps[: len(self.timestamps) - max_rows]
            del self.values[: len(self.values) - max_rows]


@dataclass
class MetricsRead:
    """The series read and what was left out."""

    series: list[Series]
    records: int = 0
    bad_records: int = 0
    skipped_series: int = 0


async def _read_metrics(
    bootstrap: str,
    topic: str,
    since: float,
    until: float,
    selector: Selector,
    max_series: int,
    max_rows: int,
    security: Mapping[str, Any],
    progress: bool,
    lateness: float,
) -> MetricsRead:
    consumer = await open_consumer(bootstrap, security)
    try:
        tps = await partitions_of(bootstrap, topic, security)
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        first = await consumer.offsets_for_times(
            {tp: max(0, int((since - lateness) * 1000)) for tp in tps}
        )
        last = await consumer.offsets_for_times({tp: int((until + lateness) * 1000) for tp in tps})
        bounds = {}
        for tp in tps:
            start = first[tp].offset if first[tp] is not None else ends[tp]
            stop = last[tp].offset if last[tp] is not None else ends[tp]
            if start < stop:
                bounds[tp] = (start, stop)
        consumer.assign(list(bounds))
        for tp, (start, _) in bounds.items():
            consumer.seek(tp, start)
        return await _drain(
            consumer, bounds, since, until, selector, max_series, max_rows, progress
        )
    finally:
        await consumer.stop()


async def _drain(
    consumer: Any,
    bounds: dict[Any, tuple[int, int]],
    since: float,
    until: float,
    selector: Selector,
    max_series: int,
    max_rows: int,
    progress: bool,
) -> MetricsRead:
    from tqdm import tqdm

    total = sum(stop - start for start, stop in bounds.values())
    buffers: dict[tuple[str, str], _Buffer] = {}
    out = MetricsRead([])
    skipped: set[tuple[str, str]] = set()
    pending = dict(bounds)
    with tqdm(
        total=total, desc="metrics", unit="rec", file=sys.stderr, disable=not progress, leave=False
    ) as bar:
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=_POLL_MS, max_records=10_000)
            for tp, records in batch.items():
                stop = pending.get(tp, (0, 0))[1]
                for rec in records:
                    if rec.offset >= stop:
                        break
                    out.records += 1
                    try:
                        m = decode_metric(rec.value or b"")
                    except DecodeError:
                        out.bad_records += 1
                        continue
                    if not since <= m.timestamp < until:
                        continue
                    if not selector.matches(m.metric_name, m.labels):
                        continue
                    key = (m.source_id, m.metric_name)
                    buf = buffers.get(key)
                    if buf is None:
                        if len(buffers) >= max_series:
                            skipped.add(key)
                            continue
                        buf = buffers[key] = _Buffer(dict(m.labels))
                    buf.add(m.timestamp, m.value, max_rows)
                bar.update(sum(1 for r in records if r.offset < stop))
            for tp in list(pending):
                if await consumer.position(tp) >= pending[tp][1]:
                    del pending[tp]
    out.skipped_series = len(skipped)
    for (source_id, metric_name), buf in sorted(buffers.items()):
        t = np.frombuffer(buf.timestamps, dtype=np.float64)[-max_rows:]
        v = np.frombuffer(buf.values, dtype=np.float64)[-max_rows:]
        order = np.argsort(t, kind="stable")
        out.series.append(
            Series(
                f"{source_id}/{metric_name}",
                source_id,
                metric_name,
                t[order].copy(),
                v[order].copy(),
                buf.labels,
            )
        )
    return out


def read_metrics(
    bootstrap: str,
    topic: str,
    since: float,
    until: float,
    selector: Selector,
    *,
    max_series: int = 200,
    max_rows: int = 10_000,
    security: Mapping[str, Any] | None = None,
    progress: bool = True,
    lateness: float = 600.0,
) -> MetricsRead:
    """The selected series of ``topic`` with event time in ``[since, until)`` (epoch s).

    A series is named ``source_id/metric_name`` (the key of label files for it).
    """
    if not since < until:
        raise TuneError(f"--since/--until: empty range [{since}, {until})")
    return asyncio.run(
        _read_metrics(
            bootstrap,
            topic,
            since,
            until,
            selector,
            max_series,
            max_rows,
            security or {},
            progress,
            lateness,
        )
    )
