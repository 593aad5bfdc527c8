"""In-memory stand-ins for the stream's row stores and batch sender (no Kafka, no RocksDB)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from padit_stream.deadletter import dead_letter_record
from padit_stream.errors import RecordTooLargeError

__all__ = ["Emitted", "FakeEmit", "Record", "TableRows"]


class Record(NamedTuple):
    """An input record as the bulk consumer hands it to a stage."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class TableRows:
    """A table's rows per partition (a ``padit_stream.core.cache.Rows``)."""

    def __init__(self) -> None:
        self.parts: dict[int, dict[bytes, bytes]] = {}
        self.writes = 0

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self.parts.get(partition, {}).get(key)

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]:
        return sorted(
            (k, v) for k, v in self.parts.get(partition, {}).items() if k.startswith(prefix)
        )

    def write(self, partition: int, rows: Iterable[tuple[bytes, bytes | None]]) -> int:
        self.writes += 1
        part = self.parts.setdefault(partition, {})
        size = 0
        for key, value in rows:
            size += len(key) + (len(value) if value else 0)
            if value is None:
                part.pop(key, None)
            else:
                part[key] = value
        return size


class Emitted(NamedTuple):
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


class FakeEmit:
    """Collects what a stage emits; dead letters are built as the real sender builds them."""

    def __init__(self, max_record_bytes: int = 512 * 1024) -> None:
        self.records: list[Emitted] = []
        self.dead: list[Emitted] = []
        self.max_record_bytes = max_record_bytes

    def add(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        size = len(key or b"") + len(value or b"")
        if size > self.max_record_bytes:
            raise RecordTooLargeError(topic, size)
        self.records.append(Emitted(topic, partition, key, value, dict(headers or [])))

    def dead_letter(
        self, record: Any, reason: str, stage: str, *, partition: int | None = None
    ) -> None:
        key, value, headers = dead_letter_record(
            record.key, record.value, reason=reason, stage=stage, topic=record.topic,
            partition=record.partition, offset=record.offset,
        )  # fmt: skip
        self.dead.append(Emitted("dead", record.partition, key, value, dict(headers)))

    def on(self, topic: str) -> list[Emitted]:
        return [r for r in self.records if r.topic == topic]

    def reasons(self) -> list[str]:
        return [r.headers["padit-reason"].decode() for r in self.dead]
