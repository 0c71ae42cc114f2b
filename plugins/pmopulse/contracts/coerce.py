"""Turn raw text columns into the types a contract declares, naming every bad cell."""

from __future__ import annotations

import pandas as pd

from pmopulse.contracts import ColumnType, Contract
from pmopulse.errors import ContractViolation

SOURCE_ROW = "source_row"
"""Spreadsheet-style row number of each record in its source (the header is row 1)."""

_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否"}
_EXPECTED = {
    ColumnType.INTEGER: "a whole number",
    ColumnType.NUMBER: "a number",
    ColumnType.DATE: "a date YYYY-MM-DD",
    ColumnType.MONTH: "a month YYYY-MM",
    ColumnType.BOOLEAN: "true or false",
}
MAX_REPORTED_CELLS = 10


def typed_frame(raw: pd.DataFrame, contract: Contract, origin: str) -> pd.DataFrame:
    """Return the contract's columns, typed. `raw` holds text plus a SOURCE_ROW column.

    A missing required column or a cell that is not of its column's type stops the run
    with a ContractViolation naming `origin` (file or query), column, row and value:
    such input means the source or its mapping is broken, so no number can be trusted.
    """
    missing = [c.name for c in contract.columns if c.required and c.name not in raw.columns]
    if missing:
        found = [c for c in raw.columns if c != SOURCE_ROW]
        raise ContractViolation(
            f"{origin}: required column(s) {', '.join(missing)} missing for table "
            f"{contract.table!r} (columns found: {', '.join(found) or 'none'})"
        )
    out = pd.DataFrame(index=raw.index)
    problems: list[str] = []
    row_numbers = dict(zip(raw.index, raw[SOURCE_ROW].tolist(), strict=True))
    for col in contract.columns:
        if col.name not in raw.columns:
            out[col.name] = _empty(col.type, len(raw))
            continue
        text = raw[col.name].astype("string").str.strip()
        text = text.mask(text == "")
        values, bad = _convert(text, col.type)
        out[col.name] = values
        for idx in bad[bad].index[: MAX_REPORTED_CELLS - len(problems)]:
            problems.append(
                f"row {row_numbers[idx]}, column {col.name!r}: "
                f"{text.at[idx]!r} is not {_EXPECTED[col.type]}"
            )
    if problems:
        raise ContractViolation(
            f"{origin}: {len(problems)} cell(s) of the wrong type in table {contract.table!r} "
            "(fix the source or its mapping, then re-run):\n  " + "\n  ".join(problems)
        )
    out[SOURCE_ROW] = raw[SOURCE_ROW].astype("int64")
    return out


def _convert(text: pd.Series, kind: ColumnType) -> tuple[pd.Series, pd.Series]:
    present = text.notna()
    if kind is ColumnType.STRING:
        return text.astype("str").where(present, None).astype("str"), present & False
    if kind in (ColumnType.NUMBER, ColumnType.INTEGER):
        numbers = pd.to_numeric(text, errors="coerce")
        bad = present & numbers.isna()
        if kind is ColumnType.INTEGER:
            bad |= present & numbers.notna() & (numbers % 1 != 0)
            return numbers.where(~bad).astype("Int64"), bad
        return numbers.astype("float64"), bad
    if kind is ColumnType.DATE:
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return dates, present & dates.isna()
    if kind is ColumnType.MONTH:
        ok = text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).astype(bool)
        return text.where(ok).astype("str"), present & ~ok
    lowered = text.str.lower()
    flags = pd.Series(pd.NA, index=text.index, dtype="boolean")
    flags[lowered.isin(_TRUE).fillna(False).astype(bool)] = True
    flags[lowered.isin(_FALSE).fillna(False).astype(bool)] = False
    return flags, present & flags.isna()


def _empty(kind: ColumnType, length: int) -> pd.Series:
    dtype = {
        ColumnType.INTEGER: "Int64",
        ColumnType.NUMBER: "float64",
        ColumnType.DATE: "datetime64[us]",
        ColumnType.BOOLEAN: "boolean",
    }.get(kind, "str")
    return pd.Series([None] * length, dtype=dtype)
