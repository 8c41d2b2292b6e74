"""The Message Batch page names each run's record and links it in the CRM."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesops.models import AgentBatch, AgentBatchItem
from salesops.services.connections import connection_local

pytestmark = pytest.mark.django_db


def _batch(make_runs, ids: list[str], external_id: str) -> AgentBatch:
    batch = AgentBatch.objects.create(external_id=external_id, model="claude")
    runs = make_runs(connection_local(), "deal", ids)
    AgentBatchItem.objects.bulk_create(
        AgentBatchItem(batch=batch, run=run, custom_id=f"r{run.pk}") for run in runs
    )
    return batch


def _page(client, batch: AgentBatch) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/admin/salesops/agentbatch/{batch.pk}/change/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_batch_page_names_records_and_links_them(sample_crm, make_runs, client, manager):
    batch = _batch(make_runs, ["d-001", "d-002"], "msgbatch_small")
    client.force_login(manager)
    html, _ = _page(client, batch)
    assert 'href="/admin/localcrm/deal/d-001/change/"' in html
    assert "Brightpath Logistics - Forecasting platform</a>" in html
    assert "72,000 USD, presentationscheduled" in html
    assert "Veridian Health Systems" in html


def test_the_batch_page_costs_the_same_queries_for_twenty_runs_as_for_two(
    sample_crm, make_runs, client, manager
):
    small = _batch(make_runs, ["d-001", "d-002"], "msgbatch_two")
    large = _batch(make_runs, [f"d-{n:03d}" for n in range(3, 23)], "msgbatch_twenty")
    client.force_login(manager)
    _, two = _page(client, small)
    html, twenty = _page(client, large)
    assert html.count('class="record-label"') == 20
    assert twenty == two
