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
        self._cache = (t, v, raws)
        return raws

    def score_one(self, x: Observation) -> float:
        raws = self._raws(x)
        s = max(al.surprise(r) for al, r in zip(self._lik, raws, strict=True))
        return squash(s, self.surprise_half)

    def learn_one(self, x: Observation) -> None:
        raws = self._raws(x)
        for al, r in zip(self._lik, raws, strict=True):
            al.update(r)
        for p in self._parts:
            p.learn_one(x)
        self._cache = None

    def explain_one(self, x: Observation) -> Verdict:
        return Verdict(self.score_one(x), {})
