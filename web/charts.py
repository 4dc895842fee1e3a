"""Small inline SVG charts for the admin pages: no JavaScript, nothing from a CDN, allowed by the strict CSP.

Each chart is an image with an accessible name that says what it shows, and comes with its numbers as text
(a table for the line chart, the values in the name for the small bar charts), so nothing is only in pixels.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def _fmt(v: float) -> str:
    return f"{v:g}"


def bars(
    values: list[float], labels: list[str] | None = None, *, width: int = 240, height: int = 48, title: str = ""
) -> Markup:
    """A bar chart of values (one bar per value); its accessible name lists every label and value."""
    n = max(len(values), 1)
    top = max(values, default=0) or 1
    gap = 2
    w = max((width - gap * (n - 1)) / n, 1)
    pairs = [f"{labels[i]}: {_fmt(v)}" if labels else _fmt(v) for i, v in enumerate(values)]
    name = f"{title} ({', '.join(pairs)})" if title else ", ".join(pairs)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(name)}">'
    ]
    for i, v in enumerate(values):
        h = 0 if not v else max(v / top * (height - 2), 1.5)
        parts.append(
            f'<rect x="{i * (w + gap):.1f}" y="{height - h:.1f}" width="{w:.1f}" height="{h:.1f}">'
            f"<title>{escape(pairs[i])}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(
    series: dict[str, list[float]],
    labels: list[str],
    *,
    width: int = 640,
    height: int = 160,
    title: str = "",
    x_name: str = "day",
    table_label: str = "The numbers",
) -> Markup:
    """Several lines over the same x axis (e.g. searches and answered per day), with a legend and the numbers
    as a table. Every day is a point; a single day is a bigger point with its values in the legend (a line needs
    two). The legend is HTML, not SVG text, so it stays readable when the chart shrinks to a phone's width."""
    count = max((len(vs) for vs in series.values()), default=0)
    top = max((v for vs in series.values() for v in vs), default=0) or 1
    pad = 6  # room for the points' radius at the edges

    def x(i: int) -> float:
        return width / 2 if count == 1 else pad + i / (count - 1) * (width - 2 * pad)

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (1 - v / top)

    parts = [
        f'<figure class="chart-figure"><svg class="chart chart-lines" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">'
    ]
    legend = []
    for k, (name, vs) in enumerate(series.items()):
        if len(vs) > 1:
            pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs))
            parts.append(f'<polyline class="line-{k}" fill="none" points="{pts}" />')
        for i, v in enumerate(vs):
            parts.append(
                f'<circle class="point-{k}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="{7 if count == 1 else 3}">'
                f"<title>{escape(f'{labels[i]}, {name}: {_fmt(v)}' if i < len(labels) else name)}</title></circle>"
            )
        value = f" <strong>{escape(_fmt(vs[0]))}</strong>" if count == 1 and vs else ""
        legend.append(
            f'<li class="legend-{k}"><span class="swatch" aria-hidden="true"></span>{escape(name)}{value}</li>'
        )
    parts.append("</svg>")
    parts.append(f'<ul class="chart-legend">{"".join(legend)}</ul>')
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(str(label))}</th>'
        + "".join(f"<td>{_fmt(vs[i]) if i < len(vs) else ''}</td>" for vs in series.values())
        + "</tr>"
        for i, label in enumerate(labels)
    )
    parts.append(
        f'<figcaption><details class="chart-table"><summary>{escape(table_label)}</summary>'
        f'<div class="table-scroll" tabindex="0" role="region" aria-label="{escape(title)}">'
        f'<table class="data"><thead><tr><th scope="col">{escape(x_name)}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></details></figcaption></figure>"
    )
    return Markup("".join(parts))
