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
from salesops.specs import (
    content_hash,
    load_library,
    parse_fragment,
    parse_skill,
    parse_sop,
    sop_text_normalize,
)
from salesops.specs.document import split_front_matter
from salesops.specs.model import KnowledgeSkill, SopSpec, SpecError, SpecIssue


@dataclass(frozen=True)
class SopLoadOutcome:
    """What loading one SOP file did (see `sop_library_load` for the states)."""

    name: str
    state: str  # "published" | "draft" | "kept" | "unchanged"
    version: int | None  # the library text's version; None when no stored version holds it
    created: bool = False
    active: int | None = None  # the version new runs use after the load
    # The version a manager published since the last load: it stays active ("draft", "kept")
    # or `publish=True` replaced it ("published").
    manager_version: int | None = None
    manager_source: str = ""  # where its text was published: "admin", "api", ...
    manager_text_version: int | None = None  # the version that text came from (fragment upgrades)
    version_was_published: bool = False  # for "kept": the library's version was active once


@dataclass(frozen=True)
class FragmentLoadOutcome:
    """What loading one fragment file did: "new", "changed", "conflict", "kept", "unchanged"."""

    name: str
    state: str
    upgraded: tuple[str, ...] = ()  # "<sop> v<n>" of every includer upgraded


@dataclass
class LibraryLoadReport:
    """What `sop_library_load` did for each SOP and fragment, and every issue found."""

    sops: list[SopLoadOutcome] = field(default_factory=list)
    fragments: list[FragmentLoadOutcome] = field(default_factory=list)
    issues: list[SpecIssue] = field(default_factory=list)

    def sops_in(self, state: str) -> list[SopLoadOutcome]:
        return [o for o in self.sops if o.state == state]


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
    """The fragment texts an SOP includes, read from its front matter before full validation.

    The same bounded reader as the parser: text and YAML limits hold before anything is built.
    """
    meta, _body = split_front_matter(text, source)
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
    text = sop_text_normalize(text)
    available = {f.name: sop_text_normalize(f.text) for f in Fragment.objects.all()}
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
    # The spec was just parsed from this very text: spare sop_spec_get a second parse. The key
    # carries the hash, so a rolled-back pk reused for other text cannot hit this entry.
    with _spec_lock:
        _spec_cache[(version.pk, version.content_hash)] = spec
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
    """Store a fragment and publish a new version of every SOP that includes it.

    Each upgrade is built from the SOP's published text, so a manager's SOP edit is kept.
    """
    text = sop_text_normalize(text)
    parse_fragment(text, source=f"fragments/{name}.md")
    digest = content_hash(text, {})
    fragment, created = Fragment.objects.get_or_create(
        name=name, defaults={"text": text, "content_hash": digest}
    )
    # Recomputed: rows stored before normalisation carry a hash of the raw text.
    if not created and content_hash(fragment.text, {}) == digest:
        return []
    fragment.text, fragment.content_hash = text, digest
    fragment.save()
    upgraded = []
    for sop in Sop.objects.filter(published_version__isnull=False).select_related(
        "published_version"
    ):
        current = sop.published_version
        assert current is not None  # filtered on published_version__isnull=False
        if name in current.fragments:
            version, made = sop_version_create(
                sop_name=sop.name, text=current.text, author=author, source="fragment", publish=True
            )
            if made:
                upgraded.append(version)
    return upgraded


def _text_hash(text: str) -> str:
    return content_hash(text, {})


def _library_hash(sop: Sop) -> str | None:
    """What the library last delivered for `sop`; before tracking, its latest library version."""
    if sop.library_hash:
        return sop.library_hash
    last = sop.versions.filter(source="library").order_by("-number").first()
    return _text_hash(last.text) if last else None


def _text_origin(version: SopVersion) -> SopVersion:
    """The version whose text `version` carries: itself, or where its fragment upgrades began."""
    if version.source != "fragment":
        return version
    earlier = version.sop.versions.filter(text=version.text).exclude(source="fragment")
    return earlier.order_by("number").first() or version


@transaction.atomic
def _sop_from_library(*, name: str, text: str, publish: bool) -> SopLoadOutcome:
    file_hash = _text_hash(text)
    sop = Sop.objects.select_related("published_version").filter(name=name).first()
    active = sop.published_version if sop else None
    if sop is None or active is None:
        version, created = sop_version_create(
            sop_name=name, text=text, source="library", publish=True
        )
        Sop.objects.filter(name=name).update(library_hash=file_hash)
        return SopLoadOutcome(name, "published", version.number, created, active=version.number)
    last = _library_hash(sop)
    Sop.objects.filter(pk=sop.pk).update(library_hash=file_hash)
    if _text_hash(active.text) == file_hash:
        return SopLoadOutcome(name, "unchanged", active.number, active=active.number)
    # Not what the library last delivered: a manager published this text since that load.
    manager_edit = _text_hash(active.text) != last
    origin = _text_origin(active)
    mine: dict[str, Any] = {
        "manager_version": active.number,
        "manager_source": origin.source,
        "manager_text_version": origin.number,
    }
    if publish or not manager_edit:
        version, created = sop_version_create(
            sop_name=name, text=text, source="library", publish=True
        )
        replaced = mine if manager_edit else {}
        return SopLoadOutcome(
            name, "published", version.number, created, version.number, **replaced
        )
    if file_hash != last:
        version, created = sop_version_create(sop_name=name, text=text, source="library")
        return SopLoadOutcome(name, "draft", version.number, created, active.number, **mine)
    # The file did not change since the load that stored its version: only remind.
    stored = sop.versions.filter(text=text).order_by("-number").first()
    return SopLoadOutcome(
        name,
        "kept",
        stored.number if stored else None,
        active=active.number,
        version_was_published=bool(stored and stored.published),
        **mine,
    )


@transaction.atomic
def _fragment_from_library(*, name: str, text: str, publish: bool) -> FragmentLoadOutcome:
    file_hash = _text_hash(text)
    fragment = Fragment.objects.filter(name=name).first()
    current = _text_hash(fragment.text) if fragment else None
    last = (fragment.library_hash or None) if fragment else None
    if current == file_hash:
        Fragment.objects.filter(name=name).update(library_hash=file_hash)
        return FragmentLoadOutcome(name, "unchanged")
    # Before tracking (no hash yet) a differing text may be an admin edit: keep it, and say so.
    admin_edit = fragment is not None and current != last
    if admin_edit and not publish:
        # A conflict is not remembered: the library's text is stored nowhere, so warn each load.
        return FragmentLoadOutcome(name, "conflict" if file_hash != last else "kept")
    upgraded = fragment_update(name=name, text=text)
    Fragment.objects.filter(name=name).update(library_hash=file_hash)
    state = "new" if fragment is None else "changed"
    return FragmentLoadOutcome(name, state, tuple(str(v) for v in upgraded))


def sop_library_load(*, root: Path | None = None, publish: bool = False) -> LibraryLoadReport:
    """Load fragments and SOPs from the library folder; a file counts only when it changed.

    A changed file is published unless a manager published another text since the last load;
    then it is stored as a draft ("draft"), or made active anyway with `publish=True`. An
    unchanged file beside a manager's version changes nothing ("kept"). A file with issues is
    reported and skipped; its previously published version stays active.
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
    for name in sorted(library.fragments):
        text = library.fragment_texts[name]
        report.fragments.append(_fragment_from_library(name=name, text=text, publish=publish))
    for name, loaded in sorted(library.sops.items()):
        try:
            report.sops.append(_sop_from_library(name=name, text=loaded.text, publish=publish))
        except SpecError as exc:
            report.issues.extend(exc.issues)
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
