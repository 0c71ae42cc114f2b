"""`pmopulse assess`: a filled-in form and a period's KPIs in, levels, contradictions and a roadmap out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pmopulse.cli import EXIT_USER_ERROR, main
from pmopulse.config import project_home

MODEL = project_home() / "assessments" / "models" / "qa_audit.yaml"


def _filled_form(tmp_path: Path, answer: str) -> Path:
    """The questionnaire's own CSV form, filled in by two QA engineers."""
    form = tmp_path / "form.csv"
    assert main(["questionnaire", "--model", str(MODEL), "--format", "csv", "--out", str(form)]) == 0
    rows = list(csv.DictReader(form.open(encoding="utf-8-sig")))
    filled = tmp_path / "answers.csv"
    with filled.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for person in ("qa1", "qa2"):
            for row in rows:
                writer.writerow({**row, "answer": answer, "respondent": person, "role": "qa_engineer",
                                 "business unit": "NET"})
    return filled


def _evidence(tmp_path: Path, audit_coverage: float) -> Path:
    path = tmp_path / "kpis.json"
    path.write_text(json.dumps({"results": [
        {"kpi": "audit_coverage", "level": "organisation", "scope": "Acme", "value": audit_coverage,
         "rag": "red", "records": 20}]}), encoding="utf-8")
    return path


def test_claims_are_checked_against_the_kpis_and_a_roadmap_follows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _filled_form(tmp_path, "Fully implemented")
    capsys.readouterr()
    args = ["assess", "--model", str(MODEL), "--responses", str(answers),
            "--evidence", str(_evidence(tmp_path, 0.5))]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["respondents"] == 2 and result["headline_claimed_level"] >= 4
    contradicted = {c["practice"] for c in result["contradictions"]}
    assert contradicted and all(c["kpi"] == "audit_coverage" and c["value"] == 0.5
                                for c in result["contradictions"])
    assert result["headline_level"] < result["headline_claimed_level"]
    verify = [a for a in result["recommendations"] if a["reason"]["kind"] == "contradicted"]
    assert {a["reason"]["practice"] for a in verify} == contradicted
    assert all(a["department"] == "QA" and a["horizon"] in ("90d", "6m", "12m", "backlog") for a in verify)

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "CONTRADICTED" in out and "audit_coverage = 0.5, needs >= " in out


def test_without_evidence_claims_are_not_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = _filled_form(tmp_path, "largely")
    assert main(["assess", "--model", str(MODEL), "--responses", str(answers)]) == 0
    out = capsys.readouterr().out
    assert "no KPI evidence given: claims are not checked" in out and "CONTRADICTED" not in out


def test_unusable_answers_are_listed_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = _filled_form(tmp_path, "Mostly")
    assert main(["assess", "--model", str(MODEL), "--responses", str(answers)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "left out:" in err and "'Mostly'" in err and "no usable answer" in err


def test_missing_or_wrong_inputs_are_messages_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _filled_form(tmp_path, "largely")
    not_kpis = tmp_path / "notes.json"
    not_kpis.write_text('{"hello": 1}', encoding="utf-8")
    base = ["assess", "--model", str(MODEL)]
    assert main([*base, "--responses", str(tmp_path / "nope.xlsx")]) == EXIT_USER_ERROR
    assert main([*base, "--responses", str(answers), "--evidence", str(not_kpis)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "nope.xlsx: no such file" in err
    assert f"--evidence {not_kpis}: not a KPI report" in err
    assert "Traceback" not in err
