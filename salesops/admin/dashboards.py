"""Admin dashboard pages: an SOP's figures over a period, and two versions side by side.

The views are added to the default admin site's URLs (`admin:salesops_dashboard`,
`admin:salesops_dashboard_compare`) and listed in the Salesops app on the admin index, so they
keep Django's styling and login. Bad filter input is shown inline; the page never fails on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from salesops.admin import dashboard_charts as charts
from salesops.models import Connection, Sop
from salesops.services.dashboards import (
    OUTCOMES,
    Comparison,
    Figures,
    FilterError,
    dashboard_figures,
    version_compare,
)

PERIODS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "Dates"),
]
MAX_DAYS = 366
PERMISSION = "salesops.view_run"


class PeriodForm(forms.Form):
    """The period: a preset number of days up to now, or custom dates (both inclusive)."""

    period = forms.ChoiceField(choices=PERIODS, required=False, initial="30")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom":
            since, until = data.get("since"), data.get("until")
            if not since or not until:
                raise forms.ValidationError("Give both dates for a custom period.")
            if since > until:
                raise forms.ValidationError("The start date is after the end date.")
            if (until - since).days >= MAX_DAYS:
                raise forms.ValidationError(f"A period is at most {MAX_DAYS} days.")
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """[since, until) as aware datetimes; the defaults when the form is invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        now = timezone.now()
        if data.get("period") == "custom":
            zone = timezone.get_current_timezone()
            since = datetime.combine(data["since"], time.min, tzinfo=zone)
            return since, datetime.combine(data["until"], time.min, tzinfo=zone) + timedelta(days=1)
        return now - timedelta(days=int(data.get("period") or 30)), now + timedelta(seconds=1)


class DashboardForm(PeriodForm):
    """Filters of the dashboard page: SOP, version number, connection and the period."""

    sop = forms.ModelChoiceField(Sop.objects.all(), required=False, empty_label="All SOPs")
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    connection = forms.ModelChoiceField(
        Connection.objects.all(), required=False, empty_label="All connections"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("version") and not data.get("sop"):
            self.add_error("version", "Choose an SOP to filter by version.")
        return data


class CompareForm(PeriodForm):
    """Two versions of one SOP over the same period."""

    sop = forms.ModelChoiceField(Sop.objects.all(), empty_label=None)
    v1 = forms.IntegerField(label="Version", min_value=1, max_value=2**31 - 1)
    v2 = forms.IntegerField(label="against version", min_value=1, max_value=2**31 - 1)


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "outcome_names": OUTCOMES,
        "dashboard_url": reverse("admin:salesops_dashboard"),
        "compare_url": reverse("admin:salesops_dashboard_compare"),
        **extra,
    }


def _allowed(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _charts(figures: Figures) -> dict[str, Any]:
    return {
        "outcomes": charts.outcomes_per_day(figures.days),
        "reasons": charts.ranked_bars(
            figures.reasons,
            value="escalated",
            title="Escalation reasons, ranked",
            unit="escalations",
        ),
        "failing": charts.ranked_bars(
            figures.failing_checks, value="failing", title="Checks that fail most"
        ),
        "latency": charts.latency_lines(figures.days),
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard page: figures and charts for the filters in the query string."""
    _allowed(request)
    form = DashboardForm(request.GET or None)
    problems: list[str] = []
    data = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        problems.append("Some filters were not understood; showing the last 30 days of all SOPs.")
    since, until = form.bounds()
    try:
        figures = dashboard_figures(
            data.get("sop"),
            data.get("version"),
            since=since,
            until=until,
            connection=data.get("connection"),
        )
    except FilterError as exc:
        problems.append(f"{exc}; showing all SOPs.")
        figures = dashboard_figures(since=since, until=until)
    context = _context(
        request,
        "Dashboard",
        form=form,
        problems=problems,
        figures=figures,
        charts=_charts(figures),
        decision_rates={n: _pct(figures.decisions.rate(n)) for n in DECISIONS},
        sop=data.get("sop"),
    )
    return TemplateResponse(request, "admin/salesops/dashboard/index.html", context)


def compare_view(request: HttpRequest) -> HttpResponse:
    """Two versions of an SOP side by side over one period."""
    _allowed(request)
    form = CompareForm(request.GET or None)
    problems: list[str] = []
    comparison: Comparison | None = None
    if form.is_bound and form.is_valid():
        since, until = form.bounds()
        data = form.cleaned_data
        try:
            comparison = version_compare(
                data["sop"], data["v1"], data["v2"], since=since, until=until
            )
        except FilterError as exc:
            problems.append(str(exc))
    elif form.is_bound:
        problems.append("Choose an SOP and two version numbers.")
    context = _context(
        request,
        "Compare SOP versions",
        form=form,
        problems=problems,
        comparison=comparison,
        rows=_rows(comparison) if comparison else [],
        charts=_compare_charts(comparison) if comparison else {},
    )
    return TemplateResponse(request, "admin/salesops/dashboard/compare.html", context)


DECISIONS = ("approved", "edited", "rejected", "overridden")


def _compare_charts(comparison: Comparison) -> dict[str, Any]:
    name = comparison.sop.name
    return {
        "first": charts.outcomes_per_day(
            comparison.first.days, f"{name} v{comparison.v1.number}: outcomes per day"
        ),
        "second": charts.outcomes_per_day(
            comparison.second.days, f"{name} v{comparison.v2.number}: outcomes per day"
        ),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: Any, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)


ROWS: list[tuple[str, Callable[[Figures], str]]] = [
    ("Runs", lambda f: f"{f.runs:,}"),
    *[
        (name.capitalize(), lambda f, n=name: f"{f.outcomes[n]:,} ({_pct(f.share(n))})")
        for name in OUTCOMES
    ],
    ("Approved as is", lambda f: _pct(f.decisions.rate("approved"))),
    ("Edited, then approved", lambda f: _pct(f.decisions.rate("edited"))),
    ("Rejected by reviewer", lambda f: _pct(f.decisions.rate("rejected"))),
    ("Approved over a failed check", lambda f: _pct(f.decisions.rate("overridden"))),
    ("Cost per run (USD)", lambda f: _num(f.cost_per_run, "{:.4f}")),
    ("Tokens per run", lambda f: _num(f.tokens_per_run, "{:,.0f}")),
    ("Latency p50 (s)", lambda f: _num(f.p50)),
    ("Latency p95 (s)", lambda f: _num(f.p95)),
    ("Top escalation reason", lambda f: f.reasons[0].name if f.reasons else "-"),
    ("Check that fails most", lambda f: f.failing_checks[0].name if f.failing_checks else "-"),
]


def _rows(comparison: Comparison) -> list[tuple[str, str, str]]:
    return [(label, cell(comparison.first), cell(comparison.second)) for label, cell in ROWS]


def _urls(get_urls: Callable[[], list[Any]]) -> Callable[[], list[Any]]:
    def urls() -> list[Any]:
        view = admin.site.admin_view
        ours: list[URLPattern] = [
            path("salesops/dashboard/", view(dashboard_view), name="salesops_dashboard"),
            path(
                "salesops/dashboard/compare/",
                view(compare_view),
                name="salesops_dashboard_compare",
            ),
        ]
        return ours + get_urls()  # before the app's catch-all `<app_label>/` routes

    urls.dashboard = True  # type: ignore[attr-defined]
    return urls


def _app_list(
    get_app_list: Callable[..., list[dict[str, Any]]],
) -> Callable[..., list[dict[str, Any]]]:
    def app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = get_app_list(request, app_label)
        if not request.user.has_perm(PERMISSION):
            return apps
        for app in apps:
            if app["app_label"] == "salesops":
                app["models"].insert(0, _entry())
        return apps

    app_list.dashboard = True  # type: ignore[attr-defined]
    return app_list


def _entry() -> dict[str, Any]:
    return {
        "name": "Dashboard",
        "object_name": "Dashboard",
        "admin_url": reverse("admin:salesops_dashboard"),
        "add_url": None,
        "view_only": True,
        "perms": {"view": True},
        "model": None,
    }


# Extend the default site in place (once, even if this module is imported again).
if not getattr(admin.site.get_urls, "dashboard", False):
    admin.site.get_urls = _urls(admin.site.get_urls)  # type: ignore[method-assign]
    admin.site.get_app_list = _app_list(admin.site.get_app_list)  # type: ignore[method-assign]
