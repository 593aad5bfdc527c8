"""Leave-one-category-out cross-validation of NAB scores: the figure for series never tuned on.

For each category (the folder of ``category/file.csv``), the configuration and the threshold
are chosen on the other categories only, per profile, by the corpus score NAB's rules give
there; the held-out category is then scored at that choice. The pooled figure sums every
file's raw score at its own fold's choice and normalises the sum as NAB does, so it reads like
the in-sample figure (0 never fires, 100 perfect) but no file had a say in its own threshold.

Example:
    >>> import numpy as np
    >>> from padit_stream.evaluation.nab import PROFILES, prepare_file
    >>> def f(name):
    ...     return prepare_file(name, np.arange(40.0), np.zeros(40), [(20.0, 24.0)])
    >>> s = np.zeros(40); s[20] = 0.9
    >>> runs = {"only": {c + "/x.csv": (f(c + "/x.csv"), s) for c in ("a", "b", "c")}}
    >>> cv = cross_validate(runs, {"standard": PROFILES["standard"]})
    >>> [(fold.held_out, fold.choices["standard"].threshold) for fold in cv.folds]
    [('a', 0.9), ('b', 0.9), ('c', 0.9)]
    >>> round(cv.pooled["standard"].normalised, 6)
    100.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from padit_stream.evaluation.nab import (
    CorpusScore,
    FileScore,
    NabDataError,
    NabFile,
    Profile,
    file_score_at,
    score_corpus,
)

__all__ = [
    "Choice",
    "CrossValidation",
    "Fold",
    "Pooled",
    "categories_of",
    "category_of",
    "choose",
    "cross_validate",
    "split",
]

FloatArray = npt.NDArray[np.float64]
#: One configuration's scores: file name -> (prepared file, scores).
Corpus = Mapping[str, tuple[NabFile, FloatArray]]


def category_of(name: str) -> str:
    """The category of ``category/file.csv``."""
    category, sep, _ = name.partition("/")
    if not sep:
        raise NabDataError(f"{name}: expected a name of the form category/file.csv")
    return category


def categories_of(names: Iterable[str]) -> list[str]:
    """The sorted categories of some ``category/file.csv`` names."""
    return sorted({category_of(n) for n in names})


def split(corpus: Corpus, held_out: str) -> tuple[Corpus, Corpus]:
    """(training files, held-out files) of one fold."""
    train = {n: v for n, v in corpus.items() if category_of(n) != held_out}
    test = {n: v for n, v in corpus.items() if category_of(n) == held_out}
    return train, test


@dataclass(frozen=True)
class Choice:
    """What the training categories chose for one profile: a configuration and a threshold."""

    config: str
    threshold: float
    train_score: float


def choose(runs: Mapping[str, Corpus], profile: Profile) -> Choice:
    """The configuration and threshold with the best corpus score on ``runs`` (ties: first)."""
    best: Choice | None = None
    for label, corpus in runs.items():
        cs: CorpusScore = score_corpus(corpus, profile)
        if best is None or cs.normalised > best.train_score:
            best = Choice(label, cs.threshold, cs.normalised)
    if best is None:
        raise NabDataError("no configuration to choose from")
    return best


@dataclass
class Pooled:
    """Raw, null and perfect totals summed over files, normalised as NAB does."""

    raw: float = 0.0
    null: float = 0.0
    perfect: float = 0.0
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, fs: FileScore, profile: Profile) -> None:
        self.raw += fs.score
        self.null -= profile.fn * fs.n_windows
        self.perfect += profile.tp * fs.n_windows
        self.tp += fs.tp
        self.fn += fs.fn
        self.fp += fs.fp

    @property
    def normalised(self) -> float | None:
        """``None`` when there is no window (nothing to normalise against)."""
        if self.perfect == self.null:
            return None
        return float(100.0 * (self.raw - self.null) / (self.perfect - self.null))


@dataclass
class Fold:
    """One held-out category: the choice per profile and its outcome there."""

    held_out: str
    choices: dict[str, Choice]
    scores: dict[str, Pooled]
    files: dict[str, list[FileScore]]


@dataclass
class CrossValidation:
    """Every fold and the pooled outcome per profile."""

    folds: list[Fold] = field(default_factory=list)
    pooled: dict[str, Pooled] = field(default_factory=dict)


def cross_validate(runs: Mapping[str, Corpus], profiles: Mapping[str, Profile]) -> CrossValidation:
    """Leave one category out: choose on the others, score the held-out one, pool.

    Args:
        runs: Per configuration label, the scores of every file (the same files in each).
        profiles: NAB profiles by name.

    Raises:
        NabDataError: the configurations do not cover the same files, or there are fewer than
            two categories.
    """
    names = [sorted(c) for c in runs.values()]
    if not names or any(n != names[0] for n in names):
        raise NabDataError("every configuration must be run on the same files")
    categories = categories_of(names[0])
    if len(categories) < 2:
        raise NabDataError(f"leave-one-category-out needs two categories, got {categories}")
    out = CrossValidation(pooled={p: Pooled() for p in profiles})
    for held_out in categories:
        parts = {label: split(corpus, held_out) for label, corpus in runs.items()}
        train = {label: tr for label, (tr, _) in parts.items()}
        fold = Fold(held_out, {}, {}, {})
        for pname, profile in profiles.items():
            choice = choose(train, profile)
            _, test = parts[choice.config]
            fold.choices[pname] = choice
            fold.scores[pname] = Pooled()
            fold.files[pname] = []
            for f, scores in test.values():
                fs = file_score_at(f, scores, choice.threshold, profile)
                fold.files[pname].append(fs)
                fold.scores[pname].add(fs, profile)
                out.pooled[pname].add(fs, profile)
        out.folds.append(fold)
    return out
