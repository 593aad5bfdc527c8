"""Size and cost of the per-series history the API serves (:mod:`padit_stream.core.history`)."""

from __future__ import annotations

import random
import time
from typing import NamedTuple

import orjson

from padit_stream.core.history import SCORES, VALUES, HistoryConfig, HistoryState
from padit_stream.schema import metric_key

__all__ = ["HistoryFigures", "bench_history"]

T0 = 1_767_225_600.0


class HistoryFigures(NamedTuple):
    interval: float
    bytes_per_series: int  # stored rows (keys and values) of a full retention
    changelog_per_metric: float  # values history, steady state
    changelog_per_evaluation: float  # scores history (with the detector's evidence)
    us_per_metric: float


def _size(rows: dict[bytes, bytes]) -> int:
    return sum(len(k) + len(v) for k, v in rows.items())


def bench_history(interval: float = 10.0, batch: int = 1, hours: float = 26.0) -> HistoryFigures:
    """One series sending a metric every ``interval`` s (event time) for ``hours``, ``batch``
    metrics per batch, and one evaluation per minute with a composite-sized evidence."""
    config = HistoryConfig()
    key = metric_key("du-1", "rtt_ms")
    values = HistoryState(key, config, VALUES)
    scores = HistoryState(key, config, SCORES)
    evidence = orjson.dumps(
        {"detector": "composite", "evidence": {"z": 1.25, "p99": 18.5, "cusum": 3.5, "votes": 2}}
    )
    stored: dict[bytes, bytes] = {}
    rng = random.Random(3)
    n = int(hours * 3600 / interval)
    warm = int(2 * 3600 / interval)  # the steady state: after the first chunks are written
    metric_bytes = eval_bytes = evaluations = 0
    spent = 0.0
    labels = {"site": "par-1", "vendor": "acme"}
    for i in range(n):
        ts = T0 + i * interval
        start = time.perf_counter()
        values.add(ts, rng.random() * 100, ts, labels=labels)
        spent += time.perf_counter() - start
        every = max(1, int(60 / interval))
        evaluate = i % every == 0
        if evaluate:
            scores.add(ts, rng.random(), ts, tag=evidence)
        if i % batch == batch - 1:
            rows = values.flush()
            srows = scores.flush()
            for k, v in rows + srows:
                assert v is not None
                stored[k] = v
            if i >= warm:
                metric_bytes += sum(len(k) + len(v or b"") for k, v in rows)
                eval_bytes += sum(len(k) + len(v or b"") for k, v in srows)
        if evaluate and i >= warm:
            evaluations += 1
    steady = n - warm
    return HistoryFigures(
        interval=interval,
        bytes_per_series=_size(stored),
        changelog_per_metric=metric_bytes / steady,
        changelog_per_evaluation=eval_bytes / max(1, evaluations),
        us_per_metric=spent / n * 1e6,
    )
