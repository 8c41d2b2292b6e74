"""Start a django-q2 worker process on the same database this process uses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def worker_env() -> dict[str, str]:
    """The environment for a child process that must see this process's database (tests too)."""
    env = os.environ.copy()
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env.pop("DATABASE_URL", None)
        env["SALESOPS_SQLITE_PATH"] = str(db["NAME"])
    else:
        auth = quote(db["USER"] or "")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


def worker_start(
    *, cluster: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`manage.py qcluster` in its own process group; `cluster` picks an ALT_CLUSTERS entry,
    `env` adds variables (tests: shorter timeouts, another settings module)."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    env = {**worker_env(), **(env or {})}
    if cluster:
        env["Q_CLUSTER_NAME"] = cluster
    return subprocess.Popen(
        [sys.executable, str(manage), "qcluster"], env=env, start_new_session=True
    )


def worker_stop(proc: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """Stop the cluster gracefully (SIGTERM: its sentinel stops the workers in order), then
    kill its whole process group if it hangs."""
    process_stop(proc, timeout=timeout, group=True)


def web_start(*, addr: str) -> subprocess.Popen[bytes]:
    """gunicorn with the production config, bound to `addr`, on this process's database."""
    command = [sys.executable, "-m", "gunicorn", "-c", "python:salesops.gunicorn_conf"]
    return subprocess.Popen([*command, "--bind", addr, "salesops.wsgi"], env=worker_env())


def web_stop(proc: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """Graceful stop (SIGTERM lets workers finish their requests), then kill if it hangs."""
    process_stop(proc, timeout=timeout)


def process_stop(proc: subprocess.Popen[bytes], *, timeout: float, group: bool = False) -> None:
    """SIGTERM to the main process, then SIGKILL (to its group when `group`) after `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
