"""The Salesforce emulator in a process of its own, for the Salesforce benches.

As for HubSpot (bench/hubspot_emulator.py): a real org is another machine, so the emulator runs
in a child process, keeping its work (SOQL over a 100k-row store) out of the measured process's
GIL and tracemalloc peak. The child seeds its default org directly (no API calls), serves on
127.0.0.1 over HTTPS on the real clock, and answers commands over a pipe: counters, edits and
deletes made behind the connector's back, and a bare-query ceiling measured from inside.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

# Share of the records per sObject: accounts, contacts (Contact and Lead), opportunities.
MIX = (("Account", 0.2), ("Contact", 0.4), ("Lead", 0.1), ("Opportunity", 0.3))
EDIT_FIELD = {"Account": "Industry", "Contact": "Title", "Lead": "Title", "Opportunity": "NextStep"}


class EmulatorProcess:
    """A child process serving a Salesforce emulator; `call(command, **kw)` runs a command
    there. `credentials` are a `salesforce` Connection's (JWT bearer against the emulator)."""

    def __init__(self, *, records: int) -> None:
        ctx = multiprocessing.get_context("spawn")  # no Django, no parent state in the child
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, records), daemon=True)
        self._proc.start()
        ready = self._conn.recv()
        self.base_url: str = ready["base_url"]
        self.org_id: str = ready["org_id"]
        self.credentials: dict[str, str] = ready["credentials"]
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


def _serve(conn: Any, records: int) -> None:
    import time

    from tests.emulators.framework import SystemClock

    started = time.perf_counter()
    emu, seeded = _build(records, SystemClock())
    emu.start()
    store = emu.org()
    conn.send(
        {
            "base_url": emu.base_url,
            "org_id": store.org_id,
            "credentials": {
                "login_url": emu.base_url,
                "consumer_key": emu.consumer_key,
                "username": store.username,
                "private_key": emu.private_key_pem,
                "ca_cert": emu.ca_path,
            },
            "seeded": seeded,
            "seed_seconds": time.perf_counter() - started,
        }
    )
    commands: dict[str, Callable[..., Any]] = {
        "calls": lambda: dict(emu.calls),
        "kinds": lambda: dict(Counter(request_kind(r) for r in emu.requests)),
        "token": emu.access_token,
        "statuses": lambda: dict(Counter(r.status for r in emu.requests)),
        "api_used": lambda: store.api_used,
        "reset": emu.reset_log,
        "edit": lambda count: _edit(store, count),
        "delete": lambda count: _delete(store, count),
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


def request_kind(req: Any) -> str:
    """What a request is for: auth, feed query (and its query-more pages), history, deletes."""
    if req.path.startswith("/services/oauth2/"):
        return "auth"
    soql = " ".join(req.query.get("q", []))
    # simple_salesforce asks for `query/?q=`; a next page is `query/<locator>-<offset>`.
    tail = req.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    if tail not in ("query", "queryAll"):
        return "query more"
    if tail == "queryAll":
        return "deletes (queryAll)"
    if "/query" in req.path:
        return "history" if "FieldHistory" in soql else "query"
    return f"{req.method} other"


def _build(records: int, clock: Any) -> tuple[Any, dict[str, int]]:
    """An emulator whose default org holds `records` rows cloned from the sample org, stamped
    a second apart, days ago (so a sync's look-back window holds few of them)."""
    from tests.emulators.framework import FakeClock
    from tests.emulators.salesforce_api import SalesforceEmulator

    sample = SalesforceEmulator(seed=True).org()
    emu = SalesforceEmulator(seed=False, clock=clock, daily_limit=10_000_000)
    store = emu.org()
    store.clock = FakeClock(datetime.now(UTC) - timedelta(days=5))
    try:
        seeded = _clone(store, sample, records)
    finally:
        store.clock = clock
    return emu, seeded


def _clone(store: Any, sample: Any, records: int) -> dict[str, int]:
    skip = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById"}
    skip |= {"LastModifiedById", "OwnerId", "AccountId", "IsDeleted", "Name", "IsConverted"}
    templates = {
        s: [{k: v for k, v in r.items() if k not in skip and v is not None} for r in sample.rows(s)]
        for s, _ in MIX
    }
    templates["Account"] = [
        {**t, "Name": f"Account {n}"} for n, t in enumerate(templates["Account"])
    ]
    templates["Opportunity"] = [{**t, "Name": "Deal"} for t in templates["Opportunity"]]
    counts = {s: int(records * share) for s, share in MIX}
    counts["Contact"] += records - sum(counts.values())
    accounts: list[str] = []
    for sobject, _ in MIX:
        rows = templates[sobject]
        for n in range(counts[sobject]):
            fields = dict(rows[n % len(rows)])
            if sobject in ("Contact", "Lead") and fields.get("Email"):
                fields["Email"] = f"bench{n}-{fields['Email']}"
            if sobject in ("Contact", "Opportunity") and accounts:
                fields["AccountId"] = accounts[n % len(accounts)]
            store.clock.advance(1.0)  # a second apart: the look-back window holds a few
            made = store.insert(sobject, fields)
            if sobject == "Account":
                accounts.append(made)
    return counts


def _edit(store: Any, count: int) -> int:
    """Change a field of `count` live rows (spread over the sObjects), as a user would."""
    rng = random.Random(count)
    done = 0
    for sobject, share in MIX:
        live = store.rows(sobject)
        for row in rng.sample(live, min(len(live), round(count * share))):
            store.update(sobject, row["Id"], {EDIT_FIELD[sobject]: f"edited {done}"})
            done += 1
    return done


def _delete(store: Any, count: int) -> int:
    """Delete `count` live Contacts (to the recycle bin: the next sync's tombstones)."""
    live = store.rows("Contact")
    for row in random.Random(-count).sample(live, min(len(live), count)):
        store.delete("Contact", row["Id"])
    return count
