"""Alerting in the running stream: webhook delivery, silences via the API, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from tests.integration.receivers import HttpReceiver
from tests.stream_support import REPO_ROOT, Stream, consume_until, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0
TOKEN = "test-token-not-a-secret"


def _spike(source: str, start: float) -> list[tuple[bytes, bytes]]:
    normal = [(start + i, 5.0 + i / 10) for i in range(10)]
    spike = [(start + 10 + i, 50.0 + 10 * i) for i in range(5)]
    return metric_records(source, "latency_ms", normal + spike)


def _fast_config(tmp: Path) -> Path:
    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    doc["alerting"]["route"].update(group_wait="1s", group_interval="2s")
    path = tmp / "padit.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


async def _wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_webhook_and_silences_across_a_restart(kafka_bootstrap: str, tmp_path: Path) -> None:
    receiver = await HttpReceiver().start()
    stream = Stream(
        kafka_bootstrap,
        tmp_path,
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_CONFIG=str(_fast_config(tmp_path)),
        PADIT_WEBHOOK_URL=receiver.url("/hook"),
        PADIT_API_TOKEN=TOKEN,
    )
    try:
        worker = stream.worker("first")
        worker.wait_ready()
        await produce(stream.bootstrap, stream.topic("metrics"), _spike("du-a", T0))

        def firing_for(source: str) -> list[dict]:  # type: ignore[type-arg]
            return [
                r.json for r in receiver.accepted
                if any(a["labels"].get("source_id") == source for a in r.json["alerts"])
            ]  # fmt: skip

        assert await _wait_for(lambda: firing_for("du-a")), worker.log_tail()
        body = firing_for("du-a")[0]
        # Alertmanager's webhook format, version 4.
        assert body["version"] == "4" and body["status"] == "firing"
        assert body["receiver"] == "default"
        alert = body["alerts"][0]
        assert alert["status"] == "firing"
        assert alert["labels"]["metric_name"] == "latency_ms"
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["startsAt"].startswith("2026-01-01T00:00:1")
        assert set(body) >= {"groupKey", "groupLabels", "commonLabels", "commonAnnotations",
                             "externalURL", "truncatedAlerts"}  # fmt: skip

        silence = {
            "matchers": ['source_id="du-b"'],
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
            "created_by": "test",
            "comment": "maintenance on du-b",
        }
        async with httpx.AsyncClient(timeout=10) as client:
            denied = await client.post(f"{worker.url}/silences", json=silence)
            assert denied.status_code == 403
            made = await client.post(
                f"{worker.url}/silences", json=silence,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )  # fmt: skip
            assert made.status_code == 201, made.text
            silence_id = made.json()["id"]

        # A new worker with an empty data dir: the silence comes back from the changelog.
        worker.stop()
        second = stream.worker("second")
        second.wait_ready()
        async with httpx.AsyncClient(timeout=10) as client:
            listed = (await client.get(f"{second.url}/silences")).json()["silences"]
        assert [s["id"] for s in listed] == [silence_id]
        assert listed[0]["status"] == "active"

        await produce(stream.bootstrap, stream.topic("metrics"), _spike("du-b", T0 + 100))

        def alert_for_b(records: list) -> bool:  # type: ignore[type-arg]
            return any(orjson.loads(r.value)["source_id"] == "du-b" for r in records)

        records = await consume_until(stream.bootstrap, stream.topic("alerts"), alert_for_b)
        recorded = [orjson.loads(r.value) for r in records]
        b_alerts = [a for a in recorded if a["source_id"] == "du-b"]
        assert b_alerts, second.log_tail()
        assert all(
            a["mute_status"]
            == {"state": "suppressed", "silencedBy": [silence_id], "inhibitedBy": []}
            for a in b_alerts
        )
        # Group wait is 1 s: give the notifier several ticks, then nothing may have gone out.
        await asyncio.sleep(4)
        assert firing_for("du-b") == []
        # The first incident was notified exactly once, not again after the restart.
        assert len(firing_for("du-a")) == 1
        async with httpx.AsyncClient(timeout=10) as client:
            stats = (await client.get(f"{second.url}/alerts/delivery")).json()
        # Nothing waits undelivered and nothing failed; the first worker's delivery of du-a
        # is still counted by the second (the counters live in the changelog).
        assert stats["pending"] == 0 and stats["failed"] == 0, stats
        assert stats["sent"] == 1, stats
    finally:
        stream.close()
        await receiver.stop()
