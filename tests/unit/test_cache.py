"""The decoded-state cache: loads on a miss, least recently used out on trim."""

from __future__ import annotations

from padit_stream.core.cache import StateCache


class Table:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, bytes], bytes] = {}
        self.reads = 0

    def get(self, partition: int, key: bytes) -> bytes | None:
        self.reads += 1
        return self.rows.get((partition, key))


def _load(key: bytes, get: object) -> list[bytes]:
    raw = get(key)  # type: ignore[operator]
    return [raw] if raw is not None else []


def test_a_miss_reads_the_partition_of_the_key_once() -> None:
    table = Table()
    table.rows[(2, b"a")] = b"A"
    cache = StateCache(table, _load)
    assert cache.get(2, b"a") == [b"A"]
    assert cache.get(2, b"a") == [b"A"]
    assert table.reads == 1
    assert cache.cached() == [(b"a", 2, [b"A"])]


def test_trim_drops_the_least_recently_used_and_they_come_back_from_the_table() -> None:
    table = Table()
    cache = StateCache(table, _load, max_items=2)
    for key in (b"a", b"b", b"c"):
        cache.get(0, key).append(key)  # a change the caller has written to the table
        table.rows[(0, key)] = key
    cache.get(0, b"a")  # a is now the most recently used
    cache.trim()
    assert sorted(k for k, _, _ in cache.cached()) == [b"a", b"c"]
    reads = table.reads
    assert cache.get(0, b"b") == [b"b"]  # read back, not lost
    assert table.reads == reads + 1


def test_unbounded_cache_keeps_everything() -> None:
    cache = StateCache(Table(), _load)
    for i in range(100):
        cache.get(0, bytes([i]))
    cache.trim()
    assert len(cache) == 100
