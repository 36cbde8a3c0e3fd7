"""Per-key rate limiting: a token bucket for each API key or login, held in this process.

Each replica limits on its own, so N replicas allow N times the rate: set DAMP_RATE_LIMIT_PER_S
with that in mind. A token bucket lets a client burst (a page load fetches several things) and
holds it to the sustained rate after.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

# Buckets idle this long are full again and can be forgotten.
FORGET_AFTER_S = 600.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    def __init__(self, *, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def acquire(self, key: str) -> float:
        """Take one token for `key`: 0.0 if allowed, else the seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated_at) * self.rate_per_s
            )
            bucket.updated_at = now
            if now - self._last_sweep > FORGET_AFTER_S:
                self._sweep(now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate_per_s

    def retry_after_s(self, wait_s: float) -> int:
        return max(1, math.ceil(wait_s))

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, b in self._buckets.items() if now - b.updated_at > FORGET_AFTER_S]:
            del self._buckets[key]
