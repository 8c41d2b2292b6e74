"""The bounded JSON parse skips its walk over every value only when no value can break a
limit; each limit still refuses when the body could hide a value that breaks it."""

from __future__ import annotations

import json

import pytest

from connectors.inputs import InputRejected, Limits, json_loads_bounded

LIMITS = Limits(max_bytes=100_000, max_depth=4, max_items=50, max_string=1_000)


def test_a_long_string_in_a_body_longer_than_the_string_limit_is_refused():
    raw = json.dumps({"a": "x" * 1_001}).encode()
    with pytest.raises(InputRejected, match="1001 characters; the limit is 1000"):
        json_loads_bounded(raw, LIMITS)


def test_a_long_key_is_refused_too():
    raw = json.dumps({"k" * 1_001: 1}).encode()
    with pytest.raises(InputRejected, match="a key in"):
        json_loads_bounded(raw, LIMITS)


def test_too_many_entries_are_refused_when_the_commas_allow_it():
    raw = json.dumps({"a": list(range(51))}).encode()
    with pytest.raises(InputRejected, match="51 entries; the limit is 50"):
        json_loads_bounded(raw, LIMITS)


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_an_escaped_nul_or_lone_surrogate_in_a_short_body_is_refused(escape):
    raw = ('{"a": "x' + escape + 'y"}').encode()
    with pytest.raises(InputRejected):
        json_loads_bounded(raw, LIMITS)


def test_a_body_within_every_limit_parses_to_the_same_value():
    value = {"events": [{"id": f"c-{i}", "n": i, "ok": True, "v": None} for i in range(10)]}
    assert json_loads_bounded(json.dumps(value).encode(), LIMITS) == value


def test_a_lone_surrogate_in_a_str_body_is_still_refused():
    # A str (not bytes from the wire) may hold a surrogate unescaped: no fast path for it.
    with pytest.raises(InputRejected, match="lone surrogate"):
        json_loads_bounded('{"a": "\ud800"}', LIMITS)
