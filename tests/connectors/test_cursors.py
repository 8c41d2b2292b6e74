"""The shared cursor codec: round trip, and a clear refusal for anything that is not ours."""

from __future__ import annotations

import pytest

from connectors.base import PermanentCRMError
from connectors.cursors import cursor_encode, cursor_feed_check, cursor_payload


def test_a_cursor_round_trips_its_data_without_the_version():
    text = cursor_encode(3, {"t": "deal", "since": 1_700_000_000_000, "ids": [1, 2]})
    assert "=" not in text and "{" not in text  # opaque and URL-safe
    assert cursor_payload(text, 3, vendor="x") == {
        "t": "deal",
        "since": 1_700_000_000_000,
        "ids": [1, 2],
    }


@pytest.mark.parametrize(
    "text",
    ["", "not base64 at all!", cursor_encode(2, {"t": "deal"}), "W10", "bnVsbA"],  # [] and null
)
def test_anything_but_a_cursor_of_this_version_is_refused_naming_the_vendor(text):
    with pytest.raises(PermanentCRMError, match="not a HubSpot sync cursor"):
        cursor_payload(text, 3, vendor="HubSpot")


def test_a_cursor_of_another_feed_is_refused_naming_both():
    cursor_feed_check(("deal", "111"), ("deal", "111"), account_word="portal")
    with pytest.raises(PermanentCRMError, match="deal of portal '111', not contact of '222'"):
        cursor_feed_check(("deal", "111"), ("contact", "222"), account_word="portal")
