"""File sources fed real bad input: each gives clean typed rows or a message that says where."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook
from pmopulse.config import load_config
from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.errors import ConfigError, ContractViolation, SourceError
from pmopulse.sources.files import read_files, read_xlsx_text
from pmopulse.sources.mapping import TableMapping, canonical_frame
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.validation.runner import QUARANTINE_REASON, validate_tables
from support import minimal_config, write_config

RISK_HEADER = "project,id,probability,impact,status,owner,raised"


def load(tmp_path: Path, **source: Any) -> dict[str, pd.DataFrame]:
    """Read the folder tmp_path/data through a config the way a run does; typed tables by name."""
    config = load_config(write_config(
        tmp_path, minimal_config([{"name": "export", "kind": "files", "path": "data", **source}])))
    contracts = load_contracts()
    return {raw.table: canonical_frame(raw.frame, contracts[raw.table], raw.mapping, raw.origin)
            for raw in read_files(config.sources[0], contracts)}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_canonical_csv_needs_no_mapping_and_keeps_file_row_numbers(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text(
        f"{RISK_HEADER}\nP1,R1,0.3,4,open,u1,2026-09-01\n\nP1,R2,0.5,2,closed,u2,2026-10-02\n",
        encoding="utf-8")
    risks = load(tmp_path)["risks"]
    assert risks["probability"].tolist() == [0.3, 0.5]
    assert risks["impact"].tolist() == [4, 2]
    assert risks["raised"].tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-02")]
    assert risks[SOURCE_ROW].tolist() == [2, 4]  # the blank line 3 is skipped, not renumbered


def test_utf8_with_and_without_bom_read_the_same(tmp_path: Path, data: Path) -> None:
    text = f"{RISK_HEADER}\nP1,R1,0.3,4,open,u1,2026-09-01\n"
    (data / "risks.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    with_bom = load(tmp_path)["risks"]
    (data / "risks.csv").write_bytes(text.encode())
    pd.testing.assert_frame_equal(with_bom, load(tmp_path)["risks"])


def test_missing_required_column_names_file_table_and_column(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text("project,id,probability,status,owner,raised\n"
                                    "P1,R1,0.3,open,u1,2026-09-01\n", encoding="utf-8")
    with pytest.raises(ContractViolation, match=r"risks\.csv: required column\(s\) impact missing"):
        load(tmp_path)


def test_wrong_types_name_file_row_column_value_and_expectation(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text(f"{RISK_HEADER}\nP1,R1,0.3,4,open,u1,2026-09-01\n"
                                    "P1,R2,high,4,open,u1,2026-09-01\nP1,R3,0.2,4.5,open,u1,soon\n",
                                    encoding="utf-8")
    with pytest.raises(ContractViolation) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert str(data / "risks.csv") in message
    assert "row 3, column 'probability': 'high' is not a number" in message
    assert "row 4, column 'impact': '4.5' is not a whole number" in message
    assert "row 4, column 'raised': 'soon' is not a date YYYY-MM-DD" in message


def test_duplicate_primary_keys_are_quarantined_with_their_reason(tmp_path: Path, data: Path) -> None:
    (data / "projects.csv").write_text(
        "id,name,business_unit,manager,status,start\n"
        "P1,Alpha,BU1,u1,active,2026-01-01\nP1,Alpha again,BU1,u1,active,2026-02-01\n"
        "P2,Beta,BU1,u2,active,2026-01-01\n", encoding="utf-8")
    tables = load(tmp_path)
    result = validate_tables(tables, load_contracts(),
                             quarantine_limit=QuarantineLimit(1.0, share_from_rows=0))
    projects = result.tables["projects"]
    assert projects.clean["id"].tolist() == ["P2"]
    assert projects.quarantine[SOURCE_ROW].tolist() == [2, 3]
    assert set(projects.quarantine[QUARANTINE_REASON]) == {"id: expected unique (primary key)"}


def test_dates_in_three_formats_read_when_the_formats_are_configured(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text(
        f"{RISK_HEADER}\nP1,R1,0.3,4,open,u1,2026-09-30\nP1,R2,0.3,4,open,u1,30/09/2026\n"
        "P1,R3,0.3,4,open,u1,2026年9月30日\n", encoding="utf-8")
    with pytest.raises(ContractViolation, match=r"row 3, column 'raised': '30/09/2026' is not a date"):
        load(tmp_path)
    risks = load(tmp_path, date_formats=["%d/%m/%Y", "%Y年%m月%d日"])["risks"]
    assert risks["raised"].tolist() == [pd.Timestamp("2026-09-30")] * 3


def test_gbk_csv_needs_its_encoding_named(tmp_path: Path, data: Path) -> None:
    (data / "projects.csv").write_bytes(
        "id,name,business_unit,manager,status,start\nP1,核心网升级,BU1,张伟,active,2026-01-01\n"
        .encode("gbk"))
    with pytest.raises(SourceError,
                       match=r"projects\.csv: line 2 is not valid utf-8-sig text.*encoding: gbk"):
        load(tmp_path)
    projects = load(tmp_path, encoding="gbk")["projects"]
    assert projects[["name", "manager"]].values.tolist() == [["核心网升级", "张伟"]]


def test_renames_value_maps_and_decimal_comma(tmp_path: Path, data: Path) -> None:
    (data / "Risikoregister.csv").write_text(
        "Projekt;Nr;Wahrscheinlichkeit;Auswirkung;Status;Eigner;Erfasst\n"
        "P1;R1;0,35;4;Closed;u1;01.09.2026\nP1;R2;0,5;2;已关闭;u2;02.09.2026\n"
        "P1;R3;0,1;1;DONE;u2;03.09.2026\nP1;R4;0,2;1;Offen;u2;04.09.2026\n"
        "P1;R5;0,2;1;Paused;u2;05.09.2026\n", encoding="utf-8")
    risks = load(tmp_path, delimiter=";", decimal=",", date_formats="%d.%m.%Y", tables={"risks": {
        "file": "Risikoregister.csv",
        "columns": {"Projekt": "project", "Nr": "id", "Wahrscheinlichkeit": "probability",
                    "Auswirkung": "impact", "Status": "status", "Eigner": "owner", "Erfasst": "raised"},
        "values": {"status": {"closed": "closed", "已关闭": "closed", "Done": "closed", "Offen": "open"}},
    }})["risks"]
    assert risks["probability"].tolist() == [0.35, 0.5, 0.1, 0.2, 0.2]
    assert risks["status"].tolist() == ["closed", "closed", "closed", "open", "Paused"]
    assert risks["raised"].iloc[0] == pd.Timestamp("2026-09-01")
    # An unmapped value is not guessed: validation sets the row aside and says why.
    result = validate_tables(
        {"projects": pd.DataFrame({"id": ["P1"], "name": ["A"], "business_unit": ["B"], "manager": ["u"],
                                   "status": ["active"], "start": [pd.Timestamp("2026-01-01")],
                                   SOURCE_ROW: [2]}), "risks": risks},
        load_contracts(), quarantine_limit=QuarantineLimit(1.0, share_from_rows=0))
    quarantined = result.tables["risks"].quarantine
    assert quarantined["id"].tolist() == ["R5"]
    assert "status: expected one of open, closed" in quarantined[QUARANTINE_REASON].iloc[0]


def test_decimal_comma_refuses_a_decimal_point(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text("project;id;probability;impact;status;owner;raised\n"
                                    "P1;R1;0.35;4;open;u1;2026-09-01\n", encoding="utf-8")
    with pytest.raises(ContractViolation, match=r"'0.35' is not a number with ',' as decimal mark"):
        load(tmp_path, delimiter=";", decimal=",")


def test_mapping_that_expects_a_missing_header_lists_the_headers(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text(f"{RISK_HEADER}\n", encoding="utf-8")
    with pytest.raises(ContractViolation, match=r"expects source column\(s\) \['Wahrscheinlichkeit'\].*"
                                                r"headers are \['project'"):
        load(tmp_path, tables={"risks": {"columns": {"Wahrscheinlichkeit": "probability"}}})


def _merged_register(path: Path, probability_of_p2: Any = 0.6) -> None:
    """A register as PMOs keep it: a title row, a two-row header with merged cells, real
    Excel dates, and the project id merged down over its risks."""
    book = Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("风险登记")
    sheet.append(["2026年9月 风险登记册"])
    sheet.append(["项目编号", "风险编号", "风险评估", None, "状态", "责任人", "识别日期"])
    sheet.append([None, None, "发生概率", "影响程度", None, None, None])
    sheet.append(["P1", "R1", 0.3, 4, "打开", "张伟", dt.datetime(2026, 9, 1)])
    sheet.append([None, "R2", 0.25, 2, "已关闭", "李娜", dt.datetime(2026, 9, 15)])
    sheet.append([])
    sheet.append(["P2", "R1", probability_of_p2, 5, "打开", "王芳", dt.datetime(2026, 9, 20)])
    for area in ("A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:F3", "G2:G3", "A4:A5"):
        sheet.merge_cells(area)
    book.save(path)


REGISTER_MAPPING = {
    "file": "风险登记册.xlsx", "sheet": "风险登记", "header_row": 2, "header_rows": 2,
    "columns": {"项目编号": "project", "风险编号": "id", "风险评估 / 发生概率": "probability",
                "风险评估 / 影响程度": "impact", "状态": "status", "责任人": "owner", "识别日期": "raised"},
    "values": {"status": {"打开": "open", "已关闭": "closed"}},
}


def test_xlsx_with_merged_header_cells_and_merged_ids(tmp_path: Path, data: Path) -> None:
    _merged_register(data / "风险登记册.xlsx")
    risks = load(tmp_path, tables={"risks": REGISTER_MAPPING})["risks"]
    assert risks[["project", "id", "status", "owner"]].values.tolist() == [
        ["P1", "R1", "open", "张伟"], ["P1", "R2", "closed", "李娜"], ["P2", "R1", "open", "王芳"]]
    assert risks["probability"].tolist() == [0.3, 0.25, 0.6]
    assert risks["raised"].tolist() == [pd.Timestamp(d) for d in ("2026-09-01", "2026-09-15", "2026-09-20")]
    assert risks[SOURCE_ROW].tolist() == [4, 5, 7]  # Excel's own row numbers


def test_xlsx_errors_name_the_sheet(tmp_path: Path, data: Path) -> None:
    _merged_register(data / "风险登记册.xlsx")
    with pytest.raises(SourceError, match=r"no sheet 'Risks'; the sheets are \['说明', '风险登记'\]"):
        load(tmp_path, tables={"risks": {**REGISTER_MAPPING, "sheet": "Risks"}})
    with pytest.raises(ContractViolation, match=r"(?s)风险登记册\.xlsx, sheet '风险登记': .*"
                                                r"row 4, column 'impact': '0.3' is not a whole number"):
        swapped = {**REGISTER_MAPPING["columns"], "风险评估 / 发生概率": "impact",
                   "风险评估 / 影响程度": "probability"}
        load(tmp_path, tables={"risks": {**REGISTER_MAPPING, "columns": swapped}})


@pytest.mark.parametrize(("value", "number_format", "text"), [
    (4, None, "4"),
    (4.0, None, "4"),                        # XLSX keeps every number as a float
    (0.35, None, "0.35"),
    (1e-7, None, "1e-07"),
    (True, None, "true"),
    ("  张伟 ", None, "  张伟 "),
    (dt.datetime(2026, 9, 1), None, "2026-09-01"),
    (dt.datetime(2026, 9, 1, 13, 45), None, "2026-09-01 13:45:00"),
    (dt.date(2026, 9, 1), None, "2026-09-01"),
    (dt.time(13, 45), None, "13:45:00"),
    (dt.timedelta(hours=26), None, "1 day, 2:00:00"),
    (45000, 'yyyy"年"m"月"d"日"', "2023-03-15"),
    (0.5, "h:mm", "12:00:00"),
    (45000, "0.00", "45000"),
    ("#N/A", None, "#N/A"),                  # an error cell: its text, not an empty cell
    (None, None, None),
], ids=lambda v: repr(v) if not isinstance(v, str) else v)
def test_xlsx_cells_read_as_the_text_a_csv_export_would_hold(
        tmp_path: Path, value: Any, number_format: str | None, text: str | None) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "value"])
    sheet.append(["R1", value])
    if number_format:
        sheet["B2"].number_format = number_format
    book.save(tmp_path / "cells.xlsx")
    frame, origin = read_xlsx_text(tmp_path / "cells.xlsx", TableMapping())
    assert origin.endswith("cells.xlsx, sheet 'Sheet'")
    cell = frame.at[0, "value"]
    assert (None if pd.isna(cell) else cell) == text


def test_xlsx_error_cell_is_named_where_a_number_was_expected(tmp_path: Path, data: Path) -> None:
    _merged_register(data / "风险登记册.xlsx", probability_of_p2="#N/A")
    with pytest.raises(ContractViolation, match=r"row 7, column 'probability': '#N/A' is not a number"):
        load(tmp_path, tables={"risks": REGISTER_MAPPING})


def test_xlsx_merged_area_past_the_last_value_fills_its_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["project", "id", "owner"])
    sheet.append(["P1", "R1", "张伟"])
    sheet.append(["P2", "R1"])
    sheet.merge_cells("A3:A4")   # row 4 holds nothing but the merged project id
    sheet.merge_cells("C2:D2")   # an area wider than the header
    book.save(tmp_path / "risks.xlsx")
    frame, _ = read_xlsx_text(tmp_path / "risks.xlsx", TableMapping())
    assert frame[["project", "id", "owner", "column 4", SOURCE_ROW]].fillna("").values.tolist() == [
        ["P1", "R1", "张伟", "张伟", 2], ["P2", "R1", "", "", 3], ["P2", "", "", "", 4]]


def test_xlsx_default_sheet_is_the_first_worksheet_not_a_chart(tmp_path: Path) -> None:
    book = Workbook()
    book.remove(book.active)
    book.create_chartsheet("图表")
    book.create_sheet("风险登记").append(["project", "id"])
    book["风险登记"].append(["P1", "R1"])
    book.save(tmp_path / "risks.xlsx")
    frame, origin = read_xlsx_text(tmp_path / "risks.xlsx", TableMapping())
    assert origin.endswith("sheet '风险登记'")
    assert frame[["project", "id"]].values.tolist() == [["P1", "R1"]]


def test_empty_file_is_an_error_but_a_header_alone_is_an_empty_table(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_bytes(b"")
    with pytest.raises(SourceError, match=r"risks\.csv: the file is empty"):
        load(tmp_path)
    (data / "risks.csv").write_text(RISK_HEADER + "\n", encoding="utf-8")
    risks = load(tmp_path)["risks"]
    assert risks.empty and risks["probability"].dtype == "float64"


def test_files_that_are_not_csv_are_refused_with_what_they_are(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(SourceError, match=r"risks\.csv: this is a binary file, not a CSV"):
        load(tmp_path)
    _merged_register(data / "risks.csv")
    with pytest.raises(SourceError, match=r"risks\.csv: this is an Excel workbook.*rename it to \.xlsx"):
        load(tmp_path)
    (data / "risks.csv").unlink()
    (data / "risks.xlsx").write_text("project,id\nP1,R1\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"risks\.xlsx: not an Excel \.xlsx workbook"):
        load(tmp_path)
    with zipfile.ZipFile(data / "risks.xlsx", "w") as archive:
        archive.writestr("risks.csv", "project,id\nP1,R1\n")
    with pytest.raises(SourceError, match=r"risks\.xlsx: not a readable XLSX workbook"):
        load(tmp_path)


def test_ragged_csv_names_the_line(tmp_path: Path, data: Path) -> None:
    (data / "risks.csv").write_text(f"{RISK_HEADER}\nP1,R1,0.3,4,open,u1,2026-09-01,extra\n",
                                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"risks\.csv: not a readable CSV file .*line 2"):
        load(tmp_path)


@pytest.mark.parametrize(("source", "message"), [
    ({"tables": {"risk": {}}}, r"unknown table\(s\) \['risk'\]"),
    ({"tables": {"risks": {"colums": {}}}}, r"'.*\.tables\.risks\.colums' \(did you mean 'columns'\?\)"),
    ({"tables": {"risks": {"columns": {"Prob": "chance"}}}}, r"unknown column\(s\) \['chance'\]"),
    ({"tables": {"risks": {"columns": {"A": "id", "B": "id"}}}}, r"several source columns onto \['id'\]"),
    ({"encoding": "klingon"}, r"encoding 'klingon' is not a known encoding"),
    ({"tables": {"risks": {"header_rows": 0}}}, r"header_rows must be a whole number of at least 1"),
])
def test_mapping_mistakes_are_config_errors(tmp_path: Path, source: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, **source)


def test_configured_table_without_its_file_is_an_error(tmp_path: Path, data: Path) -> None:
    with pytest.raises(SourceError, match=r"风险登记册\.xlsx for table 'risks' does not exist"):
        load(tmp_path, tables={"risks": REGISTER_MAPPING})
