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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd

    from pmopulse.config import SourceConfig
    from pmopulse.contracts import Contract
    from pmopulse.period import Period
    from pmopulse.sources.mapping import TableMapping
    from pmopulse.sources.workbook import WorkbookLimits


@dataclass(frozen=True)
class RawTable:
    table: str               # canonical table it feeds
    frame: pd.DataFrame      # text cells under the source's headers, plus SOURCE_ROW
    origin: str              # where, for messages: "file.xlsx, sheet 风险登记" or "query ..."
    mapping: TableMapping
    # Data-quality findings the reader alone can see (no contract rule can), for the
    # validation summary: each names the table, the records and what to fix.
    warnings: tuple[str, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class SourceRequest:
    """What a reader is asked for: the tables wanted, the period, where it may keep state,
    and the organisation's time zone, in which a timestamp's day is counted."""

    contracts: dict[str, Contract]
    period: Period
    state_dir: Path          # survives runs: incremental pulls keep their mirror here
    refresh: bool = False    # pull everything again (a full refresh notices deleted items)
    zone: ZoneInfo = field(kw_only=True)  # organisation.timezone
    limits: WorkbookLimits | None = field(default=None, kw_only=True)  # config.limits; None: defaults


@dataclass(frozen=True)
class Unread:
    """Something a source could not read (a file), left out while the rest was read."""

    item: str                # what, e.g. the file name
    message: str             # why, and what to do
    blocking: bool = False   # the source is configured as required: hold the run back


@dataclass(frozen=True)
class SourceRead:
    """What a reader gives back beyond its tables.

    `dated`: the items' own as-of dates (a schedule's status date), when the source states
    how current it is itself; freshness then comes from these, not from its records.
    `notes`: per-item facts for the report (one JSON-safe mapping per item)."""

    tables: list[RawTable]
    unread: tuple[Unread, ...] = ()
    dated: Mapping[str, dt.date] | None = None
    notes: tuple[Mapping[str, Any], ...] = ()


READERS = {
    "files": "pmopulse.sources.files",
    "sql": "pmopulse.sources.sql",
    "jira": "pmopulse.sources.jira",
    "redmine": "pmopulse.sources.redmine",
    "schedules": "pmopulse.sources.schedules",
}
"""Kind -> module with `read(source, request) -> list[RawTable] | SourceRead`; imported only when used."""


def read_source(source: SourceConfig, request: SourceRequest) -> SourceRead:
    """Read every table a configured source provides (a reader returns its tables, or a
    `SourceRead` when it has more to say)."""
    reader = importlib.import_module(READERS[source.kind])
    read: list[RawTable] | SourceRead = reader.read(source, request)
    return read if isinstance(read, SourceRead) else SourceRead(read)


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


# --------------------------------------------------------------------------------------
# What the readers that build their own rows (Jira, Redmine, schedules) share
# --------------------------------------------------------------------------------------


def record_frame(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Records as a raw text table in the given column order, rows numbered from 1."""
    import pandas as pd

    from pmopulse.contracts.coerce import SOURCE_ROW

    frame = pd.DataFrame([[cell_text(r.get(c)) for c in columns] for r in records],
                         columns=list(columns), dtype="str")
    frame[SOURCE_ROW] = range(1, len(frame) + 1)
    return frame


def local_day(value: Any, zone: ZoneInfo) -> str | None:
    """The organisation's day of a tracker's date or timestamp, as ISO text.

    A date ("2026-10-05") is that day. A timestamp with an offset or Z is moved into the
    organisation's time zone first: an issue closed at 2026-03-31T22:30:00Z was closed on
    1 April in Shanghai, and counts in April there. A timestamp without an offset is taken
    as already local.
    """
    if value is None or value == "":
        return None
    text = str(value)
    if len(text) == 10:
        return dt.date.fromisoformat(text).isoformat()
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.date().isoformat()


def week_start(day: dt.date) -> dt.date:
    """The Monday of a day's week: timesheets are kept per week."""
    return day - dt.timedelta(days=day.weekday())


def with_default_values(configured: TableMapping | None,
                        defaults: Mapping[str, Mapping[str, str]]) -> TableMapping:
    """A table's mapping: the reader's default value maps, the configured entries winning."""
    from pmopulse.sources.mapping import TableMapping

    mapping = configured or TableMapping()
    values = {column: {**defaults.get(column, {}), **mapping.values.get(column, {})}
              for column in {*defaults, *mapping.values}}
    return replace(mapping, values=values)


def check_value_maps_only(source: SourceConfig, provided: Iterable[str]) -> None:
    """A reader that names its columns itself takes only value maps under `tables:`."""
    from pmopulse.errors import ConfigError

    where = f"sources[{source.name}]"
    provided = list(provided)
    if unknown := sorted(set(source.tables) - set(provided)):
        raise ConfigError(f"{where}.tables names {unknown}, which a {source.kind} source does not "
                          f"fill; it fills {provided}")
    for table, mapping in source.tables.items():
        if mapping.columns or mapping.file or mapping.sheet or mapping.query:
            raise ConfigError(f"{where}.tables.{table}: a {source.kind} source writes canonical "
                              "columns itself; only `values` (value maps) can be set here")
