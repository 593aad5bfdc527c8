"""Feedback through the API of a real worker: verdicts posted, listed, withdrawn, kept on the
compacted topic across a worker restart, and read back by the tuner's reader."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from padit_stream.feedback_topic import load_feedback
from tests.integration.api_support import Api, OpenApi
from tests.stream_support import Stream

pytestmark = pytest.mark.integration

READ, WRITE = "read-token-fb", "write-token-fb"
RANGE = {
    "target": "range",
    "verdict": "missed",
    "source_id": "du-1",
    "metric_name": "rtt_ms",
    "start": "2026-01-01T00:00:00Z",
    "end": "2026-01-01T01:00:00Z",
    "author": "ana",
    "comment": "fibre cut, nothing fired",
}
TP = {
    "target": "anomaly",
    "verdict": "true_positive",
    "source_id": "du-2",
    "metric_name": "rtt_ms",
    "at": "2026-01-01T02:00:00Z",
    "author": "bob",
}


async def _cleanup_policy(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [resp] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = resp.resources[0][4]
        return str(next(e[1] for e in entries if e[0] == "cleanup.policy"))
    finally:
        await admin.close()


async def test_feedback_round_trip(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = Stream(kafka_bootstrap, tmp_path, PADIT_API_TOKEN=READ, PADIT_API_WRITE_TOKEN=WRITE)
    try:
        first = stream.worker("w0")
        await asyncio.to_thread(first.wait_ready)
        async with httpx.AsyncClient(timeout=20) as client:
            spec = OpenApi((await client.get(f"{first.url}/api/v1/openapi.json")).json())
            writer = Api(client, first.url, spec, WRITE)
            reader = Api(client, first.url, spec, READ)

            r = await writer.call("POST", "/api/v1/feedback", json=RANGE)
            assert r.status_code == 201, r.text
            missed: dict[str, Any] = r.json()
            assert missed["start"] == "2026-01-01T00:00:00.000Z" and missed["author"] == "ana"
            r = await writer.call("POST", "/api/v1/feedback", json=TP)
            assert r.status_code == 201, r.text
            tp_id = r.json()["id"]

            bad = {**TP, "verdict": "missed", "at": "yesterday", "colour": "red"}
            r = await writer.call("POST", "/api/v1/feedback", json=bad)
            assert r.status_code == 400
            named = {f["field"] for f in r.json()["error"]["fields"]}
            assert named == {"verdict", "at", "colour"}
            r = await reader.call("POST", "/api/v1/feedback", json=TP)
            assert r.status_code == 403

            listed = (await reader.get("/api/v1/feedback")).json()["items"]
            assert {v["id"] for v in listed} == {missed["id"], tp_id}
            one = (await reader.get(f"/api/v1/feedback/{missed['id']}")).json()
            assert one == missed

            r = await writer.call("DELETE", f"/api/v1/feedback/{tp_id}?author=carol")
            assert r.status_code == 200 and r.json()["withdrawn_by"] == "carol"
            r = await writer.call("DELETE", f"/api/v1/feedback/{tp_id}?author=carol")
            assert r.status_code == 409
            r = await writer.call("DELETE", "/api/v1/feedback/nope?author=carol")
            assert r.status_code == 404
            standing = (await reader.get("/api/v1/feedback")).json()["items"]
            assert [v["id"] for v in standing] == [missed["id"]]

            # A new worker with no local state lists the same verdicts: they live on the topic.
            await asyncio.to_thread(first.stop)
            second = stream.worker("w1")
            await asyncio.to_thread(second.wait_ready)
            again = Api(client, second.url, spec, READ)
            everything = (await again.get("/api/v1/feedback?withdrawn=true")).json()["items"]
            assert {v["id"]: v["withdrawn"] for v in everything} == {
                missed["id"]: False,
                tp_id: True,
            }
            only_du1 = (await again.get("/api/v1/feedback?source=du-1")).json()["items"]
            assert [v["id"] for v in only_du1] == [missed["id"]]

        topic = stream.topic("feedback")
        assert await _cleanup_policy(kafka_bootstrap, topic) == "compact"
        verdicts = await load_feedback(kafka_bootstrap, topic)
        assert {v.id: v.withdrawn for v in verdicts} == {missed["id"]: False, tp_id: True}
    finally:
        stream.close()
