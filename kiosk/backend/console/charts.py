"""Bar charts as inline SVG, drawn on the server (no chart library, nothing to load)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 180
BAR_AREA = 140


def bar_chart(bars: list[tuple[str, int]], title: str) -> Markup:
    """Vertical bars with their value on top and a label below; `title` for screen readers."""
    peak = max((value for _, value in bars), default=0) or 1
    slot = WIDTH / max(len(bars), 1)
    width = max(slot * 0.7, 2)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    show_every = 1 if len(bars) <= 16 else 2 if len(bars) <= 31 else 4
    for index, (label, value) in enumerate(bars):
        height = BAR_AREA * value / peak
        x = index * slot + (slot - width) / 2
        y = 10 + BAR_AREA - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if value and len(bars) <= 24:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{y - 2:.1f}" class="value">{value}</text>'
            )
        if index % show_every == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 14}" class="label">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
