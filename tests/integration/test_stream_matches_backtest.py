"""The stream scores a replayed NAB file exactly as the offline backtest does, row for row."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import orjson
import pytest

from padit_stream.detectors.config import build_detector
from padit_stream.evaluation.backtest import run_series
from padit_stream.evaluation.nab import load_series
from padit_stream.settings import load_settings
from tests.stream_support import Stream, consume_until, metric_records, produce

pytestmark = pytest.mark.integration

NAB = Path(os.environ.get("PADIT_NAB_DIR", Path(__file__).resolve().parents[3] / "shared" / "nab"))
FILE = NAB / "data" / "artificialWithAnomaly" / "art_daily_jumpsup.csv"


@pytest.mark.parametrize("restart", ["none", "kill -9 and a new worker with no data"])
async def test_replayed_nab_file_scores_like_the_backtest(
    kafka_bootstrap: str, tmp_path: Path, restart: str
) -> None:
    assert FILE.exists(), f"NAB data expected at {FILE} (set PADIT_NAB_DIR)"
    timestamps, values = load_series(FILE)
    metric = FILE.stem
    settings = load_settings(env={})
    expected = run_series(
        build_detector(settings.detection, metric), timestamps.tolist(), values.tolist()
    )

    stream = Stream(kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0")
    try:
        worker = stream.worker("first")
        worker.wait_ready()
        rows = list(zip(timestamps.tolist(), values.tolist(), strict=True))
        if restart != "none":
            # Half the file, then the worker dies and one with an empty data dir takes over:
            # its detector comes back from the changelog (snapshot + inputs since).
            half = len(rows) // 2
            first = metric_records("nab", metric, rows[:half])
            await produce(stream.bootstrap, stream.topic("metrics"), first)
            await consume_until(
                stream.bootstrap, stream.topic("anomalies"), lambda rs: len(rs) >= half, 180
            )
            worker.kill()
            worker = stream.worker("second")
            worker.wait_ready(120)
            rows_left = rows[half:]
        else:
            rows_left = rows
        await produce(
            stream.bootstrap, stream.topic("metrics"), metric_records("nab", metric, rows_left)
        )
        records = await consume_until(
            stream.bootstrap,
            stream.topic("anomalies"),
            lambda rs: len(rs) >= len(rows),
            timeout=180,
        )
        docs = [orjson.loads(r.value) for r in records]
        if restart != "none":
            # At-least-once: evaluations the dead worker published but had not committed are
            # published again by the next one, with the same score. Keep the first of each.
            seen: dict[float, dict[str, object]] = {}
            for d in docs:
                if d["timestamp"] in seen:
                    assert d["score"] == seen[d["timestamp"]]["score"], d["timestamp"]
                seen.setdefault(d["timestamp"], d)
            docs = list(seen.values())
        assert len(docs) == len(rows), worker.log_tail()
        assert [d["timestamp"] for d in docs] == timestamps.tolist()
        got = np.array([d["score"] for d in docs])
        assert np.array_equal(got, expected), np.flatnonzero(got != expected)[:10]
        assert {d["detector"] for d in docs} == {build_detector(settings.detection, metric).name}
        assert got.max() > 0.5  # the file has anomalies: the comparison is not all zeros
    finally:
        stream.close()
