"""One shared companion per live object (a storage's metrics hub, a registry's metric families), made on first use.

Components built apart (two processors on one storage, every tail-sampling processor of a
service) must meet on the same companion; keyed weakly, it goes when its object goes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class PerObject(Generic[K, V]):
    def __init__(self, make: Callable[[K], V]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        """``key``'s companion: the one made before, else a new one (thread-safe: never two for one key)."""
        with self._lock:
            found = self._made.get(key)
            if found is None:
                found = self._made[key] = self._make(key)
            return found
