"""Rate-limiter state kept in the database when there is no Redis (services/ratelimit.py)."""

from __future__ import annotations

from django.db import models


class RateLimitState(models.Model):
    """One token bucket of one connection: a few integers, whatever the traffic (GCRA)."""

    key = models.CharField(max_length=200, unique=True)
    state = models.JSONField(default=list)  # theoretical arrival times, microseconds
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
