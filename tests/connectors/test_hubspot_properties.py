"""HubSpot's text values as neutral types and back, and property history fields."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.base import PermanentCRMError
from connectors.hubspot.properties import (
    history_fields,
    properties_to_hubspot,
    value_from_hubspot,
)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int", "72", 72),
        ("int", "72.0", 72),
        ("double", "0.6", 0.6),
        ("bool", "true", True),
        ("bool", "false", False),
        ("timestamp", "1741089600000", datetime(2025, 3, 4, 12, tzinfo=UTC)),
        ("timestamp", "2025-03-04T12:00:00.000Z", datetime(2025, 3, 4, 12, tzinfo=UTC)),
        ("date", "2025-03-31T00:00:00.000Z", date(2025, 3, 31)),
        ("date", "2025-03-31", date(2025, 3, 31)),
        ("date", "1743379200000", date(2025, 3, 31)),
        ("string", "", None),
        ("int", "not a number", None),
    ],
)
def test_values_from_hubspot_text(kind: str, text: str, value: object) -> None:
    assert value_from_hubspot(kind, text) == value


def test_writes_become_hubspot_text_or_a_clear_error() -> None:
    mapping = {"contact.lead_status": {"Working": "IN_PROGRESS"}}
    out = properties_to_hubspot(
        "contact", {"ai_score": 72, "email_opt_out": True, "lead_status": "IN_PROGRESS"}, mapping
    )
    assert out == {"ai_score": "72", "hs_email_optout": "true", "hs_lead_status": "Working"}
    deal = properties_to_hubspot(
        "deal", {"close_date": date(2025, 4, 1), "forecast_category": "best_case"}, {}
    )
    assert deal == {"closedate": "2025-04-01", "hs_manual_forecast_category": "BEST_CASE"}
    with pytest.raises(PermanentCRMError, match="favourite_colour"):
        properties_to_hubspot("contact", {"favourite_colour": "red"}, {})
    with pytest.raises(PermanentCRMError, match="read-only"):
        properties_to_hubspot("deal", {"close_date_changes": 3}, {})
    with pytest.raises(PermanentCRMError, match="expected int"):
        properties_to_hubspot("contact", {"ai_score": "high"}, {})


def test_history_gives_stage_entry_and_close_date_changes() -> None:
    history = {
        "dealstage": [
            {"value": "contractsent", "timestamp": "2025-03-01T10:00:00.000Z"},
            {"value": "appointmentscheduled", "timestamp": "2025-01-01T10:00:00.000Z"},
        ],
        "closedate": [  # newest first, as HubSpot sends it; one re-save of the same date
            {"value": "2025-04-15", "timestamp": "2025-03-02T00:00:00.000Z"},
            {"value": "2025-04-01", "timestamp": "2025-02-02T00:00:00.000Z"},
            {"value": "2025-04-01", "timestamp": "2025-01-15T00:00:00.000Z"},
            {"value": "2025-03-15", "timestamp": "2025-01-01T00:00:00.000Z"},
        ],
    }
    assert history_fields("deal", history) == {
        "stage_entered_at": datetime(2025, 3, 1, 10, tzinfo=UTC),
        "close_date_changes": 2,
    }
    assert history_fields("contact", history) == {}
