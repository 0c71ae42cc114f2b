"""One worksheet of an XLSX workbook as rows of cell values, merged areas filled in.

Read with calamine: openpyxl sees merged ranges only on a fully loaded workbook, which took
9 to 13 s, most of the extract stage, for the demo's 56,000-row risk register at 10,000
projects; calamine reads the same sheet, merged ranges included, in about half a second.

An XLSX is a ZIP archive: 1.5 MB of it can inflate to gigabytes of sheet XML, which
ends the run in a MemoryError. `check_workbook`, called before any reading, refuses a
workbook whose parts expand beyond the config's `limits:` (WorkbookLimits).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree

from pmopulse.errors import ConfigError, SourceError

# A cell of type "e" (error) and its content, in the sheet's XML; the tag's attributes
# after t="e" exclude "/" so that an empty <c .../> cannot swallow the next cell.
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c((?:\s[^>]*)?\st="e"[^>/]*)>(.*?)</(?:\w+:)?c>', re.DOTALL)
_REFERENCE = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</")


_MB = 1024 * 1024
_RATIO_FLOOR = _MB
"""Parts smaller than this expanded are harmless whatever their compression ratio."""


@dataclass(frozen=True)
class WorkbookLimits:
    """What one XLSX may expand to before it is read (`limits:` in pmopulse.yaml)."""

    max_uncompressed_mb: float = 500    # all parts of the archive, expanded
    max_ratio: float = 100              # expanded : compressed size of any part above 1 MB

    KEYS: ClassVar[dict[str, str]] = {"xlsx_max_uncompressed_mb": "max_uncompressed_mb",
                                      "xlsx_max_ratio": "max_ratio"}   # config key -> field

    def __post_init__(self) -> None:
        for key, name in self.KEYS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"limits.{key} is {value!r}; expected a number above 0")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> WorkbookLimits:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a mapping such as {{xlsx_max_uncompressed_mb: 500}}, "
                              f"not {raw!r}")
        return cls(**{name: raw[key] for key, name in cls.KEYS.items() if key in raw})


def check_workbook(path: Path, limits: WorkbookLimits) -> None:
    """Refuse an XLSX whose parts, by the sizes its ZIP directory declares, expand beyond
    `limits`: in total, or any part above 1 MB by more than the ratio. Nothing is inflated."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{path} is not a readable workbook: {exc}") from None
    expanded = sum(part.file_size for part in parts)
    if expanded > limits.max_uncompressed_mb * _MB:
        raise SourceError(
            f"{path} is not a readable workbook: its {len(parts)} parts expand to "
            f"{expanded / _MB:,.0f} MB (limit {limits.max_uncompressed_mb:g} MB); raise "
            "limits.xlsx_max_uncompressed_mb in the config if it is genuine")
    for part in parts:
        if part.file_size >= _RATIO_FLOOR \
                and part.file_size > limits.max_ratio * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            raise SourceError(
                f"{path} is not a readable workbook: its part {part.filename} expands to "
                f"{part.file_size / _MB:,.0f} MB from {part.compress_size / _MB:,.2f} MB, "
                f"{ratio:,.0f} times (limit {limits.max_ratio:g}); raise limits.xlsx_max_ratio "
                "in the config if it is genuine")


def sheet_rows(path: Path, sheet: str | None,
               limits: WorkbookLimits | None = None) -> tuple[str, list[list[Any]]]:
    """The named sheet, or else the first worksheet: its name and its rows from A1.

    Cells hold calamine's values: text, float, bool, date, datetime, time or timedelta, and
    '' when empty. Every row is as wide as the sheet; a merged area holds its first cell's
    value throughout; an error cell holds its text ("#N/A"), as Excel shows it.
    """
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    check_workbook(path, limits or WorkbookLimits())
    try:
        book = CalamineWorkbook.from_path(path)
        names = book.sheet_names
        if sheet is not None and sheet not in names:
            raise SourceError(f"{path}: no sheet {sheet!r}; the sheets are {names}")
        worksheets = [s.name for s in book.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
        if sheet is None and not worksheets:
            raise SourceError(f"{path}: no worksheet; the sheets are {names}")
        name = sheet if sheet is not None else worksheets[0]
        cells = book.get_sheet_by_name(name)
        rows = cells.to_python(skip_empty_area=False)
        merged = cells.merged_cell_ranges or []
        # calamine's errors for a file it cannot read (OSError for the file itself), then
        # those of reading the sheet's XML again for its error cells
        errors = _error_cells(path, name)
    except (CalamineError, OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise SourceError(f"{path}: not a readable XLSX workbook ({exc})") from None
    # A merged area may reach past the last cell with a value; its cells are the sheet's too.
    height = max([len(rows), *(r + 1 for r, _ in errors), *(end[0] + 1 for _, end in merged)])
    width = max([len(rows[0]) if rows else 0, *(c + 1 for _, c in errors),
                 *(end[1] + 1 for _, end in merged)])
    for row in rows:
        row.extend([""] * (width - len(row)))
    rows.extend([""] * width for _ in range(height - len(rows)))
    for (r, c), text in errors.items():
        rows[r][c] = text
    for (top, left), (bottom, right) in merged:
        value = rows[top][left]
        for r in range(top, bottom + 1):
            rows[r][left: right + 1] = [value] * (right + 1 - left)
    return name, rows


def _error_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """Error cells' text by zero-based (row, column). calamine reads an error cell as empty,
    which would turn a broken formula into "no data"; its "#N/A" must reach the contract
    check, which names the cell. Only sheets that hold an error are searched cell by cell."""
    with zipfile.ZipFile(path) as archive:
        part = _sheet_part(archive, sheet)
        xml = archive.read(part) if part else b""
    if b't="e"' not in xml:
        return {}
    errors: dict[tuple[int, int], str] = {}
    for cell in _ERROR_CELL.finditer(xml):
        reference, value = _REFERENCE.search(cell[1]), _VALUE.search(cell[2])
        if reference and value:
            column = 0
            for letter in reference[1]:
                column = column * 26 + letter - ord("A") + 1
            errors[int(reference[2]) - 1, column - 1] = value[1].decode("utf-8")
    return errors


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The ZIP member holding a sheet: the workbook gives its relationship id, which the
    workbook's relationships resolve to a path."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    ids = {value for element in book.iter() if element.tag.rpartition("}")[2] == "sheet"
           and element.get("name") == sheet
           for key, value in element.attrib.items() if key.rpartition("}")[2] == "id"}
    relationships = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for relationship in relationships:
        if relationship.get("Id") in ids:
            target = relationship.get("Target", "")
            return (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", target)))
    return None
