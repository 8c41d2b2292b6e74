"""Fixtures for the front door, static files, record labels and the summary table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from salesops.models import Connection, Run, Sop


@pytest.fixture
def make_runs(library) -> Callable[..., list[Run]]:
    """Runs of the deal or contact SOP on given records, stored as the queue leaves them."""

    def make(connection: Connection, object_type: str, ids: list[str], **fields: Any) -> list[Run]:
        sop = Sop.objects.get(name="deal-review" if object_type == "deal" else "follow-up")
        runs = [
            Run(
                sop=sop,
                sop_version=sop.published_version,
                connection=connection,
                object_type=object_type,
                record_id=record_id,
                trigger=Run.Trigger.MANUAL,
                idempotency_key=f"front|{connection.slug}|{object_type}:{record_id}|{n}",
                **fields,
            )
            for n, record_id in enumerate(ids)
        ]
        return Run.objects.bulk_create(runs)

    return make
