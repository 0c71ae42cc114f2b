"""Rendering: what the PDF says, in both languages, and what it refuses to fetch."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from pmopulse import pipeline
from pmopulse.config import load_config, project_home
from pmopulse.period import Period
from pmopulse.report.i18n import locale_for
from pmopulse.report.render import TemplatesOnlyFetcher, render_html, render_pdf
from support import DEMO_PERIOD, pdf_text

TEMPLATES = project_home() / "report_templates"


@pytest.fixture(scope="module")
def context(demo_org: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The organisation report context of the demo org, built by the real stages."""
    import shutil

    org = tmp_path_factory.mktemp("report") / "org"
    shutil.copytree(demo_org, org)
    config, period = load_config(org / "pmopulse.yaml"), Period.parse(DEMO_PERIOD)
    for stage in (pipeline.extract, pipeline.validate, pipeline.compute_kpis,
                  pipeline.assess_maturity, pipeline.recommend):
        stage(config, period)
    built = pipeline.render_report(config, period)
    return json.loads(Path(built["languages"]["en"]["context"]).read_text(encoding="utf-8"))


def test_translation_files_have_the_same_keys() -> None:
    en = yaml.safe_load((TEMPLATES / "i18n" / "en.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((TEMPLATES / "i18n" / "zh.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh)


def test_missing_values_print_as_no_data_not_zero() -> None:
    en, zh = locale_for(TEMPLATES, "en"), locale_for(TEMPLATES, "zh")
    assert en.ratio(None) == "no data" and en.percent(None) == "no data"
    assert zh.ratio(None) == "无数据"
    assert en.percent(0.0) == "0.0%"
    assert en.change(0.951, 0.948, "ratio") == "▶ 0"
    assert en.change(0.70, 0.75, "percent") == "▼ -5.0 pt"
    assert zh.period("2026-10") == "2026年10月" and en.date("2026-10-31") == "31 Oct 2026"


def test_pdf_shows_headline_kpis_with_their_basis(context: dict, tmp_path: Path) -> None:
    text = pdf_text(render_pdf(context, TEMPLATES, "organisation.html.j2", tmp_path / "r.pdf"))
    on_time = next(k for k in context["headline"]["kpis"] if k["kpi"] == "milestone_on_time")
    assert f"{on_time['value'] * 100:.1f}%" in text
    assert f"{on_time['records']} records" in text
    assert "Executive summary" in text and "Improvement roadmap" in text
    raw = pdf_text(tmp_path / "r.pdf", layout=False)
    pages = raw.count("\f")
    assert pages >= 5 and re.search(rf"^2 / {pages}$", raw, re.M), "running footer 'X / Y'"


def test_chinese_report_renders_chinese_text(context: dict, tmp_path: Path) -> None:
    text = pdf_text(render_pdf({**context, "language": "zh"}, TEMPLATES, "organisation.html.j2",
                               tmp_path / "zh.pdf"))
    for expected in ("月度治理报告", "管理层摘要", "进度绩效指数（SPI）", "2026年10月"):
        assert expected in text


def test_markup_in_data_prints_as_text_and_fetches_nothing(context: dict, tmp_path: Path) -> None:
    evil = '<img src="file:///etc/passwd">'
    hostile = json.loads(json.dumps(context))
    hostile["worst_projects"][0]["name"] = evil
    html = render_html(hostile, TEMPLATES, "organisation.html.j2")
    assert evil not in html and "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    text = pdf_text(render_pdf(hostile, TEMPLATES, "organisation.html.j2", tmp_path / "x.pdf"))
    assert 'img src="file:///etc/passwd"' in text


def test_fetcher_refuses_anything_outside_the_templates_folder(tmp_path: Path) -> None:
    fetcher = TemplatesOnlyFetcher(TEMPLATES)
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/x.png",
                (TEMPLATES / ".." / "README.md").resolve().as_uri()):
        with pytest.raises(ValueError, match="refuses"):
            fetcher.fetch(url)
    assert fetcher.fetch((TEMPLATES / "print.css").as_uri()) is not None


def test_appendix_shows_quality_by_reason_sources_freshness_and_data_dictionary(
    context: dict, tmp_path: Path
) -> None:
    pdf = render_pdf(context, TEMPLATES, "organisation.html.j2", tmp_path / "org.pdf")
    text = " ".join(pdf_text(pdf, layout=False).split())
    assert "quarantined: probability — expected ≥ 0 and ≤ 1 (1 row(s))" in text
    assert "warning: manager — expected a value (1 row(s))" in text
    assert "Sources and freshness" in text
    assert "risk_register (files)" in text and "31 Oct 2026 (risks.raised)" in text
    assert "current: 0 days old (limit 45)" in text
    assert "Data dictionary" in text
    assert "probability number yes 0 … 1 Probability between 0 and 1." in text
    assert "project string yes → projects.id Project id." in text


def test_appendix_names_source_warnings_and_cross_row_findings(context: dict, tmp_path: Path) -> None:
    # the demo's earned value is cumulative: no warning of its own
    assert not [w for w in context["data_quality"]["tables"]["evm_snapshots"]["warnings"]
                if w["expected"].startswith("cumulative")]
    quality = copy.deepcopy(context["data_quality"])
    quality["source_warnings"] = [{"source": "tracker", "warning": "milestones: Redmine version '1.0' (#7) "
                                   "of project APL is closed, so counted reached, but holds 1 open issue(s)"}]
    quality["tables"]["evm_snapshots"]["warnings"].append({
        "column": "planned_value", "expected": "cumulative", "rows": 1,
        "findings": ["evm_snapshots: P2: planned_value falls from 100.00 in 2026-08 to 80.00 in 2026-09"]})
    pdf = render_pdf({**context, "data_quality": quality}, TEMPLATES, "organisation.html.j2",
                     tmp_path / "org.pdf")
    text = " ".join(pdf_text(pdf, layout=False).split())
    assert "Warnings from the sources:" in text
    assert "tracker: milestones: Redmine version '1.0' (#7) of project APL is closed" in text
    assert "P2: planned_value falls from 100.00 in 2026-08 to 80.00 in 2026-09" in text


def test_maturity_section_names_claims_the_data_contradicts(context: dict, tmp_path: Path) -> None:
    pdf = render_pdf(context, TEMPLATES, "organisation.html.j2", tmp_path / "org.pdf")
    text = " ".join(pdf_text(pdf, layout=False).split())
    assert "Claimed level" in text and "Evidenced level" in text
    contradictions = context["maturity"]["contradictions"]
    assert contradictions, "the demo organisation is built to claim more than its data shows"
    assert "Claims the data contradicts" in text
    for c in contradictions:
        name = context["catalogue"][c["kpi"]]["name"]["en"]
        assert f"{c['practice']} " in text and name in text


def test_without_schedules_the_dcma_checks_stay_out_of_the_report(context: dict, tmp_path: Path) -> None:
    assert context["schedule_quality"] is None
    assert not [k for k in context["kpis_by_department"]["PMO"] if k["definition"]["group"]]
    text = pdf_text(render_pdf(context, TEMPLATES, "organisation.html.j2", tmp_path / "org.pdf"))
    # neither the table nor the checks' rows in the unit table and the KPI definitions
    assert "Schedule quality" not in text and "DCMA 1 — Missing logic" not in text


def _project_result(kpi: str, scope: str, value: float, rag: str) -> dict:
    return {"kpi": kpi, "level": "project", "scope": scope, "value": value, "rag": rag}


def test_schedule_quality_shows_projects_with_schedules_worst_first(context: dict, tmp_path: Path) -> None:
    from pmopulse.report.context import schedule_quality

    catalogue = context["catalogue"]
    checks = [k for k, d in catalogue.items() if d["group"] == "schedule_quality"]
    projects = [_project_result("dcma_missing_logic", "PRJ-0002", 0.02, "green"),
                _project_result("dcma_bei", "PRJ-0002", 0.97, "green"),
                _project_result("dcma_missing_logic", "PRJ-0001", 0.25, "red"),
                _project_result("dcma_leads", "PRJ-0001", 0.0, "green")]
    scoped = {"dcma_missing_logic": {"value": 0.10, "rag": "red"},
              "dcma_bei": {"value": None, "rag": "no_data"}}
    table = schedule_quality(catalogue, scoped, projects, {"PRJ-0001": "Core", "PRJ-0002": "Billing"})
    assert table is not None and table["kpis"] == checks and len(checks) == 12
    assert [row["id"] for row in table["rows"]] == ["PRJ-0001", "PRJ-0002"]     # a failed check first
    assert table["total"]["cells"]["dcma_bei"] is None                        # no data, not 0
    assert schedule_quality(catalogue, scoped, [], {}) is None

    english = {**context, "schedule_quality": table}
    text = pdf_text(render_pdf(english, TEMPLATES, "organisation.html.j2", tmp_path / "en.pdf"))
    for phrase in ("Schedule quality (DCMA 14-point)", "1 Logic", "14 BEI", "DCMA 1 — Missing logic"):
        assert phrase in text
    rows = [row for row in (line.split() for line in text.splitlines())
            if row[:2] in (["PRJ-0001", "Core"], ["PRJ-0002", "Billing"])]
    assert [row[:5] for row in rows] == [["PRJ-0001", "Core", "25.0%", "■", "0.0%"],
                                         ["PRJ-0002", "Billing", "2.0%", "●", "○"]]
    chinese = {**english, "language": "zh"}
    text = pdf_text(render_pdf(chinese, TEMPLATES, "organisation.html.j2", tmp_path / "zh.pdf"))
    for phrase in ("进度计划质量（DCMA 14 点检查）", "DCMA 限值", "DCMA 1 — 缺少逻辑关系"):
        assert phrase in text


def test_sparklines_and_trend_charts_mark_recomputed_months_and_leave_gaps() -> None:
    from pmopulse.report.charts import sparkline, trend_chart

    values = [None, None, 0.9, 0.92, None, 0.95, 0.97]
    recomputed = [False, False, True, True, False, False, False]
    svg = sparkline(values, recomputed=recomputed)
    # Two runs of line around the gap (no invented value in it), a hollow dot on each of
    # the two recomputed months, the last month filled.
    assert svg.count("<polyline") == 2 and svg.count('class="recomputed"') == 2
    assert sparkline(values).count('class="recomputed"') == 0
    chart = trend_chart([f"2026-0{i}" for i in range(1, 8)], {"SPI": values}, recomputed=recomputed,
                        recomputed_label="recomputed")
    assert ">recomputed<" in chart.replace("\n", "")
    assert "recomputed" not in trend_chart([f"2026-0{i}" for i in range(1, 8)], {"SPI": values})


def _schedule_note(project: str, schedule: str, **facts: object) -> dict:
    return {"project": project, "schedule": schedule, "status_date": None, "last_saved": None,
            "dated": None, "dated_by": None, "age_days": None, "max_age_days": 45, "stale": None,
            "statused": True, "checked_as_of": "2026-11-30", "checked_as_of_by": "as_of",
            "durations": "baseline", "baselined_tasks": 5, "tasks": 5, "no_earned_value": None, **facts}


def test_schedule_quality_names_stale_and_unstatused_schedules_and_unread_files(
        context: dict, tmp_path: Path) -> None:
    from pmopulse.report.context import schedule_notes, schedule_quality

    notes = [
        _schedule_note("PRJ-0001", "old.xer", status_date="2015-02-24", dated="2015-02-24",
                       dated_by="status_date", age_days=4297, stale=True, checked_as_of="2015-02-24",
                       checked_as_of_by="status_date"),
        _schedule_note("PRJ-0001", "plan.mpp", last_saved="2026-11-20", dated="2026-11-20",
                       dated_by="last_saved", age_days=10, stale=False, statused=False,
                       durations="current", baselined_tasks=0),
        _schedule_note("PRJ-0999", "elsewhere.mpp"),   # another unit's project: not in this report
    ]
    sources = [{"name": "plans", "kind": "schedules", "notes": notes}, {"name": "pmo", "kind": "files"}]
    in_scope = schedule_notes(sources, {"PRJ-0001", "PRJ-0002"})
    assert [n["schedule"] for n in in_scope] == ["old.xer", "plan.mpp"]
    table = schedule_quality(context["catalogue"], {},
                             [_project_result("dcma_missing_logic", "PRJ-0001", 0.25, "red")],
                             {"PRJ-0001": "Core"}, in_scope)
    unread = [{"source": "plans", "item": "broken.mpp", "blocking": False,
               "message": "broken.mpp: not a schedule MPXJ can read (Invalid header signature)"}]
    page = {**context, "schedule_quality": table,
            "data_quality": {**context["data_quality"], "unread": unread}}
    pdf = render_pdf(page, TEMPLATES, "organisation.html.j2", tmp_path / "en.pdf")
    text = " ".join(pdf_text(pdf).split())
    # (table cells wrap: phrases are matched up to a cell's first line break)
    for phrase in ("old.xer 24 Feb 2015 STALE: 4297 days old", "plan.mpp not statused: no",
                   "saved 20 Nov 2026", "30 Nov 2026 (as-of date,", "current (no",
                   "plans broken.mpp broken.mpp: not a schedule MPXJ can read"):
        assert phrase in text, phrase
