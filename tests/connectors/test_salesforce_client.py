"""The Salesforce client: the error translation table (pure), then over HTTPS against the
emulator: logins, session expiry, 5xx storms, the daily limit and Sforce-Limit-Info."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.base import PermanentCRMError, RecordNotFound, RetriableCRMError
from connectors.salesforce.client import (
    DAILY_LIMIT_WAIT,
    DailyLimitExceeded,
    SalesforceClient,
    SessionExpired,
    error_detail,
    translate,
)
from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator

URL = "https://x.my.salesforce.com/services/data/v61.0/query/"


def _body(code: str, message: str = "msg") -> list[dict[str, str]]:
    return [{"errorCode": code, "message": message}]


LIMIT = "REQUEST_LIMIT_EXCEEDED"
General, Malformed = SalesforceGeneralError, SalesforceMalformedRequest
Refused, Missing = SalesforceRefusedRequest, SalesforceResourceNotFound
Expired = SalesforceExpiredSession
Retriable, Permanent = RetriableCRMError, PermanentCRMError


@pytest.mark.parametrize(
    ("exc", "headers", "cls", "retry_after"),
    [
        (General(URL, 500, "q", _body("UNKNOWN_EXCEPTION")), {}, Retriable, None),
        (General(URL, 503, "q", b"down"), {"Retry-After": "1.5"}, Retriable, 1.5),
        (General(URL, 429, "q", b""), {"Retry-After": "7"}, Retriable, 7.0),
        (Malformed(URL, 400, "q", _body("UNABLE_TO_LOCK_ROW")), {}, Retriable, None),
        (Refused(URL, 403, "q", _body(LIMIT)), {}, DailyLimitExceeded, DAILY_LIMIT_WAIT),
        (Refused(URL, 403, "q", _body(LIMIT)), {"Retry-After": "600"}, DailyLimitExceeded, 600.0),
        (Refused(URL, 403, "q", _body("INSUFFICIENT_ACCESS")), {}, Permanent, None),
        (Malformed(URL, 400, "q", _body("MALFORMED_QUERY")), {}, Permanent, None),
        (Missing(URL, 404, "q", _body("NOT_FOUND")), {}, RecordNotFound, None),
        (
            SalesforceExpiredSession(URL, 401, "q", _body("INVALID_SESSION_ID")),
            {},
            SessionExpired,
            None,
        ),
    ],
)
def test_every_salesforce_error_becomes_a_connector_error(
    exc: Exception, headers: dict, cls: type, retry_after: float | None
) -> None:
    got = translate(exc, headers)  # type: ignore[arg-type]
    assert type(got) is cls
    assert getattr(got, "retry_after", None) == retry_after
    assert got.status == exc.status  # type: ignore[attr-defined]


def test_the_daily_limit_is_retriable_but_flagged_and_the_message_is_salesforces() -> None:
    got = translate(
        SalesforceRefusedRequest(URL, 403, "q", _body("REQUEST_LIMIT_EXCEEDED", "TotalRequests"))
    )
    assert isinstance(got, RetriableCRMError) and got.limit_exceeded  # type: ignore[attr-defined]
    assert "REQUEST_LIMIT_EXCEEDED: TotalRequests" in str(got)


def test_error_bodies_in_every_shape_give_a_code_and_message() -> None:
    assert error_detail(_body("X", "y")) == ("X", "y")
    assert error_detail({"error": "invalid_grant", "error_description": "expired"}) == (
        "invalid_grant",
        "expired",
    )
    assert error_detail(b"<html>oops</html>") == ("", "<html>oops</html>")
    assert error_detail([]) == ("", "")


# -- over HTTPS against the emulator ---------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def jwt_client(emu: SalesforceEmulator, **kw: object) -> SalesforceClient:
    return SalesforceClient.connect(
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=emu.username,
        private_key=emu.private_key_pem,
        ca_cert=emu.ca_path,
        sleep=lambda s: None,
        **kw,  # type: ignore[arg-type]
    )


def test_a_jwt_login_reaches_the_org_and_knows_who_it_is(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    page = client.query("SELECT Id FROM Account")
    assert page["done"] is True and page["records"] == []
    assert client.org_id == ORG_ID
    assert client.user_id == emu.org().user_id
    assert client.username == emu.username
    assert client.auth.logins == 1 and client.calls == 1  # the ids came from the token


def test_a_refresh_token_login_and_a_given_token_both_work(emu: SalesforceEmulator) -> None:
    refreshed = SalesforceClient.connect(
        login_url=emu.base_url,
        refresh_token=emu.refresh_token(),
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        ca_cert=emu.ca_path,
    )
    assert refreshed.get("limits")["DailyApiRequests"]["Max"] > 0
    assert refreshed.org_id == ORG_ID
    session = refreshed.login()
    given = SalesforceClient.connect(
        instance_url=session.instance_url, access_token=session.access_token, ca_cert=emu.ca_path
    )
    # No token response to read the ids from: userinfo answers them.
    assert (given.org_id, given.user_id) == (ORG_ID, emu.org().user_id)


def test_a_refused_grant_is_permanent_and_shows_no_secret(emu: SalesforceEmulator) -> None:
    client = SalesforceClient.connect(
        login_url=emu.base_url,
        refresh_token="5Aep-not-a-real-SECRET",
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        ca_cert=emu.ca_path,
    )
    with pytest.raises(PermanentCRMError, match="invalid_grant") as caught:
        client.query("SELECT Id FROM Account")
    assert "SECRET" not in str(caught.value) and emu.client_secret not in str(caught.value)


def test_an_expired_session_is_renewed_once_mid_call(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    client.query("SELECT Id FROM Account")
    emu.expire_sessions()
    assert client.query("SELECT Id FROM Account")["done"] is True
    assert client.auth.logins == 2
    # Expiring again after the renewal: the next call renews again, once, and succeeds.
    emu.expire_sessions()
    client.query("SELECT Id FROM Account")
    assert client.auth.logins == 3


def test_a_session_refused_again_after_renewal_is_an_error(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    client.query("SELECT Id FROM Account")
    emu.fault_next("INVALID_SESSION_ID", times=2)
    with pytest.raises(SessionExpired, match="again after logging in anew"):
        client.query("SELECT Id FROM Account")
    assert client.auth.logins == 2  # one renewal, not a loop


def test_a_given_token_that_expires_cannot_be_renewed(emu: SalesforceEmulator) -> None:
    session = jwt_client(emu).login()
    given = SalesforceClient.connect(
        instance_url=session.instance_url, access_token=session.access_token, ca_cert=emu.ca_path
    )
    emu.expire_sessions()
    with pytest.raises(SessionExpired):
        given.query("SELECT Id FROM Account")


def test_a_5xx_storm_is_retried_within_the_call_then_succeeds(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    client.query("SELECT Id FROM Account")
    before = client.calls
    emu.fault_next("503", times=2)
    emu.fault_next("500", times=1)
    assert client.query("SELECT Id FROM Account")["done"] is True
    assert client.calls - before == 4 and client.retries == 3


def test_a_longer_storm_surfaces_as_retriable(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    client.query("SELECT Id FROM Account")
    emu.fault_next("500", times=10)
    with pytest.raises(RetriableCRMError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.status == 500  # type: ignore[attr-defined]
    assert client.retries == 3  # four attempts, bounded


def test_a_long_retry_after_is_not_slept_through(emu: SalesforceEmulator) -> None:
    slept: list[float] = []
    client = SalesforceClient.connect(
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=emu.username,
        private_key=emu.private_key_pem,
        ca_cert=emu.ca_path,
        sleep=slept.append,
    )
    client.query("SELECT Id FROM Account")
    emu.fault_next("429", retry_after=30)
    with pytest.raises(RetriableCRMError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.retry_after == 30 and slept == []
    emu.fault_next("429", retry_after=1)
    client.query("SELECT Id FROM Account")
    assert slept == [1.0]


def test_the_concurrent_limit_is_a_plain_retriable_error() -> None:
    concurrent = _body(LIMIT, "ConcurrentPerOrgLongTxn Limit exceeded.")
    got = translate(General(URL, 429, "q", concurrent), {"Retry-After": "1"})
    assert type(got) is RetriableCRMError and got.retry_after == 1.0


def test_the_daily_limit_is_not_retried_and_waits_for_the_window(
    emu: SalesforceEmulator,
) -> None:
    client = jwt_client(emu)
    client.query("SELECT Id FROM Account")
    before = client.calls
    emu.fault_next("REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(DailyLimitExceeded) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.limit_exceeded and caught.value.retry_after
    assert caught.value.retry_after >= 60
    assert client.calls - before == 1


def test_usage_follows_the_sforce_limit_info_header(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    assert client.usage() == {"daily_used": None, "daily_max": None}
    emu.api_usage_set(4_321, 15_000)
    client.query("SELECT Id FROM Account")
    usage = client.usage()
    assert usage["daily_max"] == 15_000
    assert usage["daily_used"] is not None and 4_321 <= usage["daily_used"] <= 4_322


def test_a_bad_query_is_permanent_with_salesforces_message(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    with pytest.raises(PermanentCRMError) as caught:
        client.query("SELECT Nope__x FROM Account")
    assert not isinstance(caught.value, RetriableCRMError)
    assert "Salesforce 400" in str(caught.value)


def test_a_missing_record_is_record_not_found(emu: SalesforceEmulator) -> None:
    client = jwt_client(emu)
    with pytest.raises(RecordNotFound):
        client.get("sobjects/Account/001000000000000AAA")


def test_query_more_follows_next_records_url(emu: SalesforceEmulator) -> None:
    org = emu.org()
    for i in range(5):
        org.insert("Account", {"Name": f"Acme {i}"})
    client = SalesforceClient.connect(
        login_url=emu.base_url,
        consumer_key=emu.consumer_key,
        username=emu.username,
        private_key=emu.private_key_pem,
        ca_cert=emu.ca_path,
    )
    emu_small = client.query_all("SELECT Id, Name FROM Account")
    assert sorted(r["Name"] for r in emu_small) == [f"Acme {i}" for i in range(5)]


def test_a_deleted_record_shows_only_with_include_deleted(emu: SalesforceEmulator) -> None:
    org = emu.org()
    gone = org.insert("Account", {"Name": "Gone"})
    org.delete("Account", gone)
    client = jwt_client(emu)
    assert client.query("SELECT Id FROM Account")["records"] == []
    rows = client.query("SELECT Id, IsDeleted FROM Account", include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(gone, True)]
