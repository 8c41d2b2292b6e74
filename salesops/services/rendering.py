"""Plain-text template rendering for what reps see in the CRM (notes, tasks)."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.template import Context, Engine


@functools.cache
def text_engine() -> Engine:
    # A separate engine without HTML autoescaping: notes are plain text, not HTML.
    return Engine(dirs=[str(settings.BASE_DIR / "templates")], autoescape=False)


def template_render(name: str, context: dict[str, Any]) -> str:
    """Render a file template under templates/ as plain text."""
    return text_engine().get_template(name).render(Context(context, autoescape=False)).strip()


def string_render(source: str, context: dict[str, Any]) -> str:
    """Render an inline template string (e.g. a task subject) as plain text."""
    return text_engine().from_string(source).render(Context(context, autoescape=False)).strip()
