"""One pure function per KPI: tables + period in, per-project parts out.

Every function returns a DataFrame indexed by project with `numerator`, `denominator` and
`records`; roll-ups add the parts and divide once (SPI = ΣEV / ΣPV), so a business unit's
figure is never an average of its projects' ratios.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from pmopulse.period import Period

Tables = Mapping[str, pd.DataFrame]
PARTS = ["numerator", "denominator", "records"]


def _parts(frame: pd.DataFrame, numerator: str, denominator: str) -> pd.DataFrame:
    grouped = frame.groupby("project", sort=True)
    return pd.DataFrame({
        "numerator": grouped[numerator].sum(),
        "denominator": grouped[denominator].sum(),
        "records": grouped.size(),
    })


def _snapshots(tables: Tables, period: Period) -> pd.DataFrame:
    evm = tables.get("evm_snapshots")
    if evm is None:
        return pd.DataFrame(columns=["project", "planned_value", "earned_value", "actual_cost"])
    return evm[evm["period"] == str(period)]


def spi(tables: Tables, period: Period) -> pd.DataFrame:
    """SPI = ΣEV / ΣPV over the cumulative snapshots of the period."""
    return _parts(_snapshots(tables, period), "earned_value", "planned_value")


def cpi(tables: Tables, period: Period) -> pd.DataFrame:
    """CPI = ΣEV / ΣAC over the cumulative snapshots of the period."""
    return _parts(_snapshots(tables, period), "earned_value", "actual_cost")


def milestone_on_time(tables: Tables, period: Period) -> pd.DataFrame:
    """Milestones due in the period achieved on or before their baseline date / those due."""
    milestones = tables.get("milestones")
    if milestones is None:
        return pd.DataFrame(columns=PARTS)
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    due = milestones[milestones["baseline_date"].between(start, end)]
    achieved = due["actual_date"].notna() & (due["actual_date"] <= end)
    on_time = (achieved & (due["actual_date"] <= due["baseline_date"])).astype("int64")
    return _parts(due.assign(on_time=on_time, due=1), "on_time", "due")


MEASURES: dict[str, Callable[[Tables, Period], pd.DataFrame]] = {
    "spi": spi,
    "cpi": cpi,
    "milestone_on_time": milestone_on_time,
}
