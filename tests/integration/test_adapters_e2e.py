"""The adapters' runner end to end: `python -m adapters run` into the real Kafka broker."""

from __future__ import annotations

import asyncio
import signal
import socket
import statistics
import sys
import textwrap
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from padit_stream.schema import decode_metric, parse_metric_key
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import PYTHON, REPO_ROOT, HttpPeer
from tests.kafka_support import create_topic

pytestmark = pytest.mark.integration


async def test_runner_publishes_keyed_metrics_and_survives_dead_endpoints(
    kafka_bootstrap: str, http_peer: HttpPeer, tmp_path: Path
) -> None:
    topic = f"padit.metrics.test-{uuid.uuid4().hex[:8]}"
    await create_topic(kafka_bootstrap, topic, partitions=3)
    csv = tmp_path / "cpu.csv"
    csv.write_text("timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2.5\n")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    cfg = tmp_path / "adapters.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            adapters:
              - name: http
                interval_sec: 0.3
                timeout_sec: 0.5
                endpoints:
                  - {{id: ok, url: "{http_peer.url("/")}", labels: {{site: lab}}}}
                  - {{id: dead, url: "http://127.0.0.1:{closed.getsockname()[1]}/"}}
                  - {{id: hangs, url: "{http_peer.url("/slow")}"}}
              - name: replay
                endpoints:
                  - {{id: rep, path: cpu.csv, progress: false}}
            """
        )
    )
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "adapters", "run", str(cfg),
        "--broker", f"kafka://{kafka_bootstrap}", "--topic", topic, "--metrics-listen", "off",
        cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    ups: dict[str, list[tuple[float, float, dict[str, str]]]] = defaultdict(list)
    replayed = []
    try:
        async with asyncio.timeout(90):
            while len(ups["ok"]) < 8 or len(ups["dead"]) < 2 or len(ups["hangs"]) < 2:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for rec in records:
                        sample = decode_metric(rec.value)
                        assert parse_metric_key(rec.key) == (sample.source_id, sample.metric_name)
                        assert rec.timestamp == int(sample.timestamp * 1000)
                        if sample.metric_name == "up":
                            ups[sample.source_id].append(
                                (sample.timestamp, sample.value, sample.labels)
                            )
                        if sample.protocol == "replay":
                            replayed.append((sample.source_id, sample.timestamp, sample.value))
    finally:
        await consumer.stop()
        closed.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        stderr = (await asyncio.wait_for(proc.stderr.read(), 30)).decode()
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, stderr
    assert "stopped:" in stderr
    assert all(v == 1.0 and lab == {"site": "lab"} for _, v, lab in ups["ok"])
    assert all(v == 0.0 and lab == {"error": "refused"} for _, v, lab in ups["dead"])
    assert all(v == 0.0 and lab == {"error": "timeout"} for _, v, lab in ups["hangs"])
    # Original timestamps (UTC) from the CSV, keyed by the file stem.
    assert sorted(replayed) == [("cpu", 1396310400.0, 1.5), ("cpu", 1396310700.0, 2.5)]
    gaps = [b[0] - a[0] for a, b in zip(ups["ok"], ups["ok"][1:], strict=False)]
    sys.stderr.write(
        f"\nhealthy endpoint: {len(ups['ok'])} probes, median gap {statistics.median(gaps):.3f} s "
        f"(interval 0.3 s) while dead={len(ups['dead'])}, hanging={len(ups['hangs'])}\n"
    )
