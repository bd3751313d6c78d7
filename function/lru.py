"""A bounded map that forgets the least recently used entries first: the function's caches of converted data."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _one(_: object) -> int:
    return 1


class LRU(Generic[K, V]):
    """At most `budget` worth of entries, each weighing what `put` is told, else `weight(value)` (1 unless told);
    an entry weighing more than `largest` (the whole budget unless told) is not kept.

    A cache of data a team controls weighs its entries in bytes, so that no spec (however large the API server
    lets it be) makes the shared function hold more than the budget."""

    def __init__(self, budget: int, weight: Callable[[V], int] = _one, largest: int | None = None) -> None:
        self.budget = budget
        self.weight = weight
        self.largest = budget if largest is None else largest
        self.size = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, weight: int | None = None) -> None:
        """Keep `value`, unless it weighs more than `largest`; older entries make room."""
        weight = self.weight(value) if weight is None else weight
        if weight > self.largest:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._entries[key] = (value, weight)
        self.size += weight
        while self.size > self.budget:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.size -= dropped
