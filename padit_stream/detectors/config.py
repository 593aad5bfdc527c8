"""Per-metric detector configuration (pydantic v2, read from YAML) and the detector factory.

The stream and the offline backtest both build detectors with :func:`build_detector`, so a
metric replayed through Kafka is scored by exactly the detector the backtest measured.

Example YAML::

    default:
      detector: composite          # the default needs no tuning
    metrics:
      latency_ms:
        detector: robust_z
        params: {window: 128, z_half: 8.0}
      link_flaps:
        detector: threshold
    thresholds:                    # the seed's rules, for the threshold detector
      link_flaps: {p99: 3.0, cusum: 10.0}

Example:
    >>> cfg = DetectionConfig.model_validate({"metrics": {"rtt": {"detector": "ewma"}}})
    >>> type(build_detector(cfg, "rtt")).__name__
    'EwmaDetector'
    >>> type(build_detector(cfg, "other")).__name__
    'CompositeDetector'
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from padit_stream.configfile import config_error, read_yaml
from padit_stream.detectors.base import Detector
from padit_stream.detectors.composite import CompositeDetector
from padit_stream.detectors.registry import BASE_DETECTORS
from padit_stream.detectors.rules import ThresholdDetector
from padit_stream.errors import ConfigError

__all__ = [
    "DETECTORS",
    "DetectionConfig",
    "DetectorSpec",
    "ThresholdRule",
    "build_detector",
    "load_detection_config",
]

#: Every detector the configuration may name.
DETECTORS: dict[str, type[Detector]] = {**BASE_DETECTORS, CompositeDetector.name: CompositeDetector}


class DetectorSpec(BaseModel):
    """Which detector a metric uses and its constructor arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: str = CompositeDetector.name
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("detector")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in DETECTORS:
            raise ValueError(f"unknown detector {v!r}, expected one of {sorted(DETECTORS)}")
        return v

    def model_post_init(self, __context: Any) -> None:
        cls = DETECTORS[self.detector]
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(self.params) - accepted)
        if unknown:
            raise ValueError(
                f"unknown params {unknown} for detector {self.detector!r}, "
                f"expected some of {sorted(accepted)}"
            )


class ThresholdRule(BaseModel):
    """The seed's rules for one metric: window p99 and |CUSUM| thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p99: float | None = None
    cusum: float | None = None


class DetectionConfig(BaseModel):
    """Detection settings: a default detector, per-metric overrides, the seed's thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: DetectorSpec = Field(default_factory=DetectorSpec)
    metrics: dict[str, DetectorSpec] = Field(default_factory=dict)
    thresholds: dict[str, ThresholdRule] = Field(default_factory=dict)

    def spec_for(self, metric_name: str) -> DetectorSpec:
        """The detector spec of a metric: its override, else the default."""
        return self.metrics.get(metric_name, self.default)


def build_detector(config: DetectionConfig, metric_name: str) -> Detector:
    """A fresh detector for ``metric_name`` as configured."""
    spec = config.spec_for(metric_name)
    if spec.detector == ThresholdDetector.name:
        thresholds = {
            name: {k: v for k, v in rule.model_dump().items() if v is not None}
            for name, rule in config.thresholds.items()
        }
        return ThresholdDetector(thresholds=thresholds, metric_name=metric_name, **spec.params)
    try:
        return DETECTORS[spec.detector](**spec.params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"detector {spec.detector!r} for metric {metric_name!r}: bad params "
            f"{spec.params!r} ({exc})"
        ) from exc


def load_detection_config(path: Path) -> DetectionConfig:
    """Read a YAML detection config; errors name the file, the key and what was expected."""
    raw: dict[str, Any] = read_yaml(path)
    prefix = ""
    if "detection" in raw and len(raw) == 1:
        raw, prefix = raw["detection"], "detection."
    try:
        return DetectionConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, str(path), prefix=prefix) from exc
