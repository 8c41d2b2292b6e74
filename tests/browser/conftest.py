"""Browser fixtures: Debian's Chromium via Playwright, the app served the way production serves it.

The live server here is Django's `LiveServerThread` without a static-files handler: every
`/static/` request goes through the project's middleware, so WhiteNoise answers it from a
`collectstatic`ed root exactly as under gunicorn. (pytest-django's `live_server` wraps the app in
`StaticFilesHandler`, which would serve the stylesheet even if production could not.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.management import call_command
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"
CHROMIUM = Path(os.environ.get("SALESOPS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS_ON_FAILURE = Path(__file__).resolve().parent / "screenshots"
# Set (e.g. to docs/images) to save the manager's guide screenshots while the journeys run.
GUIDE_DIR = os.environ.get("SALESOPS_GUIDE_SCREENSHOTS", "")
PASSWORD = "manager-pw"
TIMEOUT_MS = 15_000  # generous: CI machines run two suites and a browser at once


def require_chromium() -> None:
    """Skip outside CI when Chromium is missing; in CI (CI=true) a missing browser fails."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not found: `make install-test` installs Debian's chromium"
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {message}")
    pytest.skip(message)


@pytest.fixture(scope="package")
def chromium(django_db_setup: None) -> Iterator[Any]:
    """One headless Chromium for this package (Debian's build: Playwright downloads nothing).

    Package scope, not session: Playwright's sync API keeps an event loop marked running in
    this thread while it is open, which later tests (asyncio, Django's async guard) must not see.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Django refuses ORM calls while a loop runs in the thread; the tests' own code stays
    # strictly sequential, so the guard is lifted only while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                # Containers run as root without user namespaces; /dev/shm is often tiny there.
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`collectstatic` into a private root, as `make run` does before serving."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def _no_static_handler(app: Any) -> Any:
    # LiveServerThread wraps the app in this; keep it bare so WhiteNoise does the serving.
    return app


class _AppServer(LiveServerThread):
    """The WSGI app on a free loopback port, static files left to the project's middleware."""

    def __init__(self) -> None:
        # The stubs want a handler class; any callable wrapping the app is what Django calls.
        super().__init__("127.0.0.1", cast(Any, _no_static_handler), port=0)


@pytest.fixture
def app_url(transactional_db: None, collected_static: Path) -> Iterator[str]:
    """Base URL of the app served in a thread on the test database (DEBUG off, WhiteNoise)."""
    server = _AppServer()
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(chromium: Any, app_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the app; a screenshot is saved if the test fails."""
    context = chromium.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    # The admin's model sidebar, folded: the pages read as in a narrow window, and the guide's
    # screenshots show the page itself.
    context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS_ON_FAILURE.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(SCREENSHOTS_ON_FAILURE / f"{name}.png"), full_page=True)
    context.close()


def log_in(page: Any, username: str = "manager", password: str = PASSWORD) -> None:
    """Sign in through the admin's login form, as a person does."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


@pytest.fixture
def manager_login(django_user_model: Any, transactional_db: None) -> Any:
    """A sales manager account (staff superuser) with a known password."""
    return django_user_model.objects.create_user(
        "manager", "manager@example.com", PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def manager_page(page: Any, manager_login: Any) -> Any:
    """A page already signed in as the manager, on the admin index."""
    log_in(page)
    return page


def published(sop: Any) -> Any:
    """The SOP's published version (the shipped library publishes every SOP)."""
    version = sop.published_version
    assert version is not None, f"{sop.name} has no published version"
    return version


@pytest.fixture
def guide_shot() -> Callable[[Any, str], None]:
    """Save a named full-page screenshot for docs/manager-guide.md when the guide env var is set."""

    def shot(page: Any, name: str) -> None:
        if not GUIDE_DIR:
            return
        target = Path(GUIDE_DIR)
        if not target.is_absolute():
            target = ROOT / target
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / f"{name}.png"), full_page=False)

    return shot


# Sample contacts at enterprise companies: lead qualification sends them to review.
LIKELY_ESCALATIONS = ("c-009", "c-010", "c-019", "c-024", "c-025", "c-031", "c-049")


@pytest.fixture
def open_escalation(library: Any, sample_crm: Any) -> Any:
    """An open escalation of a real lead-qualification run on the sample CRM."""
    from tests.helpers import run_now

    for record_id in LIKELY_ESCALATIONS:
        run = run_now("lead-qualification", record_id, key=f"browser-{record_id}")
        if run.state == "escalated":
            return run.escalation
    raise AssertionError("no sample contact escalates")
