"""Shared plumbing for Markdown files with YAML front matter: split, load, shape-check, sections."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from connectors.inputs import InputRejected, text_check
from salesops.specs.cel_tree import suggest
from salesops.specs.frontmatter_schema import PATTERN_HELP
from salesops.specs.model import SpecError, SpecIssue

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

FRONT_MATTER = "front_matter"
_FENCE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_EMPTY_FENCE = re.compile(r"\A\ufeff?---[ \t]*\r?\n---[ \t]*(?:\r?\n|\Z)")


# libyaml's parser when PyYAML was built with it (about 10x faster); construction stays safe.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]  # a base chosen at import
    """SafeLoader that refuses duplicate keys, which PyYAML would silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


# Bounds on SOP, fragment and skill text (docs/sop-format.md, "Limits"); the shipped files use
# 12,000 characters, nesting 10, 404 values and strings of 433 characters at most.
MAX_TEXT_CHARS = 100_000
MAX_YAML_DEPTH = 32
MAX_YAML_VALUES = 5_000  # keys and values, aliases counted as what they expand to
MAX_YAML_STRING = 10_000


def sop_text_check(text: str, *, source: str) -> None:
    """Refuse text too large or not storable (NUL, lone surrogates) before anything parses it."""
    try:
        text_check(text, max_length=MAX_TEXT_CHARS, where="the text")
    except InputRejected as exc:
        raise SpecError([SpecIssue(source, "text", exc.reason)]) from None


def _front_matter_problem(raw: str) -> str | None:
    """Why the YAML is too costly to load, from its event stream (linear; builds no tree).

    An alias counts as the values it stands for, so an alias bomb (each anchor repeating the
    previous one nine times) is refused here instead of exploding in what walks the data.
    """
    depth = values = 0
    deepest = [0]  # the deepest level reached, per open collection (index 0: the document)
    starts: list[tuple[str | None, int, int]] = []  # anchor, values and depth at its start
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, levels) it expands to
    for event in yaml.parse(raw, Loader=_SafeBase):
        if isinstance(event, yaml.AliasEvent):
            size, levels = sizes.get(event.anchor or "", (1, 0))
            values += size
            deepest[-1] = max(deepest[-1], depth + levels)
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if len(event.value) > MAX_YAML_STRING:
                return (
                    f"a value is {len(event.value)} characters long; the limit is {MAX_YAML_STRING}"
                )
            if event.anchor:
                sizes[event.anchor] = (1, 0)
        elif isinstance(event, yaml.CollectionStartEvent):
            values += 1
            depth += 1
            starts.append((event.anchor, values, depth))
            deepest.append(depth)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start, level = starts.pop()
            inner = deepest.pop()
            deepest[-1] = max(deepest[-1], inner)
            if anchor:
                sizes[anchor] = (values - start + 1, inner - level + 1)
            depth -= 1
        if values > MAX_YAML_VALUES:
            return f"the front matter has more than {MAX_YAML_VALUES} values (aliases expanded)"
        if max(deepest) > MAX_YAML_DEPTH:
            return f"the front matter is nested deeper than {MAX_YAML_DEPTH} levels"
    return None


def _yaml_issue(exc: Exception, source: str) -> SpecError:
    mark = getattr(exc, "problem_mark", None)
    # +2: marks are 0-based and the opening '---' is line 1 of the file.
    where = f" at line {mark.line + 2}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return SpecError([SpecIssue(source, FRONT_MATTER, f"invalid YAML{where}: {problem}")])


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body); raise SpecError for missing front matter or bad YAML.

    The text is bounded first (size, encoding, YAML nesting and expanded values).
    """
    sop_text_check(text, source=source)
    empty = _EMPTY_FENCE.match(text)
    match = empty or _FENCE.match(text)
    if match is None:
        raise SpecError(
            [
                SpecIssue(
                    source, FRONT_MATTER, "missing YAML front matter (a '---' block at the top)"
                )
            ]
        )
    raw = "" if empty else match.group(1)
    try:
        problem = _front_matter_problem(raw)
    except yaml.YAMLError as exc:
        raise _yaml_issue(exc, source) from exc
    if problem:
        raise SpecError([SpecIssue(source, FRONT_MATTER, problem)])
    try:
        data = yaml.load(raw, Loader=_StrictLoader)  # a SafeLoader subclass
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        # ValueError: a scalar its constructor refuses (2024-02-30, a 5,000-digit integer).
        raise _yaml_issue(exc, source) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([SpecIssue(source, FRONT_MATTER, "front matter must be a YAML mapping")])
    body = text[match.end() :].lstrip("\r\n")
    return data, body


def format_path(path: Iterable[Any]) -> str:
    """["acceptance", 2, "check"] -> "acceptance[2].check"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def join_path(base: str, key: str) -> str:
    """Dotted child path; the empty base is the front matter itself."""
    return f"{base}.{key}" if base else key


def _schema_messages(error: ValidationError) -> list[tuple[str, str]]:
    path = format_path(error.absolute_path)
    instance, expected = error.instance, error.validator_value
    match error.validator:
        case "additionalProperties":
            known = list(error.schema.get("properties", {}))
            extra = [k for k in instance if k not in known] if isinstance(instance, dict) else []
            return [
                (join_path(path, k), f"unknown key '{k}'{suggest(str(k), known)}") for k in extra
            ]
        case "required":
            missing = [k for k in expected if isinstance(instance, dict) and k not in instance]
            return [(join_path(path, k), "required key is missing") for k in missing]
        case "enum":
            choices = ", ".join(str(c) for c in expected)
            return [(path, f"{instance!r} is not one of: {choices}")]
        case "pattern" if expected in PATTERN_HELP:
            return [(path, f"{instance!r} is not valid: use {PATTERN_HELP[expected]}")]
        case "type":
            return [(path, f"must be {expected}, got {type(instance).__name__}")]
        case "minProperties" | "maxProperties" if path.startswith("write_back"):
            return [(path, "each write_back entry is exactly one of set_property, note, task")]
        case _:
            return [(path, error.message)]


def schema_issues(
    data: Any, schema: Mapping[str, Any], source: str
) -> tuple[list[SpecIssue], set[tuple[Any, ...]]]:
    """Shape problems as issues, plus the (at most two-part) paths they make unusable."""
    issues: list[SpecIssue] = []
    bad: set[tuple[Any, ...]] = set()
    # Imported on first use: jsonschema costs ~30 ms, which every command would pay at start-up.
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(data)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        for field, message in _schema_messages(error):
            issues.append(SpecIssue(source, field or FRONT_MATTER, message))
        paths = [tuple(error.absolute_path)]
        if error.validator == "required" and isinstance(error.instance, dict):
            # A missing key is unusable too, so later checks do not trip over its absence.
            paths = [(*paths[0], key) for key in error.validator_value if key not in error.instance]
        bad.update(path[:2] for path in paths if path)
    return issues, bad


def usable(bad: set[tuple[Any, ...]], *path: Any) -> bool:
    """False when a shape error sits at `path` or above it."""
    return not any(path[: len(p)] == p for p in bad)


def section_key(heading: str) -> str:
    """ "What good looks like" -> "what_good_looks_like"."""
    return re.sub(r"[^a-z0-9]+", "_", heading.strip().lower()).strip("_")


def split_sections(body: str) -> dict[str, str]:
    """`## Heading` sections of a Markdown body (code fences respected) -> key -> text."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if heading:
            current = sections.setdefault(section_key(heading.group(1)), [])
        elif current is not None:
            current.append(line)
    return {key: "\n".join(lines).strip() for key, lines in sections.items()}


def missing_sections(
    sections: Mapping[str, str], required: Sequence[str], source: str
) -> list[SpecIssue]:
    """Issues for required sections that are absent or empty."""
    issues = []
    for title in required:
        key = section_key(title)
        if key not in sections:
            issues.append(SpecIssue(source, "body", f"missing required section '## {title}'"))
        elif not sections[key]:
            issues.append(SpecIssue(source, "body", f"section '## {title}' is empty"))
    return issues
