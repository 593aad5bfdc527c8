"""Anomaly detectors (pure Python + numpy, no Faust import), in river's shape.

Build detectors from configuration with :func:`build_detector`; the default is the
:class:`CompositeDetector` (see its module for what each part does and why).
"""

from padit_stream.detectors.art import ArtDetector
from padit_stream.detectors.base import Detector, Observation, Verdict, evaluate
from padit_stream.detectors.composite import CompositeDetector
from padit_stream.detectors.config import (
    DETECTORS,
    DetectionConfig,
    DetectorSpec,
    build_detector,
    load_detection_config,
)
from padit_stream.detectors.context import ContextDetector
from padit_stream.detectors.counts import CountDetector
from padit_stream.detectors.extremes import RangeDetector
from padit_stream.detectors.flatline import FlatlineDetector
from padit_stream.detectors.likelihood import AnomalyLikelihood
from padit_stream.detectors.novelty import NoveltyDetector
from padit_stream.detectors.rules import ThresholdDetector
from padit_stream.detectors.seasonal import SeasonalDetector, WeeklySeasonalDetector
from padit_stream.detectors.shift import LevelShiftDetector, VarianceShiftDetector
from padit_stream.detectors.spectral import SpectralResidualDetector
from padit_stream.detectors.statistical import CusumDetector, EwmaDetector, RobustZScoreDetector

__all__ = [
    "DETECTORS",
    "AnomalyLikelihood",
    "ArtDetector",
    "CompositeDetector",
    "ContextDetector",
    "CountDetector",
    "CusumDetector",
    "DetectionConfig",
    "Detector",
    "DetectorSpec",
    "EwmaDetector",
    "FlatlineDetector",
    "LevelShiftDetector",
    "NoveltyDetector",
    "Observation",
    "RangeDetector",
    "RobustZScoreDetector",
    "SeasonalDetector",
    "SpectralResidualDetector",
    "ThresholdDetector",
    "VarianceShiftDetector",
    "Verdict",
    "WeeklySeasonalDetector",
    "build_detector",
    "evaluate",
    "load_detection_config",
]
