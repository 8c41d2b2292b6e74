"""`connection_check`: is a connection ready for the SOPs that run on it?

The connector's own `check()` (identity, scopes, its properties, rate limits) plus what only
salesops knows: the properties the published SOPs write, the connection's value mapping
against the neutral vocabulary, the fields the published SOPs' trigger selectors read from the
record mirror that the connector's sync leaves out, and the usage counters on the Connection
row. One line per finding; a blocking line means runs on this connection would fail.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.utils import timezone

from connectors.base import CheckLine, CheckReport, CRMError
from connectors.record_model import OBJECT_FIELDS
from connectors.vocabulary import VOCABULARY, unmapped_values
from salesops.models import Connection, Sop
from salesops.services.connections import connection_connector, sop_connections
from salesops.services.credentials import CredentialsError
from salesops.services.sops import sop_spec_get

# Below this share of the vendor's daily budget, scheduled work is close to being held back.
LOW_BUDGET_SHARE = 0.1
RECENT_429 = timedelta(hours=1)
# `record.<field>` or `record["<field>"]` in a trigger's `where` (the mirrored record).
_RECORD_FIELD = re.compile(r"\brecord\s*(?:\.\s*(\w+)|\[\s*[\"'](\w+)[\"']\s*\])")
SYNC_HISTORY_FIX = "set HUBSPOT_SYNC_HISTORY=true (or the connection's sync_history credential)"


@runtime_checkable
class PropertyAware(Protocol):
    """Optional connector hook: which of the neutral properties the CRM account lacks."""

    def properties_missing(self, needed: Mapping[str, Collection[str]]) -> list[str]:
        """The "object.property" names of `needed` the account does not have."""
        ...


@runtime_checkable
class ValueAware(Protocol):
    """Optional connector hook: the vendor's own pick-list values of a vocabulary field."""

    def vendor_values(self, field: str) -> list[str]:
        """The values the CRM offers for `field` ("deal.stage"), as it stores them."""
        ...


def connection_check(connection: Connection, provision: bool = False) -> CheckReport:
    """The connector's check plus salesops' own; never raises for a CRM or key problem.

    With `provision`, the connector first creates what it may (custom properties) and
    reports what it could not.
    """
    lines: list[CheckLine] = []
    if not connection.enabled:
        lines.append(CheckLine("enabled", "warning", "disabled: no runs, syncs or webhooks"))
    connector, report = _connector_report(connection, provision)
    lines += report.lines if report else []
    lines += _sop_properties_lines(connection, connector)
    lines += _mapping_lines(connection, connector)
    lines += _sync_omits_lines(connection, connector)
    lines += _usage_lines(connection)
    account = report.account_id if report else connection.account_id
    if account and not connection.account_id:
        # The account the credentials reach, learnt once: webhooks are checked against it
        # (a Salesforce Outbound Message's OrganizationId, a HubSpot delivery's portalId).
        Connection.objects.filter(pk=connection.pk, account_id="").update(account_id=account)
        connection.account_id = account
    user = report.user if report else ""
    return CheckReport(account_id=account, user=user, lines=lines)


def _connector_report(connection: Connection, provision: bool) -> tuple[Any, CheckReport | None]:
    kind = connection.kind
    if kind not in settings.SALESOPS["CONNECTORS"]:
        line = CheckLine(
            "connector",
            "problem",
            f"no connector installed for kind {kind}",
            blocking=True,
            fix=f'add a "{kind}" entry to SALESOPS["CONNECTORS"] once its package is installed',
        )
        return None, CheckReport(connection.account_id, "", [line])
    try:
        connector = connection_connector(connection)
    except CredentialsError as exc:
        line = CheckLine("credentials", "problem", str(exc), blocking=True)
        return None, CheckReport(connection.account_id, "", [line])
    except (ValueError, TypeError) as exc:
        line = CheckLine("connector", "problem", f"cannot build the connector: {exc}", True)
        return None, CheckReport(connection.account_id, "", [line])
    try:
        return connector, connector.check(provision=provision)
    except CRMError as exc:
        line = CheckLine("identity", "problem", f"the CRM refused the check: {exc}", True)
        return connector, CheckReport(connection.account_id, "", [line])


def sop_properties_needed(connection: Connection) -> dict[str, set[str]]:
    """object type -> the properties the published SOPs running on `connection` write."""
    needed: dict[str, set[str]] = {}
    sops = Sop.objects.filter(enabled=True, published_version__isnull=False)
    for sop in sops.select_related("published_version").prefetch_related("connections"):
        if not sop_connections(sop).filter(pk=connection.pk).exists():
            continue
        assert sop.published_version is not None
        spec = sop_spec_get(sop.published_version)
        for rule in spec.write_back:
            if rule.kind == "set_property" and rule.property:
                needed.setdefault(spec.object, set()).add(rule.property)
    return needed


def _published_specs(connection: Connection) -> Iterator[Any]:
    """The specs of the enabled, published SOPs that run on `connection`."""
    sops = Sop.objects.filter(enabled=True, published_version__isnull=False)
    for sop in sops.select_related("published_version").prefetch_related("connections"):
        if sop_connections(sop).filter(pk=connection.pk).exists():
            assert sop.published_version is not None
            yield sop_spec_get(sop.published_version)


def trigger_fields_omitted(connection: Connection, omitted: Collection[str]) -> dict[str, list]:
    """SOP name -> the (trigger kind, "object.field") pairs its triggers' `where` read from the
    record mirror that are among `omitted` (the connector's `capabilities.sync_omits`)."""
    found: dict[str, list] = {}
    for spec in _published_specs(connection):
        for trigger in spec.triggers:
            if trigger.where is None:
                continue
            kind = "schedule" if trigger.schedule else "event"
            for match in _RECORD_FIELD.finditer(trigger.where.source):
                name = f"{spec.object}.{match[1] or match[2]}"
                if name in omitted and (kind, name) not in found.get(spec.name, []):
                    found.setdefault(spec.name, []).append((kind, name))
    return found


def _sync_omits_lines(connection: Connection, connector: Any) -> list[CheckLine]:
    capabilities = getattr(connector, "capabilities", None)
    omitted = tuple(getattr(capabilities, "sync_omits", ()) or ())
    if not omitted:
        return []
    found = trigger_fields_omitted(connection, omitted)
    if not found:
        return [
            CheckLine(
                "sync",
                "ok",
                f"sync leaves out {', '.join(omitted)}; no published SOP's trigger reads them",
            )
        ]
    return [
        CheckLine(
            "sync",
            "warning",
            f"{sop}: {'an' if kind == 'event' else 'a'} {kind} trigger's where reads {name} "
            "from the record mirror, which this "
            "connection's sync leaves out, so it sees no value there",
            fix=SYNC_HISTORY_FIX if connection.kind == "hubspot" else "",
        )
        for sop, pairs in sorted(found.items())
        for kind, name in pairs
    ]


def _sop_properties_lines(connection: Connection, connector: Any) -> list[CheckLine]:
    needed = sop_properties_needed(connection)
    names = sorted(f"{obj}.{prop}" for obj, props in needed.items() for prop in props)
    if not names:
        return [CheckLine("sop_properties", "ok", "no published SOP writes a property here")]
    # SOP loading refuses such writes; a check still says so if one slipped through.
    unknown = [
        f"{o}.{p}" for o, props in needed.items() for p in props if p not in OBJECT_FIELDS[o]
    ]
    missing: list[str] = []
    if isinstance(connector, PropertyAware):
        try:
            missing = sorted(connector.properties_missing(needed))
        except CRMError as exc:
            return [CheckLine("sop_properties", "problem", f"cannot list properties: {exc}", True)]
    bad = sorted({*unknown, *missing})
    if bad:
        return [
            CheckLine(
                "sop_properties",
                "problem",
                f"the published SOPs write properties the CRM lacks: {', '.join(bad)}",
                blocking=True,
                fix="run `manage.py connection_check "
                f"{connection.slug} --provision`, or create them in the CRM",
            )
        ]
    return [CheckLine("sop_properties", "ok", f"the SOPs' writes exist: {', '.join(names)}")]


def mapping_problems(mapping: Any) -> list[str]:
    """What is wrong with a value mapping (`{"deal.stage": {vendor: neutral}}`); [] if fine."""
    if not isinstance(mapping, dict):
        return ['the mapping is a JSON object: {"deal.stage": {"<CRM value>": "<neutral>"}}']
    problems = []
    for field, table in mapping.items():
        if field not in VOCABULARY:
            problems.append(
                f"{field!r} has no neutral values to map to; mappable: {', '.join(VOCABULARY)}"
            )
        elif not isinstance(table, dict):
            problems.append(f"{field}: give an object of CRM value -> neutral value")
        else:
            for vendor, neutral in table.items():
                if neutral not in VOCABULARY[field]:
                    problems.append(
                        f"{field}: {vendor!r} maps to {neutral!r}, which is not one of "
                        f"{', '.join(VOCABULARY[field])}"
                    )
    return problems


def _mapping_lines(connection: Connection, connector: Any) -> list[CheckLine]:
    problems = mapping_problems(connection.mapping)
    lines = [CheckLine("mapping", "problem", p, blocking=True) for p in problems]
    if isinstance(connector, ValueAware) and not problems:
        for field in VOCABULARY:
            try:
                values = connector.vendor_values(field)
            except CRMError as exc:
                lines.append(CheckLine("values", "warning", f"{field}: cannot list: {exc}"))
                continue
            unmapped = unmapped_values(field, values, connection.mapping)
            if unmapped:
                lines.append(
                    CheckLine(
                        "values",
                        "warning",
                        f"{field}: CRM values with no neutral value: "
                        + ", ".join(repr(v) for v in unmapped[:10]),
                        fix=f'map them in the connection\'s mapping["{field}"]',
                    )
                )
    if not lines:
        lines.append(CheckLine("mapping", "ok", "the value mapping is valid"))
    return lines


def _usage_lines(connection: Connection) -> list[CheckLine]:
    now = timezone.now()
    lines = []
    if connection.last_429_at and now - connection.last_429_at < RECENT_429:
        lines.append(
            CheckLine(
                "usage",
                "warning",
                f"the CRM answered 429 (rate limited) at {connection.last_429_at:%H:%M} UTC",
            )
        )
    today = connection.calls_date == now.date()
    limit, remaining = connection.daily_limit, connection.daily_remaining
    if not today or not limit or remaining is None:
        calls = connection.calls_today if today else 0
        lines.append(CheckLine("usage", "ok", f"{calls} calls today; no daily budget reported"))
    elif remaining == 0:
        lines.append(
            CheckLine(
                "usage",
                "problem",
                f"the daily API budget is spent (0 of {limit} left): runs wait for its reset",
                blocking=True,
            )
        )
    elif remaining < limit * LOW_BUDGET_SHARE:
        lines.append(
            CheckLine(
                "usage",
                "warning",
                f"{remaining} of {limit} daily API calls left: scheduled work stops first",
            )
        )
    else:
        lines.append(
            CheckLine(
                "usage",
                "ok",
                f"{connection.calls_today} calls today; {remaining} of {limit} daily calls left",
            )
        )
    return lines
