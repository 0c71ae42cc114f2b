"""Earned value agrees with the textbook and rolls up from summed parts."""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis.catalogue import Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.period import Period
from support import canonical_table

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
EVM = {k: CATALOGUE[k] for k in ("spi", "cpi", "eac", "vac", "tcpi")}
OCT = Period.parse("2026-10")


def _org(tables: dict[str, pd.DataFrame], kpi: str, level: str = "organisation", scope: str = "Org") -> dict:
    report = compute_kpis(tables, EVM, OCT, organisation="Org", business_units=["NET", "CLOUD"])
    (result,) = [r for r in report["results"]
                 if r["kpi"] == kpi and r["level"] == level and r["scope"] == scope]
    return result


def _portfolio(*projects: tuple[str, str, float | None, float, float, float]) -> dict[str, pd.DataFrame]:
    """(id, unit, BAC, PV, EV, AC) per project, one cumulative snapshot each for 2026-10."""
    ids, units, bac, pv, ev, ac = (list(column) for column in zip(*projects, strict=True))
    return {
        "projects": canonical_table("projects", id=ids, business_unit=units, status=["active"] * len(ids),
                                    budget_at_completion=bac),
        "evm_snapshots": canonical_table("evm_snapshots", project=ids, period=["2026-10"] * len(ids),
                                         planned_value=pv, earned_value=ev, actual_cost=ac),
    }


# The standard textbook case: PV 100, EV 80, AC 90, BAC 200.
TEXTBOOK = _portfolio(("P", "NET", 200.0, 100.0, 80.0, 90.0))


@pytest.mark.parametrize(("kpi", "value", "numerator", "denominator"), [
    ("spi", 0.80, 80, 100),                 # EV / PV = 80 / 100
    ("cpi", 80 / 90, 80, 90),               # EV / AC = 0.889
    ("eac", 225.0, 225.0, None),            # BAC / CPI = 200 / (80/90) = 225
    ("vac", -25.0, -25.0, None),            # BAC − EAC = 200 − 225
    ("tcpi", 120 / 110, 120, 110),          # (BAC − EV) / (BAC − AC) = 120 / 110 = 1.091
])
def test_textbook_case(kpi: str, value: float, numerator: float, denominator: float | None) -> None:
    result = _org(TEXTBOOK, kpi)
    assert result["value"] == pytest.approx(value)
    assert result["numerator"] == pytest.approx(numerator)
    assert result["denominator"] == (pytest.approx(denominator) if denominator is not None else None)
    assert result["records"] == 1


def test_textbook_colours() -> None:
    assert _org(TEXTBOOK, "spi")["rag"] == Rag.RED       # 0.80 < 0.90
    assert _org(TEXTBOOK, "cpi")["rag"] == Rag.RED       # 0.889 < 0.90
    assert _org(TEXTBOOK, "eac")["rag"] == Rag.NOT_RATED  # an amount, no target
    assert _org(TEXTBOOK, "vac")["rag"] == Rag.AMBER     # an overrun is forecast
    assert _org(TEXTBOOK, "tcpi")["rag"] == Rag.AMBER    # 1.091 is within 1.05–1.10


def test_portfolio_sums_parts_not_ratios() -> None:
    tables = _portfolio(("A", "NET", 1000.0, 100.0, 50.0, 100.0),   # SPI 0.5, CPI 0.5
                        ("B", "NET", 9000.0, 900.0, 900.0, 800.0))  # SPI 1.0, CPI 1.125
    # Averages would be SPI 0.75 and CPI 0.8125; the portfolio earned 950 of 1000 planned.
    assert _org(tables, "spi", "business_unit", "NET")["value"] == pytest.approx(0.95)
    assert _org(tables, "cpi", "business_unit", "NET")["value"] == pytest.approx(950 / 900)
    # EAC: A 1000 × 100/50 = 2000, B 9000 × 800/900 = 8000 → 10000; VAC = 10000 − 10000 = 0.
    assert _org(tables, "eac")["value"] == pytest.approx(10_000)
    assert _org(tables, "vac")["value"] == pytest.approx(0)
    # TCPI: (950 + 8100) / (900 + 8200) = 9050 / 9100
    assert _org(tables, "tcpi")["value"] == pytest.approx(9050 / 9100)


def test_forecasts_need_a_budget_and_earned_value() -> None:
    tables = _portfolio(("A", "NET", None, 100.0, 50.0, 60.0),     # no BAC: SPI/CPI only
                        ("B", "CLOUD", 500.0, 100.0, 0.0, 20.0),   # no EV yet: no CPI, so no EAC
                        ("C", "CLOUD", 100.0, 100.0, 90.0, 120.0))  # over budget: no TCPI
    assert _org(tables, "spi")["records"] == 3
    eac = _org(tables, "eac")
    assert (eac["value"], eac["records"]) == (pytest.approx(100 * 120 / 90), 1)
    assert _org(tables, "tcpi")["records"] == 1  # B only: (500 − 0) / (500 − 20)
    assert _org(tables, "tcpi")["value"] == pytest.approx(500 / 480)
    assert _org(tables, "eac", "business_unit", "NET")["value"] is None


def test_nothing_to_compute_is_no_data() -> None:
    tables = {"projects": canonical_table("projects", id=["A"], business_unit=["NET"], status=["active"])}
    for kpi in EVM:
        result = _org(tables, kpi)
        assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA), kpi
    zero_pv = _portfolio(("A", "NET", 100.0, 0.0, 0.0, 0.0))
    assert _org(zero_pv, "spi")["value"] is None  # 0 / 0 is not a schedule performance
