"""HubSpot notes have no title field: a body opening with a short title paragraph gives the
activity its subject, and rich text (HTML, as HubSpot's editor stores it) reads as text."""

from __future__ import annotations

import pytest

from connectors.hubspot.activities import TITLE_MAX, note_text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Pricing page visit\n\nViewed /pricing twice.",
            ("Pricing page visit", "Viewed /pricing twice."),
        ),
        ("Title\r\n\r\nBody", ("Title", "Body")),
        (
            "<p><strong>Demo request</strong></p><p>Request a demo &amp; a call.</p>",
            ("Demo request", "Request a demo & a call."),
        ),
        ("<div>Called her.<br>She wants a demo.</div>", ("Called her.", "She wants a demo.")),
        ("Just one paragraph.", ("", "Just one paragraph.")),
        ("Title only\n\n   ", ("", "Title only")),
        ("Line one\nline two\n\nmore", ("", "Line one\nline two\n\nmore")),
        ("x" * (TITLE_MAX + 1) + "\n\nbody", ("", "x" * (TITLE_MAX + 1) + "\n\nbody")),
        ("", ("", "")),
        ("a < b and c > d\n\nno tags here", ("a < b and c > d", "no tags here")),
    ],
)
def test_note_text(body: str, expected: tuple[str, str]) -> None:
    assert note_text(body) == expected
