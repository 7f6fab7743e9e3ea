"""Charts drawn on the server as inline SVG, for pages and documents that run no JavaScript (the funder report as a
PDF): a bar chart and a line chart, from values already published (a value of None is a figure withheld by the
disclosure method, drawn as no bar or no point and labelled with `withheld_text`). Every text is escaped; the
chart carries a <title> and a <desc> for screen readers, and the figures are always in a table beside it."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 48
COLOURS = ("#1d70b8", "#f47738", "#00703c", "#4c2c92")
AXIS, GRID, INK = "#505a5f", "#dde1e3", "#0b0c0c"


@dataclass(frozen=True)
class Series:
    """One series of a chart: its name (for the legend) and one value per label (None: withheld)."""

    name: str
    values: tuple[int | Decimal | None, ...]


def nice_top(largest) -> int:
    """The top of the value axis: the smallest 5, 10, 20, 50, 100, ... at or above `largest` (5 for none), so that
    its fifths, where the grid lines are, are whole numbers."""
    if not largest or largest <= 0:
        return 5
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(largest, 5):
                return step * factor
        step *= 10


def _number(value, money: bool) -> str:
    if money:
        return f"£{value:,.0f}"
    return f"{value:,}"


def _frame(*, title: str, description: str, top: int, money: bool, body: list[str], series, labels) -> SafeString:
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" width="{}" height="{}" '
            'role="img" aria-labelledby="{}-title {}-desc" font-family="sans-serif" font-size="10">',
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT,
            _id(title),
            _id(title),
        ),
        format_html(
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>', _id(title), title, _id(title), description
        ),
    ]
    for tick in range(6):
        value = top * tick // 5
        y = TOP + plot_height - plot_height * tick / 5
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/><text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                LEFT,
                f"{y:.1f}",
                LEFT + plot_width,
                f"{y:.1f}",
                GRID if tick else AXIS,
                LEFT - 4,
                f"{y + 3:.1f}",
                INK,
                _number(value, money),
            )
        )
    parts += body
    slot = plot_width / max(len(labels), 1)
    for index, label in enumerate(labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                f"{LEFT + slot * (index + 0.5):.1f}",
                TOP + plot_height + 14,
                INK,
                label,
            )
        )
    if len(series) > 1:
        for index, one in enumerate(series):
            x = LEFT + index * 160
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" fill="{}">{}</text>',
                    x,
                    HEIGHT - 16,
                    COLOURS[index % len(COLOURS)],
                    x + 14,
                    HEIGHT - 7,
                    INK,
                    one.name,
                )
            )
    parts.append(mark_safe("</svg>"))
    # Each part was escaped by format_html.
    return mark_safe("".join(str(part) for part in parts))


def _withheld(x: float, y: float, text: str) -> str:
    """A withheld value's words, written upwards from the axis where its bar or point would be."""
    return format_html(
        '<text x="{}" y="{}" transform="rotate(-90 {} {})" dominant-baseline="middle" fill="{}" font-size="8" '
        'class="withheld">{}</text>',
        f"{x:.1f}",
        y,
        f"{x:.1f}",
        y,
        AXIS,
        text,
    )


def _id(title: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def _scale(series, labels) -> tuple[int, float, float]:
    values = [v for one in series for v in one.values if v is not None]
    if any(len(one.values) != len(labels) for one in series):
        raise ValueError("Each series needs one value per label.")
    top = nice_top(max(values, default=0))
    return top, (WIDTH - LEFT - RIGHT) / max(len(labels), 1), HEIGHT - TOP - BOTTOM


def bar_chart(
    *, title: str, description: str, labels, series: list[Series], money: bool = False, withheld_text: str = ""
) -> SafeString:
    """Bars side by side per label, one colour per series; a withheld value is drawn as its `withheld_text`."""
    labels = [str(label) for label in labels]
    top, slot, plot_height = _scale(series, labels)
    bar = slot * 0.8 / max(len(series), 1)
    body = []
    for index in range(len(labels)):
        for number, one in enumerate(series):
            value = one.values[index]
            x = LEFT + slot * index + slot * 0.1 + bar * number
            if value is None:
                body.append(_withheld(x + bar / 2, TOP + plot_height - 3, withheld_text))
                continue
            height = plot_height * float(value) / top
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                    f"{x:.1f}",
                    f"{TOP + plot_height - height:.1f}",
                    f"{bar:.1f}",
                    f"{height:.1f}",
                    COLOURS[number % len(COLOURS)],
                    labels[index],
                    _number(value, money),
                )
            )
    return _frame(title=title, description=description, top=top, money=money, body=body, series=series, labels=labels)


def line_chart(
    *, title: str, description: str, labels, series: list[Series], money: bool = False, withheld_text: str = ""
) -> SafeString:
    """A line per series through the labels' values; the line breaks where a value is withheld, which is marked
    with `withheld_text`."""
    labels = [str(label) for label in labels]
    top, slot, plot_height = _scale(series, labels)
    body = []
    for number, one in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        runs, run = [], []
        for index, value in enumerate(one.values):
            x = LEFT + slot * (index + 0.5)
            if value is None:
                body.append(_withheld(x, TOP + plot_height - 3, withheld_text))
                runs.append(run)
                run = []
                continue
            y = TOP + plot_height - plot_height * float(value) / top
            run.append((x, y))
            body.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {}</title></circle>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    colour,
                    labels[index],
                    _number(value, money),
                )
            )
        runs.append(run)
        for points in runs:
            if len(points) > 1:
                body.append(
                    format_html(
                        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                        colour,
                        " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                    )
                )
    return _frame(title=title, description=description, top=top, money=money, body=body, series=series, labels=labels)
