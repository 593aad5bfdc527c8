"""`python -m adapters.bench` runs end to end on small inputs (figures are not checked)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.integration.peers import PYTHON, REPO_ROOT

pytestmark = pytest.mark.integration


def test_bench_prints_a_line_per_adapter() -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed; run scripts/install-peers.sh")
    res = subprocess.run(
        [PYTHON, "-m", "adapters.bench", "--messages", "400", "--frames", "400"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    line = re.compile(r"^(mqtt|can)\s+in\s+(\d+) \(of\s+(\d+) sent\)\s+out\s+(\d+) records", re.M)
    lines = {m.group(1): m for m in line.finditer(res.stdout)}
    assert set(lines) == {"mqtt", "can"}, res.stdout
    mqtt, can = lines["mqtt"], lines["can"]
    # Every MQTT message maps (numbers to 1 record, JSON to 2), plus the up on connecting.
    assert int(mqtt.group(2)) == 400 and int(mqtt.group(4)) == 200 + 400 + 1
    assert 0 < int(can.group(2)) <= 400 and int(can.group(4)) > 0
