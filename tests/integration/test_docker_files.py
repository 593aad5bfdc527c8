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


def _stages(dockerfile: str) -> list[list[str]]:
    """Instructions per build stage (continuation lines joined)."""
    stages: list[list[str]] = []
    for line in dockerfile.replace("\\\n", " ").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(text)
    return stages


def test_image_builds_the_console_in_a_stage_of_its_own() -> None:
    stages = _stages((DOCKER / "Dockerfile").read_text())
    assert len(stages) == 2, [s[0] for s in stages]
    ui, final = stages
    assert ui[0].startswith("FROM node:") and ui[0].endswith(" AS ui"), ui[0]
    assert any("npm ci" in i for i in ui) and any("npm run build" in i for i in ui), ui
    assert final[0].startswith("FROM python:3.11"), final[0]
    copied = [i for i in final if i.startswith("COPY --from=ui ")]
    assert copied == ["COPY --from=ui /src/padit_stream/ui_dist ./padit_stream/ui_dist"], copied
    # The copy lands before the package is installed, so the image's package has it.
    assert final.index(copied[0]) < next(i for i, s in enumerate(final) if "pip install" in s)
    # The host's node_modules and build never enter the context.
    ignored = (DOCKER.parent / ".dockerignore").read_text().split()
    assert {"ui/node_modules", "padit_stream/ui_dist"} <= set(ignored)
