"""Seeded synthetic telemetry with labelled faults, laid out as NAB data (for own checks).

Four categories, the shapes network telemetry has and NAB has little of:

* ``fronthaul``: one-way latency in µs at a 1-minute cadence (a small daily swing, gaussian
  jitter); faults: spike, path change (level shift), jitter increase at a constant mean, probe
  failure (drops to zero), frozen counter (flat line).
* ``http_latency``: request latency in ms every 5 minutes (log-normal, daily cycle); faults:
  level shift, slow ramp, burst of slow requests.
* ``counts``: errors per 5 minutes (Poisson with a daily rate, often zero); faults: burst,
  drop to zero of a busy counter, rate doubling.
* ``bounded``: a ratio in [0, 1] (link utilisation, loss) every 5 minutes; faults:
  saturation, ramp, variance change.

Each file has 0 to 3 faults after its first 20%. As in NAB, each fault gets a window of 10% of
the file divided by its number of faults, starting a little before the fault (NAB centres its
windows on the labelled time; a fault is known here to the row, so the window opens one tenth
of its width before it).

Example:
    >>> files, windows = generate(seed=1, files_per_category=2, rows=600)
    >>> sorted({name.split("/")[0] for name in files})
    ['bounded', 'counts', 'fronthaul', 'http_latency']
    >>> t, v = files["counts/counts_00.csv"]
    >>> bool((v >= 0).all()) and bool((v == np.round(v)).all())
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["CATEGORIES", "generate", "write_corpus"]

FloatArray = npt.NDArray[np.float64]
Rng = np.random.Generator
_T0 = 1.7e9  # 2023-11-14: any fixed start

#: One file: (timestamps, values).
Series = tuple[FloatArray, FloatArray]


def _times(n: int, step: float) -> FloatArray:
    return _T0 + step * np.arange(n, dtype=np.float64)


def _f(v: npt.ArrayLike) -> FloatArray:
    return np.asarray(v, dtype=np.float64)


def _daily(t: FloatArray, rng: Rng) -> FloatArray:
    phase = rng.uniform(0, 2 * math.pi)
    return _f(np.sin(2 * math.pi * t / 86400.0 + phase))


def _fronthaul(n: int, rng: Rng, faults: list[tuple[str, int, int]]) -> Series:
    t = _times(n, 60.0)
    base = rng.uniform(80, 250)
    jitter = base * rng.uniform(0.01, 0.04)
    v = base + 0.05 * base * _daily(t, rng) + rng.normal(0, jitter, n)
    for kind, at, length in faults:
        end = min(n, at + length)
        if kind == "spike":
            v[at : at + 3] += rng.uniform(8, 20) * jitter
        elif kind == "shift":
            v[at:] += rng.choice([-1, 1]) * rng.uniform(5, 10) * jitter
        elif kind == "jitter":
            v[at:end] = (
                base + 0.05 * base * _daily(t[at:end], rng) + rng.normal(0, 4 * jitter, end - at)
            )
        elif kind == "drop":
            v[at : min(n, at + 5)] = 0.0
        elif kind == "flat":
            v[at:end] = v[at - 1]
    return t, _f(np.round(v, 2))


def _http(n: int, rng: Rng, faults: list[tuple[str, int, int]]) -> Series:
    t = _times(n, 300.0)
    med = rng.uniform(20, 200)
    sigma = rng.uniform(0.1, 0.3)
    level = np.log(med) + 0.3 * _daily(t, rng)
    for kind, at, length in faults:
        end = min(n, at + length)
        if kind == "shift":
            level[at:] += rng.uniform(0.5, 1.0)
        elif kind == "ramp":
            ramp = np.linspace(0, rng.uniform(0.8, 1.5), end - at)
            level[at:end] += ramp
            level[end:] += ramp[-1]
        elif kind == "burst":
            level[at : min(n, at + 12)] += rng.uniform(1.2, 2.0)
    v = np.exp(level + rng.normal(0, sigma, n))
    return t, _f(np.round(v, 1))


def _counts(n: int, rng: Rng, faults: list[tuple[str, int, int]]) -> Series:
    t = _times(n, 300.0)
    mean = rng.choice([0.3, 1.5, 6.0, 30.0])
    rate = mean * np.exp(0.6 * _daily(t, rng))
    for kind, at, length in faults:
        end = min(n, at + length)
        if kind == "burst":
            rate[at : min(n, at + 6)] += max(10.0, 8 * mean)
        elif kind == "zero":
            rate[at:end] = 0.0 if mean >= 6.0 else rate[at:end] + 6 * mean + 5
        elif kind == "double":
            rate[at:] *= 3.0
    return t, _f(rng.poisson(rate))


def _bounded(n: int, rng: Rng, faults: list[tuple[str, int, int]]) -> Series:
    t = _times(n, 300.0)
    center = rng.uniform(0.05, 0.6)
    spread = rng.uniform(0.01, 0.05)
    v = center + 0.5 * center * 0.4 * _daily(t, rng) + rng.normal(0, spread, n)
    for kind, at, length in faults:
        end = min(n, at + length)
        if kind == "saturate":
            v[at : min(n, at + 10)] = 1.0
        elif kind == "ramp":
            v[at:end] += np.linspace(0, min(0.9 - center, 0.4), end - at)
        elif kind == "variance":
            v[at:end] += rng.normal(0, 4 * spread, end - at)
    return t, _f(np.round(np.clip(v, 0.0, 1.0), 4))


_KINDS: dict[str, tuple[Callable[[int, Rng, list[tuple[str, int, int]]], Series], list[str]]] = {
    "fronthaul": (_fronthaul, ["spike", "shift", "jitter", "drop", "flat"]),
    "http_latency": (_http, ["shift", "ramp", "burst"]),
    "counts": (_counts, ["burst", "zero", "double"]),
    "bounded": (_bounded, ["saturate", "ramp", "variance"]),
}
#: The generated categories.
CATEGORIES = tuple(_KINDS)


def _stamp(t: float) -> str:
    return str(np.datetime64(round(t * 1e6), "us")).replace("T", " ")


def generate(
    seed: int = 0, files_per_category: int = 6, rows: int = 4000
) -> tuple[dict[str, Series], dict[str, list[tuple[float, float]]]]:
    """Files by ``category/file.csv`` and their anomaly windows (epoch seconds)."""
    rng = np.random.default_rng(seed)
    files: dict[str, Series] = {}
    windows: dict[str, list[tuple[float, float]]] = {}
    for category, (make, kinds) in _KINDS.items():
        for k in range(files_per_category):
            name = f"{category}/{category}_{k:02d}.csv"
            n_faults = int(rng.integers(0, 4)) if k else 0  # the first file has none
            width = max(10, int(0.1 * rows / max(n_faults, 1)))
            starts = sorted(
                int(s) for s in rng.choice(np.arange(int(0.2 * rows), rows - width), n_faults)
            )
            kept: list[int] = []
            for s in starts:  # faults apart by more than a window
                if not kept or s - kept[-1] > 2 * width:
                    kept.append(s)
            faults = [(str(rng.choice(kinds)), s, width // 2) for s in kept]
            t, v = make(rows, rng, faults)
            files[name] = (t, v)
            windows[name] = [
                (float(t[s - width // 10]), float(t[min(rows - 1, s + width - width // 10)]))
                for _, s, _ in faults
            ]
    return files, windows


def write_corpus(out: Path, seed: int = 0, files_per_category: int = 6, rows: int = 4000) -> int:
    """Write ``out/data/<category>/<file>.csv`` and ``out/labels/combined_windows.json``."""
    files, windows = generate(seed, files_per_category, rows)
    for name, (t, v) in files.items():
        path = out / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["timestamp,value"] + [
            f"{_stamp(a)},{b!r}" for a, b in zip(t.tolist(), v.tolist(), strict=True)
        ]
        path.write_text("\n".join(lines) + "\n")
    labels = out / "labels" / "combined_windows.json"
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.write_text(
        json.dumps(
            {n: [[_stamp(a), _stamp(b)] for a, b in w] for n, w in windows.items()}, indent=1
        )
    )
    return len(files)
