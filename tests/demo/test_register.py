"""The demo's Chinese XLSX risk register reads back, through the config's mapping, as the
exact canonical risks the generator made: the mapping layer proven on real demo data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from pmopulse.config import load_config
from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.demo.generator import generate_demo
from pmopulse.sources.files import read_files, read_table_file
from pmopulse.sources.mapping import TableMapping, canonical_frame
from support import DEMO_PERIOD


def test_register_is_a_chinese_workbook_with_merged_headers(demo_org: Path) -> None:
    assert not (demo_org / "data" / "risks.csv").exists()
    book = load_workbook(demo_org / "data" / "risk_register" / "风险登记册.xlsx")
    sheet = book["风险登记"]
    assert [c.value for c in sheet[2]][:3] == ["项目编号", "风险编号", "风险评估"]
    assert [c.value for c in sheet[3]][2:4] == ["发生概率", "影响程度"]
    merged = {str(area) for area in sheet.merged_cells.ranges}
    assert {"C2:D2", "A2:A3"} <= merged
    assert any(area.startswith("A4:") for area in merged)  # a project id merged over its risks
    assert {sheet.cell(row, 5).value for row in range(4, sheet.max_row + 1)} == {"打开", "已关闭"}


def test_register_reads_back_as_the_generated_risks(demo_org: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path, projects=40, months=12, seed=7, as_of_month=DEMO_PERIOD)
    contract = load_contracts()["risks"]
    frame, origin = read_table_file(tmp_path / "data" / "risks.csv", TableMapping())
    expected = canonical_frame(frame, contract, TableMapping(), origin)

    config = load_config(demo_org / "pmopulse.yaml")
    register = next(s for s in config.sources if s.name == "risk_register")
    (raw,) = read_files(register, load_contracts())
    got = canonical_frame(raw.frame, contract, raw.mapping, raw.origin)

    assert len(got) == len(expected) > 100
    pd.testing.assert_frame_equal(got.drop(columns=SOURCE_ROW), expected.drop(columns=SOURCE_ROW))
    # Both name the row a person would look at: two header rows and a title row in the workbook.
    assert (got[SOURCE_ROW] == expected[SOURCE_ROW] + 2).all()
