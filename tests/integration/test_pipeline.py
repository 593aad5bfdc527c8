"""The pipeline end to end: real broker, real worker processes."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import orjson
import pytest

from padit_stream.schema import metric_key
from tests.stream_support import Stream, consume_until, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: event time, far from the wall clock


@pytest.fixture
def stream(kafka_bootstrap: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Stream(kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0")
    yield s
    s.close()


async def test_seed_scenario_raises_an_alert(stream: Stream) -> None:
    worker = stream.worker()
    worker.wait_ready()
    normal = [(T0 + i, 5.0 + i / 10) for i in range(10)]
    spike = [(T0 + 10 + i, 50.0 + 10 * i) for i in range(5)]
    await produce(
        stream.bootstrap,
        stream.topic("metrics"),
        metric_records("test-endpoint-1", "latency_ms", normal + spike),
    )

    def has_alert(records: list) -> bool:  # type: ignore[type-arg]
        return any(orjson.loads(r.value)["source_id"] == "test-endpoint-1" for r in records)

    alerts = await consume_until(stream.bootstrap, stream.topic("alerts"), has_alert)
    assert has_alert(alerts), worker.log_tail()
    alert = orjson.loads(alerts[0].value)
    assert alert["metric_name"] == "latency_ms"
    assert alert["status"] == "firing"
    assert alert["severity"] in ("warning", "critical")
    assert alerts[0].key == metric_key("test-endpoint-1", "latency_ms")
    # Nothing in the normal part alerted: the first alert is about a spike sample.
    assert alert["timestamp"] >= spike[0][0]

    features = await consume_until(
        stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= 15
    )
    assert len(features) == 15  # emit_every_sec=0: one record per metric
    last = orjson.loads(features[-1].value)
    values = [v for _, v in normal + spike]
    assert last["count"] == 15
    assert math.isclose(last["mean"], sum(values) / 15, rel_tol=1e-12)
    assert last["max"] == 90.0

    # The web view answers from the table.
    r = httpx.get(f"{worker.url}/windows/test-endpoint-1/latency_ms", timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 15
    assert body["first_timestamp"] == T0
    assert body["last_timestamp"] == T0 + 14
    assert body["features"]["max"] == 90.0
    r = httpx.get(f"{worker.url}/windows/no-such-source/latency_ms", timeout=10)
    assert r.status_code == 404
    assert "no-such-source" in r.json()["detail"]


async def test_bad_records_go_to_dead_letter_and_worker_goes_on(stream: Stream) -> None:
    worker = stream.worker()
    worker.wait_ready()
    key = metric_key("src-dl", "rtt_ms")
    bad = [
        b"this is not json",
        b'{"source_id": "src-dl", "metric_name": "rtt_ms", "value": 1.0}',  # no timestamp
        b'{"timestamp": 1.0, "source_id": "src-dl", "metric_name": "rtt_ms", "value": "fast"}',
        b'{"timestamp": 1.0, "source_id": "src-dl", "metric_name": "rtt_ms", "value": NaN}',
        b'{"timestamp": 1.0, "source_id": "src-dl", "metric_name": "rtt_ms", "value": Infinity}',
        b'{"timestamp": 1.0, "source_id": "", "metric_name": "rtt_ms", "value": 1.0}',
        b"[1, 2, 3]",
    ]
    good = metric_records("src-dl", "rtt_ms", [(T0 + i, 1.0 + i) for i in range(3)])
    await produce(stream.bootstrap, stream.topic("metrics"), [(key, b) for b in bad] + good)

    dead = await consume_until(
        stream.bootstrap, stream.topic("deadletter"), lambda rs: len(rs) >= len(bad)
    )
    assert sorted(r.value for r in dead) == sorted(bad)  # original bytes, each exactly once
    reasons = {r.value: dict(r.headers)["padit-reason"].decode() for r in dead}
    assert reasons[bad[0]].startswith("not JSON")
    assert "timestamp" in reasons[bad[1]]
    assert "value" in reasons[bad[2]] and "number" in reasons[bad[2]]
    assert "NaN" in reasons[bad[3]]
    assert "Infinity" in reasons[bad[4]]
    assert "source_id" in reasons[bad[5]] and "empty" in reasons[bad[5]]
    assert "object" in reasons[bad[6]]

    features = await consume_until(
        stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= 3
    )
    assert [orjson.loads(r.value)["count"] for r in features] == [1, 2, 3]
    assert worker.alive()
    assert worker.log_text().count("dead-letter from") == len(bad)


async def test_two_workers_answer_the_same_table_query(stream: Stream) -> None:
    first = stream.worker("a")
    first.wait_ready()
    second = stream.worker("b")
    second.wait_ready()
    series = [(f"du-{i}", "rtt_ms") for i in range(12)]
    records = []
    for n, (source, metric) in enumerate(series):
        records += metric_records(
            source, metric, [(T0 + j, float(n * 100 + j)) for j in range(n + 1)]
        )
    await produce(stream.bootstrap, stream.topic("metrics"), records)
    await consume_until(
        stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= len(records)
    )
    for worker in (first, second):
        worker.wait_ready()
    owners = set()
    for n, (source, metric) in enumerate(series):
        answers = []
        for worker in (first, second):
            r = httpx.get(f"{worker.url}/windows/{source}/{metric}", timeout=10)
            assert r.status_code == 200, (worker.url, r.text)
            answers.append(r.json())
        assert answers[0] == answers[1]
        assert answers[0]["count"] == n + 1
        assert answers[0]["features"]["max"] == float(n * 100 + n)
        owners.add(answers[0]["worker"])
    # Both workers own part of the table, so some answers were routed to the other one.
    assert owners == {first.url, second.url}
    # Both agree on who owns what, and every partition has exactly one owner.
    views = [httpx.get(f"{w.url}/cluster", timeout=10).json() for w in (first, second)]
    assert views[0]["tables"] == views[1]["tables"]
    shards = views[0]["tables"]["windows"]
    assert set(shards) == {first.url, second.url}
    assert sorted(p for parts in shards.values() for p in parts) == [0, 1, 2, 3]


async def test_worker_with_empty_data_dir_rebuilds_windows_from_changelog(stream: Stream) -> None:
    """Features after a restart from nothing equal those of an uninterrupted run."""
    from padit_stream.core.series import SeriesConfig, SeriesState

    series = [("du-r1", "rtt_ms"), ("du-r2", "rtt_ms"), ("du-r3", "latency_ms")]
    first = [(T0 + i * 0.5, 1.0 + (i * 7919 % 13) / 10) for i in range(400)]
    second = [(T0 + 200 + i * 0.5, 2.0 + (i * 104729 % 17) / 10) for i in range(100)]
    worker = stream.worker("before")
    worker.wait_ready()
    records = []
    for source, metric in series:
        records += metric_records(source, metric, first)
    await produce(stream.bootstrap, stream.topic("metrics"), records)
    await consume_until(
        stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= len(records)
    )
    worker.stop()

    after = stream.worker("after")  # a new, empty data dir: everything comes from Kafka
    after.wait_ready()
    records = []
    for source, metric in series:
        records += metric_records(source, metric, second)
    await produce(stream.bootstrap, stream.topic("metrics"), records)
    total = len(series) * (len(first) + len(second))
    features = await consume_until(
        stream.bootstrap, stream.topic("features"), lambda rs: len(rs) >= total
    )
    assert len(features) == total, after.log_tail()
    got: dict[bytes, list[dict[str, float]]] = {}
    for r in features:
        got.setdefault(r.key, []).append(orjson.loads(r.value))

    config = SeriesConfig(emit_every=0.0)  # the stream's window settings, defaults + env
    for source, metric in series:
        reference = SeriesState(metric_key(source, metric), config)
        expected = [reference.add(ts, v)._asdict() for ts, v in first + second]  # type: ignore[union-attr]
        observed = got[metric_key(source, metric)]
        assert len(observed) == len(expected)
        for o, e in zip(observed[len(first) :], expected[len(first) :], strict=True):
            assert {k: o[k] for k in e} == e
