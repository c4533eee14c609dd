"""Charts of orders and sales per day (matplotlib, drawn without a screen).

Orders are bars on the left axis, sales are lines on the right: the total, and each community
shown. matplotlib is imported on first use, in the drawing thread: a bot that is never asked for
a chart never pays its import (about half a second and 30 MB here).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.imaging.fonts import font_file

ORDERS_COLOUR = "#4c8bf5"  # the bars (the tests find them by this colour)
LINE_COLOURS = ("#e53935", "#43a047", "#fb8c00", "#8e24aa")
SIZE = (9.0, 4.8)  # inches
DPI = 100

_lock = threading.Lock()  # matplotlib's font cache and rcParams are shared by every thread


@dataclass(frozen=True)
class SalesLine:
    label: str
    values: Sequence[float]  # major units (yuan), one per day


@dataclass(frozen=True)
class ChartWords:
    """Everything written on the chart, in the reader's language."""

    title: str
    orders: str
    sales: str


def draw_daily_chart(
    days: Sequence[date], orders: Sequence[int], lines: Sequence[SalesLine], words: ChartWords
) -> bytes:
    """A PNG: one bar per day, one line per series of sales."""
    with _lock:
        figure = _figure()
        axes = figure.add_subplot(1, 1, 1)
        positions = list(range(len(days)))
        axes.bar(positions, orders, width=0.75, color=ORDERS_COLOUR, label=words.orders)
        axes.set_ylabel(words.orders)
        axes.set_title(words.title)
        axes.set_xlim(-0.6, len(days) - 0.4)
        step = max(1, len(days) // 10)
        axes.set_xticks(positions[::step], [d.strftime("%m-%d") for d in days][::step])
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.spines[["top"]].set_visible(False)
        sales = axes.twinx()
        sales.set_ylabel(words.sales)
        for colour, line in zip(LINE_COLOURS, lines, strict=False):
            sales.plot(
                positions, line.values, color=colour, marker="o", markersize=3, label=line.label
            )
        sales.set_ylim(bottom=0)
        sales.spines[["top"]].set_visible(False)
        handles = axes.get_legend_handles_labels()
        more = sales.get_legend_handles_labels()
        sales.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
        return out.getvalue()


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    source = font_file()
    if source is not None:
        path, _ = source
        # A collection's first face has the Han glyphs too; matplotlib reads its first face.
        font_manager.fontManager.addfont(path)
        name = font_manager.FontProperties(fname=path).get_name()
        matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return Figure(figsize=SIZE, dpi=DPI)
