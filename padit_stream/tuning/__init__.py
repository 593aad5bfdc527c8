"""``padit tune``: search detectors and their declared parameters on labelled history.

Series come from a NAB-layout directory or the metrics topic (:mod:`.history`,
:mod:`.kafka_source`); each candidate runs strictly online over every series
(:mod:`.evaluate`), is scored with the project's NAB scorer per (series, time block) cell,
and is chosen with cross-validation over series and over time (:mod:`.cv`, :mod:`.select`);
optuna proposes the candidates (:mod:`.search`). The result is a detection-config fragment
(:mod:`.output`).
"""

from padit_stream.tuning.history import Selector, Series, TuneError, load_nab_directory
from padit_stream.tuning.run import TuneRequest, TuneResult, tune

__all__ = [
    "Selector",
    "Series",
    "TuneError",
    "TuneRequest",
    "TuneResult",
    "load_nab_directory",
    "tune",
]
