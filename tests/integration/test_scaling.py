"""Adding workers one after another: shards spread, queries route, the stream keeps going."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import orjson
import pytest

from tests.stream_support import Stream, consume_until, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0
#: The longest pause in features output a rebalance may cause (session timeout + recovery).
MAX_STALL_SEC = 30.0


async def test_three_workers_share_twelve_partitions(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = Stream(
        kafka_bootstrap,
        tmp_path,
        PADIT_PARTITIONS="12",
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_STANDBY_REPLICAS="1",
        PADIT_SESSION_TIMEOUT_SEC="10",
    )
    series = [(f"cell-{i}", "prb_util") for i in range(48)]
    produced = 0
    steps = 0
    stop = asyncio.Event()

    async def feed() -> None:
        nonlocal produced, steps
        while not stop.is_set():
            batch = []
            for source, metric in series:
                batch += metric_records(source, metric, [(T0 + steps, float(steps % 10))])
            await produce(stream.bootstrap, stream.topic("metrics"), batch)
            produced += len(batch)
            steps += 1
            await asyncio.sleep(0.25)

    try:
        workers = [stream.worker("w0")]
        workers[0].wait_ready()
        feeding = asyncio.ensure_future(feed())
        for name in ("w1", "w2"):
            await asyncio.sleep(4)
            w = stream.worker(name)
            await asyncio.to_thread(w.wait_ready, 120)
            workers.append(w)
        await asyncio.sleep(6)
        stop.set()
        await feeding
        for w in workers:
            await asyncio.to_thread(w.wait_ready, 60)

        async with httpx.AsyncClient(timeout=10) as client:
            views = [(await client.get(f"{w.url}/cluster")).json() for w in workers]
            shards = views[0]["tables"]["windows"]
            assert all(v["tables"]["windows"] == shards for v in views)
            assert set(shards) == {w.url for w in workers}
            owned = sorted(p for parts in shards.values() for p in parts)
            assert owned == list(range(12))
            assert all(len(parts) == 4 for parts in shards.values()), shards

            features = await consume_until(
                stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= produced, 120
            )
            assert len(features) >= produced  # at-least-once outputs
            # Nothing lost across the rebalances: every series emitted features at every step
            # (duplicates allowed), and its window holds every sample exactly once.
            ends: dict[tuple[str, str], set[float]] = {}
            for r in features:
                doc = orjson.loads(r.value)
                ends.setdefault((doc["source_id"], doc["metric_name"]), set()).add(
                    doc["window_end"]
                )
            every_step = {T0 + i for i in range(steps)}
            for source, metric in series:
                assert ends.get((source, metric)) == every_step, source
                answers = [
                    (await client.get(f"{w.url}/windows/{source}/{metric}")).json() for w in workers
                ]
                assert answers[0] == answers[1] == answers[2]
                assert answers[0]["count"] == steps, (source, answers[0]["count"], steps)
                assert answers[0]["last_timestamp"] == T0 + steps - 1
                assert answers[0]["worker"] in shards

        # Output kept flowing across both rebalances: no long gap between features records.
        stamps = sorted(r.timestamp / 1000 for r in features)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert max(gaps) < MAX_STALL_SEC, max(gaps)
        print(f"\nlongest pause in features output during two rebalances: {max(gaps):.1f} s")
        # Standby replicas: the workers also follow changelog partitions they do not own.
        for w in workers:
            assert "Starting standby partitions" in w.log_text()
    finally:
        stop.set()
        stream.close()
