"""Records by name, with their CRM link, for local, HubSpot and Salesforce connections."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from salesops.models import Connection, CrmRecordMirror
from salesops.services.connections import connection_local
from salesops.services.credentials import credentials_encrypt
from salesops.services.record_labels import RecordLabel, record_label, record_labels

pytestmark = pytest.mark.django_db

DEAL_ID = "006Hs00001AbCdEIAX"
LEAD_ID = "00QHs00000XyZaBMAV"


def _mirror(connection: Connection, object_type: str, record_id: str, **props) -> None:
    CrmRecordMirror.objects.create(
        connection=connection, object_type=object_type, record_id=record_id, properties=props
    )


def _salesforce(**credentials) -> Connection:
    return Connection.objects.create(
        kind="salesforce",
        slug="sf",
        account_id="00D000000000001",
        credentials=credentials_encrypt(credentials),
    )


def test_a_local_deal_reads_as_name_company_amount_and_stage(sample_crm) -> None:
    label = record_label(connection_local(), "deal", "d-001")
    assert label.name == "Brightpath Logistics - Forecasting platform"
    assert label.company == "Brightpath Logistics"
    assert (label.amount, label.currency, label.stage) == (72000.0, "USD", "presentationscheduled")
    assert label.text == (
        "Brightpath Logistics - Forecasting platform (Brightpath Logistics)"
        " - 72,000 USD, presentationscheduled"
    )
    assert label.url == "/admin/localcrm/deal/d-001/change/"


def test_a_local_contact_reads_as_person_and_company_with_its_admin_link(
    sample_crm, client, manager
) -> None:
    label = record_label(connection_local(), "contact", "c-001")
    assert (label.name, label.company, label.detail) == (
        "Dana Whitfield",
        "Brightpath Logistics",
        "",
    )
    assert label.text == "Dana Whitfield (Brightpath Logistics)"
    client.force_login(manager)
    page = client.get(label.url)
    assert page.status_code == 200 and b"Whitfield" in page.content  # the link leads somewhere


def test_a_record_salesops_cannot_find_keeps_its_id(sample_crm) -> None:
    label = record_label(connection_local(), "contact", "c-nope")
    assert label.name == "contact:c-nope" and label.company == ""


def test_a_hubspot_deal_comes_from_the_mirror_with_the_portal_link(library, make_runs) -> None:
    hubspot = Connection.objects.create(kind="hubspot", slug="hs", account_id="4711")
    _mirror(
        hubspot,
        "deal",
        "9001",
        name="Acme renewal",
        amount="120000",
        currency="USD",
        stage="contractsent",
    )
    # The mirror has no associations: the company comes from what the run saw.
    (run,) = make_runs(hubspot, "deal", ["9001"], input={"company": {"name": "Acme Corp"}})
    label = record_labels([run])[run.pk]
    assert label.text == "Acme renewal (Acme Corp) - 120,000 USD, contractsent"
    assert label.url == "https://app.hubspot.com/contacts/4711/record/0-3/9001"
    contact = record_label(hubspot, "contact", "51")
    assert contact.url == "https://app.hubspot.com/contacts/4711/record/0-1/51"


def test_a_hubspot_connection_without_a_portal_id_has_no_link(library) -> None:
    hubspot = Connection.objects.create(kind="hubspot", slug="hs")
    _mirror(hubspot, "company", "77", name="Globex")
    label = record_label(hubspot, "company", "77")
    assert (label.name, label.url) == ("Globex", "")


def test_salesforce_links_the_record_on_the_instance_url(library) -> None:
    salesforce = _salesforce(instance_url="https://acme.my.salesforce.com/", access_token="t")
    _mirror(salesforce, "contact", LEAD_ID, first_name="Ada", last_name="Lovelace")
    _mirror(salesforce, "deal", DEAL_ID, name="Acme expansion", amount=5000.5, currency="EUR")
    lead = record_label(salesforce, "contact", LEAD_ID)
    assert lead.name == "Ada Lovelace"
    assert lead.url == f"https://acme.my.salesforce.com/lightning/r/Lead/{LEAD_ID}/view"
    deal = record_label(salesforce, "deal", DEAL_ID)
    assert deal.text == "Acme expansion - 5,000 EUR"  # 5,000.5 rounds to whole units
    assert deal.url == f"https://acme.my.salesforce.com/lightning/r/Opportunity/{DEAL_ID}/view"


def test_salesforce_links_through_a_my_domain_login_url_but_not_the_shared_one(library) -> None:
    salesforce = _salesforce(login_url="https://globex.my.salesforce.com")
    label = record_label(salesforce, "contact", "003Hs00000AbCdEIAX")
    assert label.url == (
        "https://globex.my.salesforce.com/lightning/r/Contact/003Hs00000AbCdEIAX/view"
    )
    Connection.objects.filter(pk=salesforce.pk).update(
        credentials=credentials_encrypt({"login_url": "https://login.salesforce.com"})
    )
    salesforce.refresh_from_db()
    assert record_label(salesforce, "contact", "003Hs00000AbCdEIAX").url == ""


def test_labelling_a_hundred_runs_takes_a_constant_number_of_queries(
    sample_crm, make_runs, django_assert_max_num_queries
) -> None:
    local = connection_local()
    hubspot = Connection.objects.create(kind="hubspot", slug="hs", account_id="4711")
    salesforce = _salesforce(instance_url="https://acme.my.salesforce.com")
    for n in range(25):
        _mirror(hubspot, "deal", f"h{n}", name=f"Deal {n}", amount=n * 1000, currency="USD")
    runs = [
        *make_runs(local, "deal", [f"d-{n:03d}" for n in range(1, 26)]),
        *make_runs(local, "contact", [f"c-{n:03d}" for n in range(1, 26)]),
        *make_runs(hubspot, "deal", [f"h{n}" for n in range(25)]),
        *make_runs(salesforce, "contact", [f"00QHs00000XyZa{n:03d}A" for n in range(25)]),
    ]
    assert len(runs) == 100
    with django_assert_max_num_queries(7):
        labels = record_labels(runs)
    assert len(labels) == 100
    assert labels[runs[0].pk].company == "Brightpath Logistics"
    assert labels[runs[55].pk].text == "Deal 5 - 5,000 USD"
    assert labels[runs[75].pk].url.endswith("/lightning/r/Lead/00QHs00000XyZa000A/view")
    assert all(label.name for label in labels.values())


def test_the_template_links_the_name_and_shows_the_rest() -> None:
    label = RecordLabel(
        name="Acme <renewal>",
        company="Acme",
        amount=120000,
        currency="USD",
        stage="contractsent",
        url="https://app.hubspot.com/contacts/1/record/0-3/9",
        object_type="deal",
        record_id="9",
    )
    html = render_to_string("admin/salesops/record_label.html", {"label": label})
    assert '<a href="https://app.hubspot.com/contacts/1/record/0-3/9" target="_blank"' in html
    assert "Acme &lt;renewal&gt;</a>" in html  # escaped: names come from the CRM
    assert "(Acme)" in html and "120,000 USD, contractsent" in html
    local = RecordLabel(name="Dana", url="/admin/localcrm/contact/c-1/change/")
    assert "target=" not in render_to_string("admin/salesops/record_label.html", {"label": local})
