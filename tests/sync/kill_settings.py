"""Settings of the `sync_crm` process the kill test kills: tiny pages of a slowed local CRM,
so the kill lands mid-sync."""

from __future__ import annotations

from salesops.settings import *  # noqa: F403
from salesops.settings import SALESOPS

SALESOPS = {
    **SALESOPS,
    "CONNECTORS": {**SALESOPS["CONNECTORS"], "local": "tests.sync.slow.SlowLocalConnector"},
    "CONNECTOR_OPTIONS": {"local": {"page_size": 5}},
}
