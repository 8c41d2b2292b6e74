"""Connectors are found by kind and built lazily from dotted paths."""

from __future__ import annotations

import pytest

from connectors.local.connector import LocalConnector
from connectors.registry import connector_get


def test_it_builds_the_local_connector_by_default():
    connector = connector_get("local", webhook_secret="s")
    assert isinstance(connector, LocalConnector)
    assert connector.webhook_secret == "s"


def test_it_lists_the_known_kinds_for_an_unknown_one():
    with pytest.raises(
        ValueError, match="unknown connector kind 'pipedrive'; known kinds: a, local"
    ):
        connector_get("pipedrive", connectors={"local": "x.Y", "a": "x.Z"})


def test_it_explains_a_path_that_does_not_import():
    with pytest.raises(ValueError, match=r"cannot import 'connectors\.nowhere\.Connector'"):
        connector_get("x", connectors={"x": "connectors.nowhere.Connector"})


def test_it_refuses_a_class_that_is_not_a_connector():
    with pytest.raises(TypeError, match="does not implement CrmConnector"):
        connector_get("x", connectors={"x": "collections.OrderedDict"})
