"""The HubSpot emulator in a process of its own, for the HubSpot benches.

A real portal is another machine: running the emulator in a child process keeps its work (and
its 100k-record store) out of the measured process's GIL and out of its tracemalloc peak. The
child seeds its portal's store directly (no API calls), serves on 127.0.0.1 with the
Professional tier's limits on the real clock, and answers commands over a pipe: counters,
statuses seen, edits and deletes made behind the connector's back.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

PORTAL = 111
TOKEN = "pat-na1-bench"
CLIENT_SECRET = "hubspot-client-secret"
# Share of the records per type: companies, contacts, deals.
MIX = (("companies", 0.2), ("contacts", 0.5), ("deals", 0.3))


class EmulatorProcess:
    """A child process serving a HubSpot emulator; `call(command, **kw)` runs a command there."""

    def __init__(self, *, records: int, tier: str | None = "professional") -> None:
        ctx = multiprocessing.get_context("spawn")  # no Django, no parent state in the child
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, records, tier), daemon=True)
        self._proc.start()
        ready = self._conn.recv()
        self.base_url: str = ready["base_url"]
        self.seeded: dict[str, int] = ready["seeded"]
        self.seed_seconds: float = ready["seed_seconds"]

    def call(self, command: str, **kw: Any) -> Any:
        """Run `command` in the child and return its answer (an exception is re-raised)."""
        self._conn.send((command, kw))
        ok, answer = self._conn.recv()
        if not ok:
            raise RuntimeError(f"emulator process: {answer}")
        return answer

    def stop(self) -> None:
        """Stop the child (it exits with the pipe)."""
        try:
            self.call("stop")
        finally:
            self._proc.join(timeout=10)


def _serve(conn: Any, records: int, tier: str | None) -> None:
    import time

    from tests.emulators.framework import SystemClock

    started = time.perf_counter()
    emu, seeded = _build(records, tier, SystemClock())
    emu.start()
    conn.send(
        {
            "base_url": emu.base_url,
            "seeded": seeded,
            "seed_seconds": time.perf_counter() - started,
        }
    )
    commands: dict[str, Callable[..., Any]] = {
        "calls": lambda: dict(emu.calls),
        "statuses": lambda: dict(Counter(r.status for r in emu.requests)),
        "reset": emu.reset_log,
        "edit": lambda count: _edit(emu, count),
        "delete": lambda count: _delete(emu, count),
        "stop": lambda: None,
    }
    while True:
        command, kw = conn.recv()
        try:
            answer = commands[command](**kw)
        except Exception as exc:  # reported to the parent, which raises
            conn.send((False, repr(exc)))
            continue
        conn.send((True, answer))
        if command == "stop":
            emu.stop()
            return


def _build(records: int, tier: str | None, clock: Any) -> tuple[Any, dict[str, int]]:
    """An emulator whose portal holds `records` CRM records cloned from the sample data,
    stamped a second apart, days ago (so a sync's look-back window holds few of them)."""
    from tests.emulators.framework import FakeClock, RecordStore
    from tests.emulators.hubspot_api import ALL_SCOPES, HubSpotEmulator
    from tests.emulators.hubspot_seed import seed as seed_portal
    from tests.emulators.hubspot_store import PortalStore

    emu = HubSpotEmulator(
        portal_id=PORTAL, token=TOKEN, scopes=ALL_SCOPES, seed=False, tier=tier, clock=clock
    )
    sample = PortalStore(0, clock)
    seed_portal(sample, RecordStore.from_sample(clock=clock))
    store = emu.portal(PORTAL)
    store.owners = list(sample.owners)
    real_clock = store.clock
    store.clock = FakeClock(datetime.now(UTC) - timedelta(days=5))
    try:
        seeded = _clone(store, sample, records)
    finally:
        store.clock = real_clock
        store.events.clear()
    return emu, seeded


def _clone(store: Any, sample: Any, records: int) -> dict[str, int]:
    templates = {t: [o.properties for o in sample.live(t)] for t, _ in MIX}
    counts = {t: int(records * share) for t, share in MIX}
    counts["contacts"] += records - sum(counts.values())
    ids: dict[str, list[str]] = {}
    skip = {"hs_object_id", "createdate", "hs_createdate", "hs_lastmodifieddate"}
    for hs_type, _ in MIX:
        made = []
        for n in range(counts[hs_type]):
            props = {
                k: v
                for k, v in templates[hs_type][n % len(templates[hs_type])].items()
                if k not in skip
            }
            if hs_type == "contacts" and props.get("email"):
                props["email"] = f"bench{n}-{props['email']}"
            made.append(_put(store, hs_type, props))
        ids[hs_type] = made
    companies = ids["companies"]
    for n, contact in enumerate(ids["contacts"]):
        store.associate("contacts", contact, "companies", companies[n % len(companies)], 279)
    for n, deal in enumerate(ids["deals"]):
        store.associate("deals", deal, "companies", companies[n % len(companies)], 341)
        store.associate("deals", deal, "contacts", ids["contacts"][n % len(ids["contacts"])], 3)
    return counts


def _put(store: Any, hs_type: str, props: dict[str, str]) -> str:
    """Store one record as `PortalStore.create` would, minus its uniqueness scan (a scan of
    every record per create: quadratic at 100k); the clones are unique by construction."""
    from tests.emulators.hubspot_model import iso
    from tests.emulators.hubspot_store import HsObject

    store.clock.advance(1.0)  # a second apart: the look-back window holds a few
    now = store.stamp()
    id_ = store.next_id(hs_type)
    obj = HsObject(hs_type, id_, {}, now, now)
    store.apply_values(
        obj, {"createdate": iso(now), "hs_createdate": iso(now), **props}, now, "CRM_UI"
    )
    obj.properties["hs_object_id"] = id_
    store.objects[hs_type][id_] = obj
    return id_


def _edit(emu: Any, count: int) -> int:
    """Change a property of `count` live records (spread over the types), as a user would."""
    store = emu.portal(PORTAL)
    rng = random.Random(count)
    done = 0
    for hs_type, share in MIX:
        live = store.live(hs_type)
        prop = {"companies": "industry", "contacts": "jobtitle", "deals": "hs_next_step"}[hs_type]
        for obj in rng.sample(live, min(len(live), int(count * share))):
            store.update(hs_type, obj.id, {prop: f"edited {done}"}, source="CRM_UI")
            done += 1
    store.events.clear()
    return done


def _delete(emu: Any, count: int) -> int:
    """Archive `count` live contacts (deletes the next sync turns into tombstones)."""
    store = emu.portal(PORTAL)
    live = store.live("contacts")
    for obj in random.Random(-count).sample(live, min(len(live), count)):
        store.archive("contacts", obj.id, source="CRM_UI")
    store.events.clear()
    return count
