"""What the soak feeds and when it strikes: seeded, pure, and checked against an offline run.

Good metrics come in *generations* of concurrent series. Each series lives for
``SAMPLES_PER_SERIES`` samples, ``STEP_SEC`` apart in event time, so its whole life fits in one
window (300 s, 1000 samples by default): the window the stream holds at the end must then
equal, bit for bit, the one an uninterrupted offline ``SeriesState`` builds from the same
samples. A metric applied twice or lost anywhere in the series' life changes the count or
the online statistics, so the comparison covers every metric, not only the recent ones.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.schema import encode_metric, metric_key

__all__ = [
    "FAULT_KINDS",
    "METRIC",
    "SAMPLES_PER_SERIES",
    "BadRecord",
    "Fault",
    "Generation",
    "bad_burst",
    "fault_schedule",
]

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: replayed event time, well behind the wall clock
STEP_SEC = 0.25
SAMPLES_PER_SERIES = 600  # 150 s of event time: inside the 300 s, 1000-sample window
GENERATION_SEC = SAMPLES_PER_SERIES * STEP_SEC
METRIC = "latency_ms"  # the threshold detector in config/padit.yaml: spikes fire alerts
SPIKE = range(420, 460)  # samples of a spiking series at 60 ms (normal is ~5 ms)
FAULT_KINDS = ("kill9", "broker_bounce", "bad_burst", "receiver_down", "sigstop")


@dataclass(frozen=True, slots=True)
class Fault:
    at_sec: float
    kind: str
    target: int  # worker index for kill9/sigstop; unused otherwise


def fault_schedule(duration_sec: float, seed: int, per_kind: int = 2) -> list[Fault]:
    """Every kind ``per_kind`` times, in seeded order, one per slot of the run's middle.

    Slots keep the faults apart so each one's outcome can be told from the next; the jitter
    inside a slot keeps them off any rhythm the stream might have.

    Example:
        >>> faults = fault_schedule(1200, seed=1)
        >>> len(faults), sorted(faults, key=lambda f: f.at_sec) == faults
        (10, True)
    """
    rng = random.Random(seed)
    kinds = [k for k in FAULT_KINDS for _ in range(per_kind)]
    rng.shuffle(kinds)
    start, end = 0.1 * duration_sec, 0.8 * duration_sec
    slot = (end - start) / len(kinds)
    return [
        Fault(start + i * slot + rng.uniform(0, 0.5 * slot), kind, rng.randrange(3))
        for i, kind in enumerate(kinds)
    ]


@dataclass
class Generation:
    """``n_series`` series fed round by round, with the offline reference alongside."""

    index: int
    n_series: int
    seed: int
    config: SeriesConfig
    spiking: frozenset[int] = frozenset()
    round: int = 0
    states: list[SeriesState] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed * 1_000_003 + self.index)
        self.spiking = frozenset(rng.sample(range(self.n_series), min(2, self.n_series)))
        self._noise = [rng.gauss(0.0, 0.5) for _ in range(997)]
        self.keys = [metric_key(self.source(s), METRIC) for s in range(self.n_series)]
        self.states = [SeriesState(k, self.config) for k in self.keys]

    def source(self, s: int) -> str:
        return f"soak-g{self.index}-s{s}"

    @property
    def done(self) -> bool:
        return self.round >= SAMPLES_PER_SERIES

    def next_round(self) -> list[tuple[bytes, bytes]]:
        """One sample for every series of the generation, applied to the reference too."""
        i = self.round
        ts = T0 + self.index * GENERATION_SEC + i * STEP_SEC
        out = []
        for s, (key, state) in enumerate(zip(self.keys, self.states, strict=True)):
            if s in self.spiking and i in SPIKE:
                value = 60.0
            else:
                value = 5.0 + self._noise[(i * 31 + s * 17) % 997]
            state.add(ts, value)
            out.append((key, encode_metric(ts, self.source(s), METRIC, value, unit="ms")))
        self.round += 1
        return out

    def expected(self) -> Iterator[tuple[str, dict[str, object]]]:
        """(source, what ``/windows`` must answer) for each series, once all rounds are out."""
        for s, state in enumerate(self.states):
            features = state.window.features()
            assert features is not None
            yield self.source(s), {"count": len(state.window), "features": features._asdict()}


@dataclass(frozen=True, slots=True)
class BadRecord:
    kind: str
    key: bytes
    value: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value).hexdigest()


def bad_burst(burst: int, live_sources: list[str], seed: int) -> list[BadRecord]:
    """Malformed, oversized, too deep and badly clocked records, every one distinct.

    The badly clocked ones carry the key of a live series: their refusal must leave that
    series' window exactly as the good records make it.
    """
    rng = random.Random(seed * 7919 + burst)
    tag = f"b{burst}"
    out = [
        BadRecord("not JSON", metric_key(f"bad-{tag}", METRIC), f"{{oops {tag}-{i}".encode())
        for i in range(200)
    ]
    out += [
        BadRecord(
            "missing field",
            metric_key(f"bad-{tag}", METRIC),
            orjson.dumps({"timestamp": T0, "source_id": f"bad-{tag}-{i}", "value": 1.0}),
        )
        for i in range(100)
    ]
    out += [
        BadRecord(
            "nested too deep",
            metric_key(f"bad-{tag}", METRIC),
            b"[" * 5000 + str(i).encode() + b"]" * 5000,
        )
        for i in range(10)
    ]
    # ~900 KB: under the broker's 1 MB record limit, over what a dead letter may carry.
    out += [
        BadRecord(
            "oversized",
            metric_key(f"big-{tag}-{i}", METRIC),
            encode_metric(T0, f"big-{tag}-{i}-" + "x" * 900_000, METRIC, 1.0),
        )
        for i in range(3)
    ]
    for i, when in enumerate((T0 + 30 * 365 * 86400, -1e300, 946_684_799.0) * 10):
        source = rng.choice(live_sources)
        out.append(
            BadRecord(
                "bad clock",
                metric_key(source, METRIC),
                encode_metric(when, source, METRIC, 1000.0 + i),
            )
        )
    return out
