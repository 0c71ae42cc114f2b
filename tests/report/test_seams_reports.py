"""The seams, end to end, on an organisation built for them (not the demo): no questionnaire
answers, two business units whose CPIs sit on either side of the organisation's, six months
of earned value and a risk register whose past cannot be recomputed. The real stages run,
the reports are rendered and mailed, and poppler reads the PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from pmopulse import pipeline
from pmopulse.config import load_config
from pmopulse.jsonfile import read_json
from pmopulse.period import Period
from support import SmtpSink, pdf_text, write_config

PERIOD = Period.parse("2026-10")
MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
# NET delivers under budget (CPI 1.03, green); CLOUD over it (0.85, red); the organisation
# pools them to 0.93 (amber). Its own CPI is what each unit's report must speak of.
UNITS = {"NET": (103.0, 100.0), "CLOUD": (102.0, 120.0)}   # EV and AC per 100 planned


def _write_organisation(folder: Path) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    ids = [f"{unit}-{i}" for unit in UNITS for i in range(1, 5)]
    pd.DataFrame({
        "id": ids, "name": [f"Project {i}" for i in ids], "business_unit": [i.split("-")[0] for i in ids],
        "manager": [f"pm-{i}" for i in ids], "status": "active", "start": "2026-01-05",
        "baseline_finish": "2027-06-30",
    }).to_csv(data / "projects.csv", index=False)
    rows = []
    for project in ids:
        earned, cost = UNITS[project.split("-")[0]]
        for n, month in enumerate(MONTHS, start=1):
            rows.append({"project": project, "period": month, "planned_value": 100.0 * n,
                         "earned_value": earned * n, "actual_cost": cost * n})
    pd.DataFrame(rows).to_csv(data / "evm_snapshots.csv", index=False)
    pd.DataFrame({
        "project": ids, "id": [f"R-{i}" for i in ids], "probability": 0.3, "impact": 2,
        "status": "open", "owner": "risk-owner", "raised": "2026-02-01", "last_reviewed": "2026-10-20",
        "has_response_plan": True,
    }).to_csv(data / "risks.csv", index=False)
    return write_config(folder, {
        "organisation": {"name": "Seam Corp", "timezone": "Asia/Shanghai", "business_units": [
            {"id": "NET", "name": "Network"}, {"id": "CLOUD", "name": "Cloud"}]},
        "artifacts_root": "artifacts",
        "sources": [{"name": "files", "kind": "files", "path": "data"}],
        "validation": {"max_age_days": 400},
        "delivery": {"sender": "pulse@seam.example", "allowed_domains": ["seam.example"],
                     "pmo_contact": "pmo@seam.example",
                     "recipients": {"organisation": ["ceo@seam.example"], "NET": ["net@seam.example"],
                                    "CLOUD": ["cloud@seam.example"]}},
    })


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = load_config(_write_organisation(tmp_path_factory.mktemp("seams") / "org"))
    for stage in (pipeline.extract, pipeline.validate, pipeline.compute_kpis, pipeline.assess_maturity,
                  pipeline.recommend):
        stage(config, PERIOD)
    rendered = pipeline.render_reports(config, PERIOD)
    root = pipeline.paths(config, PERIOD)
    return {"config": config, "rendered": rendered, "kpis": read_json(root.kpis),
            "text": {audience: pdf_text(Path(r["languages"]["en"]["pdf"]))
                     for audience, r in rendered.items()}}


def _section(text: str, start: str, end: str) -> str:
    """The text from the last heading `start` (the contents page names it too) to `end`."""
    body = text[text.rindex(start):]
    return body[:body.index(end)] if end in body else body


@pytest.mark.parametrize("audience", ["organisation", "NET", "CLOUD"])
def test_without_answers_no_report_states_a_maturity_level(run: dict, audience: str) -> None:
    text = run["text"][audience]
    assert not re.search(r"\bLevel [1-5]\b", text), "a level without a single answer"
    assert "Claimed 1" not in text and "Initial" not in text
    assert text.count("not assessed") >= 2
    assert "Put the practice in place" not in text and "no answers" not in _section(
        text, "Improvement roadmap", "Appendix")


def test_without_answers_the_mail_says_not_assessed(run: dict, smtp_server: SmtpSink) -> None:
    pipeline.deliver(run["config"], PERIOD, run["rendered"])
    bodies = {m["To"]: m.get_body(("html",)).get_content() for m in smtp_server.messages}
    assert set(bodies) >= {"ceo@seam.example", "net@seam.example", "cloud@seam.example"}
    for body in bodies.values():
        assert "not assessed" in body and not re.search(r"Level [1-5]", body)


def test_each_unit_report_acts_on_its_own_values(run: dict) -> None:
    cpi = {r["scope"]: r for r in run["kpis"]["results"] if r["kpi"] == "cpi" and r["level"] != "project"}
    assert (round(cpi["Seam Corp"]["value"], 2), cpi["Seam Corp"]["rag"]) == (0.93, "amber")
    assert (cpi["NET"]["rag"], cpi["CLOUD"]["rag"]) == ("green", "red")
    roadmaps = {a: _section(run["text"][a], "Improvement roadmap", "Appendix") for a in run["text"]}
    assert "Review the cost baseline" in roadmaps["organisation"] and "0.93" in roadmaps["organisation"]
    assert "Review the cost baseline" not in roadmaps["NET"]            # NET's CPI is 1.03, green
    assert "Review the cost baseline" in roadmaps["CLOUD"] and "0.85" in roadmaps["CLOUD"]
    assert "0.93" not in roadmaps["CLOUD"] and "0.93" not in roadmaps["NET"]


def test_past_months_are_known_recomputed_and_said_so_or_no_data(run: dict) -> None:
    trend = run["kpis"]["trend"]
    # Earned value is stamped with its period: May–September are recomputed, and say so;
    # before May there is nothing to recompute from.
    spi = {p["period"]: (p["value"], p["basis"]) for p in trend["spi"]}
    assert [spi[m][1] for m in MONTHS] == ["recomputed"] * 5 + ["snapshot"]
    assert spi["2026-04"] == (None, "recomputed")
    # A risk keeps only its latest review: September's currency cannot be recomputed.
    assert {(p["value"], p["basis"]) for p in trend["risk_register_currency"][:-1]} == {(None, "missing")}
    text = run["text"]["organisation"]
    caption = " ".join(text[text.index("Hollow markers"):].split())
    assert caption.startswith("Hollow markers: months no report was kept for, recomputed from this month's "
                              "data (2026-05, 2026-06, 2026-07, 2026-08, 2026-09)")
    # The change against September says it is against a recomputed value; risk register
    # currency has no September to compare with.
    rows = [" ".join(line.split()) for line in text.splitlines()]
    assert any(re.match(r"Schedule performance 1\.02 ● green .* 1\.02 ▶ 0 \(recomputed\)", r) for r in rows)
    assert any(re.match(r"Risk register currency 100\.0% ● green ≥ 90% no data – ", r) for r in rows)
