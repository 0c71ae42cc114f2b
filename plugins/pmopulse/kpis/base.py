"""What every KPI function receives and returns.

A KPI function is pure: `KpiInputs` (the clean tables and the period) in, a frame of
*records* out, one row per thing counted (a snapshot, a milestone, an audit). The engine
aggregates records per scope the way the catalogue says:

- `ratio`: Σnumerator / Σdenominator (SPI = ΣEV / ΣPV; never an average of ratios);
- `sum`: Σnumerator (an amount or a count: EAC, overdue non-conformances);
- `median`: the median of `value` over the scope's records (pooled, never a median of medians).

A record names its `project` when it belongs to one; the engine then finds the project's
program and business unit. Records without a project (processes, people) may carry a
`business_unit` themselves, or count for the organisation only. No records means "no data".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import empty_column
from pmopulse.period import Period

if TYPE_CHECKING:
    from pmopulse.kpis.catalogue import KpiDefinition, ThresholdOverrides

PROJECT = "project"
BUSINESS_UNIT = "business_unit"
NUMERATOR = "numerator"
DENOMINATOR = "denominator"
VALUE = "value"
RECORD_COLUMNS = (PROJECT, BUSINESS_UNIT, NUMERATOR, DENOMINATOR, VALUE)
OPEN_STATUSES = ("active", "on_hold")
"""Governance statuses of a project that has not been closed or cancelled (see active_projects)."""
T = TypeVar("T")


@dataclass(frozen=True)
class KpiInputs:
    """The clean canonical tables and the reporting period a KPI is computed for."""

    tables: Mapping[str, pd.DataFrame]
    period: Period
    # For KPIs built on other KPIs' colours (portfolio health colours each project's SPI and
    # CPI exactly as their own rows are coloured: the catalogue's bands, or the configured ones).
    catalogue: Mapping[str, KpiDefinition] = field(default_factory=dict, compare=False)
    overrides: ThresholdOverrides | None = field(default=None, compare=False)
    _shared: dict[Callable[[KpiInputs], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def table(self, name: str) -> pd.DataFrame:
        """A clean table; a table no source provided is an empty frame of the contract's shape."""
        frame = self.tables.get(name)
        if frame is not None:
            return frame
        contract = load_contracts()[name]
        return pd.DataFrame({c.name: empty_column(c.type, 0) for c in contract.columns})

    @property
    def start(self) -> pd.Timestamp:
        """First day of the period."""
        return pd.Timestamp(self.period.start)

    @property
    def as_of(self) -> pd.Timestamp:
        """The as-of date: the period's last day. Nothing after it is known."""
        return pd.Timestamp(self.period.end)

    def at(self, period: Period) -> KpiInputs:
        return KpiInputs(self.tables, period, self.catalogue, self.overrides)

    def shared(self, compute: Callable[[KpiInputs], T]) -> T:
        """`compute(self)`, computed once for these inputs: an intermediate result that several
        KPIs build on (project health, the period's snapshots). Callers must not modify it."""
        if compute not in self._shared:
            self._shared[compute] = compute(self)
        return self._shared[compute]

    def days_before(self, days: int) -> pd.Timestamp:
        """The start of a window of `days` days that ends on the as-of date (inclusive)."""
        return self.as_of - pd.Timedelta(days=days - 1)

    @cached_property
    def projects(self) -> pd.DataFrame:
        return self.table("projects")

    @cached_property
    def active_projects(self) -> pd.DataFrame:
        """The projects active on the as-of date, the one meaning every KPI uses: started on or
        before it, and not proposed, closed or cancelled by then.

        That is status active or on_hold (paused, still in the portfolio), or status closed
        with an actual finish after the as-of date (it closed later, after the period). A
        closed project without an actual finish cannot be placed in time and is not counted;
        nor is a cancelled one, as the table keeps no cancellation date. A proposed project
        has not started, whatever its planned start date says.
        """
        projects = self.projects
        status = projects["status"]
        closed_later = (status == "closed") & (projects["actual_finish"] > self.as_of).fillna(False)
        open_then = status.isin(OPEN_STATUSES) | closed_later.astype("bool")
        started = (projects["start"] <= self.as_of).fillna(False).astype("bool")
        return projects[open_then & started]


Measure = Callable[[KpiInputs], pd.DataFrame]


def records(
    project: pd.Series | None = None,
    *,
    numerator: pd.Series | float | None = None,
    denominator: pd.Series | float | None = None,
    value: pd.Series | None = None,
    business_unit: pd.Series | None = None,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Build a record frame from aligned series (scalars broadcast over the index)."""
    base = next((s for s in (project, value, numerator, business_unit)
                 if isinstance(s, pd.Series)), None)
    idx = index if index is not None else (base.index if base is not None else pd.RangeIndex(0))

    def aligned(column: pd.Series) -> Any:
        return (column if column.index.equals(idx) else column.reindex(idx)).array

    # Built in one go from arrays: measures run for every month of the trend, and a frame
    # grown column by column costs more than most of them.
    columns = {PROJECT: aligned(project.astype("str")) if project is not None
               else pd.Series(None, index=pd.RangeIndex(len(idx)), dtype="str").array}
    if business_unit is not None:
        columns[BUSINESS_UNIT] = aligned(business_unit.astype("str"))
    for name, column in ((NUMERATOR, numerator), (DENOMINATOR, denominator), (VALUE, value)):
        if isinstance(column, pd.Series):
            columns[name] = aligned(column.astype("float64"))
        elif column is not None:
            columns[name] = np.full(len(idx), column, dtype="float64")
    return pd.DataFrame(columns)
