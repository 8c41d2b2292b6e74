"""What changed between two SOP versions: a unified text diff and plain-language sentences."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from salesops.specs.model import SopSpec
from salesops.specs.normalize import sop_text_normalize


def diff_sop(old_text: str, new_text: str, *, old_label: str, new_label: str) -> str:
    """Unified diff of two normalised SOP texts ("" when they are equal).

    Normalising here too keeps versions stored with CRLF before normalisation diffing cleanly.
    """
    # Split on "\n" only: splitlines() would also break at form feeds and Unicode separators.
    old_lines = [line + "\n" for line in sop_text_normalize(old_text).split("\n")[:-1]]
    new_lines = [line + "\n" for line in sop_text_normalize(new_text).split("\n")[:-1]]
    return "".join(difflib.unified_diff(old_lines, new_lines, fromfile=old_label, tofile=new_label))


def _by_key(
    old: Sequence[Any], new: Sequence[Any], key: Callable[[Any], str], what: str
) -> list[str]:
    before = {key(item): item for item in old}
    after = {key(item): item for item in new}
    out = [f"{what} '{k}' removed" for k in before if k not in after]
    out += [f"{what} '{k}' added" for k in after if k not in before]
    out += [f"{what} '{k}' changed" for k in after if k in before and before[k] != after[k]]
    return out


def _set_change(old: Sequence[str], new: Sequence[str], what: str) -> list[str]:
    out = [f"{what} '{name}' removed" for name in old if name not in new]
    return out + [f"{what} '{name}' added" for name in new if name not in old]


def _schema_changes(old: Any, new: Any, path: str) -> list[str]:
    if old == new:
        return []
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return [f"{path} changed"]
    out: list[str] = []
    changed_keys = []
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if (
            key in ("properties", "$defs")
            and isinstance(a or {}, Mapping)
            and isinstance(b or {}, Mapping)
        ):
            a, b = a or {}, b or {}
            for name in dict.fromkeys([*a, *b]):
                child = f"{path}.{key}.{name}"
                if name not in a:
                    out.append(f"{child} added")
                elif name not in b:
                    out.append(f"{child} removed")
                else:
                    out += _schema_changes(a[name], b[name], child)
        elif key == "items" and isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _schema_changes(a, b, f"{path}.items")
        else:
            changed_keys.append(key)
    if changed_keys:
        out.insert(0, f"{path} changed ({', '.join(changed_keys)})")
    return out


def _trigger_label(trigger: Mapping[str, Any]) -> str:
    if "schedule" in trigger:
        return f"schedule {trigger['schedule']}"
    prop = f" ({trigger['property']})" if trigger.get("property") else ""
    return f"{trigger.get('event')}{prop}"


def _write_label(item: Mapping[str, Any]) -> str:
    ((kind, spec),) = item.items()
    detail = spec.get("name") or spec.get("subject") or spec.get("template") or ""
    return f"{kind} {detail}".strip()


def diff_summary(old: SopSpec, new: SopSpec) -> list[str]:
    """Plain sentences describing what changed, e.g. "acceptance check 'x' added"."""
    out: list[str] = []
    old_fm, new_fm = old.front_matter, new.front_matter
    for key in ("name", "title", "description", "object", "offline", "applies_when"):
        if old_fm.get(key) != new_fm.get(key):
            out.append(f"{key.replace('_', ' ')} changed")
    out += _by_key(
        old_fm.get("triggers", []), new_fm.get("triggers", []), _trigger_label, "trigger"
    )
    out += _set_change(old.context, new.context, "context")
    out += _set_change(old.skills, new.skills, "skill")
    out += _set_change(old.includes, new.includes, "fragment")
    old_fragments = {f.name: f for f in old.fragments}
    for fragment in new.fragments:
        previous = old_fragments.get(fragment.name)
        if previous is not None and (previous.title, previous.body) != (
            fragment.title,
            fragment.body,
        ):
            out.append(f"fragment '{fragment.name}' changed")
    out += _schema_changes(old.output, new.output, "output")
    out += _set_change(old.evidence, new.evidence, "evidence path")
    id_of: Callable[[Any], str] = lambda item: str(item.get("id"))  # noqa: E731
    out += _by_key(
        old_fm.get("acceptance", []), new_fm.get("acceptance", []), id_of, "acceptance check"
    )
    out += _by_key(
        old_fm.get("escalate_when", []), new_fm.get("escalate_when", []), id_of, "escalation"
    )
    out += _by_key(
        old_fm.get("write_back", []), new_fm.get("write_back", []), _write_label, "write-back"
    )
    if old.model != new.model:
        changes = [
            f"{name} {getattr(old.model, name)} -> {getattr(new.model, name)}"
            for name in old.model.__dataclass_fields__
            if getattr(old.model, name) != getattr(new.model, name)
        ]
        out.append(f"model policy changed ({', '.join(changes)})")
    for key in dict.fromkeys([*old.sections, *new.sections]):
        label = key.replace("_", " ")
        if key not in old.sections:
            out.append(f"{label} section added")
        elif key not in new.sections:
            out.append(f"{label} section removed")
        elif old.sections[key] != new.sections[key]:
            out.append(f"{label} section edited")
    return out
