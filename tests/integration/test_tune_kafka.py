"""padit tune reads its history from a real broker: the metrics topic over a time range
(offsets_for_times, bounded memory) and the verdicts on the compacted feedback topic."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from padit_stream.detectors.config import load_detection_config
from padit_stream.feedback import Feedback, encode_feedback, label_windows, withdraw
from padit_stream.feedback_topic import read_feedback
from padit_stream.schema import encode_metric, metric_key
from padit_stream.tuning.cli import run as tune_cli
from padit_stream.tuning.history import Selector
from padit_stream.tuning.kafka_source import read_metrics

pytestmark = pytest.mark.integration

STEP = 60.0
ROWS = 800
# Event times well in the past: the broker takes them as record timestamps as they are.
T0 = float(int(time.time()) - 30 * 86400)


async def _topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(f"{prefix}.metrics.v1", num_partitions=3, replication_factor=1),
                NewTopic(
                    f"{prefix}.feedback.v1",
                    num_partitions=1,
                    replication_factor=1,
                    topic_configs={"cleanup.policy": "compact"},
                ),
            ]
        )
    finally:
        await admin.close()


async def _send(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes, float]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for key, value, ts in records:
            await producer.send(topic, value=value, key=key, timestamp_ms=int(ts * 1000))
        await producer.flush()
    finally:
        await producer.stop()


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = 50.0 + rng.normal(0.0, 1.0, ROWS)
    v[500:530] += 15.0
    return v


def _metrics() -> list[tuple[bytes, bytes, float]]:
    out = []
    series = [("du-1", "rtt_ms", {"site": "a"}), ("du-2", "rtt_ms", {"site": "b"}),
              ("du-1", "loss", {"site": "a"})]  # fmt: skip
    for k, (source, metric, labels) in enumerate(series):
        key = metric_key(source, metric)
        for i, v in enumerate(_values(k).tolist()):
            ts = T0 + STEP * i
            out.append((key, encode_metric(ts, source, metric, v, labels=labels), ts))
    out.append((b"junk", b"{not json", T0 + STEP * 300))
    # In time order, as a live metrics topic is (record timestamps near event times).
    return sorted(out, key=lambda r: r[2])


def _verdicts() -> list[Feedback]:
    at = T0 + STEP * 505
    tp = Feedback(id="v1", target="anomaly", verdict="true_positive", source_id="du-1",
                  metric_name="rtt_ms", at=at, author="ana", created_at=T0)  # fmt: skip
    missed = Feedback(id="v2", target="range", verdict="missed", source_id="du-2",
                      metric_name="rtt_ms", start=T0 + STEP * 495, end=T0 + STEP * 540,
                      author="bob", created_at=T0)  # fmt: skip
    fp = Feedback(id="v3", target="anomaly", verdict="false_positive", source_id="du-1",
                  metric_name="loss", at=T0 + STEP * 100, author="bob", created_at=T0)  # fmt: skip
    return [tp, missed, fp, withdraw(fp, by="ana", at=T0 + 1)]


@pytest.fixture
def prefix(kafka_bootstrap: str) -> str:
    name = f"tune{uuid.uuid4().hex[:8]}"
    asyncio.run(_topics(kafka_bootstrap, name))
    asyncio.run(_send(kafka_bootstrap, f"{name}.metrics.v1", _metrics()))
    records = [(*encode_feedback(v), T0) for v in _verdicts()]
    records.append((b"broken", b"[]", T0))
    asyncio.run(_send(kafka_bootstrap, f"{name}.feedback.v1", records))
    return name


def test_metrics_topic_range_selector_and_bounds(kafka_bootstrap: str, prefix: str) -> None:
    topic = f"{prefix}.metrics.v1"
    since, until = T0 + STEP * 100, T0 + STEP * 400
    read = read_metrics(kafka_bootstrap, topic, since, until, Selector.parse(["rtt_*"]),
                        progress=False)  # fmt: skip
    assert [s.name for s in read.series] == ["du-1/rtt_ms", "du-2/rtt_ms"]
    for k, s in enumerate(read.series):
        assert s.timestamps.tolist() == [T0 + STEP * i for i in range(100, 400)]
        assert s.values.tolist() == _values(k)[100:400].tolist()
    assert read.bad_records == 1
    # offsets_for_times: the range (and its lateness margin) was read, not the whole topic.
    assert 3 * 300 + 1 <= read.records < 3 * ROWS // 2

    bounded = read_metrics(kafka_bootstrap, topic, since, until, Selector.parse(labels=["site=a"]),
                           max_series=1, max_rows=50, progress=False)  # fmt: skip
    assert len(bounded.series) == 1 and bounded.skipped_series == 1
    [only] = bounded.series
    assert only.timestamps.tolist() == [T0 + STEP * i for i in range(350, 400)]


def test_feedback_topic_gives_the_latest_state_of_each_verdict(
    kafka_bootstrap: str, prefix: str
) -> None:
    verdicts = read_feedback(kafka_bootstrap, f"{prefix}.feedback.v1")
    assert [v.id for v in verdicts] == ["v1", "v2", "v3"]
    assert verdicts[2].withdrawn and verdicts[2].withdrawn_by == "ana"
    assert label_windows(verdicts, 600.0) == {
        ("du-1", "rtt_ms"): [(T0 + STEP * 505 - 300.0, T0 + STEP * 505 + 300.0)],
        ("du-2", "rtt_ms"): [(T0 + STEP * 495, T0 + STEP * 540)],
    }


def test_padit_tune_over_the_topics(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    settings = tmp_path / "padit.yaml"
    settings.write_text(
        f"app: {{broker: 'kafka://{kafka_bootstrap}'}}\ntopics: {{prefix: {prefix}}}\n"
    )
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    out = tmp_path / "tune"
    code = tune_cli([
        "--settings", str(settings), "--since", iso(T0), "--until", iso(T0 + STEP * ROWS),
        "--feedback", "--anomaly-window", "1200", "--family", "level_shift",
        "--family", "cusum", "--trials", "4", "--seed", "5", "--folds", "2",
        "--processes", "1", "--out", str(out), "--no-progress",
    ])  # fmt: skip
    assert code == 0
    cfg = load_detection_config(out / "detection.yaml")
    assert sorted(cfg.metrics) == ["loss", "rtt_ms"]
    report = (out / "report.json").read_text()
    # du-1/loss has only a withdrawn verdict: not labelled, so not scored.
    assert "du-1/rtt_ms" in report and "du-2/rtt_ms" in report and "du-1/loss" not in report
    assert (out / "worst.png").stat().st_size > 0
