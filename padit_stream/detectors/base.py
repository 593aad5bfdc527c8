"""The detector protocol, in river's shape.

A detector sees one observation at a time: a mapping with at least ``timestamp`` (event
time, epoch seconds) and ``value``, plus, in the stream, the window features of the series
(``mean``, ``std``, ``p99``, ``cusum``, ...). ``score_one`` answers in [0, 1], high meaning
anomalous, without changing state; ``explain_one`` gives the same score with its evidence;
``learn_one`` updates state.

:func:`evaluate` is the one evaluation step (score and explain, then learn): the detection
stage, the replay of a detector's inputs on load and the offline backtest all call it, so a
series gets the same scores in each of them.

Detectors are plain picklable objects: the stream keeps each series' detector in a table
as a pickle snapshot plus the inputs since (see :mod:`padit_stream.detectors.persist`), and a
restored detector scores exactly as the original.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = ["Detector", "Observation", "Verdict", "evaluate"]

Observation = Mapping[str, float]


class Verdict:
    """A score and the evidence behind it."""

    __slots__ = ("evidence", "score")

    def __init__(self, score: float, evidence: dict[str, Any]) -> None:
        self.score = score
        self.evidence = evidence

    def __repr__(self) -> str:
        return f"Verdict(score={self.score!r}, evidence={self.evidence!r})"


class Detector(abc.ABC):
    """Base class of all detectors.

    Subclasses store their constructor arguments unchanged as attributes of the same name.
    """

    #: Name used in configuration and in the ``detector`` field of anomalies.
    name: ClassVar[str] = "detector"
    #: Whether ``learn_one`` changes anything worth persisting (the stream skips writing
    #: the state of stateless detectors).
    stateful: ClassVar[bool] = True

    @abc.abstractmethod
    def learn_one(self, x: Observation) -> None:
        """Update the state with one observation."""

    @abc.abstractmethod
    def score_one(self, x: Observation) -> float:
        """Score one observation in [0, 1] without changing state."""

    def explain_one(self, x: Observation) -> Verdict:
        """Score one observation and say why; the default carries no evidence."""
        return Verdict(self.score_one(x), {})


def evaluate(detector: Detector, x: Observation) -> Verdict:
    """One evaluation: score and explain ``x`` with what was learned before it, then learn it.

    Example:
        >>> from padit_stream.detectors import EwmaDetector
        >>> d = EwmaDetector()
        >>> [round(evaluate(d, {"timestamp": float(i), "value": 1.0}).score, 3) for i in range(2)]
        [0.0, 0.0]
    """
    verdict = detector.explain_one(x)
    detector.learn_one(x)
    return verdict
