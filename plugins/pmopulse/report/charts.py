"""Charts as SVG with text kept as text (searchable, crisp in print, readable in grey)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

# One CJK family, named explicitly so Latin and Chinese labels never mix fallback fonts.
FONT_FAMILY = ["Noto Sans CJK SC", "DejaVu Sans"]
# A month recomputed from this month's data, not reported then: hollow, so it reads in grey.
HOLLOW_DOT = 'r="1.6" fill="white" stroke="#1f3b5a" stroke-width="0.8" class="recomputed"'


def trend_chart(
    periods: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    band: tuple[float, float] | None = None,
    y_label: str = "",
    recomputed: Sequence[bool] = (),
    recomputed_label: str = "",
) -> str:
    """A line chart of monthly values; gaps (no data) stay gaps instead of dropping to 0.

    Months flagged in `recomputed` (no report held for them, recomputed from this month's
    data) are drawn with hollow markers, named in the legend by `recomputed_label`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({
        "svg.fonttype": "none",
        "svg.hashsalt": "pmopulse",
        "font.family": FONT_FAMILY,
        "font.size": 9,
    }):
        fig, ax = plt.subplots(figsize=(6.8, 2.6))
        xs = list(range(len(periods)))
        if band is not None:
            ax.axhspan(band[0], band[1], color="#d9ead3", zorder=0)
        styles = ["-o", "--s", ":^"]
        for (label, values), style in zip(series.items(), styles, strict=False):
            ys = [float("nan") if v is None else v for v in values]
            colour = "#1f3b5a" if style == "-o" else "#7a4b00"
            ax.plot(xs, ys, style, color=colour, label=label, linewidth=1.6, markersize=3.5)
            hollow = [(x, y) for x, y, flag in zip(xs, ys, recomputed, strict=False) if flag]
            if hollow:
                ax.plot(*zip(*hollow, strict=True), style[-1], color=colour, markerfacecolor="white",
                        markersize=5.5, linestyle="none", zorder=3)
        if any(recomputed) and recomputed_label:
            ax.plot([], [], "o", color="#555555", markerfacecolor="white", markersize=5.5,
                    linestyle="none", label=recomputed_label)
        ax.set_xticks(xs, [p[2:] for p in periods])
        ax.set_ylabel(y_label)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower left", frameon=False, ncols=len(series) + 1)
        return _svg(fig)


def sparkline(values: Sequence[float | None], *, recomputed: Sequence[bool] = (),
              width: int = 96, height: int = 22) -> str:
    """A 12-month sparkline as hand-written SVG: a gap where a month has no data, a hollow
    dot on each month recomputed from this month's data (`recomputed`), the last month
    marked. No axes: the tile beside it prints the value."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def point(i: int, v: float) -> str:
        return f"{2 + i * step:.1f},{height - 3 - (v - low) / span * (height - 6):.1f}"

    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(point(i, v))
    lines = "".join(f'<polyline points="{" ".join(run)}" fill="none" stroke="#1f3b5a" '
                    f'stroke-width="1.3"/>' for run in runs if len(run) > 1)
    last = next((i, v) for i, v in reversed(list(enumerate(values))) if v is not None)
    hollow = "".join(_dot(point(i, v), HOLLOW_DOT)
                     for i, (v, flag) in enumerate(zip(values, recomputed, strict=False))
                     if flag and v is not None)
    latest = _dot(point(*last), 'r="2" fill="#1f3b5a"')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{lines}{hollow}{latest}</svg>')



def _dot(xy: str, attributes: str) -> str:
    x, y = xy.split(",")
    return f'<circle cx="{x}" cy="{y}" {attributes}/>'


def radar_chart(labels: Sequence[str], series: dict[str, Sequence[int | None]], *,
                levels: int = 5) -> str:
    """Maturity levels per dimension on a radar: one line style per series (claimed,
    evidenced, target) so the chart reads in grey; a missing level is drawn at the centre."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pmopulse",
                                "font.family": FONT_FAMILY, "font.size": 8}):
        fig = plt.figure(figsize=(6.4, 4.6))
        ax = fig.add_subplot(polar=True)
        angles = [2 * math.pi * i / len(labels) for i in range(len(labels))]
        styles = [("-", "o", "#1f3b5a", 1.8), ("--", "s", "#b7791f", 1.6), (":", "", "#555555", 1.4)]
        for (name, values), (line, marker, colour, width) in zip(series.items(), styles, strict=False):
            ys = [0 if v is None else v for v in values]
            ax.plot([*angles, angles[0]], [*ys, ys[0]], linestyle=line, marker=marker or None,
                    color=colour, linewidth=width, markersize=3.5, label=name)
        ax.set_xticks(angles, [_wrap(label) for label in labels])
        ax.set_ylim(0, levels)
        ax.set_yticks(range(1, levels + 1), [str(n) for n in range(1, levels + 1)], color="#666666")
        ax.grid(color="#cccccc", linewidth=0.6)
        ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.12), frameon=False)
        return _svg(fig)


def _svg(fig: Any) -> str:
    """The figure as SVG markup (no XML prolog), then closed: charts are made once each."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _wrap(label: str, width: int = 18) -> str:
    """Break a long axis label onto two lines (at a space for Latin text)."""
    if len(label) <= width:
        return label
    cut = label.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else len(label) // 2
    return label[:cut].rstrip() + "\n" + label[cut:].lstrip()
