"""A third-party adapter, installed from a package, is found through its entry point."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.registry import AdapterRegistry
from tests.integration.peers import PYTHON, REPO_ROOT

pytestmark = pytest.mark.integration

PACKAGE = REPO_ROOT / "tests" / "data" / "thirdparty_adapter"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package installed with pip into a directory of its own (not the venv)."""
    target = tmp_path_factory.mktemp("thirdparty-site")
    subprocess.run(
        [PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(PACKAGE)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    yield target


def cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [PYTHON, "-m", "adapters", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cli_lists_the_installed_adapter(site: Path) -> None:
    out = cli(site, "list")
    assert out.returncode == 0, out.stderr
    assert "dice-tp\tentry point padit_thirdparty_dice:DiceAdapter" in out.stdout.splitlines()
    assert "dice-tp" not in cli(Path("/nonexistent"), "list").stdout


def test_config_validates_with_the_adapters_own_model(site: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("adapters:\n  - {name: dice-tp, endpoints: [{id: d, sides: 20}]}\n")
    out = cli(site, "check", str(good))
    assert out.returncode == 0, out.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("adapters:\n  - {name: dice-tp, endpoints: [{id: d, sides: 1}]}\n")
    out = cli(site, "check", str(bad))
    assert out.returncode == 2
    assert "adapter 'dice-tp'" in out.stderr and "key 'sides'" in out.stderr


async def test_registry_loads_and_runs_it(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    reg = AdapterRegistry()
    cls = reg.get("dice-tp")
    ep = cls.parse_endpoint({"id": "d", "sides": 12})
    [res] = await cls(ep).collect()
    assert [(s.metric_name, s.value) for s in res.samples] == [("roll", 12.0)]
