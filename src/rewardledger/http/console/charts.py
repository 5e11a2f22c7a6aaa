"""The console's charts, drawn here as inline SVG: no script, no third-party file.

Owns: turning series of integer minor units into SVG text. Coordinates are computed with
integers only (``_scaled``), so a chart never goes through a float either; every label is
escaped, and every chart carries a ``<title>`` and ``<desc>`` for screen readers, and a table
beside it on the page holds the same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 112  # room for a cap's label, "hard 1000.00"
MARGIN_BOTTOM = 28
MARGIN_TOP = 12
PLOT_WIDTH = WIDTH - MARGIN_LEFT - 12
PLOT_HEIGHT = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
BARS_MAX = 60  # a chart of more bars than this is unreadable; the caller pages instead
# Colours of the debt statuses (and of the tables' status badges: console.css has the same).
STATUS_COLOURS: Mapping[str, str] = {
    "open": "#1d5fa7",
    "partial": "#8a5a00",
    "repaid": "#1b6e3a",
    "overdue": "#a4161a",
}


@dataclass(frozen=True, slots=True)
class Line:
    """A horizontal reference line (a cap) at ``value``."""

    label: str
    value: int
    colour: str


def _scaled(value: int, top: int, span: int) -> int:
    return 0 if top <= 0 else value * span // top


def _frame(title: str, description: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>'
    )
    axes = (
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" '
        f'y2="{MARGIN_TOP + PLOT_HEIGHT}" class="axis"/>'
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + PLOT_HEIGHT}" x2="{MARGIN_LEFT + PLOT_WIDTH}"'
        f' y2="{MARGIN_TOP + PLOT_HEIGHT}" class="axis"/>'
    )
    return head + axes + "".join(body) + "</svg>"


def _y(value: int, top: int) -> int:
    return MARGIN_TOP + PLOT_HEIGHT - _scaled(value, top, PLOT_HEIGHT)


def step_chart(
    title: str, points: Sequence[tuple[str, int]], lines: Sequence[Line], shown: str
) -> str:
    """A running total (``points``: label, value after it) as a step line, under ``lines``.

    ``shown`` is the text a reader needs to read the latest value (e.g. "880.00 USD used").
    """
    top = max([value for _, value in points] + [line.value for line in lines] + [1])
    top += top // 10
    body: list[str] = []
    for line in lines:
        y = _y(line.value, top)
        body.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y}" x2="{MARGIN_LEFT + PLOT_WIDTH}" y2="{y}" '
            f'stroke="{line.colour}" stroke-dasharray="6 4" stroke-width="2"/>'
            f'<text x="{MARGIN_LEFT - 4}" y="{y + 4}" text-anchor="end" class="label">'
            f"{escape(line.label)}</text>"
        )
    if points:
        step = PLOT_WIDTH // max(1, len(points))
        path = [f"M{MARGIN_LEFT},{_y(0, top)}"]
        for index, (_, value) in enumerate(points):
            x = MARGIN_LEFT + step * index
            path.append(f"H{x}V{_y(value, top)}")
        path.append(f"H{MARGIN_LEFT + PLOT_WIDTH}")
        body.append(f'<path d="{"".join(path)}" class="series" fill="none" stroke-width="3"/>')
        body.append(
            f'<text x="{MARGIN_LEFT + 4}" y="{HEIGHT - 8}" class="label">'
            f"{escape(points[0][0])}</text>"
            f'<text x="{MARGIN_LEFT + PLOT_WIDTH}" y="{HEIGHT - 8}" text-anchor="end" '
            f'class="label">{escape(points[-1][0])}</text>'
        )
    return _frame(title, shown, body)


def bar_chart(title: str, bars: Sequence[tuple[str, int, str]], description: str) -> str:
    """One bar per (label, value, value's text), at most BARS_MAX."""
    assert len(bars) <= BARS_MAX, len(bars)
    top = max([value for _, value, _ in bars] + [1])
    width = PLOT_WIDTH // max(1, len(bars))
    body: list[str] = []
    for index, (label, value, text) in enumerate(bars):
        x = MARGIN_LEFT + width * index + 2
        y = _y(value, top)
        body.append(
            f'<rect x="{x}" y="{y}" width="{max(1, width - 4)}" '
            f'height="{MARGIN_TOP + PLOT_HEIGHT - y}" class="bar"><title>{escape(label)}: '
            f"{escape(text)}</title></rect>"
            f'<text x="{x + width // 2}" y="{HEIGHT - 8}" text-anchor="middle" class="label">'
            f"{escape(label)}</text>"
        )
    return _frame(title, description, body)


def stacked_chart(
    title: str,
    stacks: Sequence[tuple[str, Mapping[str, int]]],
    description: str,
    shown: Callable[[int], str] = str,
) -> str:
    """One stacked bar per (label, status -> value), coloured by STATUS_COLOURS."""
    assert len(stacks) <= BARS_MAX, len(stacks)
    top = max([sum(parts.values()) for _, parts in stacks] + [1])
    width = PLOT_WIDTH // max(1, len(stacks))
    body: list[str] = []
    for index, (label, parts) in enumerate(stacks):
        x = MARGIN_LEFT + width * index + 2
        base = 0
        for status, colour in STATUS_COLOURS.items():
            value = parts.get(status, 0)
            if value <= 0:
                continue
            y_top, y_base = _y(base + value, top), _y(base, top)
            body.append(
                f'<rect x="{x}" y="{y_top}" width="{max(1, width - 4)}" '
                f'height="{y_base - y_top}" fill="{colour}"><title>{escape(label)} '
                f"{escape(status)}: {escape(shown(value))}</title></rect>"
            )
            base += value
        body.append(
            f'<text x="{x + width // 2}" y="{HEIGHT - 8}" text-anchor="middle" class="label">'
            f"{escape(label)}</text>"
        )
    legend_x = MARGIN_LEFT + 8
    for status, colour in STATUS_COLOURS.items():
        body.append(
            f'<rect x="{legend_x}" y="{MARGIN_TOP}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{MARGIN_TOP + 11}" class="label">{status}</text>'
        )
        legend_x += 90
    return _frame(title, description, body)
