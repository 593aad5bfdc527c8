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
restored detector scores exactly as the original. A registered detector pickles as its
configuration name, its ``state_version`` and its attributes, not its module path, so a
module can be renamed; on load, :meth:`Detector.migrate_state` turns an older state into the
current one (by default it gives constructor arguments added since their default value).
"""

from __future__ import annotations

import abc
import inspect
import pickle
from collections.abc import Mapping
from typing import Any, ClassVar

from padit_stream.detectors.space import Param

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
    #: Constructor arguments worth tuning and their ranges (see ``detectors.space``); empty
    #: when there is nothing to tune.
    search_space: ClassVar[dict[str, Param]] = {}

    #: Version of the pickled state: bump it when the attributes change meaning, and turn
    #: older states into the current one in :meth:`migrate_state`.
    state_version: ClassVar[int] = 1

    def __reduce__(self) -> str | tuple[Any, ...]:
        from padit_stream.detectors.config import DETECTORS

        if DETECTORS.get(self.name) is not type(self):  # not registered: pickle by class
            return super().__reduce__()
        return (_restore, (self.name, self.state_version, self.__dict__))

    @classmethod
    def migrate_state(cls, state: dict[str, Any], version: int) -> dict[str, Any]:
        """The current state from one pickled at ``version``.

        The default adds the constructor arguments the state lacks, at their default value
        (a detector that gained a parameter); override it when attributes change meaning.
        """
        for pname, param in inspect.signature(cls.__init__).parameters.items():
            if pname != "self" and pname not in state and param.default is not param.empty:
                state[pname] = param.default
        return state

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


def _restore(name: str, version: int, state: dict[str, Any]) -> Detector:
    """Unpickle a registered detector by its configuration name, migrating its state."""
    from padit_stream.detectors.config import DETECTORS

    cls = DETECTORS.get(name)
    if cls is None or version > cls.state_version:
        # A state from a newer PADIT (or a detector since removed): nothing here can read it.
        raise pickle.UnpicklingError(f"no detector {name!r} reads state version {version}")
    obj = cls.__new__(cls)
    obj.__dict__.update(cls.migrate_state(dict(state), version))
    return obj
