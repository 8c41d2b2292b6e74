"""A Django form built from an SOP's output schema, for editing a result field by field.

Strings become text inputs (a textarea past 200 characters), enums choices, integers and numbers
bounded inputs, booleans checkboxes, an object of scalars (an email) one input per property,
arrays of strings one entry per line; anything richer (risks with their evidence) a JSON
textarea checked against its own sub-schema. The form only shapes and bounds the input: the
edited result is then verified in full by the approval path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from connectors.inputs import DEFAULT_LIMITS, InputRejected, json_loads_bounded
from salesops.services.result_view import humanize
from salesops.verify.verifier import schema_validator

LONG_TEXT = 200  # a string allowed to be longer than this is edited in a textarea
NESTED = "__"  # `email__subject`: a property of an object field
_NONE = ""  # the choice that stands for null


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    return {str(t) for t in kind} if isinstance(kind, list) else {str(kind)} if kind else set()


def _nullable(schema: Mapping[str, Any]) -> bool:
    return "null" in _types(schema) or None in (schema.get("enum") or [])


def _is_scalar(schema: Any) -> bool:
    return isinstance(schema, Mapping) and (
        "enum" in schema or bool(_types(schema) & {"string", "integer", "number", "boolean"})
    )


class ResultForm(forms.Form):
    """Edit a result by its output schema; `result()` gives the edited result once valid."""

    def __init__(
        self, *args: Any, schema: Mapping[str, Any], output: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.original = output if isinstance(output, dict) else {}
        self.result_fields: list[str] = []  # form field names, in schema order
        # field name -> turns the cleaned value back into JSON
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
        for key, sub in (props or {}).items():
            if not isinstance(sub, Mapping):
                continue
            nested = sub.get("properties")
            if (
                "object" in _types(sub)
                and isinstance(nested, Mapping)
                and nested
                and all(_is_scalar(s) for s in nested.values())
            ):
                inner_required = set(sub.get("required") or [])
                for inner, inner_sub in nested.items():
                    value = self.original.get(key)
                    self._add(
                        f"{key}{NESTED}{inner}",
                        inner_sub,
                        value.get(inner) if isinstance(value, dict) else None,
                        required=inner in inner_required,
                        label=f"{humanize(key)}: {humanize(inner)}",
                    )
            else:
                self._add(key, sub, self.original.get(key), required=key in required)

    def result(self) -> dict[str, Any]:
        """The edited result: the original with every form field's value put back as JSON."""
        assert hasattr(self, "cleaned_data"), "call is_valid() first"
        edited: dict[str, Any] = json.loads(json.dumps(self.original, default=str))
        for name in self.result_fields:
            value = self._decoders[name](self.cleaned_data.get(name))
            if NESTED in name:
                key, inner = name.split(NESTED, 1)
                target = edited.get(key)
                if not isinstance(target, dict):
                    target = edited[key] = {}
                target[inner] = value
            else:
                edited[name] = value
        return edited

    def _add(
        self, name: str, schema: Mapping[str, Any], value: Any, *, required: bool, label: str = ""
    ) -> None:
        label = label or str(schema.get("title") or humanize(name))
        help_text = str(schema.get("description") or "")
        field, initial, decode = _field(schema, value, required=required)
        field.label, field.help_text, field.initial = label, help_text, initial
        self.fields[name] = field
        self.result_fields.append(name)
        self._decoders[name] = decode


def _field(
    schema: Mapping[str, Any], value: Any, *, required: bool
) -> tuple[forms.Field, Any, Callable[[Any], Any]]:
    """(form field, its initial value, cleaned value -> JSON value) for one property."""
    types, nullable = _types(schema), _nullable(schema)
    required = required and not nullable
    if "enum" in schema:
        return _enum_field(schema, value, required=required, nullable=nullable)
    if types <= {"string", "null"} and "string" in types:
        return _string_field(schema, value, required=required, nullable=nullable)
    if types <= {"integer", "null"} and "integer" in types:
        bounds = _bounds(schema)
        return (
            forms.IntegerField(required=required, **bounds),
            value,
            lambda v: v,
        )
    if types <= {"number", "integer", "null"} and "number" in types:
        return forms.FloatField(required=required, **_bounds(schema)), value, lambda v: v
    if types <= {"boolean", "null"} and "boolean" in types:
        if nullable:
            return forms.NullBooleanField(required=False), value, lambda v: v
        return forms.BooleanField(required=False), bool(value), bool
    items = schema.get("items")
    strings = isinstance(items, Mapping) and _types(items) == {"string"} and "enum" not in items
    if types == {"array"} and strings:
        assert isinstance(items, Mapping)
        return _lines_field(schema, items, value, required=required)
    return _json_field(schema, value, required=required)


def _validator(schema: Mapping[str, Any]) -> Any:
    # The verifier's cached validator keys on the schema object: pass the spec's own dict.
    return schema_validator(schema if isinstance(schema, dict) else dict(schema))


def _bounds(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "min_value": schema.get("minimum"),
        "max_value": schema.get("maximum"),
    }


def _enum_field(
    schema: Mapping[str, Any], value: Any, *, required: bool, nullable: bool
) -> tuple[forms.Field, Any, Callable[[Any], Any]]:
    values = {str(v): v for v in schema["enum"] if v is not None}
    choices = [(k, k) for k in values]
    if nullable:
        choices.insert(0, (_NONE, "(none)"))
    field = forms.ChoiceField(choices=choices, required=required)
    initial = _NONE if value is None else str(value)
    return field, initial, lambda v: values.get(v) if v not in (None, _NONE) else None


def _string_field(
    schema: Mapping[str, Any], value: Any, *, required: bool, nullable: bool
) -> tuple[forms.Field, Any, Callable[[Any], Any]]:
    max_length, min_length = schema.get("maxLength"), schema.get("minLength")
    long = max_length is None or max_length > LONG_TEXT
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": 8 if (max_length or 0) > 600 or max_length is None else 3})
        if long
        else forms.TextInput(attrs={"size": min(max(int(max_length or 40), 20), 80)})
    )
    pattern = schema.get("pattern")
    validators = [RegexValidator(pattern, f"Must match {pattern}.")] if pattern else []
    field = forms.CharField(
        required=required,
        max_length=max_length,
        min_length=min_length,
        widget=widget,
        validators=validators,
    )
    return field, value, lambda v: None if nullable and not v else (v or "")


def _lines_field(
    schema: Mapping[str, Any], items: Mapping[str, Any], value: Any, *, required: bool
) -> tuple[forms.Field, Any, Callable[[Any], Any]]:
    def parse(text: Any) -> list[str]:
        return [line.strip() for line in str(text or "").splitlines() if line.strip()]

    def check(text: str) -> None:
        entries = parse(text)
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None and len(entries) < low:
            raise forms.ValidationError(f"Give at least {low} (one per line).")
        if high is not None and len(entries) > high:
            raise forms.ValidationError(f"Give at most {high} (one per line).")
        limit = items.get("maxLength")
        for number, entry in enumerate(entries, start=1):
            if limit is not None and len(entry) > limit:
                raise forms.ValidationError(f"Line {number} is longer than {limit} characters.")

    field = forms.CharField(
        required=required,
        widget=forms.Textarea(attrs={"rows": max(3, len(value or []) + 1)}),
        validators=[check],
    )
    initial = "\n".join(str(v) for v in value) if isinstance(value, list) else ""
    field.help_text = "One per line."
    return field, initial, parse


def _json_field(
    schema: Mapping[str, Any], value: Any, *, required: bool
) -> tuple[forms.Field, Any, Callable[[Any], Any]]:
    def parse(text: Any) -> Any:
        if text in (None, ""):
            return None
        return json_loads_bounded(str(text), DEFAULT_LIMITS)

    def check(text: str) -> None:
        try:
            parsed = parse(text)
        except InputRejected as exc:
            raise forms.ValidationError(f"{exc.reason}.") from None
        problems = [
            f"{error.json_path.replace('$', 'here', 1)}: {error.message}"
            for error in sorted(_validator(schema).iter_errors(parsed), key=lambda e: e.json_path)
        ]
        if problems:
            raise forms.ValidationError(problems[:10])

    field = forms.CharField(
        required=required,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "spellcheck": "false",
                "style": "font-family: monospace; width: 100%",
            }
        ),
        validators=[check],
    )
    initial = json.dumps(value, indent=2, ensure_ascii=False) if value is not None else ""
    return field, initial, parse
