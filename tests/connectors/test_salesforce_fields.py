"""Neutral <-> Salesforce names and values: Leads and Contacts as contacts, stages, the
connection's mapping, and writes refusing what Salesforce would."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.base import PermanentCRMError
from connectors.salesforce.fields import (
    field_names,
    fields_from_neutral,
    record_from_row,
    select_fields,
    sobject_of,
)
from connectors.salesforce.values import (
    domain_from_website,
    lifecycle_of_contact,
    parse_moment,
    stage_to_neutral,
    stage_to_vendor,
)

STAMP = "2025-03-04T12:00:05.000+0000"


def lead_row(**over: object) -> dict:
    row = {
        "Id": "00Q5g000004SLsfEAG",
        "SystemModstamp": STAMP,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "ada@acme.test",
        "Title": "CTO",
        "Status": "Working - Contacted",
        "HasOptedOutOfEmail": True,
        "Country": "Ireland",
        "ai_score__c": 72.0,
        "CreatedDate": "2025-03-01T09:00:00.000+0000",
        "IsConverted": False,
    }
    return {**row, **over}


def test_a_lead_is_a_contact_with_its_status_and_lifecycle() -> None:
    record = record_from_row("Lead", lead_row())

    assert (record.object_type, record.id) == ("contact", "00Q5g000004SLsfEAG")
    assert record.last_modified == datetime(2025, 3, 4, 12, 0, 5, tzinfo=UTC)
    props = record.properties
    assert props["first_name"] == "Ada" and props["job_title"] == "CTO"
    assert props["lead_status"] == "IN_PROGRESS"
    assert props["lifecycle_stage"] == "lead"
    assert props["email_opt_out"] is True and props["ai_score"] == 72
    assert props["country"] == "Ireland"
    assert props["created_at"] == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert record.associations == {"company": []}


def test_the_connection_mapping_overrides_lead_values() -> None:
    mapping = {
        "contact.lead_status": {"Working - Contacted": "ATTEMPTED_TO_CONTACT"},
        "contact.lifecycle_stage": {"Working - Contacted": "marketingqualifiedlead"},
    }
    props = record_from_row("Lead", lead_row(), mapping).properties
    assert props["lead_status"] == "ATTEMPTED_TO_CONTACT"
    assert props["lifecycle_stage"] == "marketingqualifiedlead"
    assert record_from_row("Lead", lead_row(Status="Closed - Not Converted")).properties[
        "lifecycle_stage"
    ] == ("other")


def test_a_contact_links_its_account_and_has_no_lead_status() -> None:
    row = {
        "Id": "0035g000004SLsfAAG",
        "SystemModstamp": STAMP,
        "LastName": "Bo",
        "AccountId": "0015g000004SLsfAAG",
        "MailingCountry": "Spain",
    }
    record = record_from_row("Contact", row)
    assert record.associations == {"company": ["0015g000004SLsfAAG"]}
    assert record.properties["lead_status"] is None
    assert record.properties["country"] == "Spain"
    # Its lifecycle needs its deals: unknown (absent) without them.
    assert "lifecycle_stage" not in record.properties
    with_deals = record_from_row("Contact", {**row, "_deal_states": ["closedlost", "open"]})
    assert with_deals.properties["lifecycle_stage"] == "opportunity"


@pytest.mark.parametrize(
    ("states", "stage"),
    [([], "salesqualifiedlead"), (["open"], "opportunity"), (["open", "closedwon"], "customer")],
)
def test_a_contacts_lifecycle_follows_its_deals(states: list[str], stage: str) -> None:
    assert lifecycle_of_contact(states) == stage


def test_an_account_is_a_company_with_a_plain_domain() -> None:
    row = {
        "Id": "0015g000004SLsfAAG",
        "SystemModstamp": STAMP,
        "Name": "Acme",
        "Website": "https://www.Acme.test/about",
        "NumberOfEmployees": 500,
        "AnnualRevenue": 1.5e7,
        "BillingCountry": "Germany",
        "Type": "Customer - Direct",
    }
    props = record_from_row("Account", row).properties
    assert props["domain"] == "acme.test"
    assert (props["employees"], props["annual_revenue"]) == (500, 1.5e7)
    assert (props["country"], props["customer_status"]) == ("Germany", "customer")


@pytest.mark.parametrize(
    ("website", "domain"),
    [("acme.test", "acme.test"), ("http://www.acme.test:8080/x?y", "acme.test"), ("", None)],
)
def test_websites_become_domains(website: str, domain: str | None) -> None:
    assert domain_from_website(website) == domain


def test_an_opportunity_is_a_deal_with_neutral_stage_forecast_and_probability() -> None:
    row = {
        "Id": "0065g000004SLsfAAG",
        "SystemModstamp": STAMP,
        "Name": "Acme expansion",
        "Amount": 50000,
        "StageName": "Negotiation/Review",
        "CloseDate": "2025-04-30",
        "ForecastCategoryName": "Best Case",
        "Probability": 90,
        "IsClosed": False,
        "IsWon": False,
        "AccountId": "0015g000004SLsfAAG",
        "ai_health__c": "amber",
    }
    record = record_from_row("Opportunity", row)
    props = record.properties
    assert props["stage"] == "contractsent"
    assert props["forecast_category"] == "best_case"
    assert props["probability"] == 0.9
    assert props["close_date"] == date(2025, 4, 30)
    assert props["amount"] == 50000.0 and props["ai_health"] == "amber"
    assert record.associations == {"company": ["0015g000004SLsfAAG"]}
    # Not read: absent, so a selector does not take them for empty.
    assert "stage_entered_at" not in props and "close_date_changes" not in props


def test_a_custom_stage_maps_by_the_mapping_else_by_closed_and_won() -> None:
    mapping = {"deal.stage": {"Discovery": "qualifiedtobuy"}}
    assert stage_to_neutral("Discovery", mapping) == "qualifiedtobuy"
    assert stage_to_neutral("Signed", {}, closed=True, won=True) == "closedwon"
    assert stage_to_neutral("Lost to rival", {}, closed=True, won=False) == "closedlost"
    assert stage_to_neutral("Pilot", {}) == "Pilot"  # unmapped: kept, for check() to report
    # A mapping that calls a closed stage open loses to the org's IsClosed.
    assert stage_to_neutral("Discovery", mapping, closed=True, won=False) == "closedlost"


def test_stages_write_back_through_the_mapping_then_the_orgs_labels() -> None:
    assert stage_to_vendor("contractsent", {}) == "Proposal/Price Quote"
    mapping = {"deal.stage": {"Contract Out": "contractsent"}}
    assert stage_to_vendor("contractsent", mapping) == "Contract Out"
    labels = ["Discovery", "Negotiation/Review"]
    assert stage_to_vendor("contractsent", {}, labels) == "Negotiation/Review"
    with pytest.raises(PermanentCRMError):
        stage_to_vendor("nosuchstage", {})


def test_field_names_follow_the_connection_mapping() -> None:
    mapping = {"fields": {"deal.ai_health": "Health__c", "Lead.ai_score": "Lead_Score__c"}}
    assert field_names("Opportunity", mapping)["ai_health"] == "Health__c"
    assert field_names("Lead", mapping)["ai_score"] == "Lead_Score__c"
    assert field_names("Contact", mapping)["ai_score"] == "ai_score__c"
    assert "Health__c" in select_fields("Opportunity", mapping)
    row = {"Id": "0065g000004SLsfAAG", "SystemModstamp": STAMP, "Health__c": "red"}
    assert record_from_row("Opportunity", row, mapping).properties["ai_health"] == "red"


def test_writes_become_salesforce_fields() -> None:
    out = fields_from_neutral(
        "Opportunity",
        {
            "stage": "closedwon",
            "probability": 0.75,
            "close_date": date(2025, 5, 1),
            "forecast_category": "commit",
            "ai_health": "red",
        },
    )
    assert out == {
        "StageName": "Closed Won",
        "Probability": 75.0,
        "CloseDate": "2025-05-01",
        "ForecastCategoryName": "Commit",
        "ai_health__c": "red",
    }
    assert fields_from_neutral("Lead", {"lead_status": "IN_PROGRESS", "ai_score": 72}) == {
        "Status": "Working - Contacted",
        "ai_score__c": 72,
    }
    # A Contact has no Status: its lead status is our custom field, with the same values.
    assert fields_from_neutral("Contact", {"lead_status": "NEW"}) == {
        "lead_status__c": "Open - Not Contacted"
    }


@pytest.mark.parametrize(
    ("sobject", "props"),
    [
        ("Lead", {"created_at": datetime(2025, 1, 1, tzinfo=UTC)}),  # read-only
        ("Lead", {"lifecycle_stage": "lead"}),  # follows from the object and Status
        ("Lead", {"ai_score": "high"}),  # wrong type
        ("Opportunity", {"nonsense": 1}),
        ("Task", {"subject": "x"}),
    ],
)
def test_writes_refuse_what_salesforce_would(sobject: str, props: dict) -> None:
    with pytest.raises(PermanentCRMError):
        fields_from_neutral(sobject, props)


def test_ids_name_their_sobject() -> None:
    assert sobject_of("00Q5g000004SLsfEAG") == "Lead"
    assert sobject_of("0035g000004SLsf") == "Contact"
    assert sobject_of("003' OR Id != '") is None
    assert sobject_of("12345") is None


def test_salesforce_datetimes_parse_as_utc() -> None:
    assert parse_moment("2025-03-04T13:00:00.000+0100") == datetime(2025, 3, 4, 12, tzinfo=UTC)
    assert parse_moment("2025-03-04") == datetime(2025, 3, 4, tzinfo=UTC)
    assert parse_moment(None) is None
