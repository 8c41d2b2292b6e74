"""The conformance suite every `CrmConnector` must pass (local, HubSpot, Salesforce).

Use: subclass `ConnectorConformance` in a test module as `Test<Kind>Conformance` and provide
the fixtures `make_connector` (a factory taking `page_size=None`, building a fresh connector on
each call), `seed` (a `Seeder` for the same CRM account), and `other_connector` / `other_seed`
on a second account of the same kind. The suite only talks to the CRM through the connector
and the seeders, so it runs the same against the local tables, an emulator or a sandbox.
A group the connector declares it cannot support (`capabilities.deletes`, `.snapshots`,
`.transport`, `.webhook_timestamps` set False) is skipped with that reason, never silently.
"""

from __future__ import annotations

from connectors.testing.faults import FaultConformance, IsolationConformance
from connectors.testing.fixtures import NOW, ConnectorFactory, read_all, record_ids
from connectors.testing.reads import ReadConformance
from connectors.testing.seeder import FAULTS, Seeder
from connectors.testing.webhooks import WebhookConformance
from connectors.testing.writes import WriteConformance


class ConnectorConformance(
    ReadConformance,
    WriteConformance,
    WebhookConformance,
    FaultConformance,
    IsolationConformance,
):
    """The behaviour salesops relies on, as tests, in one class to subclass."""


__all__ = [
    "FAULTS",
    "NOW",
    "ConnectorConformance",
    "ConnectorFactory",
    "Seeder",
    "read_all",
    "record_ids",
]
