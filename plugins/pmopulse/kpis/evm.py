"""Earned-value KPIs from each project's cumulative snapshot at the period's status date.

Formulas as in the PMBOK Guide: SPI = EV / PV, CPI = EV / AC, EAC = BAC / CPI,
VAC = BAC − EAC, TCPI = (BAC − EV) / (BAC − AC). Roll-ups sum the parts: a business
unit's SPI is ΣEV / ΣPV, its EAC the sum of its projects' EACs.
"""

from __future__ import annotations

import pandas as pd

from pmopulse.kpis.base import KpiInputs, Measure, records


def _snapshots(inputs: KpiInputs) -> pd.DataFrame:
    evm = inputs.table("evm_snapshots")
    return evm[evm["period"] == str(inputs.period)]


def _with_budget(inputs: KpiInputs) -> pd.DataFrame:
    """Snapshots of projects with a budget at completion (BAC); others cannot forecast."""
    bac = inputs.projects.set_index("id")["budget_at_completion"]
    snapshots = inputs.shared(_snapshots)
    snapshots = snapshots.assign(bac=bac.reindex(snapshots["project"]).to_numpy())
    return snapshots[snapshots["bac"].notna()]


def spi(inputs: KpiInputs) -> pd.DataFrame:
    s = inputs.shared(_snapshots)
    return records(s["project"], numerator=s["earned_value"], denominator=s["planned_value"])


def cpi(inputs: KpiInputs) -> pd.DataFrame:
    s = inputs.shared(_snapshots)
    return records(s["project"], numerator=s["earned_value"], denominator=s["actual_cost"])


def eac(inputs: KpiInputs) -> pd.DataFrame:
    """EAC = BAC / CPI = BAC × AC / EV per project; projects without earned value yet have
    no CPI and so no EAC."""
    s = inputs.shared(_with_budget)
    s = s[s["earned_value"] > 0]
    return records(s["project"], numerator=s["bac"] * s["actual_cost"] / s["earned_value"])


def vac(inputs: KpiInputs) -> pd.DataFrame:
    """VAC = BAC − EAC per project (negative: expected to overrun)."""
    s = inputs.shared(_with_budget)
    s = s[s["earned_value"] > 0]
    return records(s["project"],
                   numerator=s["bac"] - s["bac"] * s["actual_cost"] / s["earned_value"])


def tcpi(inputs: KpiInputs) -> pd.DataFrame:
    """TCPI = Σ(BAC − EV) / Σ(BAC − AC): the efficiency the remaining budget demands.

    Projects already at or over budget (AC ≥ BAC) have no remaining budget to divide by;
    they are left out here (their CPI and VAC show the overrun).
    """
    s = inputs.shared(_with_budget)
    s = s[s["bac"] > s["actual_cost"]]
    return records(s["project"], numerator=s["bac"] - s["earned_value"],
                   denominator=s["bac"] - s["actual_cost"])


MEASURES: dict[str, Measure] = {"spi": spi, "cpi": cpi, "eac": eac, "vac": vac, "tcpi": tcpi}
