"""An adapters process's own /metrics, scraped while it runs into the real Kafka broker."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import textwrap
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import PYTHON, REPO_ROOT, HttpPeer
from tests.kafka_support import create_topic

pytestmark = pytest.mark.integration


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_probe_outcomes_durations_and_publish_errors(
    kafka_bootstrap: str, http_peer: HttpPeer, tmp_path: Path
) -> None:
    topic = f"padit.metrics.test-{uuid.uuid4().hex[:8]}"
    await create_topic(kafka_bootstrap, topic, partitions=1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: refused
    cfg = tmp_path / "adapters.yaml"
    cfg.write_text(textwrap.dedent(f"""
        adapters:
          - name: http
            interval_sec: 0.2
            endpoints:
              - {{id: ok, url: "{http_peer.url("/")}"}}
              - {{id: dead, url: "http://127.0.0.1:{closed.getsockname()[1]}/"}}
    """))  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "adapters", "run", str(cfg), "--broker", kafka_bootstrap,
        "--topic", topic, "--metrics-listen", "127.0.0.1:0",
        cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        port = None
        async with asyncio.timeout(30):
            while port is None:
                line = (await proc.stderr.readline()).decode()
                assert line, "adapters exited"
                m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", line)
                port = int(m.group(1)) if m else None
        key_ok = ("padit_adapter_probes_total",
                  (("adapter", "http"), ("endpoint", "ok"), ("outcome", "ok")))  # fmt: skip
        dead = (("adapter", "http"), ("endpoint", "dead"), ("outcome", "refused"))
        key_dead = ("padit_adapter_probes_total", dead)
        async with httpx.AsyncClient() as client:
            async with asyncio.timeout(30):
                while True:
                    resp = await client.get(f"http://127.0.0.1:{port}/metrics")
                    got = values(resp.text)
                    if got.get(key_ok, 0) >= 3 and got.get(key_dead, 0) >= 3:
                        break
                    await asyncio.sleep(0.2)
    finally:
        closed.close()
        proc.send_signal(signal.SIGTERM)
        stderr = (await asyncio.wait_for(proc.stderr.read(), 30)).decode()
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, stderr
    assert resp.headers["content-type"].startswith("text/plain")
    count = got[("padit_adapter_probe_duration_seconds_count",
                 (("adapter", "http"), ("endpoint", "ok")))]  # fmt: skip
    assert count >= 3
    assert got[("padit_adapter_publish_errors_total", ())] == 0
    assert got[("padit_adapter_records_total", ())] > 0
