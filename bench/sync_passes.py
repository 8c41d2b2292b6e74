"""The passes every CRM sync bench makes after its backfill: an incremental sync after 10% of
the records were edited and 1% deleted behind the connector's back, then a full re-sync under
tracemalloc. The emulator process answers "edit", "delete" and "reset"; `measured` turns one
pass into the bench's figures (calls by kind, errors, records/s)."""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

Measured = Callable[[Any, int, int, float], dict[str, Any]]


def passes_after_backfill(
    emu: Any, connection: Any, n: int, measured: Measured, *, memory: bool
) -> dict[str, Any]:
    """The incremental pass (and, with `memory`, the traced full re-sync) of `n` records."""
    from salesops.services.sync import connection_sync

    result: dict[str, Any] = {}
    edits, deletes = n // 10, n // 100
    emu.call("edit", count=edits)
    emu.call("delete", count=deletes)
    emu.call("reset")
    start = time.perf_counter()
    second = connection_sync(connection=connection)
    seconds = time.perf_counter() - start
    assert not second.errors, second.errors
    assert second.deleted == deletes, (second.deleted, deletes)
    result["incremental"] = measured(emu, second.records, second.deleted, seconds)
    result["incremental"].update(edits=edits, deletes=deletes)
    if memory:
        emu.call("reset")
        tracemalloc.start()
        start = time.perf_counter()
        full = connection_sync(connection=connection, full=True)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The look-back re-reads what was stamped just before the pass began: at least every
        # live record, some twice.
        assert full.records >= n - deletes and not full.errors, (full.records, full.errors)
        result["traced"] = measured(emu, full.records, full.deleted, seconds)
        result["peak_mb"] = peak / 2**20
    print(result, file=sys.stderr)
    return result
