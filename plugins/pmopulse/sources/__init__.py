"""Sources: each reads raw tables as text under the source's own headers.

A source returns `RawTable`s (text cells, a spreadsheet-style row number, and where they
came from); `mapping.canonical_frame` turns each into a typed canonical table. Keeping
the raw text lets extraction freeze exactly what was read, before any interpretation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from pmopulse.config import SourceConfig
    from pmopulse.contracts import Contract
    from pmopulse.period import Period
    from pmopulse.sources.mapping import TableMapping


@dataclass(frozen=True)
class RawTable:
    table: str               # canonical table it feeds
    frame: pd.DataFrame      # text cells under the source's headers, plus SOURCE_ROW
    origin: str              # where, for messages: "file.xlsx, sheet 风险登记" or "query ..."
    mapping: TableMapping


def read_source(source: SourceConfig, contracts: dict[str, Contract],
                period: Period) -> list[RawTable]:
    """Read every table a configured source provides."""
    if source.kind == "files":
        from pmopulse.sources.files import read_files

        return read_files(source, contracts)
    from pmopulse.sources.sql import read_sql

    return read_sql(source, contracts, period)


def cell_text(value: Any) -> str | None:
    """One spreadsheet or database cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
