"""The operator API on three real workers: series listed and detailed the same by each,
history per minute, errors in one shape, every answer checked against the OpenAPI document."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from padit_stream.schema import encode_metric, metric_key
from tests.integration.api_support import Api, OpenApi
from tests.stream_support import REPO_ROOT, Stream, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a minute boundary
READ, WRITE = "read-token-1", "write-token-1"
SOURCES = [f"cell-{i}" for i in range(8)]
METRICS = ["prb_util", "rtt_ms"]
SECONDS = 240  # four minutes of event time, one sample per second per series


def value(source: int, metric: int, t: int) -> float:
    return float((t * (source + 1) + 7 * metric) % 23) / 2


def records(t_from: int, t_to: int) -> list[tuple[bytes, bytes]]:
    out = []
    for t in range(t_from, t_to):
        for si, source in enumerate(SOURCES):
            for mi, metric in enumerate(METRICS):
                site = "par" if si % 2 == 0 else "lyon"
                out.append(
                    (
                        metric_key(source, metric),
                        encode_metric(
                            T0 + t, source, metric, value(si, mi, t), labels={"site": site}
                        ),
                    )
                )
    return out


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def wait_for(check: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last is not None:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"condition not met in {timeout} s; last: {last!r}")


async def test_three_workers_answer_alike(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = Stream(
        kafka_bootstrap,
        tmp_path,
        PADIT_PARTITIONS="6",
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_SESSION_TIMEOUT_SEC="10",
        PADIT_API_TOKEN=READ,
        PADIT_API_WRITE_TOKEN=WRITE,
    )
    metrics_topic = stream.topic("metrics")
    total = len(SOURCES) * len(METRICS)
    try:
        workers = [stream.worker("w0")]
        await asyncio.to_thread(workers[0].wait_ready)
        # Partitions move twice while the data arrives: the history follows them.
        await produce(stream.bootstrap, metrics_topic, records(0, 100))
        for name in ("w1", "w2"):
            w = stream.worker(name)
            await asyncio.to_thread(w.wait_ready, 120)
            workers.append(w)
        await produce(stream.bootstrap, metrics_topic, records(100, SECONDS))

        async with httpx.AsyncClient(timeout=20) as client:
            raw = (await client.get(f"{workers[0].url}/api/v1/openapi.json")).json()
            spec = OpenApi(raw)
            apis = [Api(client, w.url, spec, READ) for w in workers]

            async def complete() -> list[dict[str, Any]] | None:
                r = await apis[0].get("/api/v1/series?limit=1000")
                if r.status_code != 200:
                    return None
                items = r.json()["items"]
                done = len(items) == total and all(
                    i["last_time"] == rfc3339(T0 + SECONDS - 1) for i in items
                )
                return items if done else None

            await wait_for(complete)
            for w in workers:
                await asyncio.to_thread(w.wait_ready, 60)
            answers = [(await a.get("/api/v1/series?limit=1000")).json() for a in apis]
            assert answers[0] == answers[1] == answers[2]
            items = answers[0]["items"]
            assert [(i["source_id"], i["metric_name"]) for i in items] == sorted(
                (s, m) for s in SOURCES for m in METRICS
            )
            for item in items:
                si, mi = SOURCES.index(item["source_id"]), METRICS.index(item["metric_name"])
                assert item["last_value"] == value(si, mi, SECONDS - 1)
                assert item["labels"] == {"site": "par" if si % 2 == 0 else "lyon"}
                assert item["detector"]
                assert 0.0 <= item["last_score"] <= 1.0
                assert item["state"] in ("ok", "anomalous", "alerting")
            assert answers[0]["next_cursor"] is None

            # Pages, each asked of another worker, add up to the whole list.
            paged: list[dict[str, Any]] = []
            cursor = None
            for n in range(20):
                query = "/api/v1/series?limit=5" + (f"&cursor={cursor}" if cursor else "")
                page = (await apis[n % 3].get(query)).json()
                paged += page["items"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert paged == items

            # Filters.
            def names(r: httpx.Response) -> list[tuple[str, str]]:
                return [(i["source_id"], i["metric_name"]) for i in r.json()["items"]]

            r = await apis[1].get("/api/v1/series?source=cell-3")
            assert names(r) == [("cell-3", m) for m in sorted(METRICS)]
            r = await apis[2].get("/api/v1/series?metric=rtt_ms&match=site%3D%22par%22")
            assert names(r) == [(s, "rtt_ms") for s in SOURCES[::2]]
            r = await apis[0].get(
                "/api/v1/series",
                params=[("match", 'source_id=~"cell-[12]"'), ("match", 'metric_name!="rtt_ms"')],
            )
            assert names(r) == [("cell-1", "prb_util"), ("cell-2", "prb_util")]
            by_state: dict[str, int] = {}
            for state in ("ok", "anomalous", "alerting", "stale"):
                r = await apis[0].get(f"/api/v1/series?state={state}&limit=1000")
                by_state[state] = len(r.json()["items"])
                assert all(i["state"] == state for i in r.json()["items"])
            assert sum(by_state.values()) == total

            # One series in detail: the same from every worker, per-minute history.
            path = "/api/v1/series/cell-5/rtt_ms"
            details = [(await a.get(path)).json() for a in apis]
            assert details[0] == details[1] == details[2]
            d = details[0]
            assert d["window"]["count"] > 0 and d["features"]["mean"] is not None
            assert (
                d["explanation"]["detector"] == items[0]["detector"] or d["explanation"]["detector"]
            )
            history = d["history"]
            assert [p["time"] for p in history] == [rfc3339(T0 + 60 * m) for m in range(4)]
            for m, point in enumerate(history):
                values = [value(5, 1, t) for t in range(60 * m, 60 * m + 60)]
                assert point["min"] == min(values)
                assert point["max"] == max(values)
                assert point["mean"] == pytest.approx(sum(values) / 60, rel=1e-6)
                assert 0.0 <= point["score_max"] <= 1.0
            since = (await apis[1].get(f"{path}?since={rfc3339(T0 + 120)}")).json()["history"]
            assert [p["time"] for p in since] == [rfc3339(T0 + 120), rfc3339(T0 + 180)]

            # Errors: one shape, naming the fields.
            r = await apis[0].get("/api/v1/series?limit=abc&state=bad&colour=red")
            assert r.status_code == 400
            fields = {f["field"] for f in r.json()["error"]["fields"]}
            assert fields == {"limit", "state", "colour"}
            r = await apis[0].get(f"{path}?since=yesterday")
            assert r.status_code == 400
            assert [f["field"] for f in r.json()["error"]["fields"]] == ["since"]
            r = await apis[0].get("/api/v1/series?match=site%3D%3D%22x")
            assert r.status_code == 400 and r.json()["error"]["fields"][0]["field"] == "match"
            r = await apis[2].get("/api/v1/series/cell-99/rtt_ms")
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
            r = await apis[0].get("/api/v1/series", headers={})
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
            r = await apis[0].get("/api/v1/series", headers={"Authorization": "Bearer nope"})
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
            r = await apis[1].get("/api/v1/status", headers={"Authorization": f"Bearer {WRITE}"})
            assert r.status_code == 200  # the write token reads too
            r = await client.get(f"{workers[0].url}/api/v1/nothing-here", headers=apis[0].headers)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

            # Status: members, ownership, lag of every input partition.
            status = r = (await apis[2].get("/api/v1/status")).json()
            assert status["members"] == sorted(w.url for w in workers)
            owned = sorted(p for ps in status["partitions"]["history"].values() for p in ps)
            assert owned == list(range(6))
            lag = [e for e in status["consumer_lag"] if e["topic"] == metrics_topic]
            assert sorted(e["partition"] for e in lag) == list(range(6))
            assert all(e["worker"] in status["members"] for e in lag)
            assert status["config"]["topics"]["partitions"] == 6
        assert spec.checked > 20
    finally:
        stream.close()


def test_refuses_to_listen_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADIT_API")}
    env.update(PADIT_WEB_HOST="0.0.0.0", PADIT_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "padit_stream", "worker"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "PADIT_API_TOKEN" in done.stderr
    assert "'0.0.0.0'" in done.stderr
