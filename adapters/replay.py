"""Replay recorded series (NAB-style CSV ``timestamp,value``) as metrics.

Timestamps ``YYYY-MM-DD HH:MM:SS`` are read as UTC and kept as the metrics' event time; the
pace is ``speed`` times real time (0: as fast as the producer takes them). A directory is
replayed as one stream merged in timestamp order, one ``source_id`` per file (its stem).
"""

from __future__ import annotations

import asyncio
import csv
import heapq
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator, model_validator
from tqdm import tqdm

from adapters.base import Adapter, EndpointConfig, Publish, resolve_path
from padit_stream.schema import encode_metric, metric_key

__all__ = ["ReplayAdapter", "ReplayEndpoint", "csv_files", "parse_timestamp", "replay_csv"]

#: Hand control back to the event loop this often when replaying at full speed.
_YIELD_EVERY = 500


def parse_timestamp(text: str) -> float:
    """``YYYY-MM-DD HH:MM:SS`` (UTC, or ISO 8601 with an offset) to epoch seconds.

    Example:
        >>> parse_timestamp("2014-04-01 00:00:00")
        1396310400.0
    """
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def csv_files(path: Path) -> list[Path]:
    """The CSV files of ``path``: itself, or every ``*.csv`` under it, sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.csv") if p.is_file())
    return [path]


def _rows(path: Path, source_id: str) -> Iterator[tuple[float, str, float]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        for lineno, row in enumerate(reader, start=1):
            if not row or (lineno == 1 and row[0].strip().lower() == "timestamp"):
                continue
            try:
                yield parse_timestamp(row[0]), source_id, float(row[1])
            except (ValueError, IndexError) as exc:
                raise ValueError(
                    f"{path}:{lineno}: expected 'timestamp,value', got {row!r}"
                ) from exc


def _count_rows(files: Sequence[Path]) -> int:
    total = 0
    for f in files:
        with f.open("rb") as fh:
            total += sum(1 for line in fh if line.strip())
        total -= 1  # header
    return max(total, 0)


def _open(root: Path, source_id: str | None) -> tuple[Iterator[tuple[float, str, float]], int]:
    files = csv_files(root)
    if not files:
        raise FileNotFoundError(f"{root}: no CSV files")
    if not all(f.is_file() for f in files):
        raise FileNotFoundError(f"{root}: no such file")
    single = len(files) == 1 and not root.is_dir()
    streams = [_rows(f, source_id if (single and source_id) else f.stem) for f in files]
    return heapq.merge(*streams, key=lambda r: r[0]), _count_rows(files)


async def replay_csv(
    publish: Publish,
    path: str | Path,
    *,
    source_id: str | None = None,
    metric_name: str = "value",
    speed: float = 0.0,
    unit: str = "",
    labels: dict[str, str] | None = None,
    protocol: str = "replay",
    progress: bool = True,
    stop: asyncio.Event | None = None,
) -> int:
    """Publish a CSV file (or a directory of them) as metrics; returns the count sent.

    Args:
        publish: ``await publish(key, value, timestamp)`` per record (e.g. a producer's send).
        path: a ``timestamp,value`` CSV, or a directory searched recursively for ``*.csv``.
        source_id: for a single file (default: the file stem); a directory uses the stems.
        metric_name: the ``metric_name`` of every record.
        speed: 0 for as fast as possible, else N times real time.
        progress: show a tqdm bar on stderr.
        stop: set it to end the replay early.

    Example:
        >>> import asyncio, tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "cpu.csv"
        >>> _ = f.write_text("timestamp,value\\n2014-04-01 00:00:00,1.5\\n")
        >>> got = []
        >>> async def send(k, v, ts): got.append((k, ts))
        >>> asyncio.run(replay_csv(send, f, progress=False)), got
        (1, [(b'["cpu","value"]', 1396310400.0)])
    """
    if speed < 0:
        raise ValueError(f"speed must be >= 0, got {speed}")
    root = Path(path)
    merged, total = _open(root, source_id)
    lab = dict(labels or {})
    keys: dict[str, bytes] = {}
    sent = 0
    t_wall0 = time.monotonic()
    t_data0: float | None = None
    bar = tqdm(total=total, unit="rec", disable=not progress, desc=root.name)
    try:
        for ts, sid, value in merged:
            if stop is not None and stop.is_set():
                break
            if speed > 0:
                if t_data0 is None:
                    t_data0 = ts
                delay = t_wall0 + (ts - t_data0) / speed - time.monotonic()
                if delay > 0:
                    if stop is None:
                        await asyncio.sleep(delay)
                    else:
                        try:
                            await asyncio.wait_for(stop.wait(), delay)
                            break
                        except TimeoutError:
                            pass
            key = keys.get(sid)
            if key is None:
                key = keys[sid] = metric_key(sid, metric_name)
            await publish(
                key,
                encode_metric(
                    ts, sid, metric_name, value, unit=unit, protocol=protocol, labels=lab
                ),
                ts,
            )
            sent += 1
            bar.update(1)
            if speed == 0 and sent % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
    finally:
        bar.close()
    return sent


class ReplayEndpoint(EndpointConfig):
    """A CSV file or directory to replay."""

    path: Path
    metric_name: str = Field(default="value", min_length=1)
    speed: float = Field(default=0.0, ge=0, description="0: as fast as possible; N: N x real time")
    unit: str = ""
    progress: bool = True

    @field_validator("path")
    @classmethod
    def _exists(cls, v: Path, info: ValidationInfo) -> Path:
        v = resolve_path(v, info)
        if not v.exists():
            raise ValueError(f"{v} does not exist")
        return v

    @model_validator(mode="after")
    def _source_for_file_only(self) -> ReplayEndpoint:
        if self.source_id is not None and self.path.is_dir():
            raise ValueError("source_id applies to a single file; a directory uses file stems")
        return self


class ReplayAdapter(Adapter[ReplayEndpoint]):
    """Streams recorded CSV series into the metrics topic (see :func:`replay_csv`).

    Example:
        >>> ep = ReplayAdapter.parse_endpoint({"id": "nab", "path": ".", "speed": 60})
        >>> ReplayAdapter(ep).streaming
        True
    """

    name = "replay"
    config_model = ReplayEndpoint
    protocol = "replay"
    streaming = True

    def __init__(self, config: ReplayEndpoint) -> None:
        super().__init__(config)
        self.sent = 0

    async def run(self, publish: Publish) -> None:
        cfg = self.config
        self.sent = await replay_csv(
            publish,
            cfg.path,
            source_id=cfg.source_id,
            metric_name=cfg.metric_name,
            speed=cfg.speed,
            unit=cfg.unit,
            labels=cfg.labels,
            progress=cfg.progress,
            stop=self._stopping,
        )
