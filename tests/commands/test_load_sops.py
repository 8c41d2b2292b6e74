"""load_sops and export_sops: idempotent loads, versions only on change, bad files keep the old."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from salesops.models import Sop, SopVersion

pytestmark = pytest.mark.django_db


def test_loading_twice_makes_no_new_version(library_copy, capsys):
    call_command("load_sops", "--path", str(library_copy))
    call_command("load_sops", "--path", str(library_copy))
    assert SopVersion.objects.count() == 3
    assert capsys.readouterr().out.count("unchanged") == 3


def test_an_edit_publishes_a_new_version(library_copy):
    call_command("load_sops", "--path", str(library_copy))
    path = library_copy / "follow-up.md"
    path.write_text(path.read_text().replace("## Goal\n", "## Goal\nAnswer within a day.\n", 1))
    call_command("load_sops", "--path", str(library_copy))
    sop = Sop.objects.get(name="follow-up")
    assert sop.published_version.number == 2
    assert "Answer within a day." in sop.published_version.text


def test_a_fragment_change_upgrades_every_sop_that_includes_it(library_copy):
    call_command("load_sops", "--path", str(library_copy))
    fragment = library_copy / "fragments" / "company-policy.md"
    fragment.write_text(fragment.read_text() + "\n- Never promise delivery dates.\n")
    call_command("load_sops", "--path", str(library_copy))
    for sop in Sop.objects.select_related("published_version"):
        assert sop.published_version.number == 2
        assert "Never promise delivery dates." in sop.published_version.fragments["company-policy"]


def test_a_broken_file_is_reported_and_the_previous_version_stays(library_copy):
    call_command("load_sops", "--path", str(library_copy))
    path = library_copy / "deal-review.md"
    path.write_text(path.read_text().replace("skills: [", "skills: [no-such-skill, ", 1))
    with pytest.raises(CommandError) as raised:
        call_command("load_sops", "--path", str(library_copy))
    assert "deal-review.md" in str(raised.value) and "no-such-skill" in str(raised.value)
    assert Sop.objects.get(name="deal-review").published_version.number == 1


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("load_sops", "--path", str(tmp_path / "nope"))


def test_export_writes_the_published_text_back(library_copy, tmp_path):
    call_command("load_sops", "--path", str(library_copy))
    out = tmp_path / "out"
    call_command("export_sops", "--out", str(out))
    for name in ("lead-qualification", "follow-up", "deal-review"):
        assert (out / f"{name}.md").read_text() == (library_copy / f"{name}.md").read_text()


def test_export_of_an_unknown_sop_is_an_error(library_copy, tmp_path):
    call_command("load_sops", "--path", str(library_copy))
    with pytest.raises(CommandError, match="unknown SOP"):
        call_command("export_sops", "--out", str(tmp_path), "nope")
