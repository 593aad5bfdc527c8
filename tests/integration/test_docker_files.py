"""The Docker deliverables parse as what they claim to be."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _compose() -> list[str]:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is installed by scripts/install-tools.sh (make test)"
    return [exe]


def test_compose_file_passes_compose_config() -> None:
    out = subprocess.run(
        [*_compose(), "-f", str(DOCKER / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=DOCKER,
    )
    assert out.returncode == 0, out.stderr
    resolved = yaml.safe_load(out.stdout)
    assert set(resolved["services"]) == {"kafka", "worker", "adapters"}
    assert resolved["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    worker_env = resolved["services"]["worker"]["environment"]
    assert worker_env["PADIT_BROKER"] == "kafka://kafka:9092"
    # Listening beyond loopback in its container, the worker needs an API token to start.
    assert worker_env["PADIT_WEB_HOST"] == "0.0.0.0" and worker_env["PADIT_API_TOKEN"]
