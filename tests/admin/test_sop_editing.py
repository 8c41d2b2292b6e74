"""Editing an SOP in admin makes a new version, or shows every issue inline and stores nothing."""

from __future__ import annotations

import html
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from salesops.models import Fragment, Sop, SopVersion

pytestmark = pytest.mark.django_db


def edit(client: Client, sop: Sop, text: str, *, publish: bool) -> object:
    data = {"text": text}
    if publish:
        data["publish"] = "on"
    return client.post(reverse("admin:salesops_sop_change", args=[sop.pk]), data)


def test_it_prefills_the_textarea_with_the_latest_version(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    response = as_manager.get(reverse("admin:salesops_sop_change", args=[sop.pk]))
    assert response.context["adminform"].form["text"].value() == sop.published_version.text
    assert b"font-family: monospace" in response.content


def test_it_shows_every_spec_issue_inline(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    published = sop.published_version
    broken = published.text.replace("object: contact", "object: planet").replace(
        "skills: [crm-lookup", "skills: [no-such-skill, crm-lookup"
    )
    response = edit(as_manager, sop, broken, publish=True)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["text"]
    assert len(errors) >= 2
    assert all(line.startswith("lead-qualification.md: ") for line in errors)
    assert any("object" in line for line in errors)
    assert any("no-such-skill" in line for line in errors)
    for line in errors:
        assert line.encode() in response.content.replace(b"&#x27;", b"'").replace(b"&quot;", b'"')
    assert SopVersion.objects.filter(sop=sop).count() == 1
    sop.refresh_from_db()
    assert sop.published_version_id == published.pk


def test_it_refuses_text_whose_name_is_another_sop(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("name: lead-qualification", "name: other-sop", 1)
    response = edit(as_manager, sop, text, publish=False)
    assert response.status_code == 200
    assert any("name" in e for e in response.context["adminform"].form.errors["text"])
    assert not Sop.objects.filter(name="other-sop").exists()


def test_a_valid_edit_creates_a_published_version(as_manager: Client, library, manager):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    response = edit(as_manager, sop, text, publish=True)
    assert response.status_code == 302
    sop.refresh_from_db()
    assert sop.published_version.number == 2
    assert sop.published_version.author == manager
    assert sop.published_version.source == "admin"
    assert sop.title == "Lead triage"


def test_a_draft_edit_leaves_the_published_version_active(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text + "\nOne more sentence for the agent.\n"
    response = edit(as_manager, sop, text, publish=False)
    assert response.status_code == 302
    sop.refresh_from_db()
    assert sop.published_version.number == 1
    draft = sop.versions.get(number=2)
    assert not draft.published


def test_saving_the_same_text_makes_no_new_version(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    response = edit(as_manager, sop, sop.published_version.text, publish=True)
    assert response.status_code == 302
    assert sop.versions.count() == 1


def test_it_adds_a_new_sop_from_its_text(as_manager: Client, library):
    text = Sop.objects.get(name="follow-up").published_version.text.replace(
        "name: follow-up", "name: follow-up-eu", 1
    )
    response = as_manager.post(
        reverse("admin:salesops_sop_add"), {"name": "follow-up-eu", "text": text, "publish": "on"}
    )
    assert response.status_code == 302
    assert Sop.objects.get(name="follow-up-eu").published_version.number == 1


def test_the_version_page_shows_the_diff_to_the_previous_version(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    edit(as_manager, sop, text, publish=False)
    draft = sop.versions.get(number=2)
    response = as_manager.get(reverse("admin:salesops_sopversion_change", args=[draft.pk]))
    body = response.content.decode()
    assert '<pre class="sop-diff">' in body
    assert "-title: Lead qualification" in body and "+title: Lead triage" in body
    assert "<ul><li>" in body  # the diff_summary bullets


def test_the_publish_action_makes_a_draft_active(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    edit(as_manager, sop, sop.published_version.text + "\nDraft.\n", publish=False)
    draft = sop.versions.get(number=2)
    response = as_manager.post(
        reverse("admin:salesops_sopversion_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert b"Published lead-qualification v2" in response.content
    sop.refresh_from_db()
    assert sop.published_version_id == draft.pk


def test_editing_a_fragment_upgrades_every_sop_that_includes_it(as_manager: Client, library):
    fragment = Fragment.objects.get(name="company-policy")
    includers = Sop.objects.filter(published_version__fragments__has_key="company-policy")
    before = {s.name: s.published_version.number for s in includers}
    assert before
    response = as_manager.post(
        reverse("admin:salesops_fragment_change", args=[fragment.pk]),
        {"text": fragment.text + "\nNever promise a delivery date.\n"},
        follow=True,
    )
    assert b"Upgraded and published" in response.content
    for sop in Sop.objects.filter(name__in=before):
        assert sop.published_version.number == before[sop.name] + 1
        assert "Never promise a delivery date." in sop.published_version.fragments["company-policy"]


def test_it_keeps_a_version_published_in_admin_when_load_sops_runs_again(
    as_manager: Client, library
):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    edit(as_manager, sop, text, publish=True)
    out = io.StringIO()

    call_command("load_sops", stdout=out)

    sop.refresh_from_db()
    assert sop.published_version.number == 2 and sop.published_version.source == "admin"
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("lead-qualification")]
    assert "unchanged" not in line
    assert "v2 published in admin stays active" in line


def test_it_stores_text_from_the_browser_with_lf_line_endings(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    browser = text.replace("\n", "  \r\n") + "\r\n"

    response = edit(as_manager, sop, browser, publish=True)

    assert response.status_code == 302
    stored = sop.versions.get(number=2).text
    assert "\r" not in stored
    assert stored == text


def test_it_makes_no_new_version_for_the_same_text_with_crlf(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")

    response = edit(as_manager, sop, sop.published_version.text.replace("\n", "\r\n"), publish=True)

    assert response.status_code == 302
    assert sop.versions.count() == 1


def test_it_diffs_a_one_line_edit_from_the_browser_as_one_line(as_manager: Client, library):
    sop = Sop.objects.get(name="lead-qualification")
    text = sop.published_version.text.replace("title: Lead qualification", "title: Lead triage")
    edit(as_manager, sop, text.replace("\n", "\r\n"), publish=False)
    draft = sop.versions.get(number=2)

    response = as_manager.get(reverse("admin:salesops_sopversion_change", args=[draft.pk]))

    assert changed_lines(response.content.decode()) == [
        "-title: Lead qualification",
        "+title: Lead triage",
    ]


def test_it_diffs_a_version_stored_with_crlf_before_normalising_cleanly(
    as_manager: Client, library
):
    sop = Sop.objects.get(name="lead-qualification")
    published = sop.published_version
    # A version saved from the browser before text was normalised: CRLF throughout.
    SopVersion.objects.filter(pk=published.pk).update(text=published.text.replace("\n", "\r\n"))
    text = published.text.replace("title: Lead qualification", "title: Lead triage")
    edit(as_manager, sop, text, publish=False)
    draft = sop.versions.get(number=2)

    response = as_manager.get(reverse("admin:salesops_sopversion_change", args=[draft.pk]))

    assert changed_lines(response.content.decode()) == [
        "-title: Lead qualification",
        "+title: Lead triage",
    ]


def test_it_stores_fragment_text_from_the_browser_with_lf_line_endings(as_manager: Client, library):
    fragment = Fragment.objects.get(name="company-policy")
    text = fragment.text + "\nNever promise a delivery date.\n"

    response = as_manager.post(
        reverse("admin:salesops_fragment_change", args=[fragment.pk]),
        {"text": text.replace("\n", " \r\n")},
    )

    assert response.status_code == 302
    fragment.refresh_from_db()
    assert fragment.text == text
    for sop in Sop.objects.filter(published_version__fragments__has_key="company-policy"):
        assert "\r" not in sop.published_version.fragments["company-policy"]


def changed_lines(page: str) -> list[str]:
    """The -/+ lines of the diff block on a version page."""
    block = html.unescape(page.split('<pre class="sop-diff">', 1)[1].split("</pre>", 1)[0])
    return [
        line
        for line in block.splitlines()
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
