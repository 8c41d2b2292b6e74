"""Semantic checks of an SOP's front matter: references, events, fields, cron, expressions.

Runs after the shape check and skips any part that failed it, so one file yields every real
problem once, without follow-on noise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from croniter import croniter

from connectors.record_model import OBJECT_FIELDS, RELATIONS, event_names
from salesops.specs.cel_tree import suggest
from salesops.specs.document import format_path, usable
from salesops.specs.expressions import CelExpression, check_expression
from salesops.specs.model import Fragment, SpecIssue
from salesops.specs.scope import CelType, ExpressionScope, record_type

_SOP_TEMPLATE_VARS = CelType(
    "object",
    fields={"title": CelType("string"), "version": CelType("int"), "name": CelType("string")},
)


def _known(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"


class SopChecker:
    """Collects issues and compiled expressions (by field path) for one SOP's front matter."""

    def __init__(
        self,
        data: dict[str, Any],
        bad: set[tuple[Any, ...]],
        *,
        source: str,
        fragments: Mapping[str, Fragment],
        known_skills: Collection[str],
        offline_skills: Collection[str],
        template_exists: Callable[[str], bool] | None,
    ) -> None:
        self.data = data
        self.bad = bad
        self.source = source
        self.known_fragments = fragments
        self.known_skills = known_skills
        self.offline_skills = offline_skills
        self.template_exists = template_exists
        self.issues: list[SpecIssue] = []
        self.compiled: dict[str, CelExpression] = {}
        self.fragments: dict[str, Fragment] = {}
        self.object: str | None = data.get("object") if usable(bad, "object") else None
        self.output_ok = False
        # Scopes are set by run(); None while the object is unknown (expressions are skipped).
        self.before: ExpressionScope | None = None
        self.on_event: ExpressionScope | None = None
        self.full: ExpressionScope | None = None

    def issue(self, field: str, message: str) -> None:
        self.issues.append(SpecIssue(self.source, field, message))

    def items(self, key: str) -> list[tuple[int, Any]]:
        """The usable entries of a list-valued key, with their index."""
        if not usable(self.bad, key):
            return []
        return [(i, v) for i, v in enumerate(self.data.get(key, [])) if usable(self.bad, key, i)]

    def run(self) -> None:
        """Run every check."""
        self.check_output()
        obj = self.object
        output = self.data["output"] if self.output_ok else {}
        has_event = any("event" in t for _, t in self.items("triggers"))
        self.before = ExpressionScope.for_sop(obj) if obj else None
        self.on_event = ExpressionScope.for_sop(obj, event=True) if obj else None
        self.full = ExpressionScope.for_sop(obj, output, event=has_event) if obj else None
        if usable(self.bad, "applies_when") and "applies_when" in self.data:
            self.expr(self.data["applies_when"], "applies_when", self.before)
        self.check_names()
        self.check_triggers()
        self.check_evidence()
        self.check_checks()
        self.check_write_back()

    # --- expressions -----------------------------------------------------------------------
    def expr(
        self, text: str, field: str, scope: ExpressionScope | None, expect: str = "bool"
    ) -> CelExpression | None:
        if scope is None:  # the object is invalid; that is already reported
            return None
        compiled, problems = check_expression(text, scope, source=self.source, field=field)
        for problem in problems:
            self.issue(field, problem)
        if compiled is None:
            return None
        got = compiled.type
        if expect == "bool" and got.kind not in ("bool", "dyn"):
            self.issue(field, f"must be a true/false condition, but gives {got.describe()}")
        elif expect == "string" and got.kind not in ("string", "dyn", "null"):
            self.issue(field, f"must give a YYYY-MM-DD string, but gives {got.describe()}")
        self.compiled[field] = compiled
        return compiled

    # --- references ------------------------------------------------------------------------
    def check_output(self) -> None:
        if not usable(self.bad, "output"):
            return
        output = self.data["output"]
        from jsonschema import Draft202012Validator  # ~30 ms: not at every command's start-up

        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        errors = sorted(meta.iter_errors(output), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors:
            where = format_path(error.absolute_path)
            field = f"output.{where}" if where and not where.startswith("[") else f"output{where}"
            self.issue(field, f"not a valid JSON Schema: {error.message}")
        if output.get("type") != "object":
            self.issue("output", "the output schema must have `type: object`")
        self.output_ok = not errors and output.get("type") == "object"

    def check_names(self) -> None:
        for i, name in self.items("include"):
            if name in self.known_fragments:
                self.fragments[name] = self.known_fragments[name]
            else:
                self.issue(
                    f"include[{i}]",
                    f"unknown fragment '{name}'{suggest(name, self.known_fragments)}; "
                    f"known: {_known(self.known_fragments)}",
                )
        for i, skill in self.items("skills"):
            if skill not in self.known_skills:
                self.issue(
                    f"skills[{i}]",
                    f"unknown skill '{skill}'{suggest(skill, self.known_skills)}; "
                    f"known: {_known(self.known_skills)}",
                )
        offline = self.data.get("offline")
        if (
            usable(self.bad, "offline")
            and offline is not None
            and offline not in self.offline_skills
        ):
            self.issue(
                "offline",
                f"unknown offline skill '{offline}'{suggest(offline, self.offline_skills)}; "
                f"known: {_known(self.offline_skills)}",
            )
        if self.object:
            related = RELATIONS.get(self.object, {})
            for i, name in self.items("context"):
                if name != "recent_activities" and name not in related:
                    self.issue(
                        f"context[{i}]",
                        f"'{name}' is not available for {self.object} records "
                        f"(available: {_known([*related, 'recent_activities'])})",
                    )

    def check_triggers(self) -> None:
        obj = self.object
        for i, trigger in self.items("triggers"):
            at = f"triggers[{i}]"
            event, schedule = trigger.get("event"), trigger.get("schedule")
            if (event is None) == (schedule is None):
                self.issue(at, "a trigger needs exactly one of `event` or `schedule`")
            if event is not None:
                if obj:  # an invalid object is already reported; events cannot be judged
                    self.check_event(at, event, trigger.get("property"))
            elif "property" in trigger:
                self.issue(f"{at}.property", "`property` only goes with a property_changed event")
            if schedule is not None and (
                len(schedule.split()) != 5 or not croniter.is_valid(schedule)
            ):
                self.issue(
                    f"{at}.schedule",
                    f"'{schedule}' is not a valid 5-field cron expression "
                    "(minute hour day-of-month month day-of-week, UTC)",
                )
            if "where" in trigger:
                scope = self.on_event if event is not None else self.before
                self.expr(trigger["where"], f"{at}.where", scope)

    def check_event(self, at: str, event: str, prop: str | None) -> None:
        obj = self.object
        assert obj is not None
        valid = event_names(obj)
        if event not in valid:
            prefix, _, suffix = event.partition(".")
            if prefix in OBJECT_FIELDS and f"{obj}.{suffix}" in valid:
                message = f"event '{event}' is about {prefix} records, but this SOP is about {obj}"
            else:
                message = (
                    f"unknown event '{event}'{suggest(event, valid)}; expected one of "
                    + ", ".join(valid)
                )
            self.issue(f"{at}.event", message)
        if prop is None:
            return
        if event != f"{obj}.property_changed":
            self.issue(f"{at}.property", "`property` only goes with a property_changed event")
        elif prop not in OBJECT_FIELDS[obj]:
            self.issue(
                f"{at}.property",
                f"'{prop}' is not a field of {obj}{suggest(prop, OBJECT_FIELDS[obj])}",
            )

    def check_evidence(self) -> None:
        if not self.output_ok:
            return
        for i, path in self.items("evidence"):
            problem = _evidence_problem(self.data["output"], path)
            if problem:
                self.issue(f"evidence[{i}]", problem)

    def check_checks(self) -> None:
        seen: dict[str, str] = {}
        for key in ("acceptance", "escalate_when"):
            for i, item in self.items(key):
                at = f"{key}[{i}]"
                if item["id"] in seen:
                    self.issue(
                        f"{at}.id",
                        f"duplicate check id '{item['id']}' (first at {seen[item['id']]})",
                    )
                seen.setdefault(item["id"], at)
                if key == "escalate_when":
                    self.expr(item["when"], f"{at}.when", self.full)
                    continue
                if ("check" in item) == ("judge" in item):
                    self.issue(at, "an acceptance check needs exactly one of `check` or `judge`")
                if "check" in item:
                    self.expr(item["check"], f"{at}.check", self.full)

    # --- write-back ------------------------------------------------------------------------
    def check_write_back(self) -> None:
        for i, item in self.items("write_back"):
            ((kind, spec),) = item.items()
            at = f"write_back[{i}].{kind}"
            if "when" in spec:
                self.expr(spec["when"], f"{at}.when", self.full)
            template = spec.get("template")
            if template and self.template_exists and not self.template_exists(template):
                self.issue(f"{at}.template", f"template '{template}' not found")
            if kind == "set_property":
                self.check_set_property(at, spec)
            elif kind == "task":
                if "due_in_business_days" in spec and "due_date" in spec:
                    self.issue(at, "give `due_in_business_days` or `due_date`, not both")
                if "due_date" in spec:
                    self.expr(spec["due_date"], f"{at}.due_date", self.full, expect="string")
                self.check_template_text(f"{at}.subject", spec["subject"])

    def check_set_property(self, at: str, spec: Mapping[str, Any]) -> None:
        obj = self.object
        if obj is None:
            return
        name = spec["name"]
        fields = OBJECT_FIELDS[obj]
        value = self.expr(spec["value"], f"{at}.value", self.full, expect="any")
        if name not in fields:
            self.issue(f"{at}.name", f"'{name}' is not a field of {obj}{suggest(name, fields)}")
            return
        target = record_type(obj).fields[name]  # type: ignore[index]
        got = value.type if value is not None else None
        if got is not None and got.category not in ("dyn", "null", target.category):
            self.issue(
                f"{at}.value", f"gives {got.describe()}, but {name} holds {target.describe()}"
            )

    def check_template_text(self, field: str, text: str) -> None:
        """Catch misspelt `{{ record.x }}` in subjects: Django renders them as empty text."""
        if self.full is None:
            return
        variables = {**self.full.variables, "sop": _SOP_TEMPLATE_VARS, "run_url": CelType("string")}
        for ref in re.findall(r"\{\{\s*(.*?)\s*\}\}", text):
            path = ref.split("|")[0].strip()
            if not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", path):
                continue
            root, *parts = path.split(".")
            if root not in variables:
                self.issue(
                    field, f"{{{{ {path} }}}}: unknown variable '{root}'{suggest(root, variables)}"
                )
                continue
            current, seen = variables[root], root
            for part in parts:
                if current.kind == "list" and part.isdigit():
                    current = current.item or CelType("dyn")
                elif current.kind == "object" and current.fields is not None:
                    if part not in current.fields:
                        self.issue(
                            field,
                            f"{{{{ {path} }}}}: {seen} has no field '{part}'"
                            f"{suggest(part, current.fields)}",
                        )
                        break
                    current = current.fields[part]
                else:
                    break
                seen = f"{seen}.{part}"


def _evidence_problem(output: Mapping[str, Any], path: str) -> str | None:
    """Why `path` does not name an array in the output schema, or None when it does."""
    node: Any = output
    walked: list[str] = []
    for part in path.split("."):
        here = ".".join(walked) or "the output"
        if part == "*":
            if not isinstance(node, Mapping) or node.get("type") != "array":
                return f"'{path}': {here} is not an array, so '*' does not apply"
            node = node.get("items", {})
        else:
            if isinstance(node, Mapping) and node.get("type") == "array":
                return f"'{path}': {here} is an array; address its items with '*'"
            properties = node.get("properties", {}) if isinstance(node, Mapping) else {}
            if part not in properties:
                return f"'{path}': {here} has no property '{part}'{suggest(part, properties)}"
            node = properties[part]
        walked.append(part)
    if not isinstance(node, Mapping) or node.get("type") != "array":
        return f"'{path}' is not an array of evidence items in the output schema"
    return None
