"""Settings of the cluster the chaos test kills: the slow engine; SALESOPS_CHAOS_LEGACY=1
restores the queue settings from before issue 8 (prefetch 50 + 10, no sweeper) for the bench."""

from __future__ import annotations

import os

from salesops.settings import *  # noqa: F403
from salesops.settings import Q_CLUSTER, SALESOPS

SALESOPS = {
    **SALESOPS,
    "ENGINE": "slow",
    "ENGINES": {**SALESOPS["ENGINES"], "slow": "tests.e2e.chaos.SlowEngine"},
}
if os.environ.get("SALESOPS_CHAOS_LEGACY"):
    Q_CLUSTER = {**Q_CLUSTER, "queue_limit": 50, "bulk": 10}
