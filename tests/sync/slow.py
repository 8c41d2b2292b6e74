"""The local connector with a latency per page, like a vendor API (for the kill test)."""

from __future__ import annotations

import os
import time

from connectors.base import Page
from connectors.local.connector import LocalConnector

DELAY = float(os.environ.get("SALESOPS_SYNC_TEST_DELAY", "0.005"))


class SlowLocalConnector(LocalConnector):
    def read_page(self, object_type: str, cursor: str | None, *, backfill: bool = False) -> Page:
        time.sleep(DELAY)
        return super().read_page(object_type, cursor, backfill=backfill)
