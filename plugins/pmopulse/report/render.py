"""Context → HTML (Jinja2, autoescaped) → PDF (WeasyPrint), fetching nothing but templates."""

from __future__ import annotations

import base64
import logging
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from weasyprint import HTML, URLFetcher

from pmopulse.kpis.engine import RECOMPUTED
from pmopulse.report.charts import radar_chart, sparkline, trend_chart
from pmopulse.report.i18n import Locale, locale_for
from pmopulse.report.templating import render_template

# WeasyPrint logs every rendering step at INFO; keep its warnings (missing fonts, bad CSS).
for _name in ("weasyprint", "weasyprint.progress"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class TemplatesOnlyFetcher(URLFetcher):
    """Serves `data:` URIs and files inside the templates folder; refuses everything else.

    Report data never becomes a URL that is fetched: a project called
    `<img src="file:///etc/passwd">` is escaped to text, and even a URL that slipped
    through would be refused here.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path)).resolve()
            if path.is_relative_to(self.root):
                return super().fetch(url, headers)
        raise ValueError(f"PMO Pulse refuses to fetch {url!r}: outside the templates folder")


def render_html(context: dict[str, Any], templates_dir: Path, template: str) -> str:
    locale = locale_for(templates_dir, context["language"])
    charts: dict[str, str] = {}
    if context.get("trend", {}).get("spi"):
        charts["trend"] = _svg_data_uri(_trend_svg(context, locale))
    # No radar without a level to draw: a dimension nobody assessed is not a point at 0.
    if any(d["claimed_level"] is not None for d in context.get("maturity", {}).get("dimensions", [])):
        charts["radar"] = _svg_data_uri(_radar_svg(context["maturity"], locale))
    return render_template(templates_dir, context["language"], template, ctx=context, charts=charts,
                           spark=lambda points: _svg_data_uri(sparkline(
                               [p["value"] for p in points],
                               recomputed=[p["basis"] == RECOMPUTED for p in points])))


def render_pdf(context: dict[str, Any], templates_dir: Path, template: str, pdf: Path) -> Path:
    """Write the report PDF (tagged, with metadata and bookmarks) and return its path."""
    html = render_html(context, templates_dir, template)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    document = HTML(
        string=html,
        base_url=str(templates_dir.resolve()) + "/",
        url_fetcher=TemplatesOnlyFetcher(templates_dir),
    ).render()
    document.write_pdf(pdf, pdf_tags=True)
    return pdf


def _trend_svg(context: dict[str, Any], locale: Locale) -> str:
    trend = context["trend"]
    periods = [point["period"] for point in trend["spi"]]
    return trend_chart(
        periods,
        {"SPI": [p["value"] for p in trend["spi"]], "CPI": [p["value"] for p in trend["cpi"]]},
        band=(0.95, 1.05),
        recomputed=[any(trend[k][i]["basis"] == RECOMPUTED for k in ("spi", "cpi"))
                    for i in range(len(periods))],
        recomputed_label=locale.t("recomputed"),
    )


def _radar_svg(maturity: dict[str, Any], locale: Locale) -> str:
    dimensions = maturity["dimensions"]
    return radar_chart(
        [locale.pick(d["name"]) for d in dimensions],
        {locale.t("claimed_level"): [d["claimed_level"] for d in dimensions],
         locale.t("evidenced_level"): [d["level"] for d in dimensions],
         locale.t("target_level"): [d["target"] for d in dimensions]},
    )


def _svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
