"""The seed's rule-based detector: fixed per-metric thresholds on window features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from padit_stream.detectors.base import Detector, Observation, Verdict

__all__ = ["RuleThresholds", "ThresholdDetector"]


class RuleThresholds:
    """Thresholds for one metric: a rule fires when the feature is above its threshold."""

    __slots__ = ("cusum", "p99")

    def __init__(self, p99: float | None = None, cusum: float | None = None) -> None:
        self.p99 = p99
        self.cusum = cusum


class ThresholdDetector(Detector):
    """Adds 0.5 per violated rule (window p99 above its threshold, |CUSUM| above its).

    Stateless: ``learn_one`` does nothing. The anomaly decision (score above 0.5, so both
    rules) is the caller's, as in the seed.

    Example:
        >>> d = ThresholdDetector(thresholds={"latency_ms": {"p99": 100.0, "cusum": 50.0}},
        ...                       metric_name="latency_ms")
        >>> d.score_one({"timestamp": 0.0, "value": 1.0, "p99": 120.0, "cusum": 80.0})
        1.0
    """

    name = "threshold"
    stateful = False

    def __init__(
        self,
        thresholds: Mapping[str, Mapping[str, float]] | None = None,
        metric_name: str = "",
        default: Mapping[str, float] | None = None,
    ) -> None:
        self.thresholds = thresholds
        self.metric_name = metric_name
        self.default = default
        chosen = (thresholds or {}).get(metric_name, default or {})
        self._rules = RuleThresholds(chosen.get("p99"), chosen.get("cusum"))

    def learn_one(self, x: Observation) -> None:
        return None

    def score_one(self, x: Observation) -> float:
        return self.explain_one(x).score

    def explain_one(self, x: Observation) -> Verdict:
        score = 0.0
        evidence: dict[str, Any] = {}
        rules = self._rules
        p99 = x.get("p99")
        if rules.p99 is not None and p99 is not None and p99 > rules.p99:
            score += 0.5
            evidence["p99"] = {"value": p99, "threshold": rules.p99, "rule": "p99 > threshold"}
        cusum = x.get("cusum")
        if rules.cusum is not None and cusum is not None and abs(cusum) > rules.cusum:
            score += 0.5
            evidence["cusum"] = {
                "value": cusum,
                "threshold": rules.cusum,
                "rule": "|cusum| > threshold",
            }
        return Verdict(min(score, 1.0), evidence)
