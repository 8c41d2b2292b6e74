"""Salesforce Ids and values for the emulator: 18-character Ids with their checksum, and field
values between the REST API's JSON and the store's Python types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.emulators.salesforce_model import KEY_PREFIX, NUMBER_TYPES, PREFIX_TYPE, FieldDef

_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def id_checksum(id15: str) -> str:
    """The 3-character case-safe suffix that turns a 15-character Id into 18."""
    out = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out += _CHECKSUM[bits]
    return out


def make_id(sobject: str, serial: int, pod: str = "5g") -> str:
    """An 18-character Id: key prefix, pod, a base-62 serial, checksum."""
    digits = ""
    n = serial
    while n:
        n, r = divmod(n, 62)
        digits = _BASE62[r] + digits
    id15 = KEY_PREFIX[sobject] + pod + digits.rjust(10, "0")
    return id15 + id_checksum(id15)


def normalize_id(value: str) -> str | None:
    """An 18-character Id from a 15- or 18-character one; None when not an Id's shape."""
    if len(value) not in (15, 18) or not value.isalnum() or not value.isascii():
        return None
    id15 = value[:15]
    if len(value) == 18 and value[15:].upper() != id_checksum(id15):
        return None
    return id15 + id_checksum(id15)


def type_of_id(value: str) -> str | None:
    """The sObject an Id belongs to, by its key prefix."""
    return PREFIX_TYPE.get(value[:3])


def dt_text(value: datetime) -> str:
    """A datetime as the REST API writes it: 2024-01-31T09:30:00.000+0000."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_datetime(text: str) -> datetime:
    """Salesforce datetimes: 2024-01-31T09:30:00Z, .000+0000, +00:00 (a space from an unescaped
    plus in a query string is read as '+')."""
    text = text.strip().replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a time zone: {text}")
    return parsed.astimezone(UTC)


def value_json(value: Any, type_: str) -> Any:
    """A stored value as the REST API renders it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return dt_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if type_ in ("double", "currency", "percent") and isinstance(value, int | float):
        return float(value)
    return value


def value_parse(value: Any, fdef: FieldDef) -> Any:
    """A JSON value for a field, as stored; raises ValueError like Salesforce's JSON parser."""
    if value is None:
        return None
    kind = fdef.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"Cannot deserialize instance of boolean from {value!r}")
    if kind in NUMBER_TYPES:
        if isinstance(value, bool):
            raise ValueError(f"Cannot deserialize instance of {kind} from {value!r}")
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, int | float):
            raise ValueError(f"Cannot deserialize instance of {kind} from {value!r}")
        return int(number) if kind == "int" else float(number)
    if not isinstance(value, str):
        if kind in ("string", "textarea", "anyType"):
            return str(value)
        raise ValueError(f"Cannot deserialize instance of {kind} from {value!r}")
    if kind == "date":
        return date.fromisoformat(value[:10])
    if kind == "datetime":
        return parse_datetime(value)
    if kind in ("id", "reference"):
        norm = normalize_id(value) if value else None
        if norm is None:
            raise ValueError(f"invalid id: {value}")
        return norm
    return value
