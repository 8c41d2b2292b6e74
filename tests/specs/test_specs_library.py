"""load_library, parse_fragment and parse_skill."""

from __future__ import annotations

from pathlib import Path

import pytest
from specs_samples import sop_text

from salesops.specs import (
    Library,
    SpecError,
    content_hash,
    load_library,
    parse_fragment,
    parse_skill,
)

FRAGMENT = "---\nname: company-policy\ntitle: Company policy\n---\n\nNever promise discounts.\n"
SKILL = "---\nname: bant-rubric\ndescription: How to score BANT.\n---\n\n# BANT\nBudget first.\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def library_root(tmp_path: Path) -> Path:
    root = tmp_path / "sop_library"
    write(root / "fragments" / "company-policy.md", FRAGMENT)
    write(root / "skills" / "bant-rubric" / "SKILL.md", SKILL)
    write(root / "lead-qualification.md", sop_text())
    write(root / "README.md", "# The library\nNot an SOP.\n")
    return root


def load(root: Path) -> Library:
    return load_library(
        root,
        known_tools={"crm-lookup"},
        offline_skills={"lead_qualification"},
        template_exists=lambda name: name.startswith("notes/lead_"),
    )


def test_it_loads_a_library(library_root: Path) -> None:
    library = load(library_root)

    assert library.issues == []
    assert list(library.sops) == ["lead-qualification"]
    loaded = library.sops["lead-qualification"]
    assert loaded.text == sop_text()
    assert loaded.spec.source == "sop_library/lead-qualification.md"
    assert loaded.spec.fragments[0].body == "Never promise discounts."
    assert loaded.fragments_text == {"company-policy": FRAGMENT}
    assert loaded.hash == content_hash(sop_text(), {"company-policy": FRAGMENT})
    assert library.skills["bant-rubric"].body == "# BANT\nBudget first."
    assert library.fragments["company-policy"].title == "Company policy"


def test_it_collects_issues_from_bad_files_and_loads_the_good_ones(library_root: Path) -> None:
    write(library_root / "broken.md", sop_text({("name",): "broken", ("skills",): ["nope"]}))
    write(library_root / "garbled.md", "---\nname: [\n---\n")
    write(library_root / "fragments" / "tone.md", "---\nname: tone\n---\nWarm.\n")
    write(library_root / "skills" / "wrong-folder" / "SKILL.md", SKILL)

    library = load(library_root)

    assert list(library.sops) == ["lead-qualification"]
    assert sorted((i.source, i.field) for i in library.issues) == [
        ("sop_library/broken.md", "skills[0]"),
        ("sop_library/fragments/tone.md", "title"),
        ("sop_library/garbled.md", "front_matter"),
        ("sop_library/skills/wrong-folder/SKILL.md", "name"),
    ]


def test_an_sop_using_a_broken_skill_reports_it_as_unknown(library_root: Path) -> None:
    write(library_root / "skills" / "bant-rubric" / "SKILL.md", "---\nname: bant-rubric\n---\nx\n")

    library = load(library_root)

    assert library.sops == {}
    fields = sorted((i.source.rsplit("/", 1)[-1], i.field) for i in library.issues)
    assert fields == [("SKILL.md", "description"), ("lead-qualification.md", "skills[1]")]


def test_a_knowledge_skill_may_not_shadow_a_tool(library_root: Path) -> None:
    write(
        library_root / "skills" / "crm-lookup" / "SKILL.md",
        SKILL.replace("bant-rubric", "crm-lookup"),
    )

    library = load(library_root)

    assert "crm-lookup" not in library.skills
    assert [i.message for i in library.issues] == [
        "'crm-lookup' is already the name of a tool skill"
    ]


def test_changing_a_fragment_changes_the_hash_of_every_sop_that_includes_it(
    library_root: Path,
) -> None:
    before = load(library_root).sops["lead-qualification"].hash
    write(library_root / "fragments" / "company-policy.md", FRAGMENT.replace("Never", "Do not"))

    after = load(library_root).sops["lead-qualification"].hash

    assert after != before
    assert load(library_root).sops["lead-qualification"].hash == after


def test_parse_fragment() -> None:
    fragment = parse_fragment(FRAGMENT, source="lib/fragments/company-policy.md")

    assert (fragment.name, fragment.title, fragment.body) == (
        "company-policy",
        "Company policy",
        "Never promise discounts.",
    )
    with pytest.raises(SpecError) as caught:
        parse_fragment(FRAGMENT, source="lib/fragments/tone.md")
    assert [i.field for i in caught.value.issues] == ["name"]
    with pytest.raises(SpecError) as caught:
        parse_fragment("---\nname: tone\ntitle: Tone\n---\n\n", source="tone.md")
    assert [(i.field, i.message) for i in caught.value.issues] == [
        ("body", "the fragment has no text")
    ]


@pytest.mark.parametrize(
    ("text", "source", "field", "message"),
    [
        (SKILL, "skills/other/SKILL.md", "name", "does not match its folder 'other'"),
        (
            SKILL.replace("bant-rubric", "BANT_rubric"),
            "x/BANT_rubric/SKILL.md",
            "name",
            "not valid",
        ),
        (
            "---\nname: bant-rubric\n---\nx\n",
            "skills/bant-rubric/SKILL.md",
            "description",
            "required key is missing",
        ),
        (
            SKILL.replace("description", "descripton"),
            "skills/bant-rubric/SKILL.md",
            "descripton",
            "did you mean 'description'?",
        ),
        (
            "---\nname: bant-rubric\ndescription: d\n---\n",
            "skills/bant-rubric/SKILL.md",
            "body",
            "no instructions",
        ),
        ("# no front matter\n", "skills/bant-rubric/SKILL.md", "front_matter", "missing YAML"),
    ],
)
def test_parse_skill_rejects(text: str, source: str, field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_skill(text, source=source)

    first = caught.value.issues[0]
    assert (first.source, first.field) == (source, field)
    assert message in first.message


def test_parse_skill_accepts_agent_skills_optional_fields() -> None:
    text = SKILL.replace("---\n\n", "license: MIT\nmetadata:\n  author: sales\n---\n\n", 1)

    skill = parse_skill(text, source="skills/bant-rubric/SKILL.md")

    assert (skill.name, skill.description) == ("bant-rubric", "How to score BANT.")
