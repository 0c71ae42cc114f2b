"""Sources: each reads raw tables as text under the source's own headers.

A source returns `RawTable`s (text cells, a spreadsheet-style row number, and where they
came from); `mapping.canonical_frame` turns each into a typed canonical table. Keeping
the raw text lets extraction freeze exactly what was read, before any interpretation.

Every kind of source is one module with one reader, `read(source, request)`. API sources
(Jira, Redmine) write their column names canonically but keep the system's own values
(statuses, types, priorities), so the config's value maps translate them like any export.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
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


@dataclass(frozen=True)
class SourceRequest:
    """What a reader is asked for: the tables wanted, the period, and where it may keep state."""

    contracts: dict[str, Contract]
    period: Period
    state_dir: Path          # survives runs: incremental pulls keep their mirror here
    refresh: bool = False    # pull everything again (a full refresh notices deleted items)


READERS = {
    "files": "pmopulse.sources.files",
    "sql": "pmopulse.sources.sql",
    "jira": "pmopulse.sources.jira",
    "redmine": "pmopulse.sources.redmine",
    "schedules": "pmopulse.sources.schedules",
}
"""Kind -> module with `read(source, request) -> list[RawTable]`; imported only when used."""


def read_source(source: SourceConfig, request: SourceRequest) -> list[RawTable]:
    """Read every table a configured source provides."""
    reader = importlib.import_module(READERS[source.kind])
    tables: list[RawTable] = reader.read(source, request)
    return tables


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
