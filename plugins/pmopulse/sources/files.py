"""File source: a folder of CSV or XLSX exports, one file (or sheet) per canonical table.

Without a mapping, `<table>.csv` or `<table>.xlsx` is read under canonical column names.
A table listed under the source's `tables:` names its file, sheet, header rows, column
renames, value maps and formats. Every cell is read as text; typing happens afterwards
against the contract, so a message can quote the cell exactly as the file holds it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmopulse.contracts import Contract
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.errors import SourceError
from pmopulse.sources import RawTable, cell_text
from pmopulse.sources.mapping import TableMapping
from pmopulse.sources.workbook import WorkbookLimits, sheet_rows

if TYPE_CHECKING:
    from pmopulse.config import SourceConfig
    from pmopulse.sources import SourceRequest

SUFFIXES = (".csv", ".xlsx")


def read(source: SourceConfig, request: SourceRequest) -> list[RawTable]:
    return read_files(source, request.contracts, request.limits)


def read_files(source: SourceConfig, contracts: dict[str, Contract],
               limits: WorkbookLimits | None = None) -> list[RawTable]:
    folder = source.path
    if folder is None or not folder.is_dir():
        raise SourceError(f"source {source.name!r}: folder {folder} does not exist")
    tables: list[RawTable] = []
    for name in contracts:
        mapping = source.tables.get(name)
        if mapping is not None and mapping.file:
            path = folder / mapping.file
            if not path.is_file():
                raise SourceError(f"source {source.name!r}: file {path} for table {name!r} "
                                  "does not exist (see its `file:` in the config)")
        else:
            found = [folder / f"{name}{suffix}" for suffix in SUFFIXES
                     if (folder / f"{name}{suffix}").is_file()]
            if len(found) > 1:
                raise SourceError(f"source {source.name!r}: both {found[0].name} and "
                                  f"{found[1].name} exist for table {name!r}; keep one")
            if not found:
                if mapping is not None:
                    raise SourceError(f"source {source.name!r}: table {name!r} is configured "
                                      f"but {folder} has no {name}.csv or {name}.xlsx")
                continue
            path = found[0]
        mapping = mapping or source.defaults
        frame, origin = read_table_file(path, mapping, limits)
        tables.append(RawTable(name, frame, origin, mapping))
    return tables


def read_table_file(path: Path, mapping: TableMapping,
                    limits: WorkbookLimits | None = None) -> tuple[pd.DataFrame, str]:
    """Read one file as text with its own headers; returns the frame and its origin label.
    An XLSX is first checked against `limits` (None: the defaults)."""
    _refuse_unreadable(path)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx_text(path, mapping, limits)
    return read_csv_text(path, mapping), str(path)


def _refuse_unreadable(path: Path) -> None:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise SourceError(f"{path}: the file is empty; expected a header row and data rows")
    is_xlsx = path.suffix.lower() == ".xlsx"
    if head.startswith(b"PK\x03\x04"):
        if not is_xlsx:
            raise SourceError(f"{path}: this is an Excel workbook (XLSX), not a CSV file; "
                              "rename it to .xlsx or export it as CSV")
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(f"{path}: this is an old Excel .xls (or password-protected) workbook; "
                          "save it as .xlsx or CSV")
    if is_xlsx:
        raise SourceError(f"{path}: not an Excel .xlsx workbook (no ZIP signature)")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{path}: this is a binary file, not a CSV text file")


def read_csv_text(path: Path, mapping: TableMapping) -> pd.DataFrame:
    try:
        cells = pd.read_csv(
            path, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False,
            encoding=mapping.encoding, sep=mapping.delimiter, quoting=csv.QUOTE_MINIMAL,
            skiprows=mapping.header_row - 1,
        )
    except UnicodeDecodeError:
        raise SourceError(_decode_error(path, mapping.encoding)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: not a readable CSV file ({exc}); check the delimiter "
                          f"({mapping.delimiter!r}) and quoting") from None
    header_block = cells.iloc[: mapping.header_rows].fillna("").values.tolist()
    headers = join_headers(header_block, fill_upper_levels=True)
    first_row = mapping.header_row + mapping.header_rows
    return _text_frame(cells.iloc[mapping.header_rows:], headers, first_row)


def undecodable_line(path: Path, encoding: str) -> str:
    """Where a text file first fails to decode, e.g. "line 3 is not valid utf-8 text (bytes …)"."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                sample = line[max(exc.start - 4, 0): exc.end + 4]
                return f"line {number} is not valid {encoding} text (bytes {sample!r})"
    return f"it cannot be decoded as {encoding}"


def _decode_error(path: Path, encoding: str) -> str:
    return (f"{path}: {undecodable_line(path, encoding)}. If the file was saved by Excel on Chinese "
            "Windows, set `encoding: gbk` (or gb18030) for this table or source in the config")


def read_xlsx_text(path: Path, mapping: TableMapping,
                   limits: WorkbookLimits | None = None) -> tuple[pd.DataFrame, str]:
    """Read a sheet with merged cells filled in: a merged cell's value covers its whole area."""
    name, rows = sheet_rows(path, mapping.sheet, limits)
    origin = f"{path}, sheet {name!r}"
    top = mapping.header_row - 1
    header_block = [[_xlsx_text(v) or "" for v in row] for row in rows[top: top + mapping.header_rows]]
    if not header_block or not any(any(level) for level in header_block):
        raise SourceError(f"{origin}: no header row at row {mapping.header_row}; "
                          "set header_row to the row that holds the column names")
    headers = join_headers(header_block, fill_upper_levels=False)
    data = pd.DataFrame([[_xlsx_text(v) for v in row] for row in rows[top + mapping.header_rows:]],
                        columns=range(len(headers)), dtype="str")
    return _text_frame(data, headers, top + mapping.header_rows + 1), origin


def _xlsx_text(value: Any) -> str | None:
    """A calamine cell as text; calamine reads an empty cell as ''."""
    if isinstance(value, str):
        return value or None
    return cell_text(value)


def join_headers(levels: Sequence[Sequence[Any]], *, fill_upper_levels: bool) -> list[str]:
    """One name per column from one or more header rows: "风险评估 / 概率".

    In a CSV, a merged header cell survives only in its first column, so upper levels are
    filled to the right; an XLSX sheet has its merged areas filled already. Unnamed columns
    are called "column N"; repeated names get ".1", ".2" as pandas does.
    """
    width = max((len(level) for level in levels), default=0)
    grid = [[str(cell).strip() if cell is not None else "" for cell in level] + [""] * (width - len(level))
            for level in levels]
    if fill_upper_levels:
        for level in grid[:-1]:
            for j in range(1, width):
                if not level[j]:
                    level[j] = level[j - 1]
    names: list[str] = []
    seen: dict[str, int] = {}
    for j in range(width):
        parts = [level[j] for level in grid if level[j]]
        parts = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
        name = " / ".join(parts) or f"column {j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _text_frame(cells: pd.DataFrame, headers: list[str], first_row: int) -> pd.DataFrame:
    """Rows as a text frame numbered as the file's rows, without the blank ones."""
    frame = cells.set_axis(headers, axis=1).astype("str")
    frame[SOURCE_ROW] = range(first_row, first_row + len(frame))
    blank = (frame[headers].fillna("") == "").all(axis=1)
    return frame.loc[~blank].reset_index(drop=True)
