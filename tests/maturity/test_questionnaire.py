"""Questionnaires: forms out (YAML, CSV, XLSX), answers in (read back exactly, problems named)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pmopulse.cli import EXIT_USER_ERROR, main
from pmopulse.config import project_home
from pmopulse.contracts import load_contracts
from pmopulse.errors import ContractViolation
from pmopulse.maturity.model import load_model
from pmopulse.maturity.questionnaire import (
    FORM_FORMATS,
    AnswerProblem,
    Language,
    form_headers,
    questionnaire,
    questionnaire_yaml,
    read_answers,
    regenerate_command,
    scale_labels,
    write_form,
    write_questionnaire_yaml,
)
from pmopulse.yamlfile import load_yaml

MODEL_FILE = project_home() / "assessments" / "models" / "pmo_maturity.yaml"
CHECKED_IN = project_home() / "assessments" / "questionnaires" / "pmo_maturity.yaml"
MODEL = load_model(MODEL_FILE)
ITEMS = [q.id for d in MODEL.dimensions for p in d.practices for q in p.questions]
TEXT = {q.id: q.text for d in MODEL.dimensions for p in d.practices for q in p.questions}
COLUMNS = ["respondent", "role", "business_unit", "question", "answer", "submitted", "source_row"]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """The frame read_answers gives for these (respondent, role, bu, item, answer, date, row)."""
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    for column in COLUMNS[:5]:
        frame[column] = frame[column].astype("str")
    frame["submitted"] = pd.to_datetime(frame["submitted"]).astype("datetime64[us]")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def _problems(problems: list[AnswerProblem]) -> list[tuple[str, int, str, str]]:
    return [(p.file, p.row, p.column, p.value) for p in problems]


# --------------------------------------------------------------------------------------
# Questionnaire YAML
# --------------------------------------------------------------------------------------


def test_questionnaire_has_the_contract_scale_and_every_item_in_model_order() -> None:
    result = questionnaire(MODEL)
    allowed = load_contracts()["assessment_responses"].column("answer").allowed
    assert [s["code"] for s in result["scale"]] == list(allowed or ())
    assert result["scale"][3] == {"code": "fully", "label": {"en": "Fully implemented", "zh": "完全实施"}}
    assert [i["id"] for i in result["items"]] == ITEMS
    first_dimension, first_practice = MODEL.dimensions[0], MODEL.dimensions[0].practices[0]
    assert result["items"][0] == {
        "id": first_practice.questions[0].id,
        "dimension": {"id": first_dimension.id, "name": first_dimension.name},
        "practice": first_practice.id,
        "level": first_practice.level,
        "text": first_practice.questions[0].text,
    }
    assert result["model"] == {"id": MODEL.id, "name": MODEL.name}


def test_questionnaire_yaml_is_marked_generated_and_loads_back(tmp_path: Path) -> None:
    path = write_questionnaire_yaml(MODEL, tmp_path / "q.yaml")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "GENERATED" in text.splitlines()[0]
    assert regenerate_command(MODEL, f"assessments/questionnaires/{MODEL.id}.yaml") in text
    assert "完全实施" in text  # allow_unicode: Chinese as text, not \u escapes
    assert load_yaml(path) == questionnaire(MODEL)


def test_checked_in_questionnaire_is_up_to_date() -> None:
    command = regenerate_command(MODEL, "assessments/questionnaires/pmo_maturity.yaml")
    fix = f"regenerate it from the repository root with:\n  {command}"
    assert CHECKED_IN.is_file(), f"{CHECKED_IN} is missing; {fix}"
    assert CHECKED_IN.read_text(encoding="utf-8") == questionnaire_yaml(MODEL), (
        f"{CHECKED_IN} is stale: it differs from what the model {MODEL_FILE} gives; {fix}"
    )


# --------------------------------------------------------------------------------------
# Forms out and back in
# --------------------------------------------------------------------------------------


def test_csv_form_filled_by_two_respondents_reads_back_exactly(tmp_path: Path) -> None:
    form = write_form(MODEL, tmp_path / "form.csv", "csv", "zh")
    assert form.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    with form.open(encoding="utf-8-sig", newline="") as handle:
        header, *blank = list(csv.reader(handle))
    assert header == ["题号", "维度", "实践", "等级", "问题", "答案", "答卷人", "角色", "业务单元",
                      "提交日期"]
    assert [row[0] for row in blank] == ITEMS
    assert blank[0][4] == TEXT[ITEMS[0]]["zh"] and all(row[5:] == [""] * 5 for row in blank)

    # Respondent 1 answers in Chinese labels; respondent 2 copies the rows below and answers
    # in English labels and codes, any case, and skips one question.
    first = ["完全实施", "部分实施", "大部分实施", "未实施", "不清楚"]
    second = ["Fully implemented", "LARGELY", "not implemented", "Don't know", ""]
    filled = []
    for i, row in enumerate(blank):
        filled.append([*row[:5], first[i % 5], "王芳", "项目经理", "BU-A", "2026-10-30"])
    for i, row in enumerate(blank):
        filled.append([*row[:5], second[i % 5], " R2 ", "PQA", "", ""])
    with form.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *filled])

    result = read_answers(form, MODEL)
    code = {"完全实施": "fully", "部分实施": "partially", "大部分实施": "largely", "未实施": "not",
            "不清楚": "dont_know", "Fully implemented": "fully", "LARGELY": "largely",
            "not implemented": "not", "Don't know": "dont_know"}
    n = len(ITEMS)
    expected: list[tuple] = [("王芳", "项目经理", "BU-A", item, code[first[i % 5]], "2026-10-30", i + 2)
                             for i, item in enumerate(ITEMS)]
    expected += [("R2", "PQA", None, item, code[second[i % 5]], None, n + i + 2)
                 for i, item in enumerate(ITEMS) if second[i % 5]]
    pd.testing.assert_frame_equal(result.answers, _frame(expected))
    assert result.problems == []
    assert result.unanswered == sum(1 for i in range(n) if not second[i % 5])
    assert result.file == str(form)


def test_xlsx_form_filled_by_two_respondents_reads_back_exactly(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    form = write_form(MODEL, tmp_path / "form.xlsx", "xlsx", "en")
    book = load_workbook(form)
    sheet = book["Questionnaire"]
    assert [c.value for c in sheet[1]] == form_headers("en")
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == ITEMS
    n = len(ITEMS)
    # as a person would: pick from the drop-down (English) or type Chinese labels and codes
    first = ["Fully implemented", "Partially implemented", "Largely implemented", "Not implemented",
             "Don't know"]
    second = ["大部分实施", "fully", "不清楚", "", "Partially"]
    for i in range(n):
        r = i + 2
        for j, value in enumerate([first[i % 5], "R1", "PMO lead", "BU-A", dt.date(2026, 10, 30)]):
            sheet.cell(r, 6 + j).value = value
        copy = n + r
        for j in range(1, 6):
            sheet.cell(copy, j).value = sheet.cell(r, j).value
        for j, value in enumerate([second[i % 5], "李雷", "质量经理", "BU-B", "2026/10/31"]):
            sheet.cell(copy, 6 + j).value = value
    book.save(form)

    result = read_answers(form, MODEL)
    code = {"Fully implemented": "fully", "Partially implemented": "partially",
            "Largely implemented": "largely", "Not implemented": "not", "Don't know": "dont_know",
            "大部分实施": "largely", "fully": "fully", "不清楚": "dont_know", "Partially": "partially"}
    expected = [("R1", "PMO lead", "BU-A", item, code[first[i % 5]], "2026-10-30", i + 2)
                for i, item in enumerate(ITEMS)]
    expected += [("李雷", "质量经理", "BU-B", item, code[second[i % 5]], "2026-10-31", n + i + 2)
                 for i, item in enumerate(ITEMS) if second[i % 5]]
    pd.testing.assert_frame_equal(result.answers, _frame(expected))
    assert result.problems == []
    assert result.file == f"{form}, sheet 'Questionnaire'"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_xlsx_form_has_a_dropdown_of_the_scale_on_the_answer_column(tmp_path: Path,
                                                                   language: Language) -> None:
    from openpyxl import load_workbook

    form = write_form(MODEL, tmp_path / "form.xlsx", "xlsx", language)
    book = load_workbook(form)
    assert book.sheetnames == ["Questionnaire", "Instructions"]
    sheet = book["Questionnaire"]
    assert sheet.freeze_panes == "A2"
    answer = "F"
    assert sheet[f"{answer}1"].value == {"en": "answer", "zh": "答案"}[language]
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"' + ",".join(scale_labels(language)) + '"'
    assert str(validation.sqref) == f"{answer}2:{answer}1048576"  # rows copied below keep it
    assert validation.allow_blank
    assert sheet.column_dimensions["E"].width >= 60  # the question text is readable
    notes = [str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value]
    assert all(label in notes for label in scale_labels(language))
    assert any(("复制" if language == "zh" else "copy all the question rows") in n for n in notes)


# --------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_bad_rows_are_reported_not_guessed_and_good_rows_come_through(tmp_path: Path) -> None:
    a, b, c, d = ITEMS[:4]
    path = _write_csv(tmp_path / "export.csv", [
        ["Respondent", "Role", "Business Unit", "Item", "Answer", "Submitted"],
        ["R1", "PM", "BU-A", a, "Fully implemented", "2026-10-30 09:15:00"],  # 2 good
        ["R1", "PM", "BU-A", "XX-9.9-Q9", "fully", ""],                       # 3 unknown item
        ["R1", "PM", "BU-A", b, "Mostly", ""],                                # 4 off the scale
        ["R1", "PM", "BU-A", c, "largely", ""],                               # 5 duplicate
        ["", "PM", "BU-A", d, "not", ""],                                     # 6 no respondent
        ["R1", "PM", "BU-A", c, "largely", ""],                               # 7 duplicate
        ["R2", "QA", "BU-B", c, "", ""],                                      # 8 unanswered
        ["R2", "QA", "BU-B", d, "不清楚", ""],                                 # 9 good
    ])
    result = read_answers(path, MODEL)
    file = str(path)
    assert _problems(result.problems) == [
        (file, 3, "Item", "XX-9.9-Q9"),
        (file, 4, "Answer", "Mostly"),
        (file, 5, "Item", c),
        (file, 6, "Respondent", ""),
        (file, 7, "Item", c),
    ]
    pd.testing.assert_frame_equal(result.answers, _frame([
        ("R1", "PM", "BU-A", a, "fully", "2026-10-30", 2),
        ("R2", "QA", "BU-B", d, "dont_know", None, 9),
    ]))
    assert result.unanswered == 1
    unknown, scale, dup, nobody, _ = (str(p) for p in result.problems)
    assert unknown == (f"{file}: row 3, column 'Item': 'XX-9.9-Q9'; expected an item id of the "
                       f"maturity model 'pmo_maturity' (e.g. {ITEMS[0]})")
    assert "expected one of Not implemented, Partially implemented" in scale and "完全实施" in scale
    assert "respondent 'R1' of business unit 'BU-A' also answers it on row(s) 7; none of these rows is used" \
        in dup
    assert "respondent's name or id" in nobody


def test_numbers_are_problems_and_a_date_that_cannot_be_read_is_a_note(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "export.csv", [
        ["respondent", "item", "answer", "submitted"],
        ["R1", ITEMS[0], "3", ""],
        ["R1", ITEMS[1], "fully", "31/10/2026"],
        ["R1", ITEMS[2], "fully", "2026/10/31"],
    ])
    result = read_answers(path, MODEL)
    assert _problems(result.problems) == [(str(path), 2, "answer", "3")]
    assert "numbers are not accepted" in result.problems[0].expected
    assert _problems(result.notes) == [(str(path), 3, "submitted", "31/10/2026")]
    assert result.notes[0].expected == ("a date YYYY-MM-DD (or YYYY/MM/DD, YYYY.MM.DD, YYYY年MM月DD日); "
                                        "read as no date")
    pd.testing.assert_frame_equal(result.answers, _frame([
        ("R1", None, None, ITEMS[1], "fully", None, 3),
        ("R1", None, None, ITEMS[2], "fully", "2026-10-31", 4),
    ]))


def test_the_same_respondent_id_in_two_business_units_is_two_people(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "export.csv", [
        ["respondent", "business unit", "item", "answer"],
        ["R1", "BU-A", ITEMS[0], "fully"],
        ["R1", "BU-B", ITEMS[0], "not"],
        ["R2", "", ITEMS[0], "fully"],
        ["R2", "", ITEMS[0], "fully"],
    ])
    result = read_answers(path, MODEL)
    assert _problems(result.problems) == [(str(path), 4, "item", ITEMS[0]), (str(path), 5, "item", ITEMS[0])]
    assert list(result.answers["business_unit"]) == ["BU-A", "BU-B"]


def test_chinese_headers_canonical_headers_and_question_text_are_understood(tmp_path: Path) -> None:
    chinese = _write_csv(tmp_path / "zh.csv", [
        ["答卷人", "角色", "事业部", "题号", "回答"],
        ["张伟", "PMO", "BU-A", ITEMS[0].lower(), " 部分实施 "],
    ])
    canonical = _write_csv(tmp_path / "assessment_responses.csv", [
        ["respondent", "role", "business_unit", "question", "answer", "submitted"],
        ["R1", "PM", "BU-A", ITEMS[0], "dont_know", "2026-10-01"],
    ])
    # a web-form export that kept the question's text instead of the item id
    web = _write_csv(tmp_path / "web.csv", [
        ["Respondent", "Question", "Response"],
        ["R1", TEXT[ITEMS[1]]["en"], "Largely implemented"],
        ["R2", TEXT[ITEMS[1]]["zh"], "li"],
    ])
    assert read_answers(chinese, MODEL).answers.iloc[0][["respondent", "business_unit", "question",
                                                         "answer"]].tolist() == \
        ["张伟", "BU-A", ITEMS[0], "partially"]
    assert read_answers(canonical, MODEL).answers.iloc[0][["question", "answer"]].tolist() == \
        [ITEMS[0], "dont_know"]
    result = read_answers(web, MODEL)
    assert result.problems == []
    assert result.answers[["respondent", "question", "answer"]].values.tolist() == \
        [["R1", ITEMS[1], "largely"], ["R2", ITEMS[1], "largely"]]


def test_a_missing_required_column_is_an_error_listing_the_headers_found(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "export.csv", [["name", "item", "answer"], ["R1", ITEMS[0], "fully"]])
    with pytest.raises(ContractViolation) as error:
        read_answers(path, MODEL)
    message = str(error.value)
    assert str(path) in message and "no column for respondent" in message
    assert "答卷人" in message and "['name', 'item', 'answer']" in message


def test_two_columns_meaning_the_same_are_refused(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "export.csv", [["respondent", "答卷人", "item", "answer"],
                                                ["R1", "R1", ITEMS[0], "fully"]])
    with pytest.raises(ContractViolation, match=r"\['respondent', '答卷人'\] all mean 'respondent'"):
        read_answers(path, MODEL)


def test_blank_form_reads_as_nothing_answered(tmp_path: Path) -> None:
    for fmt in FORM_FORMATS:
        result = read_answers(write_form(MODEL, tmp_path / f"form.{fmt}", fmt, "zh"), MODEL)
        assert result.answers.empty and result.problems == []
        assert result.unanswered == len(ITEMS)
        assert list(result.answers.columns) == COLUMNS


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def test_cli_help_mentions_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["questionnaire", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(word in out for word in ("xlsx", "csv", "yaml", "--language", "--out"))


@pytest.mark.parametrize(("fmt", "language"), [("xlsx", "zh"), ("csv", "en"), ("yaml", "en")])
def test_cli_writes_the_file_named_after_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    fmt: str, language: Language,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["questionnaire", "--model", str(MODEL_FILE), "--format", fmt,
                 "--language", language]) == 0
    out = tmp_path / f"{MODEL.id}-questionnaire.{fmt}"
    assert out.is_file()
    printed = capsys.readouterr().out
    assert f"{out.name} ({len(ITEMS)} items" in printed
    if fmt == "yaml":
        assert out.read_text(encoding="utf-8") == questionnaire_yaml(MODEL)
    else:
        assert read_answers(out, MODEL).unanswered == len(ITEMS)
        assert " | ".join(scale_labels(language)) in printed


def test_cli_out_and_a_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forms" / "q.csv"
    assert main(["questionnaire", "--model", str(MODEL_FILE), "--format", "csv", "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["questionnaire", "--model", str(tmp_path / "nope.yaml"), "--format", "csv"]) == \
        EXIT_USER_ERROR
    assert "nope.yaml does not exist" in capsys.readouterr().err
