"""render_sop round-trips; diff_sop and diff_summary say what changed; content_hash."""

from __future__ import annotations

import dataclasses

from specs_samples import parse, sop_text

from salesops.specs import Fragment, content_hash, diff_sop, diff_summary, render_sop


def test_render_round_trips_every_field_but_source() -> None:
    spec = parse(sop_text())

    rendered = render_sop(spec)
    again = parse(rendered, source="elsewhere/lead-qualification.md")

    assert again.source != spec.source
    assert dataclasses.replace(again, source=spec.source) == spec
    assert render_sop(again) == rendered  # stable: rendering is a fixed point


def test_render_writes_keys_in_the_documented_order_and_rubrics_as_blocks() -> None:
    text = sop_text({("model",): {"max_attempts": 2}, ("name",): "lead-qualification"})
    # Scramble the key order of the input: the output order must not depend on it.
    head, body = text.split("\n---\n", 1)
    lines = head.split("\n")
    scrambled = "\n".join([lines[0], *reversed_top_level(lines[1:])]) + "\n---\n" + body

    rendered = render_sop(parse(scrambled))

    keys = [line.split(":")[0] for line in rendered.split("\n---\n")[0].split("\n")[1:]]
    top = [k for k in keys if k and not k.startswith(" ")]
    assert top[:4] == ["name", "title", "description", "object"]
    assert top[-3:] == ["escalate_when", "write_back", "model"]
    assert "judge: |-\n" in rendered


def reversed_top_level(lines: list[str]) -> list[str]:
    blocks: list[list[str]] = []
    for line in lines:
        if line and not line.startswith((" ", "-")):
            blocks.append([])
        blocks[-1].append(line)
    return [line for block in reversed(blocks) for line in block]


def test_diff_sop_is_a_unified_diff_with_labels() -> None:
    old = sop_text()
    new = sop_text({("title",): "Lead scoring"})

    diff = diff_sop(old, new, old_label="v1", new_label="v2")

    assert diff.startswith("--- v1\n+++ v2\n")
    assert "-title: Lead qualification\n+title: Lead scoring\n" in diff
    assert diff_sop(old, old, old_label="v1", new_label="v2") == ""


def test_diff_summary_describes_each_change() -> None:
    old = parse(sop_text())
    new_acceptance = [
        *old.front_matter["acceptance"],
        {"id": "has-summary", "check": "size(result.summary) > 0", "message": "Summarise."},
    ]
    new = parse(
        sop_text(
            {
                ("acceptance",): new_acceptance,
                ("output", "properties", "score", "maximum"): 10,
                ("output", "properties", "region"): {"type": "string"},
                ("skills",): ["crm-lookup"],
                ("escalate_when", 0, "when"): "record.company.employees == null",
                ("model", "max_attempts"): 4,
            },
            body=(
                "## Goal\nQualify the lead fast.\n\n"
                "## What good looks like\nA score backed by evidence.\n"
            ),
        )
    )

    summary = diff_summary(old, new)

    assert summary == [
        "skill 'bant-rubric' removed",
        "output.properties.score changed (maximum)",
        "output.properties.region added",
        "acceptance check 'has-summary' added",
        "escalation 'enterprise' changed",
        "model policy changed (max_attempts 3 -> 4)",
        "goal section edited",
        "constraints section removed",
    ]
    assert diff_summary(old, old) == []


def test_diff_summary_reports_a_changed_fragment() -> None:
    old = parse(sop_text())
    edited = Fragment(name="company-policy", title="Company policy", body="Be brief.")
    new = parse(sop_text(), fragments={"company-policy": edited})

    assert diff_summary(old, new) == ["fragment 'company-policy' changed"]


def test_content_hash_covers_the_text_and_included_fragments() -> None:
    text = sop_text()
    fragments = {"company-policy": "---\nname: company-policy\n---\nBe honest.\n", "tone": "Warm."}

    base = content_hash(text, fragments)

    assert len(base) == 64 and int(base, 16) >= 0
    assert content_hash(text, dict(reversed(list(fragments.items())))) == base
    assert content_hash(text.replace("\n", "\r\n"), fragments) == base
    assert content_hash(text, {**fragments, "tone": "Cold."}) != base
    assert content_hash(text, {"company-policy": fragments["company-policy"]}) != base
    assert content_hash(text + "\nMore.", fragments) != base
    # Moving text between a fragment's name and its body is a change, not a collision.
    assert content_hash("", {"ab": "c"}) != content_hash("", {"a": "bc"})
