"""Composite detector (draft)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.likelihood import AnomalyLikelihood
from padit_stream.detectors.registry import BASE_DETECTORS

__all__ = ["CompositeDetector"]


class CompositeDetector(Detector):
    name = "composite"

    def __init__(
        self,
        components: Sequence[str] = ("robust_z", "level_shift", "seasonal", "variance_shift"),
        component_params: Mapping[str, Mapping[str, Any]] | None = None,
        averaging_window: int = 10,
        alpha: float = 1.0 / 2000.0,
        learning_period: int = 300,
        min_std: float = 0.01,
        surprise_half: float = 11.5,
        mode: str = "likelihood",
        decay: float = 0.999,
        odds_floor: float = 0.5,
        holdoff: int = 0,
        alarm_ratio: float = 1.0,
        damp: float = 0.5,
        step_odds: float = 0.5,
        joint: bool = False,
        combine: str = "max",
        second: float = 0.5,
        meta_decay: float = 0.0,
        meta_floor: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.components = components
        self.component_params = component_params
        self.averaging_window = averaging_window
        self.alpha = alpha
        self.learning_period = learning_period
        self.min_std = min_std
        self.surprise_half = surprise_half
        self.seed = seed
        self.meta_decay = meta_decay
        self.meta_floor = meta_floor
        self._fmax = 0.0
        self.combine = combine
        self.second = second
        self.step_odds = step_odds
        self.joint = joint
        self.mode = mode
        self.decay = decay
        self.odds_floor = odds_floor
        self._max = [0.0 for _ in components]
        self._n = 0
        self._quiet = 0
        self.holdoff = holdoff
        self.alarm_ratio = alarm_ratio
        self.damp = damp
        params = component_params or {}
        self._parts: list[Detector] = [
            BASE_DETECTORS[c](**dict(params.get(c, {}))) for c in components
        ]
        self._lik = [
            AnomalyLikelihood(averaging_window, alpha, learning_period, min_std)
            for _ in components
        ]
        self._cache: tuple[float, float, list[float]] | None = None

    def _raws(self, x: Observation) -> list[float]:
        t = float(x["timestamp"])
        v = float(x["value"])
        c = self._cache
        if c is not None and c[0] == t and c[1] == v:
            return c[2]
        raws = [p.score_one(x) for p in self._parts]
        if self.mode == "step":
            so = self.step_odds
            raws = [1.0 if (r >= 1.0 or r / (1.0 - r) >= so) else 0.0 for r in raws]
            if self.joint:
                raws = [max(raws)]
        self._cache = (t, v, raws)
        return raws

    def _ratio(self, raws: list[float]) -> float:
        if self._n < self.learning_period:
            return 0.0
        ratios = []
        for r, m in zip(raws, self._max, strict=True):
            odds = r / (1.0 - r) if r < 1.0 else 1e12
            ratios.append(odds / max(m, self.odds_floor))
        ratios.sort(reverse=True)
        if self.combine == "max":
            return ratios[0]
        if self.combine == "top2":
            return ratios[0] + self.second * ratios[1]
        return sum(ratios) / len(ratios)

    def score_one(self, x: Observation) -> float:
        raws = self._raws(x)
        if self.mode == "record":
            best = self._ratio(raws)
            if self.meta_decay > 0.0:
                best = best / max(self._fmax, self.meta_floor)
            if self._quiet > 0:
                best *= self.damp
            return squash(best, 1.0)
        s = max(al.surprise(r) for al, r in zip(self._lik, raws, strict=False))
        return squash(s, self.surprise_half)

    def learn_one(self, x: Observation) -> None:
        raws = self._raws(x)
        if self.mode == "record":
            b = self._ratio(raws)
            if self.meta_decay > 0.0:
                nb = b / max(self._fmax, self.meta_floor)
                self._fmax = max(self._fmax * self.meta_decay, b)
                b = nb
            if b >= self.alarm_ratio:
                self._quiet = self.holdoff
            elif self._quiet > 0:
                self._quiet -= 1
            for i, r in enumerate(raws):
                odds = r / (1.0 - r) if r < 1.0 else 1e12
                self._max[i] = max(self._max[i] * self.decay, odds)
        else:
            for al, r in zip(self._lik, raws, strict=False):
                al.update(r)
        for p in self._parts:
            p.learn_one(x)
        self._n += 1
        self._cache = None

    def explain_one(self, x: Observation) -> Verdict:
        return Verdict(self.score_one(x), {})
