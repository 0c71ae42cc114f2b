"""Oversized workbooks are refused, not crashed on (issue 19 point 5): the ZIP directory of
an XLSX is measured before any reader inflates it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pmopulse.errors import ConfigError, SourceError
from pmopulse.sources.files import read_table_file
from pmopulse.sources.mapping import TableMapping
from pmopulse.sources.workbook import WorkbookLimits


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["project", "id"])
    book.active.append(["P1", "R1"])
    book.save(path)
    return path


def _bomb(tmp_path: Path, megabytes: int) -> Path:
    """A valid workbook whose first sheet is replaced by `megabytes` of zeros: a few
    hundred kilobytes on disk, written in chunks and never inflated by the test."""
    plain = _workbook(tmp_path / "plain.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(item.filename, "w", force_zip64=True) as sheet:
                    chunk = b"0" * (1024 * 1024)
                    for _ in range(megabytes):
                        sheet.write(chunk)
            else:
                target.writestr(item, source.read(item.filename))
    return bomb


def test_a_workbook_expanding_beyond_the_limit_is_refused_naming_file_size_and_key(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path, 600)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(SourceError, match=r"bomb.xlsx is not a readable workbook: its \d+ parts expand to "
                                          r"600 MB \(limit 500 MB\); raise limits.xlsx_max_uncompressed_mb"):
        read_table_file(bomb, TableMapping())


def test_a_part_compressed_beyond_the_ratio_is_refused(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path, 20)
    with pytest.raises(SourceError, match=r"its part xl/worksheets/sheet1.xml expands to 20 MB .* times "
                                          r"\(limit 100\); raise limits.xlsx_max_ratio"):
        read_table_file(bomb, TableMapping())
    with pytest.raises(SourceError, match=r"parts expand to 20 MB \(limit 10 MB\)"):
        read_table_file(bomb, TableMapping(), WorkbookLimits(max_uncompressed_mb=10))


def test_the_answers_import_goes_through_the_same_check(tmp_path: Path) -> None:
    from pmopulse.maturity.questionnaire import read_answers

    with pytest.raises(SourceError, match=r"bomb.xlsx is not a readable workbook"):
        read_answers(_bomb(tmp_path, 20), model=None)  # type: ignore[arg-type]  # refused before use


def test_a_genuine_workbook_within_raised_limits_is_read(tmp_path: Path) -> None:
    frame, origin = read_table_file(_workbook(tmp_path / "risks.xlsx"), TableMapping(),
                                    WorkbookLimits(max_uncompressed_mb=1, max_ratio=2))
    assert frame["project"].tolist() == ["P1"] and "risks.xlsx" in origin


@pytest.mark.parametrize("value", [0, -1, "big", True])
def test_limits_must_be_positive_numbers(value: object) -> None:
    with pytest.raises(ConfigError, match=rf"limits.xlsx_max_ratio is {value!r}; expected a number above 0"):
        WorkbookLimits.parse({"xlsx_max_ratio": value}, "limits")
