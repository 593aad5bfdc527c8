"""Row stores: the raw rows of a Faust table, read and written per partition.

State is written per batch with an explicit partition (the partition of the input records),
not through ``table[key] = value``: Faust's item API files a row under the partition of the
event being processed, and the bulk agents process no Faust events. Every row written goes
to RocksDB at once and to the table's changelog through the batch sender, which the consumer
flushes before it acknowledges the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rocksdict import WriteBatch

from padit_stream.sender import BatchSender

__all__ = ["RowStore"]


class RowStore:
    """Raw rows of one table (a :class:`padit_stream.core.cache.Rows`)."""

    def __init__(self, table: Any, sender: BatchSender) -> None:
        self.table = table
        self.sender = sender
        self._changelog = table.changelog_topic.get_topic_name()
        sender.track_changelog(table)

    def _db(self, partition: int) -> Any:
        # Private Faust API (guarded by tests/unit/test_faust_internals.py).
        return self.table.data._db_for_partition(partition)

    def get(self, partition: int, key: bytes) -> bytes | None:
        value: bytes | None = self._db(partition).get(key)
        return value

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]:
        """Rows of one partition whose key starts with ``prefix``."""
        return [(k, v) for k, v in self._db(partition).items() if k.startswith(prefix)]

    def scan(self, partition: int, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Rows of one partition whose key starts with ``prefix``, seeking to it (RocksDB
        keeps keys sorted, so this reads only those rows)."""
        out = []
        for k, v in self._db(partition).items(from_key=prefix):
            if not k.startswith(prefix):
                break
            out.append((k, v))
        return out

    def write(self, partition: int, rows: Iterable[tuple[bytes, bytes | None]]) -> int:
        """Apply rows (``None`` deletes) locally and queue them for the changelog.

        The caller flushes the sender before acknowledging its input. Returns the bytes
        queued (keys and values).
        """
        # One write batch: a RocksDB call per row costs twice as much as a batched row.
        batch = WriteBatch(raw_mode=True)
        add = self.sender.add
        topic = self._changelog
        sent = 0
        for key, value in rows:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
                sent += len(value)
            sent += len(key)
            add(topic, partition, key, value)
        self._db(partition).write(batch)
        return sent
