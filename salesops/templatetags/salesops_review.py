"""Template tags that show a run's result as the SOP's fields and what approving it would write.

`{% load salesops_review %}{% run_result run %}` lays out a run's result (any page with a run:
the run, escalation and try-in-shadow pages); `{% run_write_preview run %}` its writes.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from salesops.models import Run
from salesops.services.result_view import ResultView, result_view
from salesops.services.sops import sop_spec_get
from salesops.services.write_preview import write_preview

register = template.Library()


def run_result_view(run: Run, output: Any = None) -> ResultView:
    """`output` (default: the run's result) laid out by the run's SOP version's output schema."""
    schema = sop_spec_get(run.sop_version).output
    return result_view(schema, run.output if output is None else output, run.input)


def run_result_html(run: Run, output: Any = None) -> str:
    """The readable result block, with its raw JSON collapsed below it."""
    view = run_result_view(run, output)
    return render_to_string("admin/salesops/run/result.html", {"view": view})


def write_preview_html(run: Run, output: Any = None) -> str:
    """The writes approving `run` (with `output`, if given) would make, as the CRM shows them."""
    preview = write_preview(run, output)
    return render_to_string("admin/salesops/run/write_preview.html", {"preview": preview})


@register.simple_tag
def run_result(run: Run) -> str:
    """{% run_result run %}: the run's result as the SOP's fields."""
    return run_result_html(run)


@register.simple_tag
def run_write_preview(run: Run) -> str:
    """{% run_write_preview run %}: what writing the run's result would send to the CRM."""
    return write_preview_html(run)
