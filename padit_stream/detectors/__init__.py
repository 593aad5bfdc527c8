"""Anomaly detectors (pure Python, no Faust import), in river's shape."""

from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.rules import ThresholdDetector

__all__ = ["Detector", "Observation", "ThresholdDetector", "Verdict"]
