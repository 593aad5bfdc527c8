"""PADIT as an Alertmanager client, against a real prometheus-alertmanager 0.25 on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.monitoring_peers import Alertmanager, WebhookSink
from tests.integration.peers import free_port
from tests.stream_support import REPO_ROOT, Stream, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
EXTERNAL_URL = "http://padit.test:6066"


def _config(tmp: Path, alertmanager_url: str) -> Path:
    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    doc["alerting"]["lifecycle"].update(stale_after="60s")
    doc["alerting"]["route"].update(group_wait="1s", group_interval="1s")
    doc["alerting"]["external_url"] = EXTERNAL_URL
    doc["alertmanager"] = {
        "urls": [alertmanager_url],
        "resend_interval_sec": 2,
        "builtin_notifications": False,
    }
    path = tmp / "padit.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


async def _until(what: str, check: Callable[[], Any], log: Callable[[], str]) -> Any:
    for _ in range(600):
        found = check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within 120 s\n{log()}")


def _metric(url: str, name: str) -> float:
    total = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_alerts_reach_a_late_alertmanager_and_resolve_there(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = free_port()
    am = Alertmanager(tmp_path / "am", port)
    # PADIT's own notification stage is switched off: this receiver must hear nothing.
    sink = WebhookSink()
    stream = Stream(
        kafka_bootstrap,
        tmp_path,
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_PARTITIONS="1",  # one partition: another series' event time makes du-a stale
        PADIT_CONFIG=str(_config(tmp_path, am.url)),
        PADIT_WEBHOOK_URL=sink.url("/hook"),
    )
    try:
        worker = stream.worker()
        worker.wait_ready()
        normal = [(T0 + i, 5.0 + i / 10) for i in range(10)]
        spike = [(T0 + 10 + i, 50.0 + 10 * i) for i in range(5)]
        await produce(
            stream.bootstrap, stream.topic("metrics"), metric_records("du-a", "latency_ms",
                                                                      normal + spike)
        )  # fmt: skip

        # Alertmanager is down: PADIT keeps the alert and keeps trying.
        await _until(
            "failed pushes while Alertmanager is down",
            lambda: _metric(worker.url, "padit_alertmanager_errors_total") >= 2,
            worker.log_tail,
        )
        assert _metric(worker.url, "padit_alertmanager_pending") >= 1

        am.start()

        def firing() -> list[dict[str, Any]]:
            return [a for a in am.alerts() if a["labels"].get("source_id") == "du-a"]

        alerts = await _until("the alert in Alertmanager", firing, worker.log_tail)
        assert len(alerts) == 1
        alert = alerts[0]
        labels = alert["labels"]
        assert labels["alertname"] == "PaditAnomaly"
        assert labels["metric_name"] == "latency_ms"
        assert labels["detector"] == "threshold"
        assert labels["severity"] in ("warning", "critical")
        assert alert["status"]["state"] == "active"
        # Event time of the first hot evaluation, not the time it was pushed.
        assert alert["startsAt"].startswith("2026-01-01T00:00:1")
        alert_id = alert["annotations"]["alert_id"]
        # PADIT's own link to the alert, under alerting.external_url.
        assert alert["generatorURL"] == f"{EXTERNAL_URL}/api/v1/alerts/{alert_id}"
        assert "latency_ms anomalous on du-a" in alert["annotations"]["summary"]

        # Another series' samples 1000 s later move the partition's event clock past
        # stale_after: PADIT resolves du-a, and Alertmanager must follow.
        later = [(T0 + 1000 + i, 5.0) for i in range(5)]
        await produce(
            stream.bootstrap, stream.topic("metrics"), metric_records("du-z", "latency_ms", later)
        )
        await _until(
            "the alert resolved in Alertmanager",
            lambda: not firing(),
            worker.log_tail,
        )
        # Resolved by PADIT's push, not merely expired: Alertmanager counted a resolved alert.
        assert _metric(am.url, 'alertmanager_alerts_received_total{status="resolved"') >= 1
        # Firing and resolved went by, each more than group_wait (1 s) ago.
        assert sink.received == []
        assert _metric(worker.url, "padit_notifications_sent_total") == 0
    finally:
        stream.close()
        am.stop()
        sink.close()
