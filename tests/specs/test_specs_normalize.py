"""SOP text is normalised before it is stored, hashed and diffed (pure, no database)."""

from __future__ import annotations

from specs_samples import sop_text

from salesops.specs import content_hash, diff_sop
from salesops.specs.normalize import sop_text_normalize


def test_it_turns_crlf_and_lone_cr_into_lf() -> None:
    assert sop_text_normalize("a\r\nb\rc\n") == "a\nb\nc\n"


def test_it_strips_trailing_whitespace_on_every_line() -> None:
    assert (
        sop_text_normalize("title: x  \n\tbody\t \n  - item \n") == "title: x\n\tbody\n  - item\n"
    )


def test_it_ends_the_text_with_exactly_one_newline() -> None:
    assert sop_text_normalize("a\nb") == "a\nb\n"
    assert sop_text_normalize("a\nb\n\n \r\n\n") == "a\nb\n"


def test_it_strips_a_byte_order_mark() -> None:
    assert sop_text_normalize("\ufeff---\nname: x\n") == "---\nname: x\n"


def test_it_keeps_indentation_and_blank_lines_inside_the_text() -> None:
    text = "---\nname: x\noutput:\n  type: object\n---\n\n## Goal\n\nScore it.\n"
    assert sop_text_normalize(text) == text


def test_it_is_idempotent_and_leaves_empty_text_empty() -> None:
    messy = "\ufeffa \r\n\r\n b\t\r\n\r\n"
    once = sop_text_normalize(messy)
    assert sop_text_normalize(once) == once
    assert sop_text_normalize("") == ""
    assert sop_text_normalize(" \r\n\n") == ""


def test_it_diffs_a_crlf_version_against_an_lf_version_as_one_changed_line() -> None:
    old = sop_text().replace("\n", "\r\n")
    new = sop_text({("title",): "Lead scoring"})

    diff = diff_sop(old, new, old_label="v1", new_label="v2")

    changed = [
        line
        for line in diff.splitlines()
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    assert changed == ["-title: Lead qualification", "+title: Lead scoring"]


def test_it_diffs_texts_that_differ_only_in_whitespace_as_equal() -> None:
    text = sop_text()
    messy = "\ufeff" + text.replace("\n", "  \r\n") + "\r\n\r\n"
    assert diff_sop(messy, text, old_label="v1", new_label="v2") == ""


def test_content_hash_ignores_line_endings_trailing_whitespace_and_a_bom() -> None:
    text = sop_text()
    fragments = {"company-policy": "---\nname: company-policy\n---\nBe kind.\n"}
    base = content_hash(text, fragments)
    messy = {"company-policy": fragments["company-policy"].replace("\n", " \r\n")}
    assert content_hash("\ufeff" + text.replace("\n", "\t\r\n") + "\n\n", messy) == base
    assert content_hash(text.replace("Lead qualification", "Lead triage"), fragments) != base
