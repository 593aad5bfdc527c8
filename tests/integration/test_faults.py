"""Faults, injected into a running stream: what went in, what came out, what was lost.

Each test is bounded in time and stops everything it started. The processing guarantee that
makes the kill test hold: at-least-once delivery (Faust commits input offsets only after the
producer flushed the outputs and changelog rows of the batch) plus idempotent window
updates (each series' meta row records the last input offset it applied; a redelivered
record is skipped), so a window after a takeover holds every metric exactly once.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.schema import metric_key
from tests.stream_support import Stream, consume_until, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0


def _report(title: str, rows: list[tuple[str, int, int]]) -> None:
    lines = [f"\n{title}", f"{'what':<34}{'injected':>10}{'lost':>8}"]
    lines += [f"{what:<34}{injected:>10}{lost:>8}" for what, injected, lost in rows]
    print("\n".join(lines))  # shown with -rA or -s: the figures a reader of CI looks for


async def _serve(method: str, path: str, handler: Any) -> tuple[Any, int]:
    """A real HTTP server on a free loopback port; returns its runner (to clean up) and port."""
    from aiohttp import web

    site_app = web.Application()
    site_app.router.add_route(method, path, handler)
    runner = web.AppRunner(site_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


def _series_points(
    n_series: int, per_series: int
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    return {
        (f"ru-{s}", "rtt_ms"): [
            (T0 + i * 0.25, 1.0 + ((i * 7919 + s * 104729) % 97) / 100) for i in range(per_series)
        ]
        for s in range(n_series)
    }


async def test_kill_minus_9_mid_stream_loses_and_doubles_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    stream = Stream(
        kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="60", PADIT_SESSION_TIMEOUT_SEC="8"
    )
    series = _series_points(24, 1000)  # 250 s of event time each: all inside one window
    try:
        victim = stream.worker("victim")
        victim.wait_ready()
        survivor = stream.worker("survivor")
        survivor.wait_ready()
        # Interleave the series and feed them in slices so the kill lands mid-stream.
        slices = [
            [r for key, pts in series.items() for r in metric_records(*key, pts[i : i + 50])]
            for i in range(0, 1000, 50)
        ]

        async def feed() -> None:
            for chunk in slices:
                await produce(stream.bootstrap, stream.topic("metrics"), chunk)
                await asyncio.sleep(0.2)

        feeding = asyncio.ensure_future(feed())
        await asyncio.sleep(1.5)
        victim.kill()  # SIGKILL: no flush, no commit, no goodbye
        await feeding

        config = SeriesConfig(emit_every=60.0)
        lost = 0
        deadline = asyncio.get_running_loop().time() + 120
        async with httpx.AsyncClient(timeout=10) as client:
            for (source, metric), points in series.items():
                reference = SeriesState(metric_key(source, metric), config)
                for ts, v in points:
                    reference.add(ts, v)
                want = reference.window.features()
                assert want is not None
                while True:
                    r = await client.get(f"{survivor.url}/windows/{source}/{metric}")
                    body = r.json() if r.status_code == 200 else {}
                    if body.get("count") == len(points) or (
                        asyncio.get_running_loop().time() > deadline
                    ):
                        break
                    await asyncio.sleep(0.5)
                assert r.status_code == 200, (r.text, survivor.log_tail())
                lost += max(0, len(points) - body["count"])
                assert body["count"] == len(points), (source, body["count"])
                assert body["features"] == want._asdict(), source
        _report(
            "kill -9 of one of two workers mid-stream",
            [("metrics (24 series x 1000)", sum(map(len, series.values())), lost)],
        )
        assert survivor.alive()
    finally:
        stream.close()


async def test_malformed_records_among_good_ones(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = Stream(kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0")
    try:
        worker = stream.worker()
        worker.wait_ready()
        pid = worker.proc.pid if worker.proc else None
        good_total, bad_total = 100_000, 1_000
        per = good_total // 100
        records: list[tuple[bytes | None, bytes]] = []
        bad_values = [
            b"{not json",
            b'{"timestamp": 1, "source_id": "", "metric_name": "m", "value": 1}',
            b'{"timestamp": 1, "source_id": "x", "metric_name": "m", "value": NaN}',
            b'{"timestamp": "noon", "source_id": "x", "metric_name": "m", "value": 1}',
        ]
        for i in range(per):
            for s in range(100):
                records += metric_records(f"src-{s}", "rtt_ms", [(T0 + i, float(i % 50))])
            # One malformed record per round, each distinct (trailing spaces) to count them.
            records += [(metric_key("src-bad", "rtt_ms"), bad_values[i % 4] + b" " * (i // 4))]
        assert sum(1 for k, _ in records if k == metric_key("src-bad", "rtt_ms")) == bad_total
        await produce(stream.bootstrap, stream.topic("metrics"), records)
        dead = await consume_until(
            stream.bootstrap, stream.topic("deadletter"), lambda rs: len(rs) >= bad_total, 180
        )
        features = await consume_until(
            stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= good_total, 300
        )
        await asyncio.sleep(2)  # anything extra would show up now
        dead = await consume_until(
            stream.bootstrap, stream.topic("deadletter"), lambda rs: False, 3
        )
        emitted: dict[bytes, int] = {}
        newest: dict[bytes, float] = {}
        for r in features:
            emitted[r.key] = emitted.get(r.key, 0) + 1
            newest[r.key] = max(newest.get(r.key, 0.0), orjson.loads(r.value)["window_end"])
        _report(
            "malformed records mixed into good ones",
            [("good metrics", good_total, good_total - len(features)),
             ("malformed (to dead-letter)", bad_total, bad_total - len(dead))],
        )  # fmt: skip
        assert len(dead) == bad_total
        assert len({r.value for r in dead}) == bad_total  # each exactly once
        assert len(features) == good_total
        # Every series emitted once per metric (features on every metric) up to its last one.
        assert len(emitted) == 100 and set(emitted.values()) == {per}
        assert set(newest.values()) == {T0 + per - 1}
        assert worker.alive() and worker.proc is not None and worker.proc.pid == pid
        assert "Restarting dead" not in worker.log_text()
    finally:
        stream.close()


async def test_broker_restart_mid_stream(tmp_path: Path) -> None:
    """A broker of its own (not the session's): stopped and started while data flows."""
    import subprocess
    import sys

    from aiohttp import web

    from tests.kafka_support import KafkaBroker
    from tests.stream_support import REPO_ROOT

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    runner, http_port = await _serve("GET", "/health", ok)

    broker = KafkaBroker(data_dir=tmp_path / "kafka")
    await asyncio.to_thread(broker.start)
    stream = Stream(
        broker.bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0", PADIT_SESSION_TIMEOUT_SEC="10"
    )
    adapters = None
    try:
        worker = stream.worker()
        worker.wait_ready()
        cfg = tmp_path / "adapters.yaml"
        cfg.write_text(
            "adapters:\n  - name: http\n    interval_sec: 0.2\n    endpoints:\n"
            f"      - {{id: web-1, url: 'http://127.0.0.1:{http_port}/health'}}\n"
        )
        adapters = subprocess.Popen(
            [sys.executable, "-m", "adapters", "run", str(cfg), "--broker", broker.bootstrap,
             "--topic", stream.topic("metrics"), "--metrics-listen", "127.0.0.1:0"],
            cwd=REPO_ROOT, env={**os.environ}, stdout=(tmp_path / "adapters.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        await asyncio.sleep(4)
        await asyncio.to_thread(broker.down)
        await asyncio.sleep(3)
        await asyncio.to_thread(broker.start)
        restarted_at = time.time()
        await asyncio.sleep(8)
        adapters.terminate()
        assert adapters.wait(30) == 0
        metrics = await consume_until(
            broker.bootstrap, stream.topic("metrics"), lambda rs: False, 5
        )
        n_metrics = len(metrics)
        features = await consume_until(
            broker.bootstrap, stream.topic("features"), lambda rs: len(rs) >= n_metrics, 90
        )
        latest = max(orjson.loads(r.value)["timestamp"] for r in metrics)
        _report(
            "broker stopped for 3 s while an adapter and a worker run",
            [("metrics published by the adapter", n_metrics, n_metrics - len(features))],
        )
        assert n_metrics > 0 and len(features) == n_metrics
        assert worker.alive()
        # The adapter went on after the restart: it probed and published after it.
        assert latest > restarted_at + 2
        assert "delivery to" not in (tmp_path / "adapters.log").read_text()
    finally:
        if adapters is not None and adapters.poll() is None:
            adapters.kill()
        stream.close()
        await asyncio.to_thread(broker.stop)
        await runner.cleanup()


async def test_slow_alert_receiver_does_not_stall_features(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A webhook that takes 20 s to answer: features keep flowing meanwhile."""
    from aiohttp import web

    started: list[float] = []
    answered: list[float] = []

    async def slow(_: web.Request) -> web.Response:
        started.append(time.monotonic())
        await asyncio.sleep(20)
        answered.append(time.monotonic())
        return web.Response(text="ok")

    runner, port = await _serve("POST", "/hook", slow)
    url = f"http://127.0.0.1:{port}/hook"
    cfg = tmp_path / "padit.yaml"
    import yaml

    from tests.stream_support import REPO_ROOT

    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    doc["alerting"]["route"].update(group_wait="0s", group_interval="1s")
    cfg.write_text(yaml.safe_dump(doc))
    stream = Stream(
        kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0", PADIT_WEBHOOK_URL=url,
        PADIT_CONFIG=str(cfg),
    )  # fmt: skip
    try:
        worker = stream.worker()
        worker.wait_ready()
        spike = [(T0 + i, 5.0 if i < 10 else 80.0) for i in range(15)]
        await produce(
            stream.bootstrap, stream.topic("metrics"), metric_records("du-x", "latency_ms", spike)
        )
        for _ in range(100):
            if started:
                break
            await asyncio.sleep(0.2)
        assert started, worker.log_tail()  # the receiver is now stuck on the first alert
        records = [
            r for key, pts in _series_points(10, 500).items() for r in metric_records(*key, pts)
        ]
        await produce(stream.bootstrap, stream.topic("metrics"), records)
        features = await consume_until(
            stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= 15 + len(records), 60
        )
        still_hanging = not answered
        _report(
            "alert receiver answering after 20 s",
            [("metrics while it stalls", len(records), 15 + len(records) - len(features))],
        )
        assert len(features) == 15 + len(records)
        # All of them went through while the first delivery was still hanging.
        assert still_hanging
    finally:
        stream.close()
        await runner.cleanup()


async def _health(url: str) -> int:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{url}/health", timeout=3)).status_code
    except httpx.HTTPError:
        return 0


async def _wait_health(url: str, status: int, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await _health(url) == status:
            return time.monotonic() - start
        await asyncio.sleep(0.5)
    raise AssertionError(f"/health did not answer {status} within {timeout} s")


async def test_a_stalled_stream_fails_health_and_shutdown_always_completes(
    tmp_path: Path,
) -> None:
    """The broker goes away while input is waiting: /health turns 503 (a liveness probe would
    restart the worker) and back to 200 when it returns; nothing is lost. Then SIGTERM with
    the broker gone: the worker exits within its shutdown timeout."""
    from tests.kafka_support import KafkaBroker

    broker = KafkaBroker(data_dir=tmp_path / "kafka")
    await asyncio.to_thread(broker.start)
    stream = Stream(
        broker.bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0", PADIT_STALL_TIMEOUT_SEC="6",
        PADIT_SHUTDOWN_TIMEOUT_SEC="12", PADIT_SESSION_TIMEOUT_SEC="10",
    )  # fmt: skip
    frozen = False
    try:
        series = _series_points(100, 2000)
        backlog = [r for key, pts in series.items() for r in metric_records(*key, pts)]
        await produce(stream.bootstrap, stream.topic("metrics"), backlog)
        worker = stream.worker()
        worker.wait_ready()
        await consume_until(broker.bootstrap, stream.topic("features"), lambda rs: len(rs) > 0)
        await asyncio.to_thread(broker.down)
        stalled_after = await _wait_health(worker.url, 503, 60)
        await asyncio.to_thread(broker.start)
        recovered_after = await _wait_health(worker.url, 200, 120)
        features = await consume_until(
            broker.bootstrap, stream.topic("features"), lambda rs: len(rs) >= len(backlog), 300
        )
        newest: dict[bytes, dict[str, Any]] = {}
        for r in features:
            doc = orjson.loads(r.value)
            if r.key not in newest or doc["window_end"] >= newest[r.key]["window_end"]:
                newest[r.key] = doc
        config = SeriesConfig(emit_every=0.0)
        lost = 0
        for (source, metric), points in series.items():
            reference = SeriesState(metric_key(source, metric), config)
            for ts, v in points:
                reference.add(ts, v)
            want = reference.window.features()
            assert want is not None
            got = newest.get(metric_key(source, metric))
            # At-least-once: features may repeat after the outage, but the last window of
            # each series holds every one of its metrics exactly once.
            if got is None or got["count"] != want.count or got["mean"] != want.mean:
                lost += 1
        _report(
            "broker gone for a while with input waiting",
            [("series with a full, exact last window", len(series), lost)],
        )
        print(f"/health 503 after {stalled_after:.1f} s, 200 again {recovered_after:.1f} s "
              "after the broker came back")  # fmt: skip
        assert lost == 0
        assert worker.alive()

        # A hung broker (stopped, connections open): a shutdown that waits on it would hang.
        await asyncio.to_thread(broker.freeze)
        frozen = True
        assert worker.proc is not None
        started = time.monotonic()
        worker.proc.terminate()
        code = await asyncio.to_thread(worker.proc.wait, 40)
        took = time.monotonic() - started
        print(f"SIGTERM with the broker hung: exit status {code} after {took:.1f} s")
        assert took < 12 + 6  # the shutdown timeout, and the interpreter's own exit
    finally:
        if frozen:
            broker.thaw()
        stream.close()
        await asyncio.to_thread(broker.stop)
