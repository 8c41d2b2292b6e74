"""Discovery and replication routes of the Salesforce emulator: API versions, resources,
limits, and getDeleted / getUpdated (sobjects/<Type>/deleted|updated?start=&end=)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tests.emulators.framework import Request, Response, json_response
from tests.emulators.salesforce_rest import V
from tests.emulators.salesforce_values import dt_text, parse_datetime

if TYPE_CHECKING:
    from tests.emulators.salesforce_api import SalesforceEmulator

REPLICATION_DAYS = 30


def register_meta_routes(emu: SalesforceEmulator) -> None:
    """Add versions, resources, limits, getDeleted and getUpdated to the emulator."""
    router = emu.router
    err = emu.error

    def sobject_of(req: Request) -> str | None:
        return emu.store_for(req).schema.object_name(req.params.get("type", ""))

    def not_found() -> Response:
        return err(404, "NOT_FOUND", "The requested resource does not exist")

    # -- discovery -------------------------------------------------------------------------
    def versions(req: Request) -> Response:
        top = int(float(emu.api_version))
        out = []
        for v in range(31, top + 1):
            k = v - 59  # 59.0 was Winter '24; three releases a year
            label = f"{['Winter', 'Spring', 'Summer'][k % 3]} '{24 + k // 3}"
            out.append({"label": label, "url": f"/services/data/v{v}.0", "version": f"{v}.0"})
        return json_response(200, out)

    def resources(req: Request) -> Response:
        base = f"/services/data/v{req.params['version']}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "tooling", "search")
        return json_response(200, {n: f"{base}/{n}" for n in names})

    def limits(req: Request) -> Response:
        store = emu.store_for(req)

        def pair(mx: int, left: int | None = None) -> dict[str, int]:
            return {"Max": mx, "Remaining": mx if left is None else left}

        return json_response(
            200,
            {
                "ConcurrentAsyncGetReportInstances": pair(200),
                "ConcurrentSyncReportRuns": pair(20),
                "DailyApiRequests": pair(store.api_max, max(0, store.api_max - store.api_used)),
                "DailyAsyncApexExecutions": pair(250_000),
                "DailyBulkApiBatches": pair(15_000),
                "DailyBulkV2QueryJobs": pair(10_000),
                "DailyBulkV2QueryFileStorageMB": pair(976_562),
                "DailyGenericStreamingApiEvents": pair(10_000),
                "DailyStreamingApiEvents": pair(1_000_000),
                "DailyWorkflowEmails": pair(2_000_000),
                "DataStorageMB": pair(1024),
                "FileStorageMB": pair(1024),
                "HourlyDashboardRefreshes": pair(200),
                "HourlyODataCallout": pair(20_000),
                "HourlyTimeBasedWorkflow": pair(1000),
                "MassEmail": pair(5000),
                "SingleEmail": pair(5000),
            },
        )

    router.add("GET", "/services/data", versions)
    router.add("GET", V, resources)
    router.add("GET", f"{V}/limits", limits)

    # -- replication -----------------------------------------------------------------------
    def window(req: Request) -> tuple[datetime, datetime] | Response:
        try:
            start = parse_datetime(req.arg("start") or "")
            end = parse_datetime(req.arg("end") or "")
        except ValueError:
            return err(400, "INVALID_REPLICATION_DATE", "start and end must be dateTime values")
        # Salesforce ignores the seconds of both ends.
        start, end = start.replace(second=0), end.replace(second=0)
        now = emu.clock.now()
        if end < start:
            return err(400, "INVALID_REPLICATION_DATE", "EndDate before StartDate")
        if start < now - timedelta(days=REPLICATION_DAYS):
            return err(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {REPLICATION_DAYS} days ago",
            )
        return start, min(end, now.replace(second=0, microsecond=0))

    def deleted(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        span = window(req)
        if isinstance(span, Response):
            return span
        start, end = span
        store = emu.store_for(req)
        rows = [
            {"id": r["Id"], "deletedDate": dt_text(store.deleted_at[r["Id"]])}
            for r in store.rows(sobject, deleted=True)
            if r.get("IsDeleted") and start <= store.deleted_at[r["Id"]] < end
        ]
        return json_response(
            200,
            {
                "deletedRecords": rows,
                "earliestDateAvailable": dt_text(store.created.replace(second=0)),
                "latestDateCovered": dt_text(end),
            },
        )

    def updated(req: Request) -> Response:
        sobject = sobject_of(req)
        if sobject is None:
            return not_found()
        span = window(req)
        if isinstance(span, Response):
            return span
        start, end = span
        ids = [
            r["Id"] for r in emu.store_for(req).rows(sobject) if start <= r["SystemModstamp"] < end
        ]
        return json_response(200, {"ids": ids, "latestDateCovered": dt_text(end)})

    router.add("GET", f"{V}/sobjects/{{type}}/deleted", deleted)
    router.add("GET", f"{V}/sobjects/{{type}}/updated", updated)
