"""Decoded per-key state over a row store, dropped whenever partitions move."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Rows", "StateCache"]

T = TypeVar("T")


class Rows(Protocol):
    """Raw rows of a table by partition and key: where state is read from and written to.

    The stream's implementation writes through to RocksDB and the table's changelog
    (:class:`padit_stream.stores.RowStore`); tests use a dict.
    """

    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]: ...

    def write(self, partition: int, rows: Iterable[tuple[bytes, bytes | None]]) -> int: ...


R = TypeVar("R", bound=Rows)
_MISSING: Any = object()


class StateCache(Generic[R, T]):
    """Decoded per-key state over rows ``R``; the owner clears it whenever partitions move.

    Example:
        >>> rows = {(0, b"k"): b"7"}
        >>> class Table:
        ...     def get(self, partition, key):
        ...         return rows.get((partition, key))
        ...     def items(self, partition, prefix=b""): ...
        ...     def write(self, partition, rows): ...
        >>> cache = StateCache(Table(), lambda key, get: int(get(key) or 0), max_items=1)
        >>> cache.get(0, b"k"), cache.get(0, b"other")
        (7, 0)
        >>> cache.trim()
        [(b'k', 0, 7)]
        >>> len(cache)
        1
    """

    def __init__(
        self,
        rows: R,
        load: Callable[[bytes, Callable[[bytes], bytes | None]], T],
        max_items: int | None = None,
    ):
        self.rows = rows
        self._load = load
        self._items: dict[bytes, T] = {}
        self._partitions: dict[bytes, int] = {}
        #: Bound applied by :meth:`trim` (None: keep everything). With a bound, the dict's
        #: order is the order of use: a hit moves its key to the end.
        self.max_items = max_items

    def get(self, partition: int, key: bytes) -> T:
        items = self._items
        # A sentinel, not None: a loader may decode "nothing stored" as None, and that answer
        # is as cacheable as any other (an inactive series must not read RocksDB every batch).
        item = items.get(key, _MISSING)
        if item is _MISSING:
            item = items[key] = self._load(key, lambda k: self.rows.get(partition, k))
            self._partitions[key] = partition
        elif self.max_items is not None:
            del items[key]
            items[key] = item
        return item  # type: ignore[no-any-return]

    def trim(self) -> list[tuple[bytes, int, T]]:
        """Drop the least recently used items beyond ``max_items``; return them.

        Call it only after the touched items were written: a dropped item is read back from
        the table, so anything not yet written would be lost.
        """
        if self.max_items is None:
            return []
        excess = len(self._items) - self.max_items
        dropped = []
        if excess > 0:
            for key in list(itertools.islice(self._items, excess)):
                dropped.append((key, self._partitions.pop(key), self._items.pop(key)))
        return dropped

    def read(self, partition: int, key: bytes) -> T:
        """The cached item, else one decoded from the table but *not* cached.

        For readers outside the agents (the web view): a partition may still be recovering
        when they ask, and what they decode then must not outlive the recovery.
        """
        item = self._items.get(key, _MISSING)
        if item is _MISSING:
            item = self._load(key, lambda k: self.rows.get(partition, k))
        return item  # type: ignore[no-any-return]

    def put(self, partition: int, key: bytes, item: T) -> None:
        self._items[key] = item
        self._partitions[key] = partition

    def cached(self) -> list[tuple[bytes, int, T]]:
        """What is decoded now: key, partition and item."""
        return [(k, self._partitions[k], v) for k, v in self._items.items()]

    def peek(self, key: bytes) -> T | None:
        return self._items.get(key)

    def drop(self, key: bytes) -> None:
        """Forget one decoded item (it is read back from the rows when next needed)."""
        self._items.pop(key, None)
        self._partitions.pop(key, None)

    def drop_partition(self, partition: int) -> None:
        """Forget what is decoded for one partition (it is read back from the rows)."""
        for key in [k for k, p in self._partitions.items() if p == partition]:
            del self._items[key]
            del self._partitions[key]

    def clear(self) -> None:
        self._items.clear()
        self._partitions.clear()

    def __len__(self) -> int:
        return len(self._items)
