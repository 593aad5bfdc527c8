"""Pickled detector state survives a module rename and a new parameter, and says its version."""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import pytest

from padit_stream.detectors import ContextDetector, EwmaDetector
from padit_stream.detectors.base import Detector, _restore
from padit_stream.detectors.config import DETECTORS


def trained(det: Detector, n: int = 400) -> Detector:
    for i in range(n):
        det.learn_one({"timestamp": float(i), "value": float(i % 9)})
    return det


def test_registered_detectors_pickle_by_name_not_module() -> None:
    raw = pickle.dumps(trained(ContextDetector(learning_period=50)), protocol=5)
    assert b"padit_stream.detectors.context" not in raw
    assert b"ContextDetector" not in raw
    assert b"context" in raw


def test_a_state_restores_after_the_class_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    det = trained(ContextDetector(learning_period=50))
    raw = pickle.dumps(det, protocol=5)

    class Moved(ContextDetector):  # the same detector, defined elsewhere
        pass

    monkeypatch.setitem(DETECTORS, "context", Moved)
    back = pickle.loads(raw)
    assert type(back) is Moved
    x = {"timestamp": 1e3, "value": 4.5}
    assert back.score_one(x) == det.score_one(x)


def test_a_parameter_added_since_gets_its_default() -> None:
    det = trained(EwmaDetector())
    _, (name, version, state) = det.__reduce__()  # type: ignore[misc]
    old = {k: v for k, v in state.items() if k != "alpha"}
    back = _restore(name, version, old)
    assert back.alpha == EwmaDetector().alpha  # type: ignore[attr-defined]
    x = {"timestamp": 1e3, "value": 30.0}
    assert back.score_one(x) == det.score_one(x)


def test_older_versions_are_migrated_and_newer_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    class V2(EwmaDetector):
        state_version: ClassVar[int] = 2

        @classmethod
        def migrate_state(cls, state: dict[str, Any], version: int) -> dict[str, Any]:
            seen.append(version)
            return super().migrate_state(state, version)

    raw_v1 = pickle.dumps(trained(EwmaDetector()), protocol=5)
    monkeypatch.setitem(DETECTORS, "ewma", V2)
    assert isinstance(pickle.loads(raw_v1), V2)
    assert seen == [1]
    raw_v2 = pickle.dumps(trained(V2()), protocol=5)
    monkeypatch.setitem(DETECTORS, "ewma", EwmaDetector)
    with pytest.raises(pickle.UnpicklingError, match="'ewma' reads state version 2"):
        pickle.loads(raw_v2)


def test_unregistered_detectors_still_pickle() -> None:
    class Local(EwmaDetector):
        name = "not-registered"

    det = Local()
    assert type(det).__reduce__(det)[0] is not _restore
