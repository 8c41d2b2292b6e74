"""Neutral <-> HubSpot property names and values (SALES.md section 1), deal stages through the
pipelines API, and the portal's owners.

HubSpot sends every value as text: numbers ("72000", "0.6"), booleans ("true"/"false"),
datetimes as ISO-8601 or epoch milliseconds, dates as "YYYY-MM-DD" or a midnight datetime.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from connectors.base import PermanentCRMError
from connectors.record_model import OBJECT_FIELDS
from connectors.vocabulary import VOCABULARY, value_to_neutral, value_to_vendor

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient

ValueMapping = Mapping[str, Mapping[str, str]]

OBJECTS: dict[str, str] = {"contact": "contacts", "company": "companies", "deal": "deals"}
NEUTRAL_OF: dict[str, str] = {v: k for k, v in OBJECTS.items()}
# The idempotency key property on notes and tasks: unique, so batch upsert can use it.
SALESOPS_KEY = "salesops_key"
SALESOPS_GROUP = "salesops"
LAST_MODIFIED = "hs_lastmodifieddate"

_COMMON = {
    "owner": "hubspot_owner_id",
    "last_activity_at": "notes_last_updated",
    "created_at": "createdate",
}
NAMES: dict[str, dict[str, str]] = {
    "contact": {
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "phone": "phone",
        "job_title": "jobtitle",
        "lifecycle_stage": "lifecyclestage",
        "lead_status": "hs_lead_status",
        "lead_source": "lead_source",
        "email_opt_out": "hs_email_optout",
        "country": "country",
        "ai_score": "ai_score",
        "ai_tier": "ai_tier",
        **_COMMON,
    },
    "company": {
        "name": "name",
        "domain": "domain",
        "industry": "industry",
        "employees": "numberofemployees",
        "annual_revenue": "annualrevenue",
        "country": "country",
        "customer_status": "customer_status",
        **_COMMON,
    },
    "deal": {
        "name": "dealname",
        "amount": "amount",
        "currency": "deal_currency_code",
        "stage": "dealstage",
        "close_date": "closedate",
        "forecast_category": "hs_manual_forecast_category",
        "next_step": "hs_next_step",
        "probability": "hs_deal_stage_probability",
        **_COMMON,
        "ai_health": "ai_health",
    },
}
# Neutral fields computed from property history, not stored in a property.
FROM_HISTORY: dict[str, dict[str, str]] = {
    "deal": {"stage_entered_at": "dealstage", "close_date_changes": "closedate"}
}
READ_ONLY = frozenset({"created_at", "last_activity_at", "stage_entered_at", "close_date_changes"})
FORECAST = {
    "OMIT": "omitted",
    "PIPELINE": "pipeline",
    "BEST_CASE": "best_case",
    "COMMIT": "commit",
    "CLOSED": "closed",
}
# What provisioning creates: the ai_* output properties, by object type.
AI_PROPERTIES: dict[str, list[str]] = {
    ot: [n for n in fields if n.startswith("ai_")] for ot, fields in OBJECT_FIELDS.items()
}


def vendor_names(object_type: str) -> list[str]:
    """The HubSpot properties a read asks for (pipeline too, for deal stages)."""
    names = sorted(set(NAMES[object_type].values()) | {LAST_MODIFIED})
    return [*names, "pipeline"] if object_type == "deal" else names


def parse_moment(value: Any) -> datetime | None:
    """A HubSpot datetime (ISO-8601, date or epoch ms) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """A datetime as HubSpot's search filters take it."""
    return round(moment.timestamp() * 1000)


def value_from_hubspot(kind: str, value: Any) -> Any:
    """A HubSpot text value as the neutral field type; bad text is None, never an error."""
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(float(value))
        if kind == "double":
            return float(value)
        if kind == "bool":
            return str(value).lower() == "true"
        if kind == "timestamp":
            return parse_moment(value)
        if kind == "date":
            moment = parse_moment(value)
            return moment.date() if moment else None
    except (TypeError, ValueError):
        return None
    return str(value)


def value_to_hubspot(kind: str, value: Any, where: str) -> str:
    """A neutral value as the text HubSpot stores; PermanentCRMError for a wrong type."""
    if value is None:
        return ""
    ok = True
    if kind == "bool":
        ok = isinstance(value, bool)
        text = str(value).lower()
    elif kind in ("int", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (kind == "double" or float(value).is_integer())
        text = str(int(value)) if ok and float(value).is_integer() else str(value)
    elif kind == "date":
        ok = isinstance(value, date | str)
        text = value.isoformat()[:10] if isinstance(value, date) else str(value)[:10]
        if ok and isinstance(value, str):
            ok = _iso_ok(value, date)
    elif kind == "timestamp":
        ok = isinstance(value, datetime) or (isinstance(value, str) and _iso_ok(value, datetime))
        text = value.isoformat() if isinstance(value, datetime) else str(value)
    else:
        ok = isinstance(value, str)
        text = str(value)
    if not ok:
        raise PermanentCRMError(f"{where}: expected {kind}, got {value!r}")
    return text


def _iso_ok(text: str, typ: type[date]) -> bool:
    try:
        typ.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class StageMap:
    """Deal stages of the portal's pipelines: stage id -> neutral stage, and back.

    A stage maps through the connection's `mapping` (by stage id, then by label), then by its
    label loosely ("Closed Won" is closedwon), then by its metadata: a closed stage with
    probability 1 is closedwon, with 0 closedlost. Read once per connector (pipelines change
    rarely; a new connector is built when the connection changes).
    """

    def __init__(self, client: HubSpotClient, mapping: ValueMapping) -> None:
        self.client, self.mapping = client, mapping
        self._stages: dict[str, dict[str, Any]] | None = None  # stage id -> {label, pipeline..}

    def stages(self) -> dict[str, dict[str, Any]]:
        """Every deal stage by id, with its pipeline, label and metadata (one call, cached)."""
        if self._stages is None:
            body = self.client.call("crm.pipelines.pipelines_api", "get_all", "deals")
            found: dict[str, dict[str, Any]] = {}
            for pipe in (body or {}).get("results", []):
                for stage in pipe.get("stages", []):
                    found[str(stage["id"])] = {**stage, "pipeline": str(pipe["id"])}
            self._stages = found
        return self._stages

    def to_neutral(self, stage_id: Any) -> Any:
        """The neutral stage of a HubSpot stage id (unmapped: the id, for check() to report)."""
        if stage_id is None or stage_id == "":
            return None
        allowed = VOCABULARY["deal.stage"]
        mapped = value_to_neutral("deal.stage", stage_id, self.mapping)
        if mapped in allowed:
            return mapped
        stage = self.stages().get(str(stage_id))
        if stage is None:
            return stage_id
        by_label = value_to_neutral("deal.stage", stage.get("label", ""), self.mapping)
        if by_label in allowed:
            return by_label
        meta = stage.get("metadata") or {}
        if str(meta.get("isClosed", "")).lower() == "true":
            probability = value_from_hubspot("double", meta.get("probability"))
            if probability is not None:
                return "closedwon" if probability >= 1 else "closedlost"
        return stage_id

    def to_vendor(self, neutral: Any, pipeline: str | None) -> str:
        """The stage id of `pipeline` that maps to `neutral`; PermanentCRMError if none."""
        mapped = value_to_vendor("deal.stage", neutral, self.mapping)
        stages = self.stages()
        if mapped != neutral and str(mapped) in stages:
            return str(mapped)
        pipe = pipeline or "default"
        for stage_id, stage in stages.items():
            if stage["pipeline"] == pipe and self.to_neutral(stage_id) == neutral:
                return stage_id
        if str(neutral) in stages and stages[str(neutral)]["pipeline"] == pipe:
            return str(neutral)
        raise PermanentCRMError(f"deal.stage: no stage of pipeline {pipe!r} maps to {neutral!r}")

    def labels(self) -> list[str]:
        """Every stage id, for check()'s unmapped values."""
        return list(self.stages())


class Owners:
    """The portal's owners (ids), read once per connector."""

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self._ids: set[str] | None = None

    def ids(self) -> set[str]:
        """Every active owner id (paged GET /crm/v3/owners)."""
        if self._ids is None:
            found: set[str] = set()
            after: str | None = None
            while True:
                kwargs: dict[str, Any] = {"limit": 500}
                if after:
                    kwargs["after"] = after
                body = self.client.call("crm.owners.owners_api", "get_page", **kwargs) or {}
                found |= {str(o["id"]) for o in body.get("results", [])}
                after = ((body.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
            self._ids = found
        return self._ids


def properties_from_hubspot(
    object_type: str, values: Mapping[str, Any], stages: StageMap, mapping: ValueMapping
) -> dict[str, Any]:
    """A HubSpot record's properties as neutral ones (history fields left None)."""
    fields = OBJECT_FIELDS[object_type]
    out: dict[str, Any] = {}
    for neutral, vendor in NAMES[object_type].items():
        raw = values.get(vendor)
        if neutral == "stage":
            out[neutral] = stages.to_neutral(raw)
        elif neutral == "forecast_category":
            out[neutral] = FORECAST.get(str(raw).upper(), str(raw).lower()) if raw else None
        else:
            value = value_from_hubspot(fields[neutral], raw)
            out[neutral] = value_to_neutral(f"{object_type}.{neutral}", value, mapping)
    for neutral in FROM_HISTORY.get(object_type, {}):
        out.setdefault(neutral, None)
    return out


def history_fields(object_type: str, history: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """stage_entered_at (the newest dealstage entry) and close_date_changes (closedate
    entries after the first) from propertiesWithHistory, newest first as HubSpot sends it."""
    if object_type != "deal":
        return {}
    out: dict[str, Any] = {}
    stage = history.get("dealstage") or []
    if stage:
        out["stage_entered_at"] = parse_moment(stage[0].get("timestamp"))
    closes = [h.get("value") for h in reversed(history.get("closedate") or [])]
    if closes:
        changes = sum(1 for a, b in itertools.pairwise(closes) if a != b)
        out["close_date_changes"] = changes
    return out


def properties_to_hubspot(
    object_type: str, values: Mapping[str, Any], mapping: ValueMapping
) -> dict[str, str]:
    """Neutral property writes as HubSpot values; the deal stage is left to the caller
    (it needs the deal's pipeline). PermanentCRMError names the first bad property."""
    fields = OBJECT_FIELDS.get(object_type, {})
    out: dict[str, str] = {}
    for name, value in values.items():
        where = f"{object_type}.{name}"
        if name in fields and name in READ_ONLY:
            raise PermanentCRMError(f"{where} is read-only")
        if name not in fields or name not in NAMES.get(object_type, {}):
            raise PermanentCRMError(f"{object_type} has no property {name!r}")
        if name == "stage":
            continue
        vendor_value = value_to_vendor(where, value, mapping)
        if name == "forecast_category" and isinstance(vendor_value, str):
            back = {v: k for k, v in FORECAST.items()}
            vendor_value = back.get(vendor_value, vendor_value.upper())
        kind = "string" if name == "owner" and isinstance(vendor_value, int) else fields[name]
        if name == "owner" and vendor_value is not None:
            vendor_value = str(vendor_value)
        out[NAMES[object_type][name]] = value_to_hubspot(kind, vendor_value, where)
    return out
