"""Offline evaluation: strictly online backtests and a NAB scorer (no Faust import)."""

from padit_stream.evaluation.backtest import run_series
from padit_stream.evaluation.nab import PROFILES, score_corpus

__all__ = ["PROFILES", "run_series", "score_corpus"]
