"""Search spaces: the tunable constructor arguments a detector declares, with their ranges.

Each detector class states, next to its constructor, a ``search_space`` class attribute
mapping constructor argument names to ranges. The tuner (``padit tune``) searches exactly
these, so a new detector becomes tunable by declaring its own space, and a range lives next
to the code that knows what the argument means. Pure data: no optuna import here.

Example:
    >>> from padit_stream.detectors.statistical import RobustZScoreDetector
    >>> space = search_space_of(RobustZScoreDetector)
    >>> space["z_half"]
    FloatParam(low=2.0, high=20.0, log=True)
    >>> sorted(defaults_outside(RobustZScoreDetector))
    []
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CategoricalParam",
    "FloatParam",
    "IntParam",
    "Param",
    "check_space",
    "defaults_outside",
    "search_space_of",
]


@dataclass(frozen=True)
class IntParam:
    """An integer in ``[low, high]``, searched on a log scale when ``log``."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if self.low > self.high or (self.log and self.low <= 0):
            raise ValueError(f"bad int range [{self.low}, {self.high}] (log={self.log})")

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True)
class FloatParam:
    """A float in ``[low, high]``, searched on a log scale when ``log``."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if self.low > self.high or (self.log and self.low <= 0.0):
            raise ValueError(f"bad float range [{self.low}, {self.high}] (log={self.log})")

    def contains(self, value: Any) -> bool:
        return isinstance(value, int | float) and self.low <= float(value) <= self.high


@dataclass(frozen=True)
class CategoricalParam:
    """One of ``choices`` (plain scalars, so a chosen value writes back to YAML as is)."""

    choices: tuple[str | int | float | bool, ...]

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError("a categorical parameter needs at least one choice")

    def contains(self, value: Any) -> bool:
        return value in self.choices


Param = IntParam | FloatParam | CategoricalParam


def search_space_of(cls: type) -> dict[str, Param]:
    """The space ``cls`` declares (empty: nothing to tune)."""
    return dict(getattr(cls, "search_space", {}))


def _constructor_defaults(cls: type) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return {n: p.default for n, p in params.items() if n != "self"}


def check_space(cls: type, space: Mapping[str, Param] | None = None) -> None:
    """Raise ``ValueError`` unless every name in the space is a constructor argument."""
    space = search_space_of(cls) if space is None else space
    accepted = _constructor_defaults(cls)
    unknown = sorted(set(space) - set(accepted))
    if unknown:
        raise ValueError(
            f"{cls.__name__}.search_space names {unknown}, which are not constructor "
            f"arguments (expected some of {sorted(accepted)})"
        )


def defaults_outside(cls: type) -> dict[str, Any]:
    """Constructor defaults that lie outside the declared range (should be none)."""
    defaults = _constructor_defaults(cls)
    return {
        name: defaults[name]
        for name, param in search_space_of(cls).items()
        if name in defaults and not param.contains(defaults[name])
    }
