"""Salesforce OAuth: the JWT bearer assertion, the audience rules, identity URLs, and the
token calls (JWT, refresh token, a given token) against the emulator's login host."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import PermanentCRMError
from connectors.salesforce.auth import (
    ASSERTION_LIFETIME,
    Authenticator,
    audience,
    ids_from_identity_url,
    jwt_assertion,
)

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _key_pair() -> tuple[str, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


@pytest.mark.parametrize(
    ("login_url", "expected"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com/", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("https://support.acme.com/customers", "https://support.acme.com"),
    ],
)
def test_the_audience_is_the_one_salesforce_expects_for_the_login_host(
    login_url: str, expected: str
) -> None:
    assert audience(login_url) == expected


def test_the_assertion_is_rs256_signed_with_issuer_subject_audience_and_a_short_expiry() -> None:
    pem, public = _key_pair()
    token = jwt_assertion(
        consumer_key="3MVG9-key",
        username="ada@example.com",
        private_key=pem,
        login_url="https://test.salesforce.com",
        now=NOW,
    )
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        public,
        algorithms=["RS256"],
        audience="https://test.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims["iss"] == "3MVG9-key"
    assert claims["sub"] == "ada@example.com"
    assert claims["exp"] == int((NOW + ASSERTION_LIFETIME).timestamp())
    # Signed by this key only: another key's public half refuses it.
    _, other = _key_pair()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other, algorithms=["RS256"], options={"verify_aud": False})


def test_a_key_that_cannot_sign_is_permanent_and_not_echoed() -> None:
    secret_text = "-----BEGIN PRIVATE KEY-----\nnot-a-key-SECRET\n-----END PRIVATE KEY-----\n"
    with pytest.raises(PermanentCRMError) as caught:
        jwt_assertion(
            consumer_key="k",
            username="u",
            private_key=secret_text,
            login_url="https://login.salesforce.com",
            now=NOW,
        )
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "ids"),
    [
        (
            "https://login.salesforce.com/id/00D5g000004SLsfEAG/0055g00000A1b2cAAB",
            ("00D5g000004SLsfEAG", "0055g00000A1b2cAAB"),
        ),
        ("https://127.0.0.1:9/id/00Dx/005y/", ("00Dx", "005y")),
        ("https://login.salesforce.com/services/oauth2/userinfo", ("", "")),
        ("", ("", "")),
    ],
)
def test_org_and_user_come_from_the_identity_url(url: str, ids: tuple[str, str]) -> None:
    assert ids_from_identity_url(url) == ids


def test_an_authenticator_needs_some_way_to_a_session() -> None:
    with pytest.raises(ValueError, match="consumer_key"):
        Authenticator(consumer_key="k", username="u")  # no key: neither flow is complete
    given = Authenticator(instance_url="https://x.my.salesforce.com/", access_token="tok")
    assert given.flow == "token" and not given.renewable
    session = given.login()
    assert (session.instance_url, session.access_token) == ("https://x.my.salesforce.com", "tok")
    assert given.logins == 0  # no token call was made
    assert Authenticator(refresh_token="r", client_id="c", client_secret="s").flow == "refresh"
