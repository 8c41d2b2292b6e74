"""SOP versions: load the library, create and publish versions, resolve the spec a run uses."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.template import TemplateDoesNotExist

from salesops.models import Fragment, Sop, SopVersion
from salesops.services.rendering import text_engine
from salesops.skills.registry import OFFLINE_SKILLS, tool_skill_names
from salesops.specs import content_hash, load_library, parse_fragment, parse_skill, parse_sop
from salesops.specs.model import KnowledgeSkill, SopSpec, SpecError, SpecIssue


@dataclass
class LibraryLoadReport:
    """What `sop_library_load` did: versions created, SOPs unchanged, and every issue found."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    fragments_changed: list[str] = field(default_factory=list)
    issues: list[SpecIssue] = field(default_factory=list)


def library_dir() -> Path:
    return Path(settings.SALESOPS["LIBRARY_DIR"])


def template_exists(name: str) -> bool:
    try:
        text_engine().get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


_knowledge_lock = threading.Lock()
_knowledge_cache: dict[str, KnowledgeSkill] | None = None


def knowledge_skills_get() -> dict[str, KnowledgeSkill]:
    """The knowledge skills (SKILL.md) of the library, read once per process."""
    global _knowledge_cache
    with _knowledge_lock:
        if _knowledge_cache is None:
            skills: dict[str, KnowledgeSkill] = {}
            for path in sorted((library_dir() / "skills").glob("*/SKILL.md")):
                skill = parse_skill(path.read_text(), source=str(path))
                skills[skill.name] = skill
            _knowledge_cache = skills
        return _knowledge_cache


def _known_skills() -> set[str]:
    return set(tool_skill_names()) | set(knowledge_skills_get())


def sop_text_parse(text: str, *, source: str, fragments: dict[str, str]) -> SopSpec:
    """Parse and validate SOP text against the current skills, fragments and templates."""
    parsed_fragments = {
        name: parse_fragment(body, source=f"fragments/{name}.md")
        for name, body in fragments.items()
    }
    return parse_sop(
        text,
        source=source,
        fragments=parsed_fragments,
        known_skills=_known_skills(),
        offline_skills=set(OFFLINE_SKILLS),
        template_exists=template_exists,
    )


def _fragments_for(text: str, *, available: dict[str, str], source: str) -> dict[str, str]:
    """The fragment texts an SOP includes, read from its front matter before full validation."""
    import frontmatter
    import yaml

    try:
        meta = frontmatter.loads(text).metadata
    except (yaml.YAMLError, ValueError) as exc:
        raise SpecError([SpecIssue(source, "front matter", f"is not valid YAML: {exc}")]) from exc
    includes = meta.get("include") or []
    if not isinstance(includes, list):
        return {}
    return {
        name: available[name] for name in includes if isinstance(name, str) and name in available
    }


@transaction.atomic
def sop_version_create(
    *, sop_name: str, text: str, author: Any = None, source: str = "admin", publish: bool = False
) -> tuple[SopVersion, bool]:
    """Validate `text` and store it as a new version of `sop_name` (or return the identical one).

    Raises SpecError with every issue; nothing is stored then, and the published version stays.
    """
    available = {f.name: f.text for f in Fragment.objects.all()}
    fragments = _fragments_for(text, available=available, source=f"{sop_name}.md")
    spec = sop_text_parse(text, source=f"{sop_name}.md", fragments=fragments)
    if spec.name != sop_name:
        raise SpecError(
            [SpecIssue(f"{sop_name}.md", "name", f"is '{spec.name}', expected '{sop_name}'")]
        )
    digest = content_hash(text, fragments)
    sop, _ = Sop.objects.get_or_create(
        name=spec.name,
        defaults={"title": spec.title, "object_type": spec.object, "description": spec.description},
    )
    existing = sop.versions.filter(content_hash=digest).first()
    if existing:
        if publish and sop.published_version_id != existing.pk:
            sop_version_publish(version=existing)
        return existing, False
    last = sop.versions.order_by("-number").first()
    version = SopVersion.objects.create(
        sop=sop,
        number=(last.number + 1) if last else 1,
        text=text,
        fragments=fragments,
        content_hash=digest,
        author=author,
        source=source,
    )
    if publish:
        sop_version_publish(version=version)
    return version, True


@transaction.atomic
def sop_version_publish(*, version: SopVersion) -> SopVersion:
    """Make `version` the one new runs use. Earlier versions stay, for the audit trail."""
    spec = sop_spec_get(version)
    SopVersion.objects.filter(pk=version.pk).update(published=True)
    version.published = True
    Sop.objects.filter(pk=version.sop_id).update(
        published_version=version,
        title=spec.title,
        object_type=spec.object,
        description=spec.description,
    )
    return version


@transaction.atomic
def fragment_update(*, name: str, text: str, author: Any = None) -> list[SopVersion]:
    """Store a fragment and publish a new version of every SOP that includes it."""
    parse_fragment(text, source=f"fragments/{name}.md")
    digest = content_hash(text, {})
    fragment, created = Fragment.objects.get_or_create(
        name=name, defaults={"text": text, "content_hash": digest}
    )
    if not created and fragment.content_hash == digest:
        return []
    fragment.text, fragment.content_hash = text, digest
    fragment.save()
    upgraded = []
    for sop in Sop.objects.filter(published_version__isnull=False).select_related(
        "published_version"
    ):
        current = sop.published_version
        if name in current.fragments:
            version, made = sop_version_create(
                sop_name=sop.name, text=current.text, author=author, source="fragment", publish=True
            )
            if made:
                upgraded.append(version)
    return upgraded


def sop_library_load(*, root: Path | None = None) -> LibraryLoadReport:
    """Load fragments and SOPs from the library folder. Idempotent: a version only on change.

    A file with issues is reported and skipped; its previously published version stays active.
    """
    root = root or library_dir()
    report = LibraryLoadReport()
    library = load_library(
        root,
        known_tools=tool_skill_names(),
        offline_skills=set(OFFLINE_SKILLS),
        template_exists=template_exists,
    )
    report.issues.extend(library.issues)
    for name, _fragment in sorted(library.fragments.items()):
        path = root / "fragments" / f"{name}.md"
        if fragment_update(name=name, text=path.read_text()):
            report.fragments_changed.append(name)
    for name, loaded in sorted(library.sops.items()):
        try:
            version, created = sop_version_create(
                sop_name=name, text=loaded.text, source="library", publish=True
            )
        except SpecError as exc:
            report.issues.extend(exc.issues)
            continue
        (report.created if created else report.unchanged).append(f"{name} v{version.number}")
    return report


_spec_lock = threading.Lock()
_spec_cache: dict[tuple[int, str], SopSpec] = {}


def sop_spec_get(version: SopVersion) -> SopSpec:
    """The parsed spec of a stored version, compiled once per process (versions never change)."""
    key = (version.pk, version.content_hash)
    with _spec_lock:
        spec = _spec_cache.get(key)
    if spec is None:
        spec = sop_text_parse(
            version.text, source=f"{version.sop.name}.md", fragments=dict(version.fragments)
        )
        with _spec_lock:
            _spec_cache[key] = spec
    return spec


def sop_export(*, directory: Path, names: list[str] | None = None) -> list[Path]:
    """Write each SOP's published text (or latest version) to `<directory>/<name>.md`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    sops = Sop.objects.select_related("published_version").order_by("name")
    if names:
        sops = sops.filter(name__in=names)
    for sop in sops:
        version = sop.published_version or sop.versions.order_by("-number").first()
        if version is None:
            continue
        path = directory / f"{sop.name}.md"
        path.write_text(version.text)
        written.append(path)
    return written


def sop_specs_warm() -> int:
    """Compile every published SOP version into this process's cache; returns how many.

    Called before a worker cluster forks. A database that is not migrated yet is no error.
    """
    from django.db import DatabaseError

    try:
        versions = list(
            SopVersion.objects.filter(sop__published_version=models.F("pk")).select_related("sop")
        )
    except DatabaseError:
        return 0
    warmed = 0
    for version in versions:
        try:
            sop_spec_get(version)
            warmed += 1
        except SpecError:
            continue  # a run of it will fail with the reason; nothing to warm
    return warmed
