"""A crash harness shared by the chaos test and bench/crash_recovery_bench.py: a real cluster
with a slow engine step, killed with SIGKILL mid-batch, restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from salesops.agents.rules import RulesEngine

# Each run's engine step takes this long, so a kill lands with runs running and prefetched.
DELAY = float(os.environ.get("SALESOPS_CHAOS_DELAY", "0.1"))


class SlowEngine(RulesEngine):
    """The rules engine behind a fixed latency, like a model call (so outside a transaction)."""

    in_process = False

    def run(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(DELAY)
        return super().run(*args, **kwargs)


def cluster_start(*, legacy: bool = False, **env: str) -> subprocess.Popen[bytes]:
    """A qcluster on the slow engine; `legacy`: the queue settings before issue 8."""
    from salesops.services.workers import worker_start

    env = {"DJANGO_SETTINGS_MODULE": "tests.e2e.chaos_settings", **env}
    if legacy:
        env["SALESOPS_CHAOS_LEGACY"] = "1"
    proc = worker_start(env=env)
    time.sleep(0.3)
    assert proc.poll() is None, "qcluster exited at start"
    return proc


def cluster_kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole cluster (sentinel, pusher, monitor, workers): nothing is cleaned up."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
