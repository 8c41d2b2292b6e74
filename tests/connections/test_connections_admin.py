"""The connection admin never shows a secret back: blank keeps it, "clear" removes it, a bad
mapping is an inline error, and "Check connection" reports what `connection_check` finds."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesops.models import Connection, Sop
from salesops.services.credentials import credentials_decrypt
from tests.connections.conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def as_viewer(client: Client, viewer) -> Client:
    client.force_login(viewer)
    return client


def change_url(connection: Connection) -> str:
    return reverse("admin:salesops_connection_change", args=[connection.pk])


def form_data(connection: Connection, **extra: str) -> dict[str, str]:
    data = {
        "slug": connection.slug,
        "name": connection.name,
        "account_id": connection.account_id,
        "enabled": "on",
        "mapping": "{}",
        "syncs-TOTAL_FORMS": "0",
        "syncs-INITIAL_FORMS": "0",
    }
    return {**data, **extra}


def test_the_change_page_never_renders_a_stored_secret(as_manager, hubspot):
    page = as_manager.get(change_url(hubspot))
    html = page.content.decode()
    assert page.status_code == 200
    assert SECRET not in html and hubspot.credentials not in html
    assert 'type="password"' in html and "set; blank keeps it" in html


def test_the_list_shows_usage_and_never_a_secret(as_manager, hubspot):
    page = as_manager.get(reverse("admin:salesops_connection_changelist"))
    html = page.content.decode()
    assert "hubspot-eu" in html and "4711" in html and "Daily remaining" in html
    assert SECRET not in html


def test_a_blank_credential_keeps_the_stored_one(as_manager, hubspot):
    response = as_manager.post(change_url(hubspot), form_data(hubspot, name="renamed"))
    assert response.status_code == 302
    hubspot.refresh_from_db()
    assert hubspot.name == "renamed"
    assert credentials_decrypt(hubspot.credentials) == {"access_token": SECRET}


def test_a_new_value_replaces_and_clear_removes(as_manager, hubspot):
    data = form_data(
        hubspot,
        hubspot__client_secret="new-client-secret",
        hubspot__access_token__clear="on",
    )
    assert as_manager.post(change_url(hubspot), data).status_code == 302
    hubspot.refresh_from_db()
    assert credentials_decrypt(hubspot.credentials) == {"client_secret": "new-client-secret"}


def test_a_form_shown_again_after_an_error_does_not_echo_a_typed_secret(as_manager, hubspot):
    data = form_data(hubspot, hubspot__access_token="typed-secret-value", mapping="{not json")
    page = as_manager.post(change_url(hubspot), data)
    html = page.content.decode()
    assert page.status_code == 200 and "typed-secret-value" not in html and SECRET not in html
    assert "Not valid JSON" in html or "not valid JSON" in html
    hubspot.refresh_from_db()
    assert credentials_decrypt(hubspot.credentials) == {"access_token": SECRET}


def test_a_mapping_to_a_non_neutral_value_is_an_inline_error(as_manager, hubspot):
    mapping = '{"deal.stage": {"Closed Won": "won"}}'
    page = as_manager.post(change_url(hubspot), form_data(hubspot, mapping=mapping))
    assert page.status_code == 200
    assert "&#x27;Closed Won&#x27; maps to &#x27;won&#x27;, which is not one of" in (
        page.content.decode()
    )
    good = '{"deal.stage": {"Closed Won": "closedwon"}}'
    assert as_manager.post(change_url(hubspot), form_data(hubspot, mapping=good)).status_code == 302
    hubspot.refresh_from_db()
    assert hubspot.mapping == {"deal.stage": {"Closed Won": "closedwon"}}


def test_adding_a_connection_stores_only_its_kinds_credentials_encrypted(as_manager):
    data = {
        "kind": "hubspot",
        "slug": "hubspot-us",
        "name": "US portal",
        "account_id": "99",
        "enabled": "on",
        "mapping": "",
        "hubspot__access_token": "pat-us-token-123",
        "syncs-TOTAL_FORMS": "0",
        "syncs-INITIAL_FORMS": "0",
    }
    response = as_manager.post(reverse("admin:salesops_connection_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Connection.objects.get(slug="hubspot-us")
    assert "pat-us-token-123" not in created.credentials
    assert credentials_decrypt(created.credentials) == {"access_token": "pat-us-token-123"}

    data.update(slug="hubspot-us2", salesforce__private_key="wrong-kind")
    page = as_manager.post(reverse("admin:salesops_connection_add"), data)
    assert page.status_code == 200 and "This is a salesforce credential." in page.content.decode()


def test_check_connection_reports_a_missing_connector_as_an_error(
    as_manager, hubspot, library, settings
):
    installed = {k: v for k, v in settings.SALESOPS["CONNECTORS"].items() if k != "hubspot"}
    settings.SALESOPS = {**settings.SALESOPS, "CONNECTORS": installed}
    response = as_manager.post(
        reverse("admin:salesops_connection_changelist"),
        {"action": "check_connection", "_selected_action": [hubspot.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert (
        "Connection hubspot-eu: problem connector: no connector installed for kind hubspot" in html
    )
    assert "(blocks runs)" in html


def test_a_viewer_sees_which_credentials_are_set_but_no_value_and_no_input(as_viewer, hubspot):
    page = as_viewer.get(change_url(hubspot))
    html = page.content.decode()
    assert page.status_code == 200
    assert "access_token" in html  # the key's name
    assert SECRET not in html and hubspot.credentials not in html
    assert 'type="password"' not in html


def test_an_sop_can_be_limited_to_some_connections(as_manager, library, hubspot):
    sop = Sop.objects.get(name="lead-qualification")
    url = reverse("admin:salesops_sop_change", args=[sop.pk])
    page = as_manager.get(url)
    assert 'type="checkbox" name="connections"' in page.content.decode()
    text = sop.versions.order_by("-number").first().text
    response = as_manager.post(url, {"text": text, "connections": [hubspot.pk]})
    assert response.status_code == 302
    assert list(sop.connections.all()) == [hubspot]


def test_the_mapping_is_shown_as_json_it_can_save_back(as_manager, hubspot):
    hubspot.mapping = {"deal.stage": {"Closed Won": "closedwon"}}
    hubspot.save()
    page = as_manager.get(f"/admin/salesops/connection/{hubspot.pk}/change/").content.decode()
    assert "&quot;deal.stage&quot;: {" in page and "&#x27;deal.stage&#x27;" not in page
