"""The suite runs on the backends the environment names; in CI a missing service fails loudly."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def test_the_database_is_the_one_configured(db):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"  # the worker and the web must not lock out


def test_the_broker_is_the_one_configured():
    from django_q.brokers import get_broker

    broker = get_broker()
    if settings.REDIS_URL:
        assert type(broker).__name__ == "Redis"
        try:
            reachable = broker.ping()
        except Exception:  # any failure means unreachable here
            reachable = False
        require_service("Redis", bool(reachable))
    else:
        assert type(broker).__name__ == "ORM"
