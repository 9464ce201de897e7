"""Back-off shared by the publisher and the watcher: exponential with full jitter."""

import random


class Backoff:
    """delay(n) = uniform(0, min(cap, base * 2**n)), at least `floor` (e.g. a Retry-After)."""

    def __init__(self, base=0.2, cap=10.0, rng=None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self, floor=0.0):
        ceiling = min(self.cap, self.base * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return max(floor, self._rng.uniform(0, ceiling))

    def reset(self):
        self.attempt = 0
