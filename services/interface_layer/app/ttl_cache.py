"""A per-process memory of answers fetched from elsewhere: for a few seconds, and never past a change made here.

Why one class: the edge remembers two kinds of answers (verified API keys from its database, `tenancy.KeyCache`; which
subscription bills usage, from the billing factory, `target_cache.TargetCache`) and both must stay right the same way:
- An entry lives at most `ttl_seconds` (0 turns the cache off), and never past its own `valid_until` (a wall-clock time,
  when what it describes ends) when it has one; an answer already over then is not kept at all.
- `invalidate(scope)` drops the scope's entries at once (those `where` selects, or all). An answer read before it and
  arriving after it is not kept either: the caller reads `generation(scope)` before asking and hands it to `put`, which
  refuses an older one. Without that, a lookup racing a change would store what was true before the change for a whole
  TTL, after the change was announced as effective here.
- At most `max_entries` per scope; when full, the oldest insertion makes room.

A scope is what one invalidation covers: a tenant for usage targets; every key for API keys, whose tenant is not known
before the lookup that reads the generation. Values are never None (None is the miss). A hit takes no lock (the hot
path); every change to the entries does, so a generation check and its insert are one step for other threads.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable, Generic, Hashable, TypeVar

from libs.clock import SystemClock

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, ttl_seconds: float, max_entries: int, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = SystemClock().now):
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._wall = wall  # only for `valid_until`
        self._entries: dict[Hashable, dict[Hashable, tuple[float, V]]] = {}  # scope -> key -> (expires, value)
        self._generations: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self, scope: Hashable, key: Hashable) -> V | None:
        entries = self._entries.get(scope)
        if entries is None:
            return None
        entry = entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            with self._lock:
                if entries.get(key) is entry:  # not a fresh one put meanwhile
                    del entries[key]
            return None
        return entry[1]

    def generation(self, scope: Hashable) -> int:
        """Read before fetching an answer and hand it to `put`: an `invalidate` of the scope in between voids the answer."""
        return self._generations.get(scope, 0)

    def put(self, scope: Hashable, key: Hashable, value: V, generation: int, *, valid_until: datetime | None = None) -> None:
        if not self.enabled:
            return
        now = self._monotonic()
        expires = now + self._ttl
        if valid_until is not None:
            expires = min(expires, now + (valid_until - self._wall()).total_seconds())
            if expires <= now:
                return
        with self._lock:
            if generation != self.generation(scope):
                return  # the scope changed while this answer was fetched: it may describe what was true before
            entries = self._entries.setdefault(scope, {})
            entries.pop(key, None)  # re-inserted below as the youngest, and never evicting another entry for itself
            if len(entries) >= self._max:
                del entries[next(iter(entries))]  # the oldest insertion
            entries[key] = (expires, value)

    def invalidate(self, scope: Hashable, where: Callable[[V], bool] | None = None) -> None:
        """Drop the scope's entries (those `where` selects, or all) and void every answer of the scope being fetched now.

        Call it once the change is made (committed, or answered by the service that made it)."""
        with self._lock:
            self._generations[scope] = self.generation(scope) + 1
            if where is None:
                self._entries.pop(scope, None)
                return
            entries = self._entries.get(scope, {})
            for key in [k for k, (_expires, value) in entries.items() if where(value)]:
                del entries[key]
