"""Charts drawn on the server as SVG (matplotlib), text kept as text: Chinese renders with
the reader's own fonts, the report needs no JavaScript and prints sharp.

A chart is drawn from a table after the disclosure rule ran: a hidden count gets no bar,
only its "<10" label, so a bar's length never tells what the table hides.
"""

from __future__ import annotations

import io
import re
from functools import cache

from web.report.tables import Table

# matplotlib is imported when a chart is drawn, not with the console: it costs about a
# second, and every process that imports the composition root (a parse worker unpickling
# a parser, a CLI command) would pay it.

# What the reader's browser is asked for (the SVG keeps text as text) ...
FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
         "WenQuanYi Zen Hei", "sans-serif"]
_CSS_FONTS = "font-family: " + ", ".join(
    f"'{f}'" if f != "sans-serif" else f for f in FONTS)
_FONT_FAMILY = re.compile(r"font-family: [^;\"]*")
COLOUR = "#2f6f8f"
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def bar_chart(table: Table, hidden_label: str, *, horizontal: bool = False) -> str:
    """The counts of ``table``'s rows (not the total) as bars; an SVG element as text."""
    # The counts only: not the total, nor a median or a percentile in the same table.
    rows = [r for r in table.rows if not r.total and r.keys and r.keys[0] is not None
            and table.cells[r.keys[0]].kind == "count"]
    cells = [table.cells[r.keys[0]] for r in rows if r.keys[0] is not None]
    labels = [r.label for r in rows]
    values = [0 if c.hidden or not isinstance(c.value, int) else c.value for c in cells]
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": _layout_fonts(),
                                "svg.hashsalt": table.key}):
        figure = Figure(figsize=(6.4, max(1.6, 0.32 * len(rows) + 0.8)) if horizontal
                        else (6.4, 2.6))
        axes = figure.add_subplot()
        positions = list(range(len(rows)))
        bars = (axes.barh(positions, values, color=COLOUR) if horizontal
                else axes.bar(positions, values, color=COLOUR))
        texts = [hidden_label if c.hidden else str(c.value) for c in cells]
        axes.bar_label(bars, labels=texts, padding=2, fontsize=8)
        if horizontal:
            axes.set_yticks(positions, labels, fontsize=8)
            axes.invert_yaxis()
        else:
            axes.set_xticks(positions, labels, fontsize=8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(labelsize=8)
        axes.margins(x=0.08 if horizontal else 0.02, y=0.12)
        figure.tight_layout()
        out = io.StringIO()
        FigureCanvasSVG(figure).print_svg(out, metadata={"Date": None})  # type: ignore[no-untyped-call]
    svg = _PROLOGUE.sub("", out.getvalue(), count=1)
    return _FONT_FAMILY.sub(_CSS_FONTS, svg)


@cache
def _layout_fonts() -> list[str]:
    """... and what the server measures the labels with: those of them installed here
    (asking matplotlib for a missing one logs a warning per label, and is slow)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [f for f in FONTS if f in installed] + ["DejaVu Sans"]
