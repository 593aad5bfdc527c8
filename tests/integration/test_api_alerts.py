"""Alerts and silences through the operator API on two real workers: a firing alert and
its notification link, a pending one, a silence that mutes and an expiry that unmutes, the
resolution, old paths redirected; every answer checked against the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.api_support import Api, OpenApi
from tests.integration.receivers import HttpReceiver
from tests.stream_support import REPO_ROOT, Stream, Worker, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0
READ, WRITE = "read-token-2", "write-token-2"


def _config(tmp: Path, external_url: str) -> Path:
    """p99 above 20 alone scores 0.5 and fires after 3 evaluations; clear as soon as the
    spike leaves the 30 s window."""
    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    doc["window"]["span_sec"] = 30
    doc["detection"]["anomaly_threshold"] = 0.4
    doc["detection"]["thresholds"]["latency_ms"] = {"p99": 20.0, "cusum": 1.0e9}
    doc["alerting"]["lifecycle"].update(
        fire_threshold=0.5, clear_threshold=0.3, keep_firing_for="0s",
        severity={"critical": 0.9, "warning": 0.5},
    )  # fmt: skip
    doc["alerting"]["lifecycle"]["for"] = 3
    doc["alerting"]["route"].update(group_wait="1s", group_interval="2s")
    doc["alerting"]["external_url"] = external_url
    path = tmp / "padit.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


async def wait_for(check: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"condition not met in {timeout} s; last: {last!r}")


async def test_alerts_and_silences(kafka_bootstrap: str, tmp_path: Path) -> None:
    receiver = await HttpReceiver().start()
    stream = Stream(
        kafka_bootstrap,
        tmp_path,
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_WEBHOOK_URL=receiver.url("/hook"),
        PADIT_API_TOKEN=READ,
        PADIT_API_WRITE_TOKEN=WRITE,
    )
    metrics = stream.topic("metrics")
    try:
        w0 = Worker(stream.env, tmp_path / "w0", tmp_path / "w0.log")
        w0.env["PADIT_CONFIG"] = str(_config(tmp_path, w0.url))
        stream.workers.append(w0.start())
        stream.env["PADIT_CONFIG"] = w0.env["PADIT_CONFIG"]
        w1 = stream.worker("w1")
        await asyncio.to_thread(w0.wait_ready)
        await asyncio.to_thread(w1.wait_ready)
        normal = [(T0 + i, 5.0) for i in range(10)]
        await produce(stream.bootstrap, metrics, metric_records(
            "du-a", "latency_ms", normal + [(T0 + 10 + i, 50.0) for i in range(10)]))  # fmt: skip
        await produce(stream.bootstrap, metrics, metric_records(
            "du-p", "latency_ms", normal + [(T0 + 10 + i, 50.0) for i in range(2)]))  # fmt: skip

        def hooks_about(source: str) -> list[dict[str, Any]]:
            return [
                a for r in receiver.accepted for a in r.json["alerts"]
                if a["labels"].get("source_id") == source
            ]  # fmt: skip

        async def notified() -> list[dict[str, Any]]:
            return hooks_about("du-a")

        firing_hook = (await wait_for(notified))[0]
        async with httpx.AsyncClient(timeout=20) as client:
            spec = OpenApi((await client.get(f"{w1.url}/api/v1/openapi.json")).json())
            a0, a1 = Api(client, w0.url, spec, READ), Api(client, w1.url, spec, READ)
            writer = Api(client, w1.url, spec, WRITE)

            # The notification's link resolves to the alert, its timeline and its delivery.
            link = firing_hook["generatorURL"]
            assert link.startswith(f"{w0.url}/api/v1/alerts/")
            alert_id = link.rsplit("/", 1)[1]

            async def delivered() -> dict[str, Any] | None:
                doc = (await a1.get(f"/api/v1/alerts/{alert_id}")).json()
                return doc if doc["notifications"] else None

            detail = await wait_for(delivered)
            assert detail["status"] == "firing" and detail["labels"]["source_id"] == "du-a"
            assert detail["timeline"][0]["event"] == "firing (warning)"
            assert detail["notifications"][0]["receiver"] == "default"
            assert detail["notifications"][0]["outcome"] == "sent"
            assert detail["receivers"] == ["default"] and detail["group_key"]

            # The list: the same from both workers; the firing one and the pending one.
            async def both_listed() -> list[dict[str, Any]] | None:
                items = (await a0.get("/api/v1/alerts")).json()["items"]
                return items if {a["status"] for a in items} == {"firing", "pending"} else None

            items = await wait_for(both_listed)
            assert (await a1.get("/api/v1/alerts")).json()["items"] == items
            by_status = {a["status"]: a for a in items}
            assert by_status["firing"]["id"] == alert_id
            assert by_status["pending"]["labels"]["source_id"] == "du-p"
            assert by_status["pending"]["ends_at"] is None

            # The series say the same: state, alert state and the alert's interval.
            series = (await a1.get("/api/v1/series?limit=10")).json()["items"]
            assert [(i["source_id"], i["state"], i["alert_state"]) for i in series] == [
                ("du-a", "alerting", "firing"),
                ("du-p", "anomalous", "pending"),
            ]
            intervals = (await a0.get("/api/v1/series/du-a/latency_ms")).json()["alert_intervals"]
            assert [(i["alert_id"], i["ends_at"]) for i in intervals] == [(alert_id, None)]

            def ids(r: httpx.Response) -> list[str]:
                return [a["id"] for a in r.json()["items"]]

            assert ids(await a0.get("/api/v1/alerts?status=firing&source=du-a")) == [alert_id]
            assert ids(await a0.get("/api/v1/alerts?receiver=default&status=firing")) == [alert_id]
            assert ids(await a1.get("/api/v1/alerts?receiver=nobody")) == []
            assert ids(await a1.get("/api/v1/alerts?status=resolved")) == []
            assert ids(await a1.get("/api/v1/alerts?silenced=true")) == []

            # A silence from the alert's labels mutes it; only the write token may create it.
            body = {
                "matchers": '{source_id="du-a", metric_name=~"latency.*"}',
                "ends_at": "2099-01-01T00:00:00Z",
                "created_by": "oncall",
                "comment": "maintenance",
            }
            r = await a1.call("POST", "/api/v1/silences", json=body)
            assert r.status_code == 403
            r = await a1.call("POST", "/api/v1/silences", json=body, headers={})
            assert r.status_code == 401
            r = await writer.call(
                "POST", "/api/v1/silences",
                json={"matchers": 'source_id=="x', "starts_at": "soon", "colour": 1},
            )  # fmt: skip
            assert r.status_code == 400
            assert {f["field"] for f in r.json()["error"]["fields"]} == {
                "matchers", "starts_at", "ends_at", "created_by", "colour"
            }  # fmt: skip
            r = await writer.call("POST", "/api/v1/silences", json=body)
            assert r.status_code == 201
            silence_id = r.json()["id"]
            silenced = await a0.get("/api/v1/alerts?silenced=true")
            assert ids(silenced) == [alert_id]
            assert silenced.json()["items"][0]["silenced_by"] == [silence_id]
            detail = (await a0.get(f"/api/v1/alerts/{alert_id}")).json()
            assert f"silenced by {silence_id}" in [e["event"] for e in detail["timeline"]]

            listed = await a0.get("/api/v1/silences?filter=%7Bsource_id%3D%22du-a%22%7D")
            assert [s["id"] for s in listed.json()["items"]] == [silence_id]
            other = await a0.get('/api/v1/silences?filter={source_id="du-z"}')
            assert other.json()["items"] == []
            one = (await a1.get(f"/api/v1/silences/{silence_id}")).json()
            assert one["status"] == "active" and one["created_by"] == "oncall"
            assert one["matchers_text"] == '{source_id="du-a",metric_name=~"latency.*"}'

            # Expiring it unmutes the alert; an expired silence is listed on request only.
            r = await writer.call("DELETE", f"/api/v1/silences/{silence_id}")
            assert r.status_code == 200 and r.json()["status"] == "expired"
            assert (await a0.get("/api/v1/silences")).json()["items"] == []
            expired = (await a0.get("/api/v1/silences?expired=true")).json()["items"]
            assert [s["id"] for s in expired] == [silence_id]
            assert ids(await a0.get("/api/v1/alerts?silenced=false&status=firing")) == [alert_id]
            assert (await a1.get("/api/v1/silences/nope")).status_code == 404
            r = await writer.call("DELETE", "/api/v1/silences/nope")
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
            assert (await a1.get("/api/v1/alerts/nope")).status_code == 404

            # Old paths redirect, keeping method and query.
            r = await client.post(f"{w1.url}/silences?x=1", json=body)
            assert r.status_code == 308 and r.headers["location"] == "/api/v1/silences?x=1"
            r = await client.get(f"{w1.url}/alerts/{alert_id}")
            assert r.status_code == 308 and r.headers["location"] == f"/api/v1/alerts/{alert_id}"

            # The spike leaves the window: the alert resolves and stays listed as resolved.
            await produce(stream.bootstrap, metrics, metric_records(
                "du-a", "latency_ms", [(T0 + 20 + i, 5.0) for i in range(40)]))  # fmt: skip

            async def resolved() -> list[str]:
                return ids(await a1.get("/api/v1/alerts?status=resolved"))

            assert await wait_for(resolved) == [alert_id]
            detail = (await a1.get(f"/api/v1/alerts/{alert_id}")).json()
            assert detail["ends_at"] is not None and detail["status"] == "resolved"
            assert detail["timeline"][-1]["event"] == "resolved"
            intervals = (await a0.get("/api/v1/series/du-a/latency_ms")).json()["alert_intervals"]
            assert [(i["alert_id"], i["ends_at"]) for i in intervals] == [
                (alert_id, detail["ends_at"])
            ]
        assert spec.checked > 20
    finally:
        stream.close()
        await receiver.stop()
