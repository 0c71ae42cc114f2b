"""Source: a folder with one CSV file per canonical table (`projects.csv`, ...)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from pmopulse.contracts import Contract
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.errors import SourceError


def read_raw_tables(folder: Path, contracts: dict[str, Contract]) -> dict[str, pd.DataFrame]:
    """Read every `<table>.csv` present in `folder` as text, numbering rows as a spreadsheet does.

    Tables without a file are simply absent; the validator decides whether that matters.
    """
    if not folder.is_dir():
        raise SourceError(f"CSV source folder {folder} does not exist")
    tables: dict[str, pd.DataFrame] = {}
    for name in contracts:
        path = folder / f"{name}.csv"
        if path.exists():
            tables[name] = read_csv_text(path)
    return tables


def read_csv_text(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: cannot be read as UTF-8 CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame[SOURCE_ROW] = range(2, len(frame) + 2)
    return frame
