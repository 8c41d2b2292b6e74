"""Static types for CEL expressions: what `record`, `result`, `event`, `now`, `today` look like.

Types are deliberately coarse: enough to reject `record.emploees`, `result.tierr` or comparing a
number to a string, not a full CEL type system. Every field may be null at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.record_model import (
    ACTIVITY_FIELDS,
    DERIVED_FIELDS,
    OBJECT_FIELDS,
    RELATIONS,
)

# Kinds: string, int, double, bool, null, timestamp, duration, list, object, dyn.
# Record timestamps and dates are ISO strings inside expressions (docs/sop-format.md), so they are
# typed as strings; `timestamp` is only what `timestamp(...)` returns.


@dataclass
class CelType:
    """A coarse static type. `fields` for objects, `item` for lists, `enum` for known strings."""

    kind: str
    fields: dict[str, CelType] | None = None
    item: CelType | None = None
    enum: tuple[Any, ...] | None = None

    @property
    def category(self) -> str:
        """Kinds that compare with each other share a category (int and double are numbers)."""
        return "number" if self.kind in ("int", "double") else self.kind

    def describe(self) -> str:
        """Short human name of the type, for error messages."""
        if self.kind == "list" and self.item is not None and self.item.kind != "dyn":
            return f"list of {self.item.describe()}"
        return "map" if self.kind == "object" else self.kind


DYN = CelType("dyn")
STRING = CelType("string")
INT = CelType("int")
DOUBLE = CelType("double")
BOOL = CelType("bool")
NULL = CelType("null")

_FIELD_KINDS = {
    "string": "string",
    "int": "int",
    "double": "double",
    "bool": "bool",
    "timestamp": "string",
    "date": "string",
}


def _object(fields: Mapping[str, str]) -> dict[str, CelType]:
    return {name: CelType(_FIELD_KINDS[kind]) for name, kind in fields.items()}


def related_type(object_type: str) -> CelType:
    """A related record inside the record document: its neutral properties plus `id`."""
    fields = _object(OBJECT_FIELDS[object_type])
    fields["id"] = CelType("string")
    return CelType("object", fields=fields)


def record_type(object_type: str) -> CelType:
    """The record document of `object_type` (see record_model.py)."""
    fields = _object(OBJECT_FIELDS[object_type])
    fields.update(_object(DERIVED_FIELDS.get(object_type, {})))
    fields["id"] = CelType("string")
    fields["object"] = CelType("string")
    for name, (related, many) in RELATIONS.get(object_type, {}).items():
        single = related_type(related)
        fields[name] = CelType("list", item=single) if many else single
    fields["activities"] = CelType("list", item=CelType("object", fields=_object(ACTIVITY_FIELDS)))
    # Marked by the injection guard: {path, text, asks: [{kind, value}]} per finding.
    marked = {"path": STRING, "text": STRING, "asks": CelType("list", item=DYN)}
    fields["untrusted_instructions"] = CelType("list", item=CelType("object", fields=marked))
    return CelType("object", fields=fields)


_SCHEMA_KINDS = {
    "string": "string",
    "integer": "int",
    "number": "double",
    "boolean": "bool",
    "null": "null",
    "array": "list",
    "object": "object",
}


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else "dyn"


def schema_type(schema: Any) -> CelType:
    """Static type of values valid under a JSON Schema; unknown shapes become `dyn`."""
    if not isinstance(schema, Mapping):
        return DYN
    enum = schema.get("enum")
    if "const" in schema:
        enum = [schema["const"]]
    declared = schema.get("type")
    if isinstance(declared, list):
        # ["string", "null"]: the value may be null anyway, so the non-null type is what counts.
        non_null = [t for t in declared if t != "null"]
        declared = non_null[0] if len(non_null) == 1 else None
    if declared is None and isinstance(enum, list) and enum:
        kinds = {_literal_kind(v) for v in enum if v is not None}
        declared = {
            "string": "string",
            "int": "integer",
            "double": "number",
            "bool": "boolean",
        }.get(next(iter(kinds)) if len(kinds) == 1 else "")
    if declared is None:
        for key in ("anyOf", "oneOf"):
            options = [
                o
                for o in schema.get(key, [])
                if not (isinstance(o, Mapping) and o.get("type") == "null")
            ]
            if len(options) == 1:
                return schema_type(options[0])
        return DYN
    kind = _SCHEMA_KINDS.get(declared, "dyn")
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return CelType("object")  # open map: any key
        return CelType("object", fields={k: schema_type(v) for k, v in properties.items()})
    if kind == "list":
        return CelType("list", item=schema_type(schema.get("items")))
    values = tuple(v for v in enum if v is not None) if isinstance(enum, list) else None
    return CelType(kind, enum=values if kind == "string" else None)


# `texts`: every free-text string of the result (salesops/verify/texts.py), as {path, text}, so
# company-wide rules can say `!texts.exists(t, mentions_pricing(t.text))` for any SOP's output.
TEXTS_TYPE = CelType(
    "list", item=CelType("object", fields={"path": CelType("string"), "text": CelType("string")})
)

EVENT_TYPE = CelType(
    "object", fields={"name": CelType("string"), "property": CelType("string"), "value": DYN}
)


@dataclass(frozen=True)
class ExpressionScope:
    """The variables an expression may use and their static types."""

    variables: Mapping[str, CelType] = field(default_factory=dict)

    @classmethod
    def for_sop(
        cls,
        object_type: str,
        output: Mapping[str, Any] | None = None,
        *,
        event: bool = False,
    ) -> ExpressionScope:
        """Scope for an SOP on `object_type`; `result` and `texts` only when `output` is given."""
        variables: dict[str, CelType] = {
            "record": record_type(object_type),
            "now": CelType("string"),
            "today": CelType("string"),
        }
        if output is not None:
            variables["result"] = schema_type(output)
            variables["texts"] = TEXTS_TYPE
        if event:
            variables["event"] = EVENT_TYPE
        return cls(variables=variables)
