"""Detector classes by configuration name."""

from __future__ import annotations

from padit_stream.detectors.art import ArtDetector
from padit_stream.detectors.base import Detector
from padit_stream.detectors.context import ContextDetector
from padit_stream.detectors.counts import CountDetector
from padit_stream.detectors.extremes import RangeDetector
from padit_stream.detectors.flatline import FlatlineDetector
from padit_stream.detectors.novelty import NoveltyDetector
from padit_stream.detectors.rules import ThresholdDetector
from padit_stream.detectors.seasonal import SeasonalDetector, WeeklySeasonalDetector
from padit_stream.detectors.shift import LevelShiftDetector, VarianceShiftDetector
from padit_stream.detectors.spectral import SpectralResidualDetector
from padit_stream.detectors.statistical import CusumDetector, EwmaDetector, RobustZScoreDetector

__all__ = ["BASE_DETECTORS"]

#: The single-statistic detectors, by their ``name`` (the composite is added by the factory).
BASE_DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        RobustZScoreDetector,
        EwmaDetector,
        CusumDetector,
        LevelShiftDetector,
        VarianceShiftDetector,
        SeasonalDetector,
        WeeklySeasonalDetector,
        SpectralResidualDetector,
        NoveltyDetector,
        RangeDetector,
        ThresholdDetector,
        ContextDetector,
        ArtDetector,
        CountDetector,
        FlatlineDetector,
    )
}
