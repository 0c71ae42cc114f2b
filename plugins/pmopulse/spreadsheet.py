"""The one way PMO Pulse writes files people open in Excel: CSV and XLSX without live formulas.

Data cells come from sources and models nobody here controls. A text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel and LibreOffice
(`=HYPERLINK(...)`, `+1+cmd|' /C calc'!A0`), so every such cell is written with a single
quote in front, as the OWASP CSV-injection guidance advises: the reader sees the text, and
nothing runs. Numbers stay numbers: a numeric cell, or text that is a plain number such as
`-5` or `+3.5`, is written as it is. The original values stay in the JSON artifacts beside
these files (e.g. `quarantine/<table>.json`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell starts that a spreadsheet would take as a formula."""
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutral(value: Any) -> Any:
    """The cell as it is safe to write: text that would be a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutral_row(row: Iterable[Any]) -> list[Any]:
    return [neutral(value) for value in row]


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are neutralised; numeric, date and boolean columns untouched."""
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutral)
    return safe


def write_frame_csv(frame: pd.DataFrame, path: Path, **options: Any) -> Path:
    """`frame.to_csv(path, index=False, **options)` with its text cells neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutral_frame(frame).to_csv(path, index=False, **options)
    return path


def write_rows_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                   encoding: str = "utf-8") -> Path:
    """A CSV of `header` and `rows`, every cell neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(neutral_row(header))
        writer.writerows(neutral_row(row) for row in rows)
    return path


def append_row(sheet: Any, row: Iterable[Any]) -> None:
    """`sheet.append(row)` on an openpyxl worksheet, every cell neutralised: text that starts
    with `=` would otherwise be stored as a formula."""
    sheet.append(neutral_row(row))
