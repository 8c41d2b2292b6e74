"""Server-rendered inline SVG charts for the dashboard: no JavaScript, no build step.

Each chart is an `<svg role="img">` named by its `<title>` and summarised by its `<desc>`, and
every bar or point carries a `<title>` of its own, so a screen reader (and a hover) gets the
figures, not just the shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from salesops.services.dashboards import OUTCOMES, CheckFigure, Day

COLOURS = {
    "written": "#2e7d32",
    "escalated": "#f9a825",
    "rejected": "#8e24aa",
    "failed": "#c62828",
    "skipped": "#78909c",
    "p50": "#1565c0",
    "p95": "#e65100",
}
_ids = count(1)


def _n(value: float) -> str:
    # format_html escapes its arguments to strings first, so numbers arrive formatted.
    return f"{value:.1f}"


def _svg(title: str, desc: str, width: int, height: int, body: SafeString) -> SafeString:
    n = next(_ids)
    return format_html(
        '<svg class="dash-chart" role="img" aria-labelledby="chart{n}-t chart{n}-d" '
        'viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart{n}-t">{title}</title><desc id="chart{n}-d">{desc}</desc>{body}</svg>',
        n=n,
        w=width,
        h=height,
        title=title,
        desc=desc,
        body=body,
    )


def _empty(title: str) -> SafeString:
    return format_html('<p class="help">{}: no runs in this period.</p>', title)


def outcomes_per_day(days: Sequence[Day], title: str = "Outcomes per day") -> SafeString:
    """Stacked bars, one per day: written, escalated, rejected, failed, skipped."""
    if not days:
        return _empty(title)
    width, height, pad = 720, 220, 30
    top = max(sum(d.counts.values()) for d in days) or 1
    step = (width - pad) / len(days)
    bar = max(step * 0.8, 1.0)
    parts = []
    for i, d in enumerate(days):
        y = float(height - pad)
        for name in OUTCOMES:
            value = d.counts[name]
            if not value:
                continue
            h = (height - 2 * pad) * value / top
            y -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    _n(pad + i * step),
                    _n(y),
                    _n(bar),
                    _n(h),
                    COLOURS[name],
                    d.day.isoformat(),
                    value,
                    name,
                )
            )
    axis = format_html(
        '<line x1="{p}" y1="{b}" x2="{w}" y2="{b}" stroke="#999"/>'
        '<text x="0" y="{t}" font-size="11">{top}</text>'
        '<text x="{p}" y="{h}" font-size="11">{first}</text>'
        '<text x="{w}" y="{h}" font-size="11" text-anchor="end">{last}</text>',
        p=pad,
        b=height - pad,
        w=width,
        t=pad,
        top=top,
        h=height - 8,
        first=days[0].day.isoformat(),
        last=days[-1].day.isoformat(),
    )
    total = {name: sum(d.counts[name] for d in days) for name in OUTCOMES}
    desc = ", ".join(f"{total[name]} {name}" for name in OUTCOMES) + f" over {len(days)} days"
    return _svg(title, desc, width, height, mark_safe("".join(parts)) + axis)


def ranked_bars(
    items: Sequence[CheckFigure], *, value: str, title: str, unit: str = "runs"
) -> SafeString:
    """Horizontal bars, largest first: a check's `value` attribute (escalated, failing)."""
    if not items:
        return _empty(title)
    width, row = 720, 24
    label_w = 260
    top = max(getattr(i, value) for i in items) or 1
    rows = []
    for n, item in enumerate(items):
        v = getattr(item, value)
        w = (width - label_w - 60) * v / top
        kind = "condition" if item.condition else "check"
        rows.append(
            format_html(
                '<text x="{lx}" y="{ty}" font-size="12" text-anchor="end">{name}</text>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}">'
                "<title>{name} ({kind}): {v} {unit}</title></rect>"
                '<text x="{vx}" y="{ty}" font-size="12">{v}</text>',
                lx=label_w - 6,
                ty=n * row + 16,
                name=item.name,
                x=label_w,
                y=n * row + 4,
                w=_n(w),
                h=row - 8,
                fill=COLOURS["escalated" if item.condition else "failed"],
                kind=kind,
                v=v,
                unit=unit,
                vx=_n(label_w + w + 4),
            )
        )
    desc = "; ".join(f"{i.name}: {getattr(i, value)}" for i in items)
    return _svg(title, desc, width, row * len(items) + 4, mark_safe("".join(rows)))


def latency_lines(days: Sequence[Day], title: str = "Latency p50 / p95 per day") -> SafeString:
    """Two lines over the days: p50 and p95 seconds from created to finished."""
    points = [d for d in days if d.p50 is not None]
    if not points:
        return _empty(title)
    width, height, pad = 720, 200, 40
    top = max(d.p95 or d.p50 or 0 for d in points) or 1.0
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, height - pad - (height - 2 * pad) * v / top

    lines = []
    for name in ("p50", "p95"):
        coords = [
            (i, getattr(d, name)) for i, d in enumerate(points) if getattr(d, name) is not None
        ]
        path = " ".join("{:.1f},{:.1f}".format(*xy(i, v)) for i, v in coords)
        dots = format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {} s</title></circle>',
            (
                (*map(_n, xy(i, v)), COLOURS[name], points[i].day.isoformat(), name, _n(v))
                for i, v in coords
            ),
        )
        lines.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}',
                path,
                COLOURS[name],
                dots,
            )
        )
    axis = format_html(
        '<line x1="{p}" y1="{b}" x2="{w}" y2="{b}" stroke="#999"/>'
        '<text x="0" y="{p}" font-size="11">{top} s</text>',
        p=pad,
        b=height - pad,
        w=width - pad,
        top=f"{top:.0f}",
    )
    desc = f"p50 and p95 latency over {len(points)} days, up to {top:.1f} seconds"
    return _svg(title, desc, width, height, mark_safe("".join(lines)) + axis)
