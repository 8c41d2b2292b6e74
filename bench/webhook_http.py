"""The concurrent HTTP mode of bench/webhook_ingest.py: gunicorn on a loopback port, driven by
K keep-alive clients for a fixed time each, the bare 204 view and the webhook alike.

gunicorn runs with the project's settings (`-c python:salesops.gunicorn_conf`, workers and
bind from the environment) plus the worker class under test; the clients are one asyncio loop
in this process speaking HTTP/1.1 on raw streams (a new connection only when the server closes
one, as gunicorn's sync workers do after every request).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import machine, now_stamp

ROOT = Path(__file__).resolve().parent.parent
Request = tuple[str, bytes, dict[str, str]]  # path, body, extra headers


def wsgi_app():  # type: ignore[no-untyped-def]
    """gunicorn's app factory (`bench.webhook_http:wsgi_app()`): the production WSGI app with
    the bench URLs (the production routes plus the bare view)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.urls"
    import salesops.wsgi

    return salesops.wsgi.application


@dataclass
class Server:
    """One gunicorn: `workers` processes of `worker_class` (`threads` each for gthread)."""

    workers: int
    worker_class: str = "sync"
    threads: int = 1
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def label(self) -> str:
        threads = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def start(self) -> None:
        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "SALESOPS_BIND": f"127.0.0.1:{self.port}",
            "SALESOPS_WEB_WORKERS": str(self.workers),
            "PYTHONPATH": str(ROOT),
        }
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:salesops.gunicorn_conf",
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            # Recycling mid-run would measure worker start-up, not requests.
            "--max-requests",
            "0",
            "bench.webhook_http:wsgi_app()",
        ]
        # The access log stays on, as in production; its lines go nowhere.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise SystemExit(f"gunicorn exited: {err[-2000:]}")
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/bench/bare/", data=b"{}", method="POST"
                )
                with urllib.request.urlopen(request, timeout=2) as answer:
                    if answer.status == 204:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class Load:
    """What K clients measured in one phase."""

    requests: int = 0
    events: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "requests_per_s": self.requests / self.elapsed,
            "events_per_s": self.events / self.elapsed,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        }


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the server closes the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


def _raw(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


async def _client(
    port: int, requests: Iterator[Request], per_request: int, until: float, load: Load
) -> None:
    reader = writer = None
    while True:
        started = time.perf_counter()
        if started >= until:
            break
        path, body, headers = next(requests)
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert reader is not None
        writer.write(_raw(port, path, body, headers))
        status, close = await _response(reader)
        load.latencies.append(time.perf_counter() - started)
        load.statuses[status] = load.statuses.get(status, 0) + 1
        load.requests += 1
        load.events += per_request if status in (200, 204) else 0
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def drive(port: int, requests: Iterator[Request], per_request: int, k: int, seconds: float) -> Load:
    """K concurrent clients sending `requests` (shared, each taken once) for `seconds`."""

    async def run() -> Load:
        load = Load()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(port, requests, per_request, until, load) for _ in range(k)))
        load.elapsed = time.perf_counter() - started
        return load

    return asyncio.run(run())


def bare_requests() -> Iterator[Request]:
    return itertools.repeat(("/bench/bare/", b"{}", {}))


def webhook_requests(path: str, prefix: str, size: int, prebuilt: int) -> Iterator[Request]:
    """Signed deliveries of `size` new events each, with unique ids: `prebuilt` of them signed
    up front (the sender's cost, not ours), then more as needed."""
    from bench.webhook_ingest import deliveries

    built = deliveries(prefix, prebuilt, size)
    for body, headers in built:
        yield path, body, {"X-Salesops-Signature": headers["HTTP_X_SALESOPS_SIGNATURE"]}
    for n in itertools.count():
        ((body, headers),) = deliveries(f"{prefix}-more{n}", 1, size)
        yield path, body, {"X-Salesops-Signature": headers["HTTP_X_SALESOPS_SIGNATURE"]}


def http_measure(
    servers: list[str], clients: list[int], seconds: float
) -> tuple[list[tuple[str, int, dict[str, dict[str, float]]]], dict[str, int]]:
    """Every server config x every K: bare, single, 100-event, bare; returns the rows and the
    events and deliveries the webhook answered 200 for (checked against the database)."""
    from bench.webhook_ingest import URL

    rows = []
    answered = {"events": 0, "deliveries": 0}
    for n, spec in enumerate(servers):
        kind, workers, *threads = spec.split(":")
        server = Server(int(workers), kind, int(threads[0]) if threads else 1)
        server.start()
        try:
            # Warm every worker: imports, database and broker connections.
            drive(server.port, bare_requests(), 1, 32, 1.0)
            warm = drive(server.port, webhook_requests(URL, f"w{n}", 1, 2000), 1, 32, 1.0)
            answered["events"] += warm.events
            answered["deliveries"] += warm.statuses.get(200, 0)
            for k in clients:
                phases = {}
                for name, size, prebuilt in (
                    ("bare", 0, 0),
                    ("single", 1, int(seconds * 3000)),
                    ("hundred", 100, int(seconds * 250)),
                    ("bare_again", 0, 0),
                ):
                    requests = (
                        bare_requests()
                        if size == 0
                        else webhook_requests(URL, f"s{n}k{k}{name}", size, prebuilt)
                    )
                    load = drive(server.port, requests, max(size, 1), k, seconds)
                    wrong = {s: c for s, c in load.statuses.items() if s not in (200, 204)}
                    if wrong:
                        raise SystemExit(f"{server.label} K={k} {name}: answers {wrong}")
                    if size:
                        answered["events"] += load.events
                        answered["deliveries"] += load.requests
                    phases[name] = load.summary()
                bare = [phases.pop("bare"), phases.pop("bare_again")]
                phases["bare"] = {
                    "requests": bare[0]["requests"] + bare[1]["requests"],
                    "requests_per_s": statistics.mean(b["requests_per_s"] for b in bare),
                    "events_per_s": statistics.mean(b["events_per_s"] for b in bare),
                    "p50_ms": max(b["p50_ms"] for b in bare),
                    "p99_ms": max(b["p99_ms"] for b in bare),
                }
                rows.append((server.label, k, phases))
                print(server.label, k, json.dumps(phases), flush=True)
        finally:
            server.stop()
    return rows, answered


def http_verify(answered: dict[str, int]) -> dict[str, int]:
    """Every event answered 200 stored once; one routing task per delivery."""
    from salesops.models import WebhookEvent
    from salesops.tasks_enqueue import queue_broker

    stored = WebhookEvent.objects.count()
    tasks = queue_broker().queue_size()
    queue_broker().purge_queue()
    if stored != answered["events"]:
        raise SystemExit(f"stored {stored} events, answered 200 for {answered['events']}")
    if tasks != answered["deliveries"]:
        raise SystemExit(f"{tasks} routing tasks queued, {answered['deliveries']} deliveries")
    return {"stored": stored, "tasks": tasks}


def http_table(
    label: str,
    before: str,
    rows: list[tuple[str, int, dict[str, dict[str, float]]]],
    checked: dict[str, int],
) -> str:
    lines = [
        f"Machine: {machine()}. Date: {now_stamp()}. Backend: {label}. Load average before "
        f"the run: {before}. Command: `python bench/webhook_ingest.py postgres --http "
        "--write`.",
        "",
        "| server | K clients | request | requests/s | events/s | share of bare view "
        "(requests/s) | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = (
        ("bare", "bare Django view, 204"),
        ("single", "webhook, 1 event per delivery"),
        ("hundred", "webhook, 100 events per delivery"),
    )
    for server, k, phases in rows:
        bare = phases["bare"]["requests_per_s"]
        for key, name in names:
            s = phases[key]
            lines.append(
                f"| {server} | {k} | {name} | {s['requests_per_s']:,.0f} | "
                f"{s['events_per_s']:,.0f} | {s['requests_per_s'] / bare:.0%} | "
                f"{s['p50_ms']:.1f} | {s['p99_ms']:.1f} |"
            )
    lines += [
        "",
        f"Checked after the run: {checked['stored']:,} events stored once each (every event "
        f"answered 200), {checked['tasks']:,} routing tasks queued (one per delivery).",
    ]
    return "\n".join(lines)
