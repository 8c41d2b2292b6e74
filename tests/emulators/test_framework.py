"""The emulator framework, exercised by real HTTP clients (requests, urllib, urllib3)."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import urllib3

from tests.emulators.framework import (
    SAMPLE_PATH,
    Decision,
    Drop,
    Emulator,
    FakeClock,
    HttpError,
    RateLimited,
    RecordStore,
    RenderedFault,
    Request,
    Response,
    ServerError,
    SessionExpired,
    Slow,
    Window,
    WindowLimiter,
    client_context,
    fault_status,
    json_response,
    retry_after_value,
    sample_load,
)


class Acme(Emulator):
    """A toy vendor: contacts from the store, its own error shape and rate-limit headers."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.store = RecordStore.from_sample(clock=self.clock)
        self.router.add("GET", "/v1/contacts", self.list_contacts)
        self.router.add("GET", "/v1/contacts/{id}", self.get_contact)
        self.router.add("POST", "/v1/contacts", self.create_contact)
        self.router.add("GET", "/v1/boom", self.boom)

    def before(self, req: Request) -> Response | None:
        if req.bearer != "good":
            return self.render_fault(SessionExpired("bad token"), req)
        return None

    def render_fault(self, fault: RenderedFault, req: Request) -> Response:
        status = fault_status(fault)
        code = {429: "RATE_LIMIT", 401: "EXPIRED_AUTHENTICATION"}.get(status, "ERROR")
        body = {"acme_error": {"code": code, "message": fault.message or code.lower()}}
        headers = {}
        if isinstance(fault, RateLimited):
            headers["Retry-After"] = retry_after_value(fault.retry_after)
        return json_response(status, body, headers)

    def rate_limit_headers(self, decision: Decision, req: Request) -> dict[str, str]:
        burst = decision.usage["burst"]
        return {
            "X-Acme-Limit": str(burst.window.limit),
            "X-Acme-Remaining": str(burst.remaining),
        }

    def list_contacts(self, req: Request) -> Response:
        rows = self.store.all("contact")
        return json_response(200, {"results": [{"id": r.id, **_plain(r.fields)} for r in rows]})

    def get_contact(self, req: Request) -> Response:
        record = self.store.get("contact", req.params["id"])
        if record is None:
            return self.render_fault(HttpError(404, "no such contact"), req)
        return json_response(200, {"id": record.id, **_plain(record.fields)})

    def create_contact(self, req: Request) -> Response:
        record = self.store.create("contact", req.json)
        return json_response(201, {"id": record.id})

    def boom(self, req: Request) -> Response:
        raise RuntimeError("handler fell over")


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(fields, default=str))


AUTH = {"Authorization": "Bearer good"}


@pytest.fixture
def acme() -> Iterator[Acme]:
    with Acme() as emulator:
        yield emulator


def get(emu: Emulator, path: str, **kw: Any) -> requests.Response:
    kw.setdefault("headers", AUTH)
    kw.setdefault("timeout", 5)
    return requests.get(emu.base_url + path, **kw)


# -- TLS -------------------------------------------------------------------------------------
def test_tls_round_trip_with_requests_urllib_and_urllib3() -> None:
    with Acme(tls=True) as emu:
        assert emu.base_url.startswith("https://") and emu.ca_path and emu.ca_path.exists()
        assert get(emu, "/v1/contacts/c-001", verify=str(emu.ca_path)).json()["first_name"]
        with emu.trusted_env():  # what simple-salesforce (requests) picks up
            assert get(emu, "/v1/contacts/c-002").status_code == 200
        req = urllib.request.Request(emu.base_url + "/v1/contacts/c-003", headers=AUTH)
        with urllib.request.urlopen(req, timeout=5, context=client_context()) as resp:
            assert json.loads(resp.read())["id"] == "c-003"
        # hubspot-api-client hands its `ssl_ca_cert` to urllib3 as ca_certs.
        pool = urllib3.PoolManager(ca_certs=str(emu.ca_path), cert_reqs="CERT_REQUIRED")
        assert pool.request("GET", emu.base_url + "/v1/contacts", headers=AUTH).status == 200


def test_tls_client_without_the_ca_is_refused() -> None:
    with Acme(tls=True) as emu:
        with pytest.raises(requests.exceptions.SSLError):
            get(emu, "/v1/contacts", verify=True)
        # The emulator survives a failed handshake and serves the next client.
        assert get(emu, "/v1/contacts", verify=str(emu.ca_path)).status_code == 200
        ctx = ssl.create_default_context()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(emu.base_url + "/v1/contacts", timeout=5, context=ctx)


# -- faults ----------------------------------------------------------------------------------
def test_scripted_429_carries_retry_after_vendor_body_and_rate_limit_headers() -> None:
    limiter = WindowLimiter(FakeClock(), Window("burst", 100, 10))
    with Acme(limiter=limiter) as emu:
        emu.fail(RateLimited(retry_after=2.5))
        resp = get(emu, "/v1/contacts")
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        assert resp.json()["acme_error"]["code"] == "RATE_LIMIT"
        assert resp.headers["X-Acme-Limit"] == "100"
        assert get(emu, "/v1/contacts").status_code == 200


def test_server_errors_and_expired_session_in_the_vendor_shape(acme: Acme) -> None:
    acme.fail(ServerError(503, "maintenance"), SessionExpired("Session expired or invalid"))
    first, second, third = (get(acme, "/v1/contacts") for _ in range(3))
    assert first.status_code == 503 and first.json()["acme_error"]["message"] == "maintenance"
    assert second.status_code == 401
    assert second.json()["acme_error"]["code"] == "EXPIRED_AUTHENTICATION"
    assert third.status_code == 200


def test_slow_answer_times_the_client_out_but_the_write_still_happens(acme: Acme) -> None:
    acme.fail(Slow(0.6), endpoint="POST /v1/contacts")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            acme.base_url + "/v1/contacts", json={"email": "x@y.z"}, headers=AUTH, timeout=0.2
        )
    deadline = time.monotonic() + 5
    while acme.requests_to("POST /v1/contacts")[0].status != 201:
        assert time.monotonic() < deadline, "the timed-out write was never answered"
        time.sleep(0.05)
    assert any(r.fields.get("email") == "x@y.z" for r in acme.store.all("contact"))
    started = time.monotonic()
    assert get(acme, "/v1/contacts").status_code == 200
    assert time.monotonic() - started < 0.5  # the slow fault was consumed


def test_dropped_connection_is_seen_by_the_client(acme: Acme) -> None:
    acme.fail(Drop())
    with pytest.raises(requests.exceptions.ConnectionError):
        get(acme, "/v1/contacts")
    assert acme.requests[-1].status is None  # never answered
    assert get(acme, "/v1/contacts").status_code == 200


def test_endpoint_faults_come_before_global_ones_in_order(acme: Acme) -> None:
    acme.fail(ServerError(500), endpoint="GET /v1/contacts/{id}", times=2)
    acme.fail(ServerError(502))
    assert acme.faults.pending == 3
    assert get(acme, "/v1/contacts/c-001").status_code == 500
    assert get(acme, "/v1/contacts").status_code == 502  # global: any endpoint
    assert get(acme, "/v1/contacts/c-001").status_code == 500
    assert get(acme, "/v1/contacts/c-001").status_code == 200
    assert acme.faults.pending == 0


# -- rate limiting ---------------------------------------------------------------------------
def test_limiter_answers_429_after_n_calls_and_recovers_when_the_clock_moves() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # on a window boundary
    limiter = WindowLimiter(clock, Window("burst", 3, 10), Window("daily", 5, 86_400))
    with Acme(clock=clock, limiter=limiter) as emu:
        remaining = [get(emu, "/v1/contacts").headers["X-Acme-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = get(emu, "/v1/contacts")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
        assert refused.json()["acme_error"]["code"] == "RATE_LIMIT"
        other = get(emu, "/v1/contacts", headers={"Authorization": "Bearer other"})
        assert other.status_code == 401  # auth comes before the limiter
        clock.advance(10)
        assert [get(emu, "/v1/contacts").status_code for _ in range(3)] == [200, 200, 429]
        # The daily budget (5) is now spent: waiting out the burst window is not enough.
        clock.advance(10)
        daily = get(emu, "/v1/contacts")
        assert daily.status_code == 429 and int(daily.headers["Retry-After"]) > 10
        clock.advance(int(daily.headers["Retry-After"]))
        assert get(emu, "/v1/contacts").status_code == 200


def test_limiter_counts_each_key_apart() -> None:
    clock = FakeClock()
    limiter = WindowLimiter(clock, Window("burst", 1, 60))
    assert limiter.hit("a").allowed and limiter.hit("b").allowed
    refused = limiter.hit("a")
    assert not refused.allowed and refused.blocked_by == "burst" and 0 < refused.retry_after <= 60
    assert limiter.peek("a")["burst"].remaining == 0


# -- counters, log, routing ------------------------------------------------------------------
def test_counters_and_request_log_by_endpoint(acme: Acme) -> None:
    for cid in ("c-001", "c-002", "nope"):
        get(acme, f"/v1/contacts/{cid}")
    requests.post(acme.base_url + "/v1/contacts", json={"email": "a@b.c"}, headers=AUTH)
    assert get(acme, "/v2/unknown").status_code == 404
    assert requests.delete(acme.base_url + "/v1/contacts", headers=AUTH).status_code == 405
    assert acme.calls["GET /v1/contacts/{id}"] == 3 and acme.calls["POST /v1/contacts"] == 1
    assert acme.calls["GET /v2/unknown"] == 1
    statuses = [r.status for r in acme.requests_to("GET /v1/contacts/{id}")]
    assert statuses == [200, 200, 404]
    (posted,) = acme.requests_to("POST /v1/contacts")
    assert posted.body == {"email": "a@b.c"} and posted.headers["authorization"] == "Bearer good"
    acme.reset_log()
    assert not acme.requests and not acme.calls


def test_a_handler_bug_is_a_500_naming_it(acme: Acme) -> None:
    resp = get(acme, "/v1/boom")
    assert resp.status_code == 500 and "handler fell over" in resp.json()["acme_error"]["message"]


# -- store -----------------------------------------------------------------------------------
def test_store_seeding_matches_the_sample_file() -> None:
    raw = json.loads(SAMPLE_PATH.read_text())
    store = RecordStore.from_sample()
    for section, object_type in [
        ("owners", "owner"),
        ("companies", "company"),
        ("contacts", "contact"),
        ("deals", "deal"),
        ("activities", "activity"),
    ]:
        assert store.count(object_type) == len(raw[section]) > 0
    assert sample_load()["deals"][0]["id"] == raw["deals"][0]["id"]
    deal = store.get("deal", "d-001")
    assert deal is not None and deal.fields["contacts"] == ["c-022", "c-023"]
    now = store.clock.now()
    assert deal.fields["created_at"] == now - timedelta(days=45)
    assert deal.fields["close_date"] == (now + timedelta(days=35)).date()
    assert deal.created_at == now - timedelta(days=45)
    assert deal.last_modified == now - timedelta(days=1, hours=3)  # its newest past timestamp


def test_store_changes_tombstones_and_id_assignment() -> None:
    clock = FakeClock()
    store = RecordStore.from_sample(clock=clock)
    before = store.count("contact")
    clock.advance(60)
    mark = clock.now()
    made = store.create("contact", {"email": "new@x.io"})
    assert made.id == f"contact-{before + 1}" and made.last_modified == mark
    clock.advance(1)
    store.update("contact", "c-001", {"lead_status": "OPEN"})
    store.delete("contact", "c-002")
    assert store.get("contact", "c-002") is None
    tomb = store.get("contact", "c-002", include_deleted=True)
    assert tomb is not None and tomb.deleted and tomb.deleted_at == clock.now()
    changed = store.changed_since("contact", mark)
    assert [r.id for r in changed] == [made.id, "c-001", "c-002"]
    assert store.count("contact") == before  # one added, one deleted
    with pytest.raises(KeyError):
        store.update("contact", "c-002", {"x": 1})


def test_store_id_factory_renames_records_and_their_links() -> None:
    store = RecordStore.from_sample(id_factory=lambda kind, n: str(1000 * (len(kind) + 1) + n))
    contact = store.by_sample_id("contact", "c-022")
    deal = store.by_sample_id("deal", "d-001")
    company = store.by_sample_id("company", "co-001")
    assert contact and deal and company and deal.id.isdigit()
    assert contact.id in deal.fields["contacts"] and deal.fields["company"] == company.id
    assert store.get("owner", deal.fields["owner"]) is not None
