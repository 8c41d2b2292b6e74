"""Webhook ingest beside a bare Django view answering 204, in one process and one run.

Usage: python bench/webhook_ingest.py [postgres|sqlite] [--single 3000] [--deliveries 200]
       [--profile single|batch] [--write]
       python bench/webhook_ingest.py postgres --http [--server sync:4] [--server gthread:4:4]
       [--clients 8,32] [--seconds 10] [--write]

In-process mode (the default): sequential requests through Django's WSGI handler and the whole
middleware stack, as gunicorn would call them (no socket: the figures are the application's,
not the network's): signature check, bounds, one INSERT with duplicates skipped by the unique
key, one routing task pushed to the broker. `--profile` prints cProfile's top functions for one
kind of request instead.

HTTP mode (`--http`, bench/webhook_http.py): gunicorn on a loopback port with the project's
settings and each `--server CLASS:WORKERS[:THREADS]`, driven by K concurrent keep-alive clients
for `--seconds` per phase: the bare view, single events, 100-event deliveries, the bare view
again, for each K. Concurrent commits share the WAL flush (PostgreSQL's group commit), as a
CRM's concurrent deliveries do. `--write` puts the tables into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_start, machine, now_stamp, results_section_write

SECRET = "bench-secret"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "bench_hooks"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/5")
URL = "/webhooks/local/local/"


def setup(backend: str) -> str:
    """Environment for a fresh database and the broker, before Django reads its settings."""
    os.environ["SALESOPS_LOCAL_WEBHOOK_SECRET"] = SECRET
    os.environ["SALESOPS_Q_NAME"] = f"bench-hooks-{os.getpid()}"
    if backend == "sqlite":
        import tempfile

        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        path = Path(tempfile.mkdtemp(prefix="salesops-bench-")) / "bench.sqlite3"
        os.environ["SALESOPS_SQLITE_PATH"] = str(path)
        return "SQLite file + django-q2 ORM broker"
    for sql in (f"DROP DATABASE IF EXISTS {DB_NAME}", f"CREATE DATABASE {DB_NAME}"):
        subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True)
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ["REDIS_URL"] = REDIS
    version = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", "SHOW server_version"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[0]
    return f"PostgreSQL {version} + django-q2 Redis broker"


class Wsgi:
    """Calls Django's WSGI handler directly with a prepared environ; returns the status."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.status = ""

    def _start(self, status: str, headers: list, exc_info: object = None) -> None:
        self.status = status

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **headers,
        }
        response = self.handler(environ, self._start)
        for _chunk in response:
            pass
        response.close()  # request_finished: what gunicorn triggers after each request
        return int(self.status.split(" ", 1)[0])


def deliveries(prefix: str, count: int, size: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` signed bodies of `size` new contact.created events each (signed up front: the
    sender's cost, not ours)."""
    from connectors.local.webhook import webhook_sign

    out = []
    for d in range(count):
        events = [
            {
                "event_id": f"{prefix}-{d}-{i}",
                "name": "contact.created",
                "object_type": "contact",
                "id": f"c-{(d * size + i) % 100_000:06d}",
                "occurred_at": "2026-11-20T00:00:00+00:00",
            }
            for i in range(size)
        ]
        body = json.dumps({"account": "local", "events": events}).encode()
        out.append((body, {"HTTP_X_SALESOPS_SIGNATURE": webhook_sign(body, SECRET)}))
    return out


def timed(call: Callable[[], int], expected: int) -> float:
    started = time.perf_counter()
    status = call()
    elapsed = time.perf_counter() - started
    if status != expected:
        raise SystemExit(f"expected {expected}, got {status}")
    return elapsed


def series(wsgi: Wsgi, path: str, requests: list[tuple[bytes, dict[str, str]]], status: int):
    return [timed(lambda b=b, h=h: wsgi.post(path, b, h), status) for b, h in requests]


def summary(latencies: list[float], events_per_request: int) -> dict[str, float]:
    ordered = sorted(latencies)
    total = sum(latencies)
    return {
        "requests": len(latencies),
        "events_per_s": len(latencies) * events_per_request / total,
        "requests_per_s": len(latencies) / total,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def measure(single: int, batches: int) -> dict[str, dict[str, float]]:
    from django.conf import settings

    from salesops.services.connections import connection_local

    settings.ROOT_URLCONF = "bench.urls"
    connection_local()
    wsgi = Wsgi()
    bare_requests = [(b"{}", {})] * single
    # Warm-up: imports, the URL resolver, the connector cache, database and broker sockets.
    series(wsgi, "/bench/bare/", bare_requests[:200], 204)
    series(wsgi, URL, deliveries("warm", 200, 1), 200)
    series(wsgi, URL, deliveries("warm100", 5, 100), 200)
    single_requests = deliveries("one", single, 1)
    batch_requests = deliveries("hundred", batches, 100)
    bare_a = series(wsgi, "/bench/bare/", bare_requests, 204)
    one = series(wsgi, URL, single_requests, 200)
    hundred = series(wsgi, URL, batch_requests, 200)
    bare_b = series(wsgi, "/bench/bare/", bare_requests, 204)
    redelivered = series(wsgi, URL, single_requests[: single // 2], 200)  # all duplicates
    return {
        "bare": summary(bare_a + bare_b, 1),
        "single": summary(one, 1),
        "hundred": summary(hundred, 100),
        "redelivered": summary(redelivered, 1),
    }


def verify(single: int, batches: int) -> dict[str, int]:
    """Every event stored once; one task per delivery that had new events."""
    from salesops.models import WebhookEvent
    from salesops.tasks_enqueue import queue_broker

    expected = 200 + 500 + single + batches * 100
    stored = WebhookEvent.objects.count()
    tasks = queue_broker().queue_size()
    queue_broker().purge_queue()
    if stored != expected:
        raise SystemExit(f"stored {stored} events, expected {expected}")
    if tasks != 200 + 5 + single + batches:
        raise SystemExit(f"{tasks} routing tasks queued, expected {205 + single + batches}")
    return {"stored": stored, "tasks": tasks}


def profile(kind: str, n: int) -> None:
    from django.conf import settings

    from salesops.services.connections import connection_local

    settings.ROOT_URLCONF = "bench.urls"
    connection_local()
    wsgi = Wsgi()
    series(wsgi, URL, deliveries("warm", 100, 1), 200)
    size = 1 if kind == "single" else 100
    requests = deliveries(kind, n if size == 1 else max(1, n // 20), size)
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the disk or sockets
    profiler.enable()
    series(wsgi, URL, requests, 200)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(25)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def table(label: str, before: str, r: dict[str, dict[str, float]], checked: dict[str, int]) -> str:
    bare = r["bare"]["requests_per_s"]
    rows = [
        ("bare Django view, 204", r["bare"], "1"),
        ("webhook, 1 event per delivery", r["single"], "1"),
        ("webhook, 100 events per delivery", r["hundred"], "100"),
        ("webhook, 1 event, a redelivery (duplicate)", r["redelivered"], "1"),
    ]
    lines = [
        f"Machine: {machine()}. Date: {now_stamp()}. Backend: {label}. Load average before "
        f"the run: {before}. Command: `python bench/webhook_ingest.py postgres --write`.",
        "",
        "Sequential requests through Django's WSGI handler and the full middleware stack in one "
        "process (no socket), each signed (HMAC-SHA256), checked, stored with one "
        "`INSERT ... ON CONFLICT DO NOTHING RETURNING` and routed by one task pushed to Redis "
        "(the routing itself runs in a worker, not measured here).",
        "",
        "| request | requests | events/s | share of bare view (requests/s) | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, s, _n in rows:
        lines.append(
            f"| {name} | {s['requests']} | {s['events_per_s']:,.0f} | "
            f"{s['requests_per_s'] / bare:.0%} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} |"
        )
    lines += [
        "",
        f"Checked after the run: {checked['stored']:,} events stored once each, "
        f"{checked['tasks']:,} routing tasks queued (one per delivery with new events).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", choices=["postgres", "sqlite"], nargs="?", default="postgres")
    parser.add_argument("--single", type=int, default=3000)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--profile", choices=["single", "batch"])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--http", action="store_true", help="gunicorn + concurrent clients")
    parser.add_argument("--server", action="append", help="CLASS:WORKERS[:THREADS]")
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    label = setup(args.backend)
    django_start()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.profile:
        profile(args.profile, args.single)
        return
    if args.http:
        from salesops.services.connections import connection_local

        connection_local()
        servers = args.server or ["sync:4", "gthread:4:4"]
        clients = [int(k) for k in args.clients.split(",")]
        from bench.webhook_http import http_measure, http_table, http_verify

        before = load_average()
        rows, answered = http_measure(servers, clients, args.seconds)
        checked = http_verify(answered)
        body = http_table(label, before, rows, checked)
        print(body)
        if args.write:
            results_section_write("webhooks-http", "#### Measured\n\n" + body)
        return
    before = load_average()
    results = measure(args.single, args.deliveries)
    checked = verify(args.single, args.deliveries)
    body = table(label, before, results, checked)
    print(json.dumps(results, indent=1))
    print(body)
    if args.write:
        results_section_write("webhooks-inprocess", "#### Measured\n\n" + body)


if __name__ == "__main__":
    main()
