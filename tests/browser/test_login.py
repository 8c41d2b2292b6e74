"""A manager signs in and gets the styled admin: the stylesheet is served and applied."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import log_in


def test_the_login_page_and_the_admin_are_styled(page: Any, manager_login: Any, guide_shot):
    stylesheets: dict[str, int] = {}
    page.on(
        "response",
        lambda r: stylesheets.__setitem__(r.url, r.status) if r.url.endswith(".css") else None,
    )
    page.goto("/admin/login/?next=/admin/")
    guide_shot(page, "login")
    log_in(page)

    base = [url for url in stylesheets if url.endswith("/static/admin/css/base.css")]
    assert base, f"the admin did not ask for its stylesheet: {sorted(stylesheets)}"
    assert all(status == 200 for status in stylesheets.values()), stylesheets
    # Served by WhiteNoise (the project's middleware), not a test-only static handler.
    response = page.request.get(base[0])
    assert response.status == 200
    assert "text/css" in response.headers["content-type"]
    assert "--header-bg" in response.text()

    # The stylesheet is applied: the header has the admin's colours, not a browser default.
    header = page.locator("#header")
    background = header.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)")
    assert page.locator("#site-name").is_visible()
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")
    guide_shot(page, "admin-index")


def test_a_wrong_password_is_refused_on_the_page(page: Any, manager_login: Any):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    error = page.wait_for_selector(".errornote")
    assert "correct username and password" in error.inner_text()
    assert "/admin/login/" in page.url
