"""Per-metric cost of windows and features, PADIT vs a from-scratch recompute; changelog bytes."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable

from padit_stream.core.features import recompute_features
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.core.window import SlidingWindow
from padit_stream.schema import metric_key

__all__ = ["WindowFigures", "bench_changelog", "bench_window"]

T0 = 1_700_000_000.0


class WindowFigures:
    """µs per metric at one window size: medians over interleaved repeats."""

    def __init__(
        self,
        size: int,
        update: float,
        extract: float,
        recompute_update: float,
        recompute_extract: float,
        ratio: float,
    ) -> None:
        self.size = size
        self.update = update
        self.extract = extract
        self.recompute_update = recompute_update
        self.recompute_extract = recompute_extract
        #: Median over repeats of (recompute update + extract) / (PADIT update + extract), each
        #: repeat measuring both back to back so machine noise hits both sides alike.
        self.ratio = ratio


def _us(fn: Callable[[], None], ops: int) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / ops * 1e6


def bench_window(size: int, ops: int = 4_000, repeats: int = 7, seed: int = 1) -> WindowFigures:
    """Window update and feature extraction, each per metric, PADIT vs a from-scratch recompute.

    The recompute keeps a list of (timestamp, value) and recomputes everything with numpy/scipy
    (:func:`recompute_features`) on each extraction; its update appends and trims the list.
    Features are extracted on every metric (``emit_every_sec: 0``), the worst case.
    """
    rng = random.Random(seed)
    values = [rng.gauss(5.0, 1.0) for _ in range(size + ops * repeats + 1)]
    window = SlidingWindow(span=1e12, max_count=size)
    for i in range(size):
        window.add(T0 + i, values[i])
    clock = [size]
    extract_ops = max(200, ops // 4)
    recompute_ts = [T0 + i for i in range(size)]
    recompute_xs = values[:size]
    recompute_ops = max(10, 20_000 // size)

    def padit_update() -> None:
        add = window.add
        i = clock[0]
        for j in range(i, i + ops):
            add(T0 + j, values[j])
        clock[0] = i + ops

    def padit_extract() -> None:
        features = window.features
        for _ in range(extract_ops):
            features()

    def recompute_update_fn() -> None:
        for j in range(ops):
            recompute_ts.append(T0 + size + j)
            recompute_xs.append(values[j])
            if len(recompute_ts) > size:
                del recompute_ts[0]
                del recompute_xs[0]

    def recompute_extract_fn() -> None:
        for _ in range(recompute_ops):
            recompute_features(recompute_ts, recompute_xs)

    rows = []
    for _ in range(repeats):
        u = _us(padit_update, ops)
        e = _us(padit_extract, extract_ops)
        su = _us(recompute_update_fn, ops)
        se = _us(recompute_extract_fn, recompute_ops)
        rows.append((u, e, su, se, (su + se) / (u + e)))
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    return WindowFigures(size, *med)


def bench_changelog(size: int, metrics: int = 5_000, batch: int = 10) -> tuple[float, float]:
    """Changelog bytes per metric in steady state: PADIT rows vs a whole-window JSON value.

    PADIT's figure is the key and value bytes of every row written (chunk rows, tombstones,
    meta rows), ``batch`` metrics of the series per batch; the recompute's is one JSON value of
    the whole window per metric.
    """
    config = SeriesConfig(span=1e12, max_count=size, emit_every=60.0)
    key = metric_key("du-1", "rtt_ms")
    state = SeriesState(key, config)
    rng = random.Random(2)
    written = 0
    for i in range(size + metrics):
        state.add(T0 + i, rng.random(), i)
        if i % batch == batch - 1:
            rows = state.flush()
            if i >= size:
                written += sum(len(k) + (len(v) if v else 0) for k, v in rows)
    ts, xs, _ = state.window.samples()
    whole = len(key) + len(json.dumps({"timestamps": ts, "values": xs}))
    return written / metrics, float(whole)
