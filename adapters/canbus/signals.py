"""CAN frames to signal metrics: DBC decoding of chosen signals, aggregated per window.

Pure code (no bus): :class:`SignalDecoder` decodes a frame's payload with cantools and feeds
the chosen signals into per-signal :class:`Window`\\ s; :meth:`SignalDecoder.flush` empties
them into one value per aggregate. CAN frames come far faster than metrics are worth, so
the window is the rate limit: at most one value per signal and aggregate per flush.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Aggregate", "SignalDecoder", "SignalSpec", "Window", "load_dbc"]

Aggregate = Literal["mean", "min", "max", "last", "count"]


class SignalSpec(BaseModel):
    """One signal to publish; ``message`` may be left out when the name is unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: str = Field(min_length=1)
    message: str | None = None
    #: Metric name (default ``<message>.<signal>``).
    metric: str | None = None


@dataclass(slots=True)
class Window:
    """Running aggregates of one signal since the last flush."""

    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    last: float = math.nan

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.last = value

    def value(self, agg: Aggregate) -> float:
        if agg == "mean":
            return self.total / self.count
        if agg == "min":
            return self.low
        if agg == "max":
            return self.high
        if agg == "last":
            return self.last
        return float(self.count)


def load_dbc(path: Path) -> Any:
    """Load a DBC file with cantools (``ValueError`` naming the file when it is not one)."""
    import cantools
    from cantools.database.errors import Error as CantoolsError

    try:
        return cantools.database.load_file(str(path), database_format="dbc")
    except (OSError, CantoolsError) as exc:
        raise ValueError(f"{path}: not a readable DBC file: {exc}") from exc


@dataclass(slots=True)
class _Chosen:
    message: Any
    metrics: dict[str, str]  # signal name -> metric name
    unit: dict[str, str]


@dataclass
class SignalDecoder:
    """Decodes frames of the chosen signals into windows.

    Args:
        db: a cantools database.
        specs: the signals to keep; empty keeps every signal of every message.

    Raises:
        ValueError: a signal or message that the DBC does not have, or an ambiguous name.

    Example:
        >>> import cantools
        >>> db = cantools.database.load_string('''VERSION ""
        ... BO_ 256 Engine: 2 ECU
        ...  SG_ Rpm : 0|16@1+ (0.25,0) [0|16383] "rpm" Vector__XXX
        ... ''', database_format="dbc")
        >>> dec = SignalDecoder(db, [SignalSpec(signal="Rpm", metric="engine.rpm")])
        >>> dec.feed(256, bytes([0x40, 0x1F])), dec.feed(256, bytes([0x80, 0x3E]))
        (1, 1)
        >>> dec.flush(["mean", "count"])
        [('engine.rpm', 'mean', 3000.0, 'rpm'), ('engine.rpm', 'count', 2.0, 'rpm')]
    """

    db: Any
    specs: list[SignalSpec]
    _by_id: dict[int, _Chosen] = field(default_factory=dict, init=False)
    _windows: dict[str, Window] = field(default_factory=dict, init=False)
    _units: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        messages = list(self.db.messages)
        if not self.specs:
            for msg in messages:
                for sig in msg.signals:
                    self._choose(msg, sig.name, f"{msg.name}.{sig.name}")
            return
        for spec in self.specs:
            cands = [
                m
                for m in messages
                if (spec.message is None or m.name == spec.message)
                and any(s.name == spec.signal for s in m.signals)
            ]
            where = f"{spec.message}.{spec.signal}" if spec.message else spec.signal
            if not cands:
                raise ValueError(f"signal {where}: not in the DBC")
            if len(cands) > 1:
                names = sorted(m.name for m in cands)
                raise ValueError(f"signal {where}: in several messages {names}; name message")
            msg = cands[0]
            self._choose(msg, spec.signal, spec.metric or f"{msg.name}.{spec.signal}")

    def _choose(self, msg: Any, signal: str, metric: str) -> None:
        chosen = self._by_id.setdefault(msg.frame_id, _Chosen(msg, {}, {}))
        chosen.metrics[signal] = metric
        sig = msg.get_signal_by_name(signal)
        self._units[metric] = sig.unit or ""

    @property
    def frame_ids(self) -> set[int]:
        return set(self._by_id)

    def feed(self, frame_id: int, data: bytes) -> int | None:
        """Decode one frame; returns the signals taken, ``None`` for an unknown frame id.

        Raises:
            ValueError: the payload does not decode (too short, bad multiplexer, ...).
        """
        chosen = self._by_id.get(frame_id)
        if chosen is None:
            return None
        try:
            decoded = chosen.message.decode(data, decode_choices=False, scaling=True)
        except Exception as exc:  # cantools raises DecodeError, ValueError or struct.error
            raise ValueError(f"{chosen.message.name}: {exc}") from exc
        taken = 0
        for signal, metric in chosen.metrics.items():
            value = decoded.get(signal)
            if isinstance(value, int | float):
                win = self._windows.get(metric)
                if win is None:
                    win = self._windows[metric] = Window()
                win.add(float(value))
                taken += 1
        return taken

    def flush(self, aggregates: list[Aggregate]) -> list[tuple[str, str, float, str]]:
        """``(metric, aggregate, value, unit)`` for every signal seen since the last flush."""
        out: list[tuple[str, str, float, str]] = []
        for metric, win in self._windows.items():
            if win.count:
                for agg in aggregates:
                    out.append((metric, agg, win.value(agg), self._units[metric]))
        self._windows.clear()
        return out
