"""The examples in the pure modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import padit_stream

# Pure code only (no Faust app, no network): the packages the stream and backtests share.
PACKAGES = ["core", "schema", "detectors", "alerting", "evaluation", "stages", "tuning"]
MODULES_ALSO = [
    "padit_stream.alertmanager",
    "padit_stream.deadletter",
    "padit_stream.feedback",
    "padit_stream.series_export",
    "padit_stream.worker",
    *(
        f"padit_stream.api.{m}"
        for m in (
            "auth",
            "errors",
            "feedback",
            "query",
            "series_state",
            "silences",
            "status",
            "times",
        )
    ),
]
SKIP = ("padit_stream.alerting.notify", "padit_stream.alerting.stage")
# Pure modules inside a skipped package.
PURE_IN_SKIPPED = ("padit_stream.alerting.notify.stats",)


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(f"padit_stream.{package}")
        names.append(root.__name__)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}."):
            if not info.name.startswith(SKIP) or info.name in PURE_IN_SKIPPED:
                names.append(info.name)
    return names + MODULES_ALSO


MODULES = _modules()


def test_the_pure_packages_are_found() -> None:
    assert "padit_stream.core.cache" in MODULES
    assert "padit_stream.schema.alert" in MODULES
    assert "padit_stream.detectors.composite" in MODULES
    for name in ("route", "dispatch", "inhibit", "silence", "mute", "nflog", "notify.stats"):
        assert f"padit_stream.alerting.{name}" in MODULES
    assert padit_stream.__name__ == "padit_stream"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
