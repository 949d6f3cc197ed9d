"""Rate limits counted in fixed windows of the Django cache (Redis in production).

DRF's SimpleRateThrottle keeps, per client, the list of its request times and rewrites it
on every request: at thousands of requests a minute that list is what a request costs. A
fixed window is one atomic increment of one counter, the same across processes.
"""

import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


class FixedWindowThrottle(BaseThrottle):
    """At most `num_requests` per window of `duration` seconds for each cache key; the rate
    ("6000/min") is read from DRF's DEFAULT_THROTTLE_RATES under `scope`."""

    scope: str = ""
    cache_format = "throttle:%(scope)s:%(ident)s:%(window)d"

    def __init__(self):
        from rest_framework.settings import api_settings

        rate = getattr(self, "rate", None) or api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        count, period = rate.split("/")
        self.num_requests = int(count)
        self.duration = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        self.window_end = 0.0

    def get_ident_key(self, request, view) -> str:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident_key(request, view),
            "window": window,
        }
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first request
            created = cache.add(key, 1, timeout=self.duration + 1)
            count = 1 if created else cache.incr(key)  # else: a concurrent first came first
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_end - time.time(), 1.0)
