"""Every report of the demo organisation, in both languages, checked with poppler: the
text extracts (Chinese too), fonts are embedded subsets, the page count is sane, and the
table of contents points at its sections. Data that holds markup prints as text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pmopulse import pipeline
from pmopulse.config import load_config
from pmopulse.period import Period
from pmopulse.report.render import TemplatesOnlyFetcher
from support import DEMO_PERIOD, check_contents, pdf_fonts, pdf_text

HOSTILE = '<script>alert(1)</script><img src="file:///etc/passwd">'


@pytest.fixture(scope="module")
def reports(demo_org: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The period's reports, rendered by the real stages from demo data in which the worst
    project's name holds markup, with the Network Products unit reading Chinese."""
    import shutil

    org = tmp_path_factory.mktemp("reports") / "org"
    shutil.copytree(demo_org, org, ignore=shutil.ignore_patterns("artifacts"))
    projects = pd.read_csv(org / "data" / "projects.csv", dtype=str, keep_default_na=False)
    projects.loc[projects["id"] == "PRJ-0038", "name"] = HOSTILE
    projects.to_csv(org / "data" / "projects.csv", index=False)
    config_path = org / "pmopulse.yaml"
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["delivery"]["recipients"]["BU-NET"] = [
        {"language": "zh", "to": ["net-head@acme.example"]}, {"to": ["net-pmo@acme.example"]}]
    raw["delivery"]["recipients"]["organisation"] = [
        {"to": raw["delivery"]["recipients"]["organisation"]},
        {"language": "zh", "to": ["chairman@acme.example"]}]
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config, period = load_config(config_path), Period.parse(DEMO_PERIOD)

    fetched: list[str] = []
    patch = pytest.MonkeyPatch()
    original = TemplatesOnlyFetcher.fetch
    patch.setattr(TemplatesOnlyFetcher, "fetch",
                  lambda self, url, headers=None: fetched.append(url) or original(self, url, headers))
    try:
        for stage in (pipeline.extract, pipeline.validate, pipeline.compute_kpis,
                      pipeline.assess_maturity, pipeline.recommend):
            stage(config, period)
        rendered = pipeline.render_reports(config, period)
        delivered = pipeline.deliver(config, period, rendered)
    finally:
        patch.undo()
    return {"rendered": rendered, "fetched": fetched, "delivered": delivered, "org": org}


def _pdf(reports: dict, audience: str, language: str) -> Path:
    return Path(reports["rendered"][audience]["languages"][language]["pdf"])


REPORTS = [("organisation", "en"), ("organisation", "zh"), ("BU-NET", "en"), ("BU-NET", "zh"),
           ("BU-CLOUD", "en")]
TITLES = {"en": ("Monthly governance report", "Executive summary", "Contents"),
          "zh": ("月度治理报告", "管理层摘要", "目录")}


@pytest.mark.parametrize(("audience", "language"), REPORTS)
def test_each_report_extracts_embeds_its_fonts_and_has_a_sane_length(
    reports: dict, audience: str, language: str
) -> None:
    pdf = _pdf(reports, audience, language)
    text = pdf_text(pdf)
    for expected in (*TITLES[language], "Acme Networks Group"):
        assert expected in text
    if audience != "organisation":
        assert "Network Products" in text if audience == "BU-NET" else "Cloud Services" in text
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M)[1])
    assert 12 <= pages <= 40, f"{pdf.name}: {pages} pages"
    assert re.search(r"^Title:\s+\S", info, re.M) and re.search(r"^Author:\s+PMO Pulse$", info, re.M)
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    fonts = pdf_fonts(pdf)
    assert fonts and all("Noto-Sans-CJK-SC" in row[0] for row in fonts), fonts
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in fonts), f"embedded, subset, unicode: {fonts}"


@pytest.mark.parametrize(("audience", "language"), [("organisation", "en"), ("BU-NET", "zh")])
def test_the_table_of_contents_points_at_its_sections(reports: dict, audience: str, language: str) -> None:
    check_contents(_pdf(reports, audience, language), page=2, entries=7)


def test_the_first_page_answers_where_we_are_what_changed_and_what_to_decide(reports: dict) -> None:
    first = " ".join(subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-raw",
                                     str(_pdf(reports, "organisation", "en")), "-"],
                                    check=True, capture_output=True, text=True).stdout.split())
    for expected in ("Maturity level", "Schedule performance index (SPI)", "Risk register currency",
                     "Process compliance rate", "Data quality", "Top actions", "Projects most at risk",
                     "records", "Confidential"):
        assert expected in first
    assert len(re.findall(r"[▲▼▶] ", first)) >= 8, "each headline KPI shows its change"


def test_markup_in_project_names_prints_as_text_and_nothing_is_fetched(reports: dict) -> None:
    for audience, language in REPORTS:
        text = " ".join(pdf_text(_pdf(reports, audience, language), layout=False).split())
        if audience in ("organisation", "BU-NET"):  # PRJ-0038 belongs to Network Products
            assert f"PRJ-0038 {HOSTILE}" in text
    assert reports["fetched"], "the stylesheet is fetched through the guarded fetcher"
    assert all(url.startswith("data:") or "report_templates" in url for url in reports["fetched"])
    assert not any("passwd" in url for url in reports["fetched"])


def test_each_recipient_list_gets_its_report_in_its_language(reports: dict) -> None:
    sent = {(r["to"], Path(r["via"].split(":", 1)[1]).name) for r in reports["delivered"]["sent"]}
    assert ("chairman@acme.example", f"{DEMO_PERIOD}-organisation-zh-chairman@acme.example.eml") in sent
    assert ("net-head@acme.example", f"{DEMO_PERIOD}-BU-NET-zh-net-head@acme.example.eml") in sent
    assert ("net-pmo@acme.example", f"{DEMO_PERIOD}-BU-NET-en-net-pmo@acme.example.eml") in sent
    assert ("ceo@acme.example", f"{DEMO_PERIOD}-organisation-en-ceo@acme.example.eml") in sent
    for unit in ("BU-NET", "BU-CLOUD", "BU-DEVICE"):  # the PMO contact gets every unit's report
        assert ("pmo-lead@acme.example", f"{DEMO_PERIOD}-{unit}-en-pmo-lead@acme.example.eml") in sent
    assert len(sent) == 11  # and the demo's heads of BU-CLOUD and BU-DEVICE
