"""Small inline SVG charts for the admin pages: no JavaScript, nothing from a CDN, allowed by the strict CSP."""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def bars(
    values: list[float], labels: list[str] | None = None, *, width: int = 240, height: int = 48, title: str = ""
) -> Markup:
    """A bar chart of values (one bar per value), each bar with a tooltip of its label and value."""
    n = max(len(values), 1)
    top = max(values, default=0) or 1
    gap = 2
    w = max((width - gap * (n - 1)) / n, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for i, v in enumerate(values):
        h = 0 if not v else max(v / top * (height - 2), 1.5)
        label = f"{labels[i]}: {v:g}" if labels else f"{v:g}"
        parts.append(
            f'<rect x="{i * (w + gap):.1f}" y="{height - h:.1f}" width="{w:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(
    series: dict[str, list[float]], labels: list[str], *, width: int = 640, height: int = 160, title: str = ""
) -> Markup:
    """Several lines over the same x axis (e.g. searches and answered per day), with a legend."""
    n = max(len(labels), 2)
    top = max((v for vs in series.values() for v in vs), default=0) or 1
    parts = [
        f'<svg class="chart chart-lines" viewBox="0 0 {width} {height + 18}" width="100%" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for k, (name, vs) in enumerate(series.items()):
        pts = " ".join(f"{i / (n - 1) * width:.1f},{height - v / top * (height - 4):.1f}" for i, v in enumerate(vs))
        parts.append(f'<polyline class="line-{k}" fill="none" points="{pts}"><title>{escape(name)}</title></polyline>')
        parts.append(f'<text class="legend-{k}" x="{k * 140}" y="{height + 15}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
