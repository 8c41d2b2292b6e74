"""Parse and validate SOP files, fragments and knowledge skills (docs/sop-format.md)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from pathlib import PurePath
from typing import Any

from salesops.specs.document import (
    missing_sections,
    schema_issues,
    split_front_matter,
    split_sections,
    usable,
)
from salesops.specs.frontmatter_schema import FRAGMENT_SCHEMA, SKILL_SCHEMA, SOP_SCHEMA
from salesops.specs.inherited import fragment_acceptance_issues, policy_checks, rubric_build
from salesops.specs.model import (
    Check,
    EscalationRule,
    Fragment,
    KnowledgeSkill,
    ModelPolicy,
    RubricCompare,
    SopSpec,
    SpecError,
    SpecIssue,
    Trigger,
    WriteBackRule,
)
from salesops.specs.sop_checks import SopChecker

REQUIRED_SECTIONS = ("Goal", "What good looks like")


def _stem_issue(name: Any, source: str, kind: str) -> list[SpecIssue]:
    path = PurePath(source)
    if path.suffix != ".md" or not isinstance(name, str) or name == path.stem:
        return []
    return [
        SpecIssue(source, "name", f"{kind} name '{name}' does not match its file '{path.name}'")
    ]


# Parsing is pure and a SopSpec immutable, so the same inputs share one spec: loading the
# library parses each file once per process instead of once per caller (load, store, publish).
_PARSED: OrderedDict[tuple[Any, ...], SopSpec] = OrderedDict()
_PARSED_SIZE = 128
_parsed_lock = threading.Lock()


def parse_sop(
    text: str,
    *,
    source: str,
    fragments: Mapping[str, Fragment],
    known_skills: Collection[str],
    offline_skills: Collection[str],
    template_exists: Callable[[str], bool] | None = None,
) -> SopSpec:
    """Parse one SOP file; raise SpecError listing every problem found."""
    key = (
        text,
        source,
        tuple(sorted((name, repr(fragment)) for name, fragment in fragments.items())),
        frozenset(known_skills),
        frozenset(offline_skills),
        template_exists,
    )
    with _parsed_lock:
        cached = _PARSED.get(key)
        if cached is not None:
            _PARSED.move_to_end(key)
            return cached
    spec = _parse_sop(
        text,
        source=source,
        fragments=fragments,
        known_skills=known_skills,
        offline_skills=offline_skills,
        template_exists=template_exists,
    )
    with _parsed_lock:
        _PARSED[key] = spec
        if len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return spec


def _parse_sop(
    text: str,
    *,
    source: str,
    fragments: Mapping[str, Fragment],
    known_skills: Collection[str],
    offline_skills: Collection[str],
    template_exists: Callable[[str], bool] | None,
) -> SopSpec:
    data, body = split_front_matter(text, source)
    issues, bad = schema_issues(data, SOP_SCHEMA, source)
    if usable(bad, "name"):
        issues += _stem_issue(data.get("name"), source, "SOP")
    checker = SopChecker(
        data,
        bad,
        source=source,
        fragments=fragments,
        known_skills=known_skills,
        offline_skills=offline_skills,
        template_exists=template_exists,
    )
    checker.run()
    issues += checker.issues
    policy: list[Check] = []
    if checker.full is not None and checker.object is not None:
        # Company-wide checks from the included fragments, type-checked for this SOP.
        policy, found = policy_checks(
            checker.fragments.values(), checker.full, includer=source, object_type=checker.object
        )
        issues += found
    rubric, found = rubric_build(data, bad, output_ok=checker.output_ok, source=source)
    issues += found
    sections = split_sections(body)
    issues += missing_sections(sections, REQUIRED_SECTIONS, source)
    if issues:
        raise SpecError(issues)
    return _build(data, body, sections, checker, source, tuple(policy), rubric)


def _build(
    data: dict[str, Any],
    body: str,
    sections: dict[str, str],
    checker: SopChecker,
    source: str,
    policy: tuple[Check, ...] = (),
    rubric: tuple[RubricCompare, ...] = (),
) -> SopSpec:
    expr = checker.compiled
    triggers = tuple(
        Trigger(
            event=t.get("event"),
            property=t.get("property"),
            schedule=t.get("schedule"),
            where=expr.get(f"triggers[{i}].where"),
        )
        for i, t in enumerate(data.get("triggers", []))
    )
    own = tuple(
        Check(
            id=c["id"],
            message=c["message"],
            check=expr.get(f"acceptance[{i}].check"),
            judge=c.get("judge"),
            when_unavailable=c.get("when_unavailable", "auto"),
        )
        for i, c in enumerate(data.get("acceptance", []))
    )
    acceptance = own + policy  # the SOP's own checks first, then the inherited ones
    escalations = tuple(
        EscalationRule(id=e["id"], when=expr[f"escalate_when[{i}].when"], message=e["message"])
        for i, e in enumerate(data.get("escalate_when", []))
    )
    writes = []
    for i, item in enumerate(data.get("write_back", [])):
        ((kind, spec),) = item.items()
        at = f"write_back[{i}].{kind}"
        writes.append(
            WriteBackRule(
                kind=kind,
                when=expr.get(f"{at}.when"),
                property=spec.get("name") if kind == "set_property" else None,
                value=expr.get(f"{at}.value"),
                template=spec.get("template"),
                subject=spec.get("subject"),
                due_in_business_days=spec.get("due_in_business_days"),
                due_date=expr.get(f"{at}.due_date"),
                priority=spec.get("priority", "MEDIUM"),
            )
        )
    includes = tuple(data.get("include", []))
    return SopSpec(
        name=data["name"],
        title=data["title"],
        object=data["object"],
        description=data["description"],
        triggers=triggers,
        context=tuple(data.get("context", [])),
        skills=tuple(data.get("skills", [])),
        offline=data.get("offline"),
        output=data["output"],
        evidence=tuple(data.get("evidence", [])),
        acceptance=acceptance,
        escalate_when=escalations,
        write_back=tuple(writes),
        model=ModelPolicy(**data.get("model", {})),
        includes=includes,
        sections=sections,
        body=body,
        front_matter=data,
        fragments=tuple(checker.fragments[name] for name in includes),
        source=source,
        applies_when=expr.get("applies_when"),
        rubric=rubric,
    )


def parse_fragment(text: str, *, source: str) -> Fragment:
    """Parse a shared fragment (`fragments/<name>.md`: front matter name, title and optional
    `acceptance` checks every includer inherits; Markdown body)."""
    data, body = split_front_matter(text, source)
    issues, bad = schema_issues(data, FRAGMENT_SCHEMA, source)
    if usable(bad, "name"):
        issues += _stem_issue(data.get("name"), source, "fragment")
    acceptance = data.get("acceptance", []) if usable(bad, "acceptance") else []
    usable_items = [(i, c) for i, c in enumerate(acceptance) if usable(bad, "acceptance", i)]
    issues += fragment_acceptance_issues(usable_items, source)
    if not body.strip():
        issues.append(SpecIssue(source, "body", "the fragment has no text"))
    if issues:
        raise SpecError(issues)
    return Fragment(
        name=data["name"],
        title=data["title"],
        body=body.strip(),
        source=source,
        acceptance=tuple(acceptance),
    )


def parse_skill(text: str, *, source: str) -> KnowledgeSkill:
    """Parse an Agent Skills `SKILL.md`; its name must match the folder it lives in."""
    data, body = split_front_matter(text, source)
    issues, bad = schema_issues(data, SKILL_SCHEMA, source)
    path = PurePath(source)
    name = data.get("name")
    folder = path.parent.name if path.name == "SKILL.md" else ""
    if usable(bad, "name") and folder and name != folder:
        message = f"skill name '{name}' does not match its folder '{folder}'"
        issues.append(SpecIssue(source, "name", message))
    if not body.strip():
        issues.append(SpecIssue(source, "body", "the skill has no instructions"))
    if issues:
        raise SpecError(issues)
    return KnowledgeSkill(
        name=data["name"], description=data["description"], body=body.strip(), source=source
    )
