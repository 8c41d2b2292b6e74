"""load_sops and admin edits coexist: the library never silently replaces a manager's version."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from salesops.management.commands.demo import Command as Demo
from salesops.models import Fragment, Sop, SopVersion
from salesops.services.sops import (
    fragment_update,
    sop_export,
    sop_library_load,
    sop_version_create,
)

pytestmark = pytest.mark.django_db


def load(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("load_sops", "--path", str(path), *args, stdout=out)
    return out.getvalue()


def lines_about(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith((f"{name} ", f"{name}:"))]


def admin_publish(name: str, author, line: str = "Managers wrote this line.") -> SopVersion:
    """Publish a new version as the admin form does (same service, source "admin")."""
    text = Sop.objects.get(name=name).published_version.text
    version, created = sop_version_create(
        sop_name=name,
        text=text.replace("## Goal\n", f"## Goal\n{line}\n", 1),
        author=author,
        source="admin",
        publish=True,
    )
    assert created
    return version


def edit_file(path: Path, line: str = "The library says this now.") -> None:
    path.write_text(path.read_text().replace("## Goal\n", f"## Goal\n{line}\n", 1))


def active(name: str) -> SopVersion:
    return Sop.objects.select_related("published_version").get(name=name).published_version


def test_it_keeps_a_version_published_in_admin_when_the_file_did_not_change(library_copy, manager):
    load(library_copy)
    mine = admin_publish("follow-up", manager)

    output = load(library_copy)

    assert active("follow-up").pk == mine.pk
    assert Sop.objects.get(name="follow-up").versions.count() == 2
    about = lines_about(output, "follow-up")
    assert len(about) == 1 and "unchanged" not in about[0]
    assert "v2 published in admin stays active" in about[0]
    assert "--publish" in about[0]


def test_it_stores_the_library_version_as_a_draft_when_both_changed(library_copy, manager):
    load(library_copy)
    mine = admin_publish("follow-up", manager)
    edit_file(library_copy / "follow-up.md")

    output = load(library_copy)

    assert active("follow-up").pk == mine.pk
    draft = Sop.objects.get(name="follow-up").versions.get(number=3)
    assert not draft.published and draft.source == "library"
    assert "The library says this now." in draft.text
    (line,) = lines_about(output, "follow-up")
    assert line.startswith("follow-up v3: the library file changed")
    assert "stored as a draft" in line and "v2 published in admin stays active" in line
    assert "publish v3 in admin" in line and "load_sops --publish" in line


def test_it_reminds_of_the_draft_on_the_next_load_without_a_new_version(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    edit_file(library_copy / "follow-up.md")
    load(library_copy)

    output = load(library_copy)

    assert Sop.objects.get(name="follow-up").versions.count() == 3
    (line,) = lines_about(output, "follow-up")
    assert "v2 published in admin stays active" in line and "v3" in line
    assert "unchanged" not in line


def test_it_makes_the_library_version_active_with_publish(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    edit_file(library_copy / "follow-up.md")

    output = load(library_copy, "--publish")

    version = active("follow-up")
    assert version.number == 3 and "The library says this now." in version.text
    (line,) = lines_about(output, "follow-up")
    assert line.startswith("follow-up v3: new version published")
    assert "replaces v2 published in admin" in line


def test_it_publishes_the_draft_left_by_an_earlier_load_with_publish(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    edit_file(library_copy / "follow-up.md")
    load(library_copy)

    load(library_copy, "--publish")

    assert active("follow-up").number == 3
    assert Sop.objects.get(name="follow-up").versions.count() == 3


def test_it_makes_no_new_version_when_the_file_is_unchanged(library_copy):
    load(library_copy)

    output = load(library_copy)

    assert SopVersion.objects.count() == 3
    assert lines_about(output, "follow-up") == ["follow-up v1: unchanged"]


def test_it_publishes_a_changed_file_when_nobody_published_in_admin(library_copy, manager):
    load(library_copy)
    sop_version_create(
        sop_name="follow-up",
        text=active("follow-up").text + "\nA draft nobody published.\n",
        author=manager,
        source="admin",
    )
    edit_file(library_copy / "follow-up.md")

    output = load(library_copy)

    version = active("follow-up")
    assert version.number == 3 and "The library says this now." in version.text
    assert lines_about(output, "follow-up") == ["follow-up v3: new version published"]


def test_it_publishes_a_changed_file_after_the_library_version_was_published_again(
    library_copy, manager
):
    load(library_copy)
    mine = admin_publish("follow-up", manager)
    sop_version_create(
        sop_name="follow-up", text=(library_copy / "follow-up.md").read_text(), publish=True
    )
    assert active("follow-up").number == 1 and mine.published
    edit_file(library_copy / "follow-up.md")

    load(library_copy)

    assert active("follow-up").number == 3


def test_it_is_in_sync_when_the_file_becomes_the_admin_version(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    sop_export(directory=library_copy, names=["follow-up"])
    first = load(library_copy)
    newer = admin_publish("follow-up", manager, line="A second manager edit.")

    second = load(library_copy)

    assert lines_about(first, "follow-up") == ["follow-up v2: unchanged"]
    assert active("follow-up").pk == newer.pk
    (line,) = lines_about(second, "follow-up")
    assert "v3 published in admin stays active" in line and "draft" not in line


def test_it_does_not_replace_an_sop_made_in_admin_by_a_library_file_of_that_name(
    library_copy, manager
):
    policy = (library_copy / "fragments" / "company-policy.md").read_text()
    fragment_update(name="company-policy", text=policy)
    text = (library_copy / "follow-up.md").read_text()
    mine, _ = sop_version_create(
        sop_name="follow-up",
        text=text.replace("## Goal\n", "## Goal\nMade in admin.\n", 1),
        author=manager,
        source="admin",
        publish=True,
    )

    output = load(library_copy)

    assert active("follow-up").pk == mine.pk
    assert "stored as a draft" in lines_about(output, "follow-up")[0]


def test_it_falls_back_to_the_last_library_version_on_a_database_loaded_before_tracking(
    library_copy, manager
):
    load(library_copy)
    Sop.objects.update(library_hash="")
    mine = admin_publish("follow-up", manager)

    load(library_copy)

    assert active("follow-up").pk == mine.pk
    assert Sop.objects.get(name="follow-up").library_hash


def test_it_keeps_a_fragment_edited_in_admin_when_the_file_did_not_change(library_copy):
    load(library_copy)
    edited = Fragment.objects.get(name="company-policy").text + "\nNever promise dates.\n"
    upgraded = fragment_update(name="company-policy", text=edited)

    output = load(library_copy)

    assert "Never promise dates." in Fragment.objects.get(name="company-policy").text
    for version in upgraded:
        assert active(version.sop.name).pk == version.pk
    assert "fragment company-policy: the text edited in admin stays" in output


def test_it_keeps_a_fragment_edited_in_admin_when_both_changed_and_says_so(library_copy):
    load(library_copy)
    fragment_update(
        name="company-policy",
        text=Fragment.objects.get(name="company-policy").text + "\nAdmin rule.\n",
    )
    path = library_copy / "fragments" / "company-policy.md"
    path.write_text(path.read_text() + "\nLibrary rule.\n")

    output = load(library_copy)

    text = Fragment.objects.get(name="company-policy").text
    assert "Admin rule." in text and "Library rule." not in text
    assert (
        "fragment company-policy: the library file changed, but the text edited in admin stays"
        in output
    )
    assert "load_sops --publish" in output


def test_it_applies_the_library_fragment_with_publish(library_copy):
    load(library_copy)
    fragment_update(
        name="company-policy",
        text=Fragment.objects.get(name="company-policy").text + "\nAdmin rule.\n",
    )
    path = library_copy / "fragments" / "company-policy.md"
    path.write_text(path.read_text() + "\nLibrary rule.\n")

    output = load(library_copy, "--publish")

    assert "Library rule." in Fragment.objects.get(name="company-policy").text
    assert "Library rule." in active("follow-up").fragments["company-policy"]
    assert "fragment company-policy: changed, includers upgraded" in output


def test_a_library_fragment_change_keeps_the_sop_text_a_manager_published(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    path = library_copy / "fragments" / "company-policy.md"
    path.write_text(path.read_text() + "\nLibrary rule.\n")

    output = load(library_copy)

    version = active("follow-up")
    assert "Managers wrote this line." in version.text
    assert "Library rule." in version.fragments["company-policy"]
    assert "fragment company-policy: changed, includers upgraded" in output
    (line,) = lines_about(output, "follow-up")
    assert "stays active" in line and "unchanged" not in line


def test_the_demo_summary_names_the_draft_instead_of_claiming_unchanged(library_copy, manager):
    load(library_copy)
    admin_publish("follow-up", manager)
    edit_file(library_copy / "follow-up.md")

    summary = Demo()._library_summary(sop_library_load(root=library_copy))

    first, *notes = summary.splitlines()
    assert first == (
        "SOPs: 1 stored as a draft (a version published in admin stays active), 2 unchanged"
    )
    assert len(notes) == 1 and notes[0].startswith("follow-up v3: the library file changed")
