"""Questionnaires from a maturity model: forms out, answers in.

Out: `questionnaire` derives the questionnaire (scale and items, in model order, English and
Chinese) from a model; `write_questionnaire_yaml` writes it for other tools (a web-form
builder), and `write_form` writes a blank form to fill in, as CSV or XLSX.

In: `read_answers` reads a filled-in form, or any export with one row per respondent and
item, into the canonical `assessment_responses` table. Headers and answers may be English or
Chinese, labels or codes. Rows that cannot be read without guessing (unknown item, an answer
off the scale, the same respondent answering an item twice, no respondent) are set aside as
problems naming file, row, column and value; the other rows come through. An optional cell
that cannot be read (a `submitted` date in another format) is noted the same way and read
as empty; its answer is kept.

The form has one row per respondent and item, so a filled-in form is that table already:

    item | dimension | practice | level | question | answer | respondent | role | business unit | submitted

Only item, answer and respondent are needed to read it back (dimension, practice, level and
question are there for the reader and are ignored). A second respondent copies all the
question rows below the last row and fills them in under their own name; or each respondent
fills in a copy of the form and each file is read on its own.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW, typed_frame
from pmopulse.errors import ConfigError, ContractViolation, SourceError
from pmopulse.maturity.model import MaturityModel
from pmopulse.sources.files import read_table_file, undecodable_line
from pmopulse.sources.mapping import TableMapping
from pmopulse.sources.workbook import WorkbookLimits
from pmopulse.spreadsheet import write_rows_csv

Language = Literal["en", "zh"]
FormFormat = Literal["csv", "xlsx"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
FORM_FORMATS: tuple[FormFormat, ...] = ("csv", "xlsx")
TABLE = "assessment_responses"

# The answer scale, in the contract's codes (the order of the form's drop-down list).
SCALE: dict[str, dict[str, str]] = {
    "not": {"en": "Not implemented", "zh": "未实施"},
    "partially": {"en": "Partially implemented", "zh": "部分实施"},
    "largely": {"en": "Largely implemented", "zh": "大部分实施"},
    "fully": {"en": "Fully implemented", "zh": "完全实施"},
    "dont_know": {"en": "Don't know", "zh": "不清楚"},
}
SCALE_MEANING: dict[str, dict[str, str]] = {
    "not": {"en": "The practice is not done, or only by exception.",
            "zh": "该实践没有开展，或只是偶尔开展。"},
    "partially": {"en": "Done on some projects or for some of the practice; the gaps are significant.",
                  "zh": "只在部分项目或部分环节开展，差距明显。"},
    "largely": {"en": "Done on most projects; small gaps remain.",
                "zh": "在大多数项目中开展，仍有少量差距。"},
    "fully": {"en": "Done consistently on all projects, and it can be shown.",
              "zh": "在所有项目中一贯开展，并且有据可查。"},
    "dont_know": {"en": "You cannot judge it. Counted, but not scored.",
                  "zh": "无法判断。会被统计，但不计入评分。"},
}
# Besides the codes and the labels above: the CMMI appraisal abbreviations (NI, PI, LI, FI)
# and a few spellings of "don't know". Numbers are refused: a 0-3 and a 1-4 scale cannot be
# told apart, so "1" could mean either "not" or "partially".
ANSWER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "not": ("ni",),
    "partially": ("pi",),
    "largely": ("li",),
    "fully": ("fi",),
    "dont_know": ("dont know", "do not know", "不知道"),
}

# Form columns: canonical name -> header in each language. `None` marks the columns that
# only help the reader (read_answers ignores them).
FORM_COLUMNS: dict[str, dict[str, str]] = {
    "item": {"en": "item", "zh": "题号"},
    "dimension": {"en": "dimension", "zh": "维度"},
    "practice": {"en": "practice", "zh": "实践"},
    "level": {"en": "level", "zh": "等级"},
    "text": {"en": "question", "zh": "问题"},
    "answer": {"en": "answer", "zh": "答案"},
    "respondent": {"en": "respondent", "zh": "答卷人"},
    "role": {"en": "role", "zh": "角色"},
    "business_unit": {"en": "business unit", "zh": "业务单元"},
    "submitted": {"en": "submitted", "zh": "提交日期"},
}
# Headers read_answers accepts for each canonical column (compared ignoring case, spaces,
# "_" and "-"). The contract's own name `question` means the item id only when no other
# item header is there: on the form, "question" is the question's text.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "question": ("item", "item id", "question id", "题号", "题目编号", "问题编号"),
    "respondent": ("respondent", "respondent id", "respondent name", "答卷人", "答题人", "填写人",
                   "受访者"),
    "role": ("role", "角色", "岗位"),
    "business_unit": ("business unit", "bu", "业务单元", "事业部"),
    "answer": ("answer", "response", "答案", "回答", "作答"),
    "submitted": ("submitted", "submitted on", "submission date", "date", "提交日期", "提交时间",
                  "日期"),
}
REQUIRED_HEADERS = ("question", "respondent", "answer")
_FALLBACK_ITEM_HEADER = "question"
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_SHOWN_DATES = [f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for f in _DATE_FORMATS]
DATE_EXPECTED = f"a date {_SHOWN_DATES[0]} (or {', '.join(_SHOWN_DATES[1:])})"
ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in turn on an answers CSV whose encoding is not given: UTF-8 with or without BOM,
then GB18030 (a superset of GBK, which Excel on Chinese Windows saves CSV files in)."""
ENCODING_ADVICE = ("give the file's encoding (e.g. gb18030, big5, utf-16) with `pmopulse assess "
                   "--encoding ENCODING`, or run the DAG pmo_maturity_assessment by hand with the "
                   "param `encoding`; or save the file as UTF-8 CSV or XLSX")

_INSTRUCTIONS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "{model} — self-assessment questionnaire ({items} questions)",
        "steps": [
            "On the sheet “Questionnaire”, choose an answer for each question from the drop-down "
            "list in the column “answer”.",
            "Write your name or id in “respondent” on every row you answer, with your role and "
            "business unit (type them once and fill them down).",
            "Several respondents in one workbook: copy all the question rows, paste them below the "
            "last row and fill them in under the next respondent's name. A respondent answers each "
            "question at most once; a question answered twice by the same respondent is not used.",
            "Skip a question by leaving its answer empty. Choose “Don't know” when you cannot judge.",
            "Do not change the column “item”: it identifies the question. "
            "“submitted” is the date you filled in the form (YYYY-MM-DD).",
        ],
        "scale": "Answer scale",
        "answer": "Answer",
        "meaning": "Meaning",
    },
    "zh": {
        "title": "{model} — 自评估问卷（共 {items} 题）",
        "steps": [
            "在“Questionnaire”工作表的“答案”列中，从下拉列表为每个问题选择一个答案。",
            "在你作答的每一行的“答卷人”列填写你的姓名或编号，并填写角色和业务单元（填写一次后向下填充即可）。",
            "一个工作簿中有多位答卷人时：复制全部问题行，粘贴到最后一行下方，由下一位答卷人在自己的姓名下填写。"
            "每位答卷人对每个问题最多回答一次；同一答卷人重复回答的问题不会被采用。",
            "跳过某个问题时，将其答案留空。无法判断时选择“不清楚”。",
            "请勿修改“题号”列，它用于识别问题。“提交日期”为填写问卷的日期（YYYY-MM-DD）。",
        ],
        "scale": "答案量表",
        "answer": "答案",
        "meaning": "含义",
    },
}
_VALIDATION_TEXT = {
    "en": ("Answer", "Choose an answer from the list.",
           "Choose one of the answers in the list (see the sheet Instructions)."),
    "zh": ("答案", "请从列表中选择答案。", "请从列表中选择一个答案（见 Instructions 工作表）。"),
}
_WIDTHS = {"item": 14, "dimension": 28, "practice": 10, "level": 7, "text": 70, "answer": 22,
           "respondent": 18, "role": 16, "business_unit": 18, "submitted": 13}
_EXCEL_MAX_ROW = 1_048_576


def questionnaire(model: MaturityModel) -> dict[str, Any]:
    """The questionnaire of a model: its scale and its items in model order (JSON/YAML-safe)."""
    return {
        "model": {"id": model.id, "name": dict(model.name)},
        "scale": [{"code": code, "label": dict(label)} for code, label in SCALE.items()],
        "items": [
            {
                "id": question.id,
                "dimension": {"id": dimension.id, "name": dict(dimension.name)},
                "practice": practice.id,
                "level": practice.level,
                "text": dict(question.text),
            }
            for dimension in model.dimensions
            for practice in dimension.practices
            for question in practice.questions
        ],
    }


def regenerate_command(model: MaturityModel, out: str | Path) -> str:
    """The one-liner that (re)writes a model's questionnaire YAML."""
    return (f"pmopulse questionnaire --model assessments/models/{model.id}.yaml --format yaml "
            f"--out {out}")


def questionnaire_yaml(model: MaturityModel) -> str:
    """The questionnaire as YAML text, with a header saying it is generated and how."""
    header = (
        f"# Questionnaire of the maturity model {model.id!r}: GENERATED from the model, do not edit.\n"
        "# Change the model instead, then regenerate this file, e.g.\n"
        f"#   {regenerate_command(model, f'assessments/questionnaires/{model.id}.yaml')}\n"
    )
    body = yaml.safe_dump(questionnaire(model), allow_unicode=True, sort_keys=False, width=1000)
    return header + body


def write_questionnaire_yaml(model: MaturityModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(questionnaire_yaml(model), encoding="utf-8")
    return path


def scale_labels(language: Language) -> list[str]:
    """The answers of the scale as the form's drop-down list shows them."""
    return [label[language] for label in SCALE.values()]


def form_headers(language: Language) -> list[str]:
    return [names[language] for names in FORM_COLUMNS.values()]


def _form_rows(model: MaturityModel, language: Language) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for item in questionnaire(model)["items"]:
        text = item["text"].get(language) or item["text"].get("en", "")
        dimension = item["dimension"]["name"].get(language) or item["dimension"]["id"]
        rows.append([item["id"], dimension, item["practice"], item["level"], text,
                     "", "", "", "", ""])
    return rows


def write_form(model: MaturityModel, path: Path, fmt: FormFormat, language: Language = "en") -> Path:
    """Write a blank form: one row per item, with empty answer and respondent columns.

    CSV is UTF-8 with a byte order mark, so Excel shows Chinese text correctly. XLSX has the
    sheet "Questionnaire" (frozen header row, a drop-down list of the scale on the answer
    column) and the sheet "Instructions" explaining how to fill it in and the scale.
    """
    if language not in LANGUAGES:
        raise ConfigError(f"form language must be one of {list(LANGUAGES)}, not {language!r}")
    if fmt not in FORM_FORMATS:
        raise ConfigError(f"form format must be one of {list(FORM_FORMATS)}, not {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return write_rows_csv(path, form_headers(language), _form_rows(model, language),
                              encoding="utf-8-sig")
    _write_xlsx_form(model, path, language)
    return path


def _write_xlsx_form(model: MaturityModel, path: Path, language: Language) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from pmopulse.spreadsheet import append_row

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Questionnaire"
    append_row(sheet, form_headers(language))
    rows = _form_rows(model, language)
    for row in rows:
        append_row(sheet, row)
    header_fill = PatternFill("solid", fgColor="DDE5F0")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    columns = list(FORM_COLUMNS)
    for j, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = _WIDTHS[name]
    text_col = columns.index("text") + 1
    date_col = columns.index("submitted") + 1
    for r in range(2, len(rows) + 2):
        sheet.cell(r, text_col).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(r, date_col).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"

    # The whole column, so rows copied below for another respondent keep the drop-down.
    answer = get_column_letter(columns.index("answer") + 1)
    title, prompt, error = _VALIDATION_TEXT[language]
    validation = DataValidation(
        type="list", formula1='"' + ",".join(scale_labels(language)) + '"', allow_blank=True,
        showDropDown=False, showInputMessage=True, showErrorMessage=True,
        promptTitle=title, prompt=prompt, errorTitle=title, error=error, errorStyle="stop",
    )
    validation.add(f"{answer}2:{answer}{_EXCEL_MAX_ROW}")
    sheet.add_data_validation(validation)

    words = _INSTRUCTIONS[language]
    notes = book.create_sheet("Instructions")
    append_row(notes, [words["title"].format(model=model.name.get(language) or model.id,
                                        items=len(rows))])
    notes["A1"].font = Font(bold=True, size=13)
    notes.append([])
    for number, step in enumerate(words["steps"], start=1):
        append_row(notes, [f"{number}.", step])
    notes.append([])
    append_row(notes, [words["scale"]])
    notes.cell(notes.max_row, 1).font = Font(bold=True)
    append_row(notes, [words["answer"], words["meaning"]])
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for code, label in SCALE.items():
        append_row(notes, [label[language], SCALE_MEANING[code][language]])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)


# --------------------------------------------------------------------------------------
# Answers in
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerProblem:
    """A row set aside: where it is, the cell as the file holds it, and what was expected."""

    file: str      # the file, and for a workbook its sheet, as other PMO Pulse messages name it
    row: int       # spreadsheet row number (the header is row 1)
    column: str    # the header as the file spells it
    value: str
    expected: str

    def __str__(self) -> str:
        return (f"{self.file}: row {self.row}, column {self.column!r}: {self.value!r}; "
                f"expected {self.expected}")


@dataclass(frozen=True)
class AnswerImport:
    answers: pd.DataFrame              # canonical assessment_responses columns plus source_row
    problems: list[AnswerProblem]      # in row order; these rows are not in `answers`
    file: str
    unanswered: int                    # rows with an empty answer (skipped, not a problem)
    notes: list[AnswerProblem] = field(default_factory=list)  # optional cells read as empty
    encoding: str | None = None        # what a CSV was read as (None: a workbook)


def _folded(text: str) -> str:
    text = text.replace("\ufeff", "").replace("’", "'").replace("_", " ").replace("-", " ")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _answer_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, labels in SCALE.items():
        for name in (code, *labels.values(), *ANSWER_SYNONYMS.get(code, ())):
            lookup[_folded(name)] = code
    return lookup


def accepted_answers() -> str:
    """What an answer cell may hold, for messages."""
    return (f"one of {', '.join(scale_labels('en'))} (or {', '.join(scale_labels('zh'))}, "
            f"or the codes {', '.join(SCALE)}), or empty when unanswered")


def read_answers(path: Path, model: MaturityModel, *, encoding: str | None = None,
                 limits: WorkbookLimits | None = None) -> AnswerImport:
    """Read a filled-in form or a web-form export (CSV, or the first sheet of an XLSX).

    Headers may be English or Chinese (see HEADER_SYNONYMS); answers may be the scale's
    labels in either language or its codes, in any case. Items are matched to the model by
    id (any case) or by their exact question text in English or Chinese. A row with an empty
    answer is unanswered and skipped. Rows with an unknown item, an answer off the scale or
    no respondent become problems, as do all rows where one respondent (a respondent id in a
    business unit) answers the same item more than once (none of them is used). A
    `submitted` date that cannot be read is a note: the cell is left empty, the answer kept.
    A missing item, respondent or answer column is a ContractViolation listing the headers
    found. A CSV is read in `encoding`, or when none is given in the first of ENCODINGS
    that decodes it.
    """
    chosen = answers_encoding(path, encoding)
    raw, origin = read_table_file(path, TableMapping(encoding=chosen or "utf-8-sig"), limits)
    columns = _match_headers(raw, origin)
    items = _item_lookup(model)
    answers = _answer_lookup()

    def cell(row: Any, column: str) -> str:
        header = columns.get(column)
        if header is None:
            return ""
        value = row[header]
        return "" if value is None or value != value else str(value).strip()

    problems: list[AnswerProblem] = []
    notes: list[AnswerProblem] = []
    good: list[dict[str, Any]] = []
    keys: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    unanswered = 0
    for row in raw.to_dict("records"):
        number = int(row[SOURCE_ROW])
        answer_text = cell(row, "answer")
        if not answer_text:
            unanswered += 1
            continue
        found: list[AnswerProblem] = []
        item_text = cell(row, "question")
        item = items.get(_folded(item_text))
        if item is None:
            found.append(AnswerProblem(
                origin, number, columns["question"], item_text,
                f"an item id of the maturity model {model.id!r} (e.g. {_example(model)})"))
        code = answers.get(_folded(answer_text))
        if code is None:
            hint = ("; numbers are not accepted, as a 0-3 and a 1-4 scale cannot be told apart"
                    if re.fullmatch(r"[+-]?\d+([.,]\d+)?", answer_text) else "")
            found.append(AnswerProblem(origin, number, columns["answer"], answer_text,
                                       accepted_answers() + hint))
        respondent = cell(row, "respondent")
        if not respondent:
            found.append(AnswerProblem(origin, number, columns["respondent"], "",
                                       "the respondent's name or id on every answered row"))
        submitted = cell(row, "submitted")
        iso_date = _iso_date(submitted) if submitted else None
        if submitted and iso_date is None:
            notes.append(AnswerProblem(origin, number, columns["submitted"], submitted,
                                       f"{DATE_EXPECTED}; read as no date"))
        unit = cell(row, "business_unit")
        if respondent and item_text:
            keys.setdefault((unit, respondent, item or item_text), []).append((number, item_text))
        problems.extend(found)
        if not found:
            good.append({
                "respondent": respondent, "role": cell(row, "role") or None,
                "business_unit": unit or None, "question": item,
                "answer": code, "submitted": iso_date, SOURCE_ROW: number,
            })
    duplicated: set[int] = set()
    for (unit, respondent, _), copies in keys.items():
        if len(copies) < 2:
            continue
        duplicated.update(number for number, _ in copies)
        who = f"{respondent!r} of business unit {unit!r}" if unit else repr(respondent)
        for number, item_text in copies:
            others = ", ".join(str(r) for r, _ in copies if r != number)
            problems.append(AnswerProblem(
                origin, number, columns["question"], item_text,
                f"one answer per respondent and item, but respondent {who} also answers "
                f"it on row(s) {others}; none of these rows is used"))
    problems.sort(key=lambda p: p.row)  # stable: a row's problems keep their column order
    kept = [g for g in good if g[SOURCE_ROW] not in duplicated]
    contract = load_contracts()[TABLE]
    frame = pd.DataFrame(kept, columns=[*contract.column_names, SOURCE_ROW], dtype=object)
    return AnswerImport(typed_frame(frame, contract, origin), problems, origin, unanswered, notes,
                        chosen)


def check_encoding(encoding: str, where: str) -> str:
    """Refuse an encoding Python does not know; `where` names the option that gave it."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"{where} {encoding!r} is not a known encoding "
                          "(e.g. utf-8, gb18030, big5, utf-16)") from None
    return encoding


def answers_encoding(path: Path, encoding: str | None) -> str | None:
    """The encoding an answers CSV is read in: `encoding` when given, else the first of
    ENCODINGS that decodes the whole file (UTF-16 when it starts with that byte order mark).
    None for a workbook or a file that is not there (reading it says what is wrong)."""
    if encoding:
        check_encoding(encoding, "encoding")
    if path.suffix.lower() == ".xlsx" or not path.is_file():
        return None
    data = path.read_bytes()
    if encoding:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            raise SourceError(f"{path}: {undecodable_line(path, encoding)}; {ENCODING_ADVICE}") from None
        return encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for candidate in ENCODINGS:
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    raise SourceError(f"{path}: neither UTF-8 nor GB18030 text ({undecodable_line(path, 'utf-8')}); "
                      f"{ENCODING_ADVICE}")


def _match_headers(raw: pd.DataFrame, origin: str) -> dict[str, str]:
    """Canonical column -> the file's header; refuses missing and doubly given columns."""
    headers = [str(c) for c in raw.columns if c != SOURCE_ROW]
    folded = {h: _folded(h) for h in headers}
    columns: dict[str, str] = {}
    for column, synonyms in HEADER_SYNONYMS.items():
        names = {_folded(s) for s in synonyms}
        matches = [h for h in headers if folded[h] in names]
        if column == "question" and not matches:
            matches = [h for h in headers if folded[h] == _FALLBACK_ITEM_HEADER]
        if len(matches) > 1:
            raise ContractViolation(f"{origin}: columns {matches} all mean {column!r}; keep one")
        if matches:
            columns[column] = matches[0]
    if missing := [c for c in REQUIRED_HEADERS if c not in columns]:
        wanted = "; ".join(f"{'item' if c == 'question' else c}: " + " / ".join(HEADER_SYNONYMS[c])
                           for c in missing)
        raise ContractViolation(
            f"{origin}: no column for {', '.join('item' if c == 'question' else c for c in missing)} "
            f"(accepted headers: {wanted}); the headers found are {headers}")
    return columns


def _item_lookup(model: MaturityModel) -> dict[str, str]:
    """Folded item id or exact question text (either language) -> item id."""
    lookup: dict[str, str] = {}
    texts: dict[str, set[str]] = {}
    for dimension in model.dimensions:
        for practice in dimension.practices:
            for question in practice.questions:
                for text in question.text.values():
                    texts.setdefault(_folded(str(text)), set()).add(question.id)
    lookup.update({text: next(iter(ids)) for text, ids in texts.items() if len(ids) == 1})
    lookup.update({_folded(q): q for q in model.question_ids})
    return lookup


def _example(model: MaturityModel) -> str:
    first = next((q.id for d in model.dimensions for p in d.practices for q in p.questions), None)
    return first or "none: the model has no items"


def _iso_date(text: str) -> str | None:
    # A web-form export may add a time ("2026-10-31 14:03:00"); the day is what counts.
    day = re.split(r"[ T]", text, maxsplit=1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(day, fmt).date().isoformat()
        except ValueError:
            continue
    return None
