"""The demo's risk register in the shape a Chinese PMO keeps it, not in ours.

`pmopulse demo-data` replaces the canonical `risks.csv` with `风险登记册.xlsx`: a title
row, a two-row header with merged cells, Chinese headers and status words, real Excel
dates and 是/否 flags, and the project id merged down over each project's risks. The demo
config reads it back through `RISK_REGISTER_MAPPING`, which is what proves the mapping
layer on every demo run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

FOLDER = "risk_register"
FILE = "风险登记册.xlsx"
SHEET = "风险登记"

# (canonical column, top header, second header); a shared top header is one merged cell.
_LAYOUT = (
    ("project", "项目编号", None),
    ("id", "风险编号", None),
    ("probability", "风险评估", "发生概率"),
    ("impact", "风险评估", "影响程度"),
    ("status", "状态", None),
    ("owner", "责任人", None),
    ("raised", "识别日期", None),
    ("last_reviewed", "最近评审日期", None),
    ("has_response_plan", "应对计划", "已制定"),
    ("materialised", "应对计划", "已发生"),
)
_STATUS = {"open": "打开", "closed": "已关闭"}
_FLAG = {"true": "是", "false": "否"}

RISK_REGISTER_MAPPING: dict[str, Any] = {
    "file": FILE,
    "sheet": SHEET,
    "header_row": 2,
    "header_rows": 2,
    "columns": {(top if sub is None else f"{top} / {sub}"): column for column, top, sub in _LAYOUT},
    "values": {
        "status": {word: code for code, word in _STATUS.items()},
        "has_response_plan": {word: code for code, word in _FLAG.items()},
        "materialised": {word: code for code, word in _FLAG.items()},
    },
}


def write_risk_register(risks: pd.DataFrame, folder: Path) -> Path:
    """Write canonical risk rows (text, as in risks.csv) as the Chinese XLSX register."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from pmopulse.spreadsheet import append_row

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    append_row(sheet, ["项目风险登记册"])
    append_row(sheet, [top for _, top, _ in _LAYOUT])
    append_row(sheet, [sub for _, _, sub in _LAYOUT])
    for record in risks.to_dict("records"):
        append_row(sheet, [_cell(column, record[column]) for column, _, _ in _LAYOUT])
    _merge_headers(sheet)
    _merge_project_ids(sheet, risks["project"].tolist(), first_row=4)
    for cells in sheet.iter_rows(min_row=2, max_row=3):
        for cell in cells:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    book.save(path)
    return path


def _cell(column: str, value: Any) -> Any:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    if column in ("raised", "last_reviewed"):
        return dt.datetime.strptime(str(value), "%Y-%m-%d")
    if column == "status":
        return _STATUS.get(str(value), value)
    if column in ("has_response_plan", "materialised"):
        return _FLAG.get(str(value), value)
    if column == "probability":
        return float(value)
    if column == "impact":
        return int(value)
    return value


def _merge_headers(sheet: Any) -> None:
    column = 1
    while column <= len(_LAYOUT):
        top = _LAYOUT[column - 1][1]
        rest = _LAYOUT[column - 1:]
        span = next((i for i, (_, t, _) in enumerate(rest) if t != top), len(rest))
        if span > 1:
            sheet.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + span - 1)
        else:
            sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
        column += span


def _merge_project_ids(sheet: Any, projects: list[str], first_row: int) -> None:
    start = 0
    for i in range(1, len(projects) + 1):
        if i == len(projects) or projects[i] != projects[start]:
            if i - start > 1:
                sheet.merge_cells(start_row=first_row + start, start_column=1,
                                  end_row=first_row + i - 1, end_column=1)
            start = i
