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
    """At most `budget` worth of values, each weighing `weight(value)` (1 each unless told)."""

    def __init__(self, budget: int, weight: Callable[[V], int] = _one) -> None:
        self.budget = budget
        self.weight = weight
        self.size = 0
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        """Keep `value`, unless it alone weighs more than the budget; older entries make room."""
        weight = self.weight(value)
        if weight > self.budget:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= self.weight(old)
        self._entries[key] = value
        self.size += weight
        while self.size > self.budget:
            _, dropped = self._entries.popitem(last=False)
            self.size -= self.weight(dropped)
