"""Cost of each detector: microseconds to score then learn one metric value, and state size.

Run ``python -m padit_stream.bench.detectors``. Each figure is the median over several repeats
of a pass over a synthetic series (daily cycle, noise, spikes) at a 5-minute cadence, after a
warm-up pass so the windows are full, as in a long-running stream. The state size is the
pickle the stream writes to the detectors table (and its changelog) per evaluation.
"""

from __future__ import annotations

import math
import pickle
import statistics
import time

import numpy as np

from padit_stream.detectors.base import Detector
from padit_stream.detectors.config import DETECTORS, DetectionConfig, build_detector

__all__ = ["bench_detector_changelog", "bench_detectors"]


def _series(n: int, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 300.0 + 1.4e9
    v = 50.0 + 10.0 * np.sin(2 * math.pi * t / 86400.0) + rng.normal(0.0, 2.0, n)
    spikes = rng.random(n) < 0.002
    v[spikes] += 40.0
    return [{"timestamp": float(a), "value": float(b)} for a, b in zip(t, v, strict=True)]


def _per_row_us(det: Detector, rows: list[dict[str, float]], explain: bool = False) -> float:
    score_one = det.explain_one if explain else det.score_one
    learn_one = det.learn_one
    start = time.perf_counter()
    for x in rows:
        score_one(x)
        learn_one(x)
    return (time.perf_counter() - start) / len(rows) * 1e6


def bench_detectors(
    rows: int = 4000, warmup: int = 2000, repeats: int = 5, seed: int = 0
) -> list[tuple[str, float, int]]:
    """(detector name, µs per score+learn of one value, bytes of its state when trained).

    Times are medians of ``repeats`` passes.
    The default composite is reported as ``composite (default)``; ``... explain_one`` rows
    measure ``explain_one`` + ``learn_one`` (what the stream calls, evidence included).
    """
    data = _series(warmup + rows * repeats, seed)
    names = [n for n in DETECTORS if n != "threshold"]
    out: list[tuple[str, float, int]] = []
    for name in names:
        cfg = DetectionConfig.model_validate({"default": {"detector": name}})
        det = build_detector(cfg, "bench")
        for x in data[:warmup]:
            det.score_one(x)
            det.learn_one(x)
        figures = [
            _per_row_us(det, data[warmup + k * rows : warmup + (k + 1) * rows])
            for k in range(repeats)
        ]
        default = name == DetectionConfig().default.detector
        label = f"{name} (default)" if default else name
        size = len(pickle.dumps(det, protocol=5)) if det.stateful else 0
        out.append((label, statistics.median(figures), size))
        if default:
            figures = [
                _per_row_us(det, data[warmup + k * rows : warmup + (k + 1) * rows], explain=True)
                for k in range(repeats)
            ]
            out.append((f"{label} explain_one", statistics.median(figures), size))
    return out


def bench_detector_changelog(evaluations: int = 2_000, warmup: int = 2_000) -> tuple[float, int]:
    """Changelog bytes per evaluation of the default detector: (snapshot + inputs, whole).

    The input rows are features records as the stream writes them (``encode_features``).
    """
    from padit_stream.core.features import FeatureSet
    from padit_stream.detectors.persist import PersistedDetector
    from padit_stream.schema import encode_features

    data = _series(warmup + evaluations, seed=3)
    state = PersistedDetector(b'["du-1","cpu"]', build_detector(DetectionConfig(), "cpu"))
    written = 0
    for i, x in enumerate(data):
        v = x["value"]
        fs = FeatureSet._make([v] * len(FeatureSet._fields))._replace(window_end=x["timestamp"])
        raw = encode_features("du-1", "cpu", fs)
        state.detector.explain_one(x)
        state.detector.learn_one(x)
        state.evaluated(raw)
        rows = state.flush()
        if i >= warmup:
            written += sum(len(k) + (len(v) if v else 0) for k, v in rows)
    whole = len(pickle.dumps(state.detector, protocol=5)) + len(state.key)
    return written / evaluations, whole


if __name__ == "__main__":
    for name, us, size in bench_detectors():
        print(f"{name:36s} {us:8.2f} us/metric {size:8,d} bytes of state")
