"""Load a whole SOP library folder: fragments, knowledge skills, SOPs; collect every issue."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from salesops.specs.model import Fragment, KnowledgeSkill, SopSpec, SpecError, SpecIssue
from salesops.specs.normalize import sop_text_normalize
from salesops.specs.parser import parse_fragment, parse_skill, parse_sop

# Markdown files in the library root that are documentation, not SOPs.
NOT_SOPS = frozenset({"readme.md", "changelog.md"})


def content_hash(text: str, fragments: Mapping[str, str]) -> str:
    """sha256 hex of an SOP's normalised text and the normalised texts of its fragments."""
    digest = hashlib.sha256()
    # Line endings and trailing spaces are editor accidents, not changes worth a new version.
    digest.update(b"sop\x00" + sop_text_normalize(text).encode())
    for name in sorted(fragments):
        body = sop_text_normalize(fragments[name])
        digest.update(b"\x00fragment\x00" + name.encode() + b"\x00" + body.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedSop:
    """One valid SOP file: its text, parsed spec, included fragment texts and content hash."""

    text: str
    spec: SopSpec
    fragments_text: dict[str, str]
    hash: str


@dataclass
class Library:
    """Everything that loaded, plus every issue from the files that did not."""

    sops: dict[str, LoadedSop] = field(default_factory=dict)
    fragments: dict[str, Fragment] = field(default_factory=dict)
    skills: dict[str, KnowledgeSkill] = field(default_factory=dict)
    issues: list[SpecIssue] = field(default_factory=list)
    fragment_texts: dict[str, str] = field(default_factory=dict)


def _read(path: Path, label: str, issues: list[SpecIssue]) -> str | None:
    """The file's normalised text, or None with an issue when it cannot be read."""
    try:
        return sop_text_normalize(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(SpecIssue(label, "file", f"cannot read: {exc}"))
        return None


def load_library(
    root: Path,
    *,
    known_tools: Collection[str],
    offline_skills: Collection[str],
    template_exists: Callable[[str], bool] | None = None,
) -> Library:
    """Read root/fragments/*.md, root/skills/*/SKILL.md and root/*.md; never stop at a bad file."""
    root = Path(root)
    library = Library()

    def label(path: Path) -> str:
        return path.relative_to(root.parent).as_posix()

    for path in sorted((root / "fragments").glob("*.md")):
        text = _read(path, label(path), library.issues)
        if text is None:
            continue
        try:
            fragment = parse_fragment(text, source=label(path))
        except SpecError as exc:
            library.issues.extend(exc.issues)
            continue
        library.fragments[fragment.name] = fragment
        library.fragment_texts[fragment.name] = text

    for path in sorted((root / "skills").glob("*/SKILL.md")):
        text = _read(path, label(path), library.issues)
        if text is None:
            continue
        try:
            skill = parse_skill(text, source=label(path))
        except SpecError as exc:
            library.issues.extend(exc.issues)
            continue
        if skill.name in known_tools:
            library.issues.append(
                SpecIssue(
                    label(path), "name", f"'{skill.name}' is already the name of a tool skill"
                )
            )
            continue
        library.skills[skill.name] = skill

    known_skills = {*known_tools, *library.skills}
    for path in sorted(root.glob("*.md")):
        if path.name.lower() in NOT_SOPS:
            continue
        text = _read(path, label(path), library.issues)
        if text is None:
            continue
        try:
            spec = parse_sop(
                text,
                source=label(path),
                fragments=library.fragments,
                known_skills=known_skills,
                offline_skills=offline_skills,
                template_exists=template_exists,
            )
        except SpecError as exc:
            library.issues.extend(exc.issues)
            continue
        included = {name: library.fragment_texts[name] for name in spec.includes}
        library.sops[spec.name] = LoadedSop(text, spec, included, content_hash(text, included))
    return library
