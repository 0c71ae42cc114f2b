"""How a source's own shape maps onto a canonical table: headers, values, date and number formats.

Real exports never use our column names. A `TableMapping` from the config says which
source header is which canonical column, which source values mean which canonical value
("已关闭", "Done" → closed), and how dates and numbers are written. Applying it to a raw
text table gives the canonical text table that `typed_frame` types.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import pandas as pd

from pmopulse.contracts import Contract
from pmopulse.contracts.coerce import SOURCE_ROW, CellFormats, typed_frame
from pmopulse.errors import ConfigError, ContractViolation

FORMAT_KEYS = ("encoding", "delimiter", "date_formats", "decimal", "thousands")
"""Options a source may set once for all its tables (a table's own setting wins)."""


@dataclass(frozen=True)
class TableMapping:
    """Where one canonical table is in a source and how its cells are written."""

    file: str | None = None          # file source: file name inside the source folder
    sheet: str | None = None         # XLSX: sheet name (default: the first sheet)
    header_row: int = 1              # row number of the (first) header row
    header_rows: int = 1             # header rows; merged cells above are joined with " / "
    query: str | None = None         # SQL source: the SELECT, with :period-style parameters
    encoding: str = "utf-8-sig"      # CSV: utf-8-sig reads UTF-8 with or without BOM
    delimiter: str = ","
    columns: Mapping[str, str] = field(default_factory=dict)   # source header -> canonical
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> map
    date_formats: tuple[str, ...] = ()
    decimal: str = "."
    thousands: str = ""

    @property
    def formats(self) -> CellFormats:
        return CellFormats(self.date_formats, self.decimal, self.thousands)


def parse_mapping(raw: Any, where: str, contract: Contract | None = None,
                  defaults: TableMapping | None = None) -> TableMapping:
    """Build a TableMapping from config, refusing unknown keys and unknown canonical columns.

    `defaults` carries the source-wide format options; keys set here override them.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {raw!r}")
    known = {f.name for f in fields(TableMapping)}
    if unknown := sorted(set(map(str, raw)) - known):
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    updates: dict[str, Any] = {}
    for key in ("file", "sheet", "query", "encoding", "delimiter", "decimal", "thousands"):
        if key in raw:
            updates[key] = str(raw[key])
    for key in ("header_row", "header_rows"):
        if key in raw:
            updates[key] = _positive_int(raw[key], f"{where}.{key}")
    if "date_formats" in raw:
        formats = raw["date_formats"]
        updates["date_formats"] = (formats,) if isinstance(formats, str) else tuple(map(str, formats))
    if "columns" in raw:
        updates["columns"] = {str(k).strip(): str(v) for k, v in (raw["columns"] or {}).items()}
    if "values" in raw:
        updates["values"] = {str(col): {str(k).strip(): str(v) for k, v in (vmap or {}).items()}
                             for col, vmap in (raw["values"] or {}).items()}
    mapping = replace(defaults or TableMapping(), **updates)
    if len(mapping.delimiter) != 1:
        raise ConfigError(f"{where}.delimiter must be one character, not {mapping.delimiter!r}")
    if mapping.decimal == mapping.thousands:
        raise ConfigError(f"{where}: decimal and thousands separators must differ")
    try:
        codecs.lookup(mapping.encoding)
    except LookupError:
        raise ConfigError(f"{where}.encoding {mapping.encoding!r} is not a known encoding "
                          "(e.g. utf-8-sig, gbk, gb18030)") from None
    if contract is not None:
        _check_columns(mapping, contract, where)
    return mapping


def _check_columns(mapping: TableMapping, contract: Contract, where: str) -> None:
    names = set(contract.column_names)
    targets = list(mapping.columns.values())
    if bad := sorted(set(targets) - names):
        raise ConfigError(f"{where}.columns maps onto unknown column(s) {bad} of table "
                          f"{contract.table!r}; its columns are {contract.column_names}")
    if dupes := sorted({t for t in targets if targets.count(t) > 1}):
        raise ConfigError(f"{where}.columns maps several source columns onto {dupes}")
    if bad := sorted(set(mapping.values) - names):
        raise ConfigError(f"{where}.values names unknown column(s) {bad} of table {contract.table!r}")


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a whole number of at least 1, not {value!r}")
    return value


def canonical_frame(raw: pd.DataFrame, contract: Contract, mapping: TableMapping,
                    origin: str) -> pd.DataFrame:
    """Rename, translate values and type one raw text table into the contract's shape.

    Source columns the mapping does not name and that are not canonical are dropped here
    (they stay in the raw snapshot). A renamed column missing from the source is an error
    naming the header the config expected and the headers that are there.
    """
    headers = [c for c in raw.columns if c != SOURCE_ROW]
    if missing := [h for h in mapping.columns if h not in headers]:
        raise ContractViolation(
            f"{origin}: the mapping expects source column(s) {missing} for table "
            f"{contract.table!r}, but the headers are {headers}"
        )
    frame = raw.rename(columns=dict(mapping.columns))
    keep = [c for c in contract.column_names if c in frame.columns]
    frame = frame[[*keep, SOURCE_ROW]].copy()
    for column, value_map in mapping.values.items():
        if column in frame.columns:
            frame[column] = translate(frame[column], value_map)
    return typed_frame(frame, contract, origin, mapping.formats)


def translate(text: pd.Series, value_map: Mapping[str, str]) -> pd.Series:
    """Map source values onto canonical ones, ignoring case and surrounding spaces.

    Values the map does not mention pass through unchanged, so validation reports them
    against the contract's allowed values instead of them being guessed here.
    """
    keys = text.astype("string").str.strip().str.casefold()
    mapped = keys.map(_folded(value_map))
    return text.where(mapped.isna(), mapped)


def translate_one(value: str | None, value_map: Mapping[str, str]) -> str | None:
    """One value through a value map, as `translate` does a column."""
    if value is None:
        return None
    return _folded(value_map).get(value.strip().casefold(), value)


def _folded(value_map: Mapping[str, str]) -> dict[str, str]:
    return {k.strip().casefold(): v for k, v in value_map.items()}
