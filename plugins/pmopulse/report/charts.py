"""Charts as SVG with text kept as text (searchable, crisp in print, readable in grey)."""

from __future__ import annotations

import io
from collections.abc import Sequence

# One CJK family, named explicitly so Latin and Chinese labels never mix fallback fonts.
FONT_FAMILY = ["Noto Sans CJK SC", "DejaVu Sans"]


def trend_chart(
    periods: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    band: tuple[float, float] | None = None,
    y_label: str = "",
) -> str:
    """A line chart of monthly values; gaps (no data) stay gaps instead of dropping to 0."""
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
            ax.plot(xs, ys, style, color="#1f3b5a" if style == "-o" else "#7a4b00",
                    label=label, linewidth=1.6, markersize=3.5)
        ax.set_xticks(xs, [p[2:] for p in periods])
        ax.set_ylabel(y_label)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower left", frameon=False, ncols=len(series))
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
