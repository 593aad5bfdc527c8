"""`padit-adapters check` on config/adapters.example.yaml and on the worked configs of
adapters/README.md: the documented configs are valid, and every built-in adapter has one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from adapters.registry import AdapterRegistry
from tests.integration.peers import PYTHON, REPO_ROOT

pytestmark = pytest.mark.integration

EXAMPLE = REPO_ROOT / "config" / "adapters.example.yaml"
README = REPO_ROOT / "adapters" / "README.md"
SECRETS = ["PADIT_RU1_PASSWORD", "PADIT_MQTT_PASSWORD", "PADIT_SNMP_COMMUNITY",
           "PADIT_SNMP_AUTH_KEY", "PADIT_SNMP_PRIV_KEY"]  # fmt: skip


def check(path: Path, secrets: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    if secrets:
        env.update({k: "not-a-real-secret" for k in SECRETS})
    return subprocess.run(
        [PYTHON, "-m", "adapters", "check", str(path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_example_file_is_valid_and_has_every_builtin_adapter() -> None:
    res = check(EXAMPLE)
    assert res.returncode == 0, res.stderr
    doc = yaml.safe_load(EXAMPLE.read_text())
    n_endpoints = sum(len(a["endpoints"]) for a in doc["adapters"])
    assert res.stdout.strip() == f"{EXAMPLE}: OK, {n_endpoints} endpoint(s)"
    assert {a["name"] for a in doc["adapters"]} == set(AdapterRegistry().names())


def test_a_missing_secret_names_file_adapter_endpoint_and_key() -> None:
    res = check(EXAMPLE, secrets=False)
    assert res.returncode == 2
    assert (
        f"{EXAMPLE}: adapter 'mqtt' (adapters[3]), endpoint 0 (id 'plant-broker'): key "
        "'password_env'"
        in res.stderr
        and "PADIT_MQTT_PASSWORD is not set" in res.stderr
    )


def readme_blocks() -> list[str]:
    """The YAML blocks of the section with the worked configs."""
    text = README.read_text().split("## Protocol adapters", 1)[1].split("\n## ", 1)[0]
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "adapters:" in b]


def test_readme_has_a_worked_config_per_protocol_adapter() -> None:
    names = {a["name"] for b in readme_blocks() for a in yaml.safe_load(b)["adapters"]}
    assert {"mqtt", "modbus", "prometheus", "can", "snmp"} <= names


@pytest.mark.parametrize("n", range(len(readme_blocks())))
def test_readme_block_is_valid(n: int, tmp_path: Path) -> None:
    cfg = tmp_path / "adapters.yaml"
    cfg.write_text(readme_blocks()[n])
    shutil.copy(REPO_ROOT / "config" / "example-vehicle.dbc", tmp_path)
    res = check(cfg)
    assert res.returncode == 0, res.stderr
