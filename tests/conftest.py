"""Shared fixtures: personas, the library and sample CRM, the queue (inline or a real cluster)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def manager(django_user_model):
    """A sales manager: staff superuser who edits SOPs and reviews escalations."""
    return django_user_model.objects.create_user(
        "manager", "manager@example.com", "pw", is_staff=True, is_superuser=True
    )


@pytest.fixture
def rep(django_user_model):
    """A sales rep: has a login, but no admin access."""
    return django_user_model.objects.create_user("rep", "rep@example.com", "pw")


@pytest.fixture
def staff_without_permissions(django_user_model):
    """A staff login without model permissions: the admin shows it nothing, nor may the API."""
    return django_user_model.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)


@pytest.fixture
def viewer(django_user_model):
    """A read-only colleague: staff in the "viewers" group (view permissions only)."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "viewer", "viewer@example.com", "pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name="viewers"))
    return user


@pytest.fixture
def library(db):
    """The shipped SOP library, loaded and published."""
    from salesops.services.sops import sop_library_load

    report = sop_library_load()
    assert not report.issues, report.issues
    return report


@pytest.fixture
def sample_crm(db):
    """The shipped sample CRM data in the local connector's tables."""
    from connectors.local.sample import sample_data_load

    return sample_data_load(ROOT / "sop_library" / "sample_data" / "crm.json")


@pytest.fixture
def sync_queue(monkeypatch):
    """django-q2 runs tasks inline (still through async_task), for fast integration tests."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return Conf


@pytest.fixture
def qcluster(transactional_db) -> Iterator[subprocess.Popen[bytes]]:
    """A real `manage.py qcluster` process on the test database and the configured broker."""
    from salesops.services.workers import worker_start, worker_stop

    proc = worker_start()
    time.sleep(0.3)
    assert proc.poll() is None, "qcluster exited at start"
    yield proc
    worker_stop(proc)


def require_service(name: str, available: bool) -> None:
    """Skip outside CI when a service is missing; in CI (CI=true) a missing service fails."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not reachable")
    pytest.skip(f"{name} not reachable (tests run it in CI)")


@pytest.fixture(autouse=True)
def _fresh_plugins() -> Iterator[None]:
    from salesops.services.plugins import plugins_reset

    plugins_reset()
    yield
    plugins_reset()
