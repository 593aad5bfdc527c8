"""Replay of NAB-style CSV files into a publish callable (no broker)."""

from __future__ import annotations

import asyncio
import calendar
from pathlib import Path

import pytest

from adapters.replay import ReplayAdapter, parse_timestamp, replay_csv
from padit_stream.schema import decode_metric, parse_metric_key

NAB = Path(__file__).resolve().parents[3] / "shared" / "nab" / "data"


class Sink:
    def __init__(self) -> None:
        self.got: list[tuple[tuple[str, str], float, float, str]] = []

    async def __call__(self, key: bytes, value: bytes, ts: float) -> None:
        s = decode_metric(value)
        assert parse_metric_key(key) == (s.source_id, s.metric_name)
        assert ts == s.timestamp
        self.got.append(((s.source_id, s.metric_name), s.timestamp, s.value, s.protocol))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float:
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))


def test_timestamps_are_utc() -> None:
    assert parse_timestamp("2014-02-14 14:30:00") == utc(2014, 2, 14, 14, 30)
    assert parse_timestamp("2014-02-14T14:30:00+01:00") == utc(2014, 2, 14, 13, 30)


async def test_single_file(tmp_path: Path) -> None:
    f = tmp_path / "machine_temp.csv"
    f.write_text("timestamp,value\n2013-12-02 21:15:00,73.9\n2013-12-02 21:20:00,74.0\n")
    sink = Sink()
    n = await replay_csv(sink, f, progress=False)
    assert n == 2
    assert sink.got == [
        (("machine_temp", "value"), utc(2013, 12, 2, 21, 15), 73.9, "replay"),
        (("machine_temp", "value"), utc(2013, 12, 2, 21, 20), 74.0, "replay"),
    ]


async def test_source_and_metric_from_config(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("timestamp,value\n2013-12-02 21:15:00,1\n")
    sink = Sink()
    await replay_csv(sink, f, source_id="du-7", metric_name="rtt_ms", progress=False)
    assert sink.got[0][0] == ("du-7", "rtt_ms")


async def test_directory_is_merged_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text(
        "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:02:00,3\n"
    )
    (tmp_path / "sub" / "b.csv").write_text("timestamp,value\n2020-01-01 00:01:00,2\n")
    sink = Sink()
    assert await replay_csv(sink, tmp_path, progress=False) == 3
    assert [(k[0], v) for k, _, v, _ in sink.got] == [("a", 1.0), ("b", 2.0), ("a", 3.0)]


async def test_paced_replay_keeps_order_and_stops(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    rows = "".join(f"2020-01-01 00:00:{i:02d},{i}\n" for i in range(10))
    f.write_text("timestamp,value\n" + rows)
    stop = asyncio.Event()
    sink = Sink()

    async def send(key: bytes, value: bytes, ts: float) -> None:
        await sink(key, value, ts)
        if len(sink.got) == 3:
            stop.set()

    # 1 data-second per 10 ms of wall time; stopped after the third record.
    n = await replay_csv(send, f, speed=100, stop=stop, progress=False)
    assert n == 3
    assert [v for *_, v, _ in sink.got] == [0.0, 1.0, 2.0]


async def test_bad_rows_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("timestamp,value\n2020-01-01 00:00:00,1\nyesterday,2\n")
    with pytest.raises(ValueError, match=r"bad\.csv:3"):
        await replay_csv(Sink(), f, progress=False)
    with pytest.raises(ValueError, match="speed"):
        await replay_csv(Sink(), f, speed=-1, progress=False)
    with pytest.raises(FileNotFoundError):
        await replay_csv(Sink(), tmp_path / "none.csv", progress=False)


def test_endpoint_config(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    ep = ReplayAdapter.parse_endpoint({"id": "r", "path": "d", "speed": 60}, base_dir=tmp_path)
    assert ep.path == tmp_path / "d"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="source_id applies to a single file"):
        ReplayAdapter.parse_endpoint({"id": "r", "path": str(tmp_path / "d"), "source_id": "x"})
    with pytest.raises(ValueError, match="does not exist"):
        ReplayAdapter.parse_endpoint({"id": "r", "path": str(tmp_path / "nope")})
    with pytest.raises(ValueError, match="speed"):
        ReplayAdapter.parse_endpoint({"id": "r", "path": str(tmp_path), "speed": -2})


@pytest.mark.skipif(not NAB.is_dir(), reason="the shared NAB corpus is not next to the repo")
async def test_nab_file() -> None:
    f = NAB / "realKnownCause" / "machine_temperature_system_failure.csv"
    lines = f.read_text().splitlines()
    first_ts, first_value = lines[1].split(",")
    sink = Sink()
    n = await replay_csv(sink, f, progress=False)
    assert n == len(lines) - 1
    assert sink.got[0][1] == parse_timestamp(first_ts)
    assert sink.got[0][2] == float(first_value)
    # File order is kept (NAB has one row out of time order in this file).
    expected = [(parse_timestamp(t), float(v)) for t, v in (ln.split(",") for ln in lines[1:])]
    assert [(ts, v) for _, ts, v, _ in sink.got] == expected
