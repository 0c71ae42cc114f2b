"""How current a source is: the newest dated record it holds, as of the period end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pmopulse.contracts import ColumnType, Contract


def source_freshness(
    tables: Mapping[str, pd.DataFrame],
    contracts: Mapping[str, Contract],
    as_of: dt.date,
    max_age_days: int,
) -> dict[str, Any]:
    """Newest record on or before `as_of` across a source's typed tables, and whether it is stale.

    Dates after `as_of` (planned finishes, due dates) say nothing about how current an
    export is, so they are ignored. A source without any dated record is "no data":
    `stale` is None, not False.
    """
    newest: dt.date | None = None
    basis: str | None = None
    limit = pd.Timestamp(as_of)
    for name, frame in tables.items():
        contract = contracts[name]
        for column in contract.freshness:
            values = frame[column]
            if contract.column(column).type is ColumnType.MONTH:
                # A month's records are current up to its last day.
                values = pd.to_datetime(values, format="%Y-%m", errors="coerce") + pd.offsets.MonthEnd(0)
            values = values[values <= limit]
            if values.notna().any():
                candidate = values.max().date()
                if newest is None or candidate > newest:
                    newest, basis = candidate, f"{name}.{column}"
    age = (as_of - newest).days if newest is not None else None
    return {
        "newest": newest.isoformat() if newest else None,
        "basis": basis,
        "age_days": age,
        "max_age_days": max_age_days,
        "stale": None if age is None else age > max_age_days,
    }


def dated_freshness(dates: Mapping[str, dt.date], as_of: dt.date, max_age_days: int) -> dict[str, Any]:
    """Freshness of a source whose items state their own as-of dates (schedules: status date,
    else the date the file was saved): the newest item's date, not the period the run
    stamps on its rows. A date after `as_of` is current (age 0)."""
    if not dates:
        return {"newest": None, "basis": None, "age_days": None, "max_age_days": max_age_days,
                "stale": None}
    item = max(dates, key=lambda name: dates[name])
    age = max(0, (as_of - dates[item]).days)
    return {
        "newest": dates[item].isoformat(),
        "basis": item,
        "age_days": age,
        "max_age_days": max_age_days,
        "stale": age > max_age_days,
    }
