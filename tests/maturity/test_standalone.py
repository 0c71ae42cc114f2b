"""The stand-alone assessment's stages, and the monthly run taking in its answers."""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
from email import policy
from pathlib import Path

import pandas as pd
import pytest
from pmopulse import assessment, pipeline
from pmopulse.config import load_config
from pmopulse.errors import ConfigError
from pmopulse.period import Period
from support import DEMO_PERIOD, check_contents, pdf_fonts, pdf_text

RUN_TIME = dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)  # 20 Nov in Asia/Shanghai


def _export(org: Path, target: Path, edit=None) -> Path:
    """The demo's questionnaire answers as a web form would export them."""
    answers = pd.read_csv(org / "data" / "assessment_responses.csv", dtype=str, keep_default_na=False)
    if edit is not None:
        answers = edit(answers)
    target.parent.mkdir(parents=True, exist_ok=True)
    answers.to_csv(target, index=False)
    return target


def _mail(folder: Path) -> email.message.EmailMessage:
    (eml,) = sorted((folder / "outbox").glob("*.eml"))
    return email.message_from_bytes(eml.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def test_a_file_run_by_hand_is_scored_against_the_latest_kpis_reported_and_mailed(
    reported_copy: Path, tmp_path: Path
) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")
    answers = _export(reported_copy, tmp_path / "Q4 answers.csv")

    (folder,) = map(Path, assessment.intake(config, answers_file=str(answers), run_time=RUN_TIME))
    scored = assessment.score(config, folder)
    rendered = assessment.render(config, folder)
    delivered = assessment.deliver(config, folder, rendered)

    assert answers.exists(), "a file given by hand is copied, never moved"
    assert (folder / "answers.csv").read_bytes() == answers.read_bytes()
    result = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert result["intake"]["as_of"] == "2026-11-20" and result["intake"]["source"] == "by hand"
    assert result["evidence"] == {"period": DEMO_PERIOD, "as_of": "2026-10-31"}
    maturity = result["maturity"]
    assert scored["headline_level"] == maturity["headline_level"]
    assert maturity["respondents"] == 12 and maturity["contradictions"]

    # The same answers and KPIs, scored directly, give the same result.
    scoring = assessment.Scoring.from_config(config)
    kpis = json.loads((reported_copy / "artifacts" / DEMO_PERIOD / "kpis.json").read_text(encoding="utf-8"))
    direct = scoring.evaluate(pd.read_parquet(folder / "answers.parquet"), kpis)
    assert json.loads(json.dumps(direct, default=str)) == maturity

    pdf_path = Path(rendered["languages"]["en"]["pdf"])
    text = " ".join(pdf_text(pdf_path, layout=False).split())
    assert "Maturity self-assessment" in text and "Q4 answers.csv" in text
    assert "checked against the KPIs of October 2026" in text
    for c in maturity["contradictions"]:
        assert c["text"]["en"][:40] in text
    assert [r["to"] for r in delivered["sent"]] == ["pmo-lead@acme.example"]
    message = _mail(folder)
    assert (f"level {maturity['headline_level']} evidenced ({maturity['headline_claimed_level']} claimed)"
            in message["Subject"])
    (pdf,) = message.iter_attachments()
    assert pdf.get_filename() == pdf_path.name

    # A retried deliver mails nobody twice; resend mails again on purpose.
    again = assessment.deliver(config, folder, rendered)["sent"]
    assert [r["status"] for r in again] == ["skipped: sent before"]
    resent = assessment.deliver(config, folder, rendered, resend=True)["sent"]
    assert [(r["to"], r["status"]) for r in resent] == [("pmo-lead@acme.example", "sent")]


def test_a_business_unit_file_scores_that_unit_and_lists_rows_of_other_units(
    reported_copy: Path, tmp_path: Path
) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")

    def one_unit(frame: pd.DataFrame) -> pd.DataFrame:
        unit = frame[frame["business_unit"] == "BU-NET"].copy()
        unit.loc[unit.index[:3], "business_unit"] = ""          # blank: taken as BU-NET
        other = frame[frame["business_unit"] != "BU-NET"].head(2)
        return pd.concat([unit, other])

    answers = _export(reported_copy, tmp_path / "net.csv", one_unit)
    expected_respondents = pd.read_csv(answers, dtype=str, keep_default_na=False).query(
        "business_unit in ['BU-NET', '']")["respondent"].nunique()

    (folder,) = map(Path, assessment.intake(config, answers_file=str(answers), business_unit="BU-NET",
                                            run_time=RUN_TIME))
    assessment.score(config, folder)
    result = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))

    assert folder.name.endswith("-net-BU-NET")
    assert result["maturity"]["scope"] == "BU-NET"
    assert result["maturity"]["respondents"] == expected_respondents
    problems = result["import"]["problems"]
    assert len(problems) == 2 and all("net.csv: row" in p and "expected 'BU-NET'" in p for p in problems)
    text = pdf_text(Path(assessment.render(config, folder)["languages"]["en"]["pdf"]))
    assert "2 rows left out" in text and "expected 'BU-NET' or empty" in " ".join(text.split())


def test_a_file_that_cannot_be_scored_is_kept_and_the_pmo_contact_is_told_why(
    reported_copy: Path, tmp_path: Path
) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")
    bad = tmp_path / "export.csv"
    bad.write_text("name,question text,score\nAnna,GS-2.1-Q1,3\n", encoding="utf-8")

    (folder,) = map(Path, assessment.intake(config, answers_file=str(bad), run_time=RUN_TIME))
    assert assessment.score(config, folder)["usable"] is False
    assert assessment.render(config, folder)["languages"] == {}
    delivered = assessment.deliver(config, folder, {})

    assert (folder / "answers.csv").read_text(encoding="utf-8") == bad.read_text(encoding="utf-8")
    assert [r["to"] for r in delivered["sent"]] == ["pmo-lead@acme.example"]
    message = _mail(folder)
    assert message["Subject"] == "[PMO Pulse] Questionnaire answers export.csv refused"
    body = message.get_body(("html",)).get_content()
    assert "export.csv: no column for item, respondent, answer" in body
    assert str(folder) not in body and folder.name in body


def test_nothing_to_score_or_an_unknown_unit_is_a_message_naming_what_to_fix(reported_copy: Path) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")
    with pytest.raises(ConfigError, match=f"put a CSV or XLSX export into {config.assessment_inbox}"):
        assessment.intake(config, run_time=RUN_TIME)
    assert assessment.intake(config, run_time=RUN_TIME, triggered=True) == [], \
        "a triggered run whose files an earlier run took has nothing to do"
    claimed = config.assessment_inbox / ".claimed" / "20261101T000000Z" / "BU-XX" / "x.csv"
    claimed.parent.mkdir(parents=True)
    claimed.write_text("respondent,item,answer\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="param business_unit 'BU-XX' is not in the config"):
        assessment.intake(config, answers_file=str(claimed), business_unit="BU-XX", run_time=RUN_TIME)
    # A file in a misnamed inbox folder is kept and refused with what to fix; it blocks nothing.
    (folder,) = assessment.intake(config, run_time=RUN_TIME, triggered=True)
    assert assessment.score(config, folder)["usable"] is False
    assert assessment.intake(config, run_time=RUN_TIME, triggered=True) == []
    sent = assessment.deliver(config, folder, assessment.render(config, folder))["sent"]
    assert [r["to"] for r in sent] == ["pmo-lead@acme.example"]
    body = _mail(Path(folder)).get_body(("html",)).get_content()
    assert "BU-XX" in body and "not a business unit in the config" in body


def test_evidence_is_the_newest_reported_month_ended_by_the_as_of_date(reported_copy: Path) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")
    artifacts = reported_copy / "artifacts"
    shutil.copytree(artifacts / DEMO_PERIOD, artifacts / "2026-11")
    held = artifacts / "2026-09"
    shutil.copytree(artifacts / DEMO_PERIOD, held)
    validation = json.loads((held / "validation.json").read_text(encoding="utf-8"))
    (held / "validation.json").write_text(json.dumps({**validation, "blocking": True}), encoding="utf-8")

    assert assessment.latest_evidence(config, dt.date(2026, 11, 29)) == Period(2026, 10)  # Nov not over
    assert assessment.latest_evidence(config, dt.date(2026, 11, 30)) == Period(2026, 11)
    assert assessment.latest_evidence(config, dt.date(2026, 10, 30)) is None  # Sep was held back


def _round(org: Path, tmp_path: Path, name: str, unit: str | None, day: str, edit) -> None:
    config = load_config(org / "pmopulse.yaml")
    answers = _export(org, tmp_path / name, edit)
    (folder,) = assessment.intake(config, answers_file=str(answers), business_unit=unit or "",
                                  as_of=day, run_time=RUN_TIME)
    assessment.score(config, folder)


def test_the_monthly_report_takes_in_the_latest_assessment(reported_copy: Path, tmp_path: Path) -> None:
    config = load_config(reported_copy / "pmopulse.yaml")
    run = reported_copy / "artifacts" / DEMO_PERIOD
    table = pd.read_parquet(run / "clean" / "assessment_responses.parquet")

    def everyone_says(answer: str):
        def edit(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(answer=answer)
        return edit

    # Before any stand-alone assessment: the source table.
    answers, basis = assessment.answers_for_period(config, Period(2026, 10), table)
    assert [b["source"] for b in basis] == ["assessment_responses"] and len(answers) == len(table)

    _round(reported_copy, tmp_path, "org.csv", None, "2026-10-31", everyone_says("fully"))
    _round(reported_copy, tmp_path, "net.csv", "BU-NET", "2026-10-31",
           lambda f: f[f["business_unit"] == "BU-NET"].assign(answer="not"))
    _round(reported_copy, tmp_path, "later.csv", None, "2026-11-03", everyone_says("partially"))

    answers, basis = assessment.answers_for_period(config, Period(2026, 10), table)
    assert [(b["business_unit"], b["date"]) for b in basis] == [
        (None, "2026-10-31"), ("BU-NET", "2026-10-31")]
    assert set(answers.loc[answers["business_unit"] == "BU-NET", "answer"]) == {"not"}
    assert set(answers.loc[answers["business_unit"] != "BU-NET", "answer"]) == {"fully"}
    assert "later.csv" not in json.dumps(basis), "an assessment after the month's end is not in its report"

    pipeline.assess_maturity(config, Period(2026, 10))
    maturity = json.loads((run / "maturity.json").read_text(encoding="utf-8"))
    assert maturity["answers_basis"] == basis
    assert maturity["business_units"]["BU-NET"]["headline_claimed_level"] == 1


def test_the_assessment_report_in_chinese(reported_copy: Path, tmp_path: Path) -> None:
    import yaml

    path = reported_copy / "pmopulse.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["delivery"]["recipients"]["assessment"] = [
        {"to": ["pmo-lead@acme.example"]}, {"language": "en", "to": ["qa-lead@acme.example"]}]
    path.write_text(yaml.safe_dump({**raw, "report": {"language": "zh"}}, allow_unicode=True),
                    encoding="utf-8")
    config = load_config(path)
    answers = _export(reported_copy, tmp_path / "问卷答复.csv")
    (folder,) = assessment.intake(config, answers_file=str(answers), business_unit="BU-NET",
                                  run_time=RUN_TIME)
    assessment.score(config, folder)
    rendered = assessment.render(config, folder)
    assert sorted(rendered["languages"]) == ["en", "zh"]
    pdf = Path(rendered["languages"]["zh"]["pdf"])
    text = " ".join(pdf_text(pdf).split())

    for expected in ("成熟度自评估", "Network Products", "问卷答复.csv", "已与 2026年10月 的 KPI 核对"):
        assert expected in text
    fonts = pdf_fonts(pdf)
    assert fonts and all("Noto-Sans-CJK-SC" in f[0] and f[-5:-2] == ["yes", "yes", "yes"] for f in fonts)
    check_contents(pdf, page=1, entries=4)
    sent = {r["to"]: r for r in assessment.deliver(config, folder, rendered)["sent"]}
    assert "成熟度自评估" in sent["pmo-lead@acme.example"]["subject"]
    assert "Maturity self-assessment" in sent["qa-lead@acme.example"]["subject"]
    assert sent["qa-lead@acme.example"]["via"].endswith("-en-qa-lead@acme.example.eml")
