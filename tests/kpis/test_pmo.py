"""PMO KPIs beyond earned value on small hand-computed tables; roll-ups add parts.

The period is October 2026: start 2026-10-01, as-of date 2026-10-31. Weeks "in the period"
are those whose Monday falls in October: 10-05, 10-12, 10-19 and 10-26.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis import evm, pmo
from pmopulse.kpis.base import VALUE, KpiInputs
from pmopulse.kpis.catalogue import Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.period import Period
from support import DEMO_PERIOD, canonical_table, kpi_result

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
NEW = tuple(k for k in pmo.MEASURES if k != "milestone_on_time")
# Portfolio health colours projects with the catalogue's SPI and CPI bands, so they come along.
COMPUTED = {k: CATALOGUE[k] for k in (*NEW, "spi", "cpi")}
MEASURES = {**evm.MEASURES, **pmo.MEASURES}
OCT = Period.parse("2026-10")
UNITS = ["NET", "CLOUD", "EMPTY"]
PORTFOLIO = ("portfolio_green_share", "portfolio_amber_share", "portfolio_red_share")


def _tables() -> dict[str, pd.DataFrame]:
    """A small organisation. Active: A B (NET, program 5G), C H K L (CLOUD), and F (CLOUD), on
    hold but neither closed nor cancelled; closed D (CLOUD), E G J (NET). Managers: M1 runs A
    and C, M2 B, M3 H, M4 K and L."""
    projects = canonical_table(
        "projects",
        id=["A", "B", "C", "H", "K", "L", "D", "E", "G", "J", "F"],
        business_unit=["NET", "NET"] + ["CLOUD"] * 5 + ["NET"] * 3 + ["CLOUD"],
        program=["5G", "5G", None, None, None, None, None, None, None, None, None],
        status=["active"] * 6 + ["closed"] * 4 + ["on_hold"],
        manager=["M1", "M2", "M1", "M3", "M4", "M4", "M3", "M3", "M2", "M2", "M5"],
        start=["2026-01-01"] * 11,
        actual_finish=[None] * 6 + ["2026-06-15", "2025-10-31", "2026-10-20", "2026-03-01", None],
    )
    milestones = canonical_table(
        "milestones",
        project=["A", "A", "A", "B", "B", "C", "C", "C"],
        id=["M1", "M2", "M3", "M1", "M2", "M1", "M2", "M3"],
        baseline_date=["2026-10-05", "2026-10-10", "2026-10-20", "2026-10-25", "2026-10-15",
                       "2026-10-30", "2026-09-30", "2026-11-02"],
        forecast_date=[None, None, "2026-11-09", "2026-10-28", None, None, None, "2026-11-02"],
        actual_date=["2026-10-01", "2026-10-20", None, None, "2026-11-03", "2026-10-30", "2026-10-10", None],
        # slip:        −4            +10       +20 (fc)  +6 (stale fc: as_of − 10-25)
        #              +16 (achieved after as_of: as_of − 10-15)  0   Sep-due   not due
    )
    changes = canonical_table(
        "changes",
        project=["A", "A", "A", "A", "B", "B", "B", "B", "D", "F", "F"],
        id=["CR1", "CR2", "CR3", "CR4", "CR1", "CR2", "CR3", "CR4", "CR1", "CR1", "CR2"],
        kind=["scope"] * 11,
        raised=["2026-07-01"] * 11,
        decided=["2026-10-05", "2026-10-20", "2026-09-28", "2026-07-30", "2026-10-10", "2026-10-12", None,
                 "2026-11-02", "2026-10-03", "2026-08-15", "2026-09-01"],
        approved=[True, False, True, True, True, True, None, True, True, True, False],
        via_change_board=[True, True, False, False, True, None, None, False, True, False, False],
    )
    risks = canonical_table(
        "risks",
        project=["A", "A", "A", "B", "B", "C", "H", "H", "F", "D", "K"],
        id=["R1", "R2", "R3", "R1", "R2", "R1", "R1", "R2", "R1", "R1", "R1"],
        probability=[0.6, 0.4, 0.9, 0.5, 0.7, 0.3, 0.9, 0.2, 0.8, 0.8, 0.9],
        impact=[3, 4, 5, 3, 4, 5, 2, 1, 5, 5, 5],
        # high?  1.8 ✓, i4 p.4 ✓, (closed), 1.5 ✗, ✓, 1.5 ✗ (p .3 < .4), 1.8 ✓, ✗, ✓, ✓, ✓
        status=["open", "open", "closed", "open", "open", "open", "open", "open", "open", "open", "open"],
        owner=["x"] * 11,
        # H R2 and K R1 are raised after as_of: they did not exist in October
        raised=["2026-05-01", "2026-05-01", "2026-05-01", "2026-06-01", "2026-06-01", "2026-06-01",
                "2026-07-01", "2026-11-02", "2026-01-10", "2026-01-10", "2026-11-02"],
        last_reviewed=["2026-10-15", "2026-08-01", "2026-08-01", "2026-10-01", "2026-11-03", "2026-10-02",
                       "2026-10-20", "2026-11-05", "2026-10-20", None, "2026-11-05"],
        has_response_plan=[False, None, False, True, True, False, False, False, False, False, False],
    )
    capacity = canonical_table(
        "capacity",
        person=["P1", "P1", "P1", "P2", "P2", "P3", "P4", "P5"],
        week=["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-05", "2026-10-12", "2026-10-19",
              "2026-10-05", "2026-10-26"],
        hours=[40.0, 40.0, 40.0, 32.0, 32.0, 40.0, 40.0, 40.0],
    )
    timesheets = canonical_table(
        "timesheets",
        person=["P1", "P1", "P1", "P1", "P2", "P2", "P4", "P5", "P6"],
        project=["A", "A", "B", "A", "A", "A", "A", "B", "A"],
        week=["2026-09-28", "2026-10-05", "2026-10-05", "2026-10-12", "2026-10-05", "2026-10-12",
              "2026-10-05", "2026-10-26", "2026-10-05"],
        hours=[40.0, 30.0, 14.0, 20.0, 16.0, 16.0, 36.0, 36.0, 20.0],
        # P1 week 10-05: 30 + 14 = 44 > 40 (overallocated); P6 has no capacity (left out)
    )
    evm_snapshots = canonical_table(
        "evm_snapshots",
        project=["A", "B", "C", "H", "K", "L", "F"],
        period=["2026-10"] * 7,
        planned_value=[100.0, 100.0, 100.0, 0.0, 100.0, 100.0, 100.0],
        earned_value=[100.0, 92.0, 100.0, 0.0, 96.0, 100.0, 50.0],
        actual_cost=[100.0, 92.0, 120.0, 0.0, 0.0, 104.0, 100.0],
        # SPI/CPI: A 1/1 green; B .92 amber/1 → amber; C 1/.833 red → red; H neither → unrated;
        #          K .96/none → green; L 1/.9615 → green; F (on hold) .5/.5 → red
    )
    lessons = canonical_table(
        "lessons_learned",
        project=["D", "G", "J", "E"],
        date=["2026-06-20", "2026-11-05", "2026-02-20", "2025-11-01"],
    )
    training = canonical_table(
        "training",
        person=["M1", "M1", "M2", "M2", "M4", "M5", "T1"],
        role=["project_manager"] * 4 + ["developer", "project_manager", "developer"],
        course=["c"] * 7,
        hours=[16.0, 35.0, 24.0, 8.0, 12.0, 40.0, 8.0],
        date=["2026-03-10", "2025-10-15", "2026-10-31", "2026-11-02"] + ["2026-05-05"] * 3,
    )
    return {"projects": projects, "milestones": milestones, "changes": changes, "risks": risks,
            "capacity": capacity, "timesheets": timesheets, "evm_snapshots": evm_snapshots,
            "lessons_learned": lessons, "training": training}


def _report(tables: dict[str, pd.DataFrame], *kpis: str) -> dict:
    """Results for `kpis` (default: all of this module's), with SPI and CPI for the health mix."""
    catalogue = {k: COMPUTED[k] for k in (*kpis, "spi", "cpi")} if kpis else COMPUTED
    return compute_kpis(tables, catalogue, OCT, organisation="Org", business_units=UNITS, measures=MEASURES)


def _only(project: str) -> dict[str, pd.DataFrame]:
    """The organisation reduced to one project: its rows, and the people who booked on it."""
    tables = _tables()
    keyed = {name: frame[frame["project"] == project] for name, frame in tables.items() if "project" in frame}
    people = keyed["timesheets"]["person"]
    return {**tables, **keyed, "projects": tables["projects"][tables["projects"]["id"] == project],
            "capacity": tables["capacity"][tables["capacity"]["person"].isin(people)]}


@pytest.fixture(scope="module")
def report() -> dict:
    return _report(_tables())


# (kpi, level, scope, value, numerator, denominator, records, rag)
NORMAL = [
    # Slip of the six milestones due in October: −4, +10, +20, +6, +16, 0 → sorted
    # −4 0 6 10 16 20 → median (6 + 10) / 2 = 8 (amber: 0 < 8 ≤ 14).
    ("schedule_slip_median", "organisation", "Org", 8.0, None, None, 6, Rag.AMBER),
    # NET pools A and B: −4 6 10 16 20 → 10. The median of the project medians (A 10, B 11,
    # C 0) would be 10 for the organisation, not the pooled 8.
    ("schedule_slip_median", "business_unit", "NET", 10.0, None, None, 5, Rag.AMBER),
    ("schedule_slip_median", "program", "5G", 10.0, None, None, 5, Rag.AMBER),
    ("schedule_slip_median", "project", "A", 10.0, None, None, 3, Rag.AMBER),
    ("schedule_slip_median", "business_unit", "CLOUD", 0.0, None, None, 1, Rag.TOO_FEW),
    # Approved in October: A CR1, B CR1 + CR2 (B CR4 is decided after as_of) → 3 over 7 active
    # projects (F, on hold, is one) = 0.429 (amber, ≤ 0.50). Averaging the units (NET 1.5,
    # CLOUD 0) would say 0.75.
    ("baseline_change_rate", "organisation", "Org", 3 / 7, 3, 7, 7, Rag.AMBER),
    ("baseline_change_rate", "business_unit", "NET", 1.5, 3, 2, 2, Rag.TOO_FEW),
    ("baseline_change_rate", "business_unit", "CLOUD", 0.0, 0, 5, 5, Rag.GREEN),
    ("baseline_change_rate", "project", "B", 2.0, 2, 1, 1, Rag.TOO_FEW),
    # Decided 08-01..10-31 with a known flag: A 2/3 (CR4 in July), B 1/1 (CR2 flag empty,
    # CR3 undecided, CR4 after as_of), D 1/1, F 0/2 → 4/7 = 0.571 (red, < 0.85). The average
    # of the project shares would be (0.667 + 1 + 1 + 0) / 4 = 0.667.
    ("change_board_share", "organisation", "Org", 4 / 7, 4, 7, 7, Rag.RED),
    ("change_board_share", "business_unit", "NET", 0.75, 3, 4, 4, Rag.TOO_FEW),
    ("change_board_share", "business_unit", "CLOUD", 1 / 3, 1, 3, 3, Rag.TOO_FEW),
    # Reviewed 10-02..10-31: A yes, B unknown (10-01 is outside, 11-03 overwrote what came
    # before), C yes (10-02), H yes, F yes (10-20), K and L had no risks yet → 4/6 = 0.667
    # (red, < 0.75). Averaging NET 1/1 and CLOUD 3/5 would say 0.8.
    ("risk_register_currency", "organisation", "Org", 4 / 6, 4, 6, 6, Rag.RED),
    ("risk_register_currency", "business_unit", "NET", 1.0, 1, 1, 1, Rag.GREEN),
    ("risk_register_currency", "business_unit", "CLOUD", 0.6, 3, 5, 5, Rag.RED),
    ("risk_register_currency", "project", "K", 0.0, 0, 1, 1, Rag.RED),
    # Open risks of running projects raised by as_of: A R1 R2, B R1 R2, C R1, H R1, F R1 (7).
    # High without plan: A R1 (0.6 × 3 = 1.8), A R2 (plan empty), H R1, F R1 → 4 (red, > 3).
    ("open_high_risks_without_plan", "organisation", "Org", 4.0, 4.0, None, 7, Rag.RED),
    ("open_high_risks_without_plan", "business_unit", "NET", 2.0, 2.0, None, 4, Rag.AMBER),
    ("open_high_risks_without_plan", "business_unit", "CLOUD", 2.0, 2.0, None, 3, Rag.AMBER),
    ("open_high_risks_without_plan", "project", "B", 0.0, 0.0, None, 2, Rag.GREEN),
    ("open_high_risks_without_plan", "project", "F", 1.0, 1.0, None, 1, Rag.AMBER),
    # The same risks as a share of the open high ones: A R1, A R2, B R2 (planned), H R1, F R1
    # → 4 of 5 without a plan = 0.8 (red, > 0.25), a rate any size of organisation can meet.
    ("high_risks_unplanned_share", "organisation", "Org", 0.8, 4, 5, 5, Rag.RED),
    ("high_risks_unplanned_share", "project", "B", 0.0, 0, 1, 1, Rag.TOO_FEW),
    # Booked / capacity in the October weeks: P1 64/80, P2 32/64, P3 0/40, P4 36/40, P5 36/40
    # → 168/264 = 0.636 (amber, 60–70 %). The average of the people's rates would be 0.62.
    ("resource_utilisation", "organisation", "Org", 168 / 264, 168, 264, 5, Rag.AMBER),
    # P1 booked 44 h against 40 in the week of 10-05; P2 exactly 32 of 32 is not over.
    ("overallocated_people", "organisation", "Org", 1.0, 1.0, None, 5, Rag.AMBER),
    # ... one person of the five with capacity: 0.2 (red, > 0.15).
    ("overallocated_share", "organisation", "Org", 0.2, 1, 5, 5, Rag.RED),
    # Rated active projects A green, B amber, C red, K green, L green, F red (H has no index).
    # Green 3/6 = 0.5 (red, < 0.60); averaging NET 1/2 and CLOUD 2/4 would say the same, so
    # the units' figures below are what shows the pooling.
    ("portfolio_green_share", "organisation", "Org", 0.5, 3, 6, 6, Rag.RED),
    ("portfolio_green_share", "business_unit", "NET", 0.5, 1, 2, 2, Rag.TOO_FEW),
    ("portfolio_green_share", "business_unit", "CLOUD", 0.5, 2, 4, 4, Rag.TOO_FEW),
    ("portfolio_green_share", "program", "5G", 0.5, 1, 2, 2, Rag.TOO_FEW),
    ("portfolio_amber_share", "organisation", "Org", 1 / 6, 1, 6, 6, Rag.NOT_RATED),
    ("portfolio_red_share", "organisation", "Org", 2 / 6, 2, 6, 6, Rag.RED),  # > 0.10
    # Closed 2025-11-01..2026-10-31: D (lessons), G (lesson dated after as_of), J (lesson
    # recorded before closure); E closed 2025-10-31 is outside → 2/3 (red, < 0.80).
    # Averaging NET 1/2 and CLOUD 1/1 would say 0.75.
    ("lessons_learned_capture", "organisation", "Org", 2 / 3, 2, 3, 3, Rag.RED),
    ("lessons_learned_capture", "business_unit", "NET", 0.5, 1, 2, 2, Rag.RED),
    ("lessons_learned_capture", "project", "D", 1.0, 1, 1, 1, Rag.GREEN),
    # Managers of active projects M1 M2 M3 M4 M5: M1 16 (35 h in 2025-10 is outside), M2 24
    # (10-31 counts, 11-02 not), M3 0, M4 12 (role irrelevant), M5 40 (runs F, on hold) →
    # 92 / 5 = 18.4 h (amber, 10–20). Every manager has denominator 1, so the organisation
    # figure is the plain mean; no other level is reported.
    ("training_hours_per_pm", "organisation", "Org", 18.4, 92, 5, 5, Rag.AMBER),
]


@pytest.mark.parametrize(("kpi", "level", "scope", "value", "numerator", "denominator", "records", "rag"),
                         NORMAL, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in NORMAL])
def test_values_their_basis_and_colour(report: dict, kpi: str, level: str, scope: str, value: float,
                                       numerator: float | None, denominator: float | None, records: int,
                                       rag: Rag) -> None:
    result = kpi_result(report, kpi, level, scope)
    assert result["value"] == pytest.approx(value)
    assert result["numerator"] == (pytest.approx(numerator) if numerator is not None else None)
    assert result["denominator"] == (pytest.approx(denominator) if denominator is not None else None)
    assert (result["records"], result["rag"]) == (records, rag)


# (kpi, previous period's organisation value): nothing dated after 2026-09-30 counts then.
# Measured as if every KPI could be recomputed for a past month: what each measure takes as
# of an earlier date must still be right (earlier months' snapshots are computed with it).
PREVIOUS = [
    ("schedule_slip_median", 0.0),          # C M2 due 09-30, achieved 10-10: open on 09-30 → 0, not 10
    ("baseline_change_rate", 1 / 8),        # A CR3 approved 09-28; G (closed 10-20) was still active
    ("change_board_share", 0.0),            # Jul–Sep: A CR3, A CR4, F CR1, F CR2, none via CCB
    ("resource_utilisation", 1.0),          # the week of 09-28: P1 40 / 40
    ("overallocated_people", 0.0),          # 40 booked of 40 is not over
    ("lessons_learned_capture", 1.0),       # D, J, E (closed 2025-10-31, lesson 2025-11-01); G still open
    ("training_hours_per_pm", 103 / 5),     # M1 16 + 35, M2 0 (10-31 is later), M3 0, M4 12, M5 40
]


@pytest.mark.parametrize(("kpi", "previous"), PREVIOUS, ids=[p[0] for p in PREVIOUS])
def test_previous_month_ignores_what_came_after_it(kpi: str, previous: float) -> None:
    catalogue = {k: dataclasses.replace(COMPUTED[k], recomputable=True) for k in (kpi, "spi", "cpi")}
    report = compute_kpis(_tables(), catalogue, OCT, organisation="Org", business_units=UNITS,
                          measures=MEASURES)
    assert kpi_result(report, kpi)["previous"] == pytest.approx(previous)
    assert kpi_result(report, kpi)["previous_basis"] == "recomputed"


def test_a_month_nothing_was_reported_for_is_no_data_unless_the_kpi_can_be_recomputed(report: dict) -> None:
    """Without history, a KPI resting on today's state of changing fields (a project's status,
    a risk's last review) has no previous value and gaps in its trend; one resting on dated
    events is recomputed, and says so."""
    for kpi in ("baseline_change_rate", "risk_register_currency", "training_hours_per_pm"):
        assert not CATALOGUE[kpi].recomputable
        for result in (r for r in report["results"] if r["kpi"] == kpi):
            assert (result["previous"], result["previous_basis"]) == (None, "missing")
        assert [(p["value"], p["basis"]) for p in report["trend"][kpi][:-1]] == [(None, "missing")] * 11
    assert CATALOGUE["change_board_share"].recomputable
    assert kpi_result(report, "change_board_share")["previous_basis"] == "recomputed"
    assert kpi_result(report, "change_board_share")["previous"] == pytest.approx(0.0)


def test_shares_of_the_mix_add_up_and_are_not_reported_per_project(report: dict) -> None:
    assert sum(kpi_result(report, k)["value"] for k in PORTFOLIO) == pytest.approx(1.0)
    cloud = sum(kpi_result(report, k, "business_unit", "CLOUD")["value"] for k in PORTFOLIO)
    assert cloud == pytest.approx(1.0)
    levels = {r["level"] for r in report["results"] if r["kpi"] in PORTFOLIO}
    assert levels == {"organisation", "business_unit", "program"}


@pytest.mark.parametrize("kpi", ["resource_utilisation", "overallocated_people", "training_hours_per_pm"])
def test_people_kpis_are_reported_for_the_organisation_only(report: dict, kpi: str) -> None:
    assert {r["level"] for r in report["results"] if r["kpi"] == kpi} == {"organisation"}


def test_a_project_is_as_healthy_as_its_worse_index() -> None:
    health = pmo._project_health(KpiInputs(_tables(), OCT, CATALOGUE))
    # C: SPI 1.0 green, CPI 0.833 red → red; K has only an SPI (0.96) → green; H has neither.
    ranks = dict(zip(health["project"], health["rank"], strict=True))
    assert ranks == {"A": 0, "B": 1, "C": 2, "K": 0, "L": 0, "F": 2}


def test_slip_of_each_milestone_due() -> None:
    recs = pmo.schedule_slip_median(KpiInputs(_tables(), OCT))
    assert sorted(recs[VALUE]) == [-4, 0, 6, 10, 16, 20]


def test_exposure_of_exactly_1_8_is_high() -> None:
    # 0.6 × 3 is 1.7999999999999998 in binary floating point; it is the 1.8 the rule names.
    risks = canonical_table("risks", probability=[0.6, 0.59, 0.3, 0.4], impact=[3, 3, 5, 4])
    assert pmo._is_high(risks).tolist() == [True, False, False, True]


def _without(*names: str) -> Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    return lambda tables: {k: v for k, v in tables.items() if k not in names}


def _replace(name: str, **changes: Any) -> Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    return lambda tables: {**tables, name: tables[name].assign(**changes)}


def _none_active(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {**tables, "projects": tables["projects"].assign(status="proposed")}


# Nothing to count, a zero denominator, or the table no source provided: no data, never 0.
NO_DATA = [
    ("schedule_slip_median", _replace("milestones", baseline_date=pd.Timestamp("2026-12-01")), "none due"),
    ("schedule_slip_median", _without("milestones"), "no milestones table"),
    ("baseline_change_rate", _none_active, "no active project"),
    ("baseline_change_rate", _without("changes"), "no changes table, not 0 changes"),
    ("change_board_share", _replace("changes", decided=pd.NaT), "none decided"),
    ("change_board_share", _replace("changes", via_change_board=pd.NA), "flag never recorded"),
    ("change_board_share", _without("changes"), "no changes table"),
    ("risk_register_currency", _none_active, "no active project"),
    ("risk_register_currency", _without("risks"), "no risks table, not 0 %"),
    ("open_high_risks_without_plan", _replace("risks", status="closed"), "no open risk"),
    ("open_high_risks_without_plan", _without("risks"), "no risks table"),
    ("resource_utilisation", _replace("capacity", hours=0.0), "zero capacity"),
    ("resource_utilisation", _without("timesheets"), "no timesheets table, not 0 %"),
    ("resource_utilisation", _without("capacity"), "no capacity table"),
    ("overallocated_people", _replace("capacity", week=pd.Timestamp("2026-08-03")), "no capacity in period"),
    ("overallocated_people", _without("timesheets"), "no timesheets table"),
    ("portfolio_green_share", _replace("evm_snapshots", period="2026-09"), "no snapshot this month"),
    ("portfolio_red_share", _without("evm_snapshots"), "no evm table"),
    ("portfolio_amber_share", _none_active, "no active project"),
    ("lessons_learned_capture", _replace("projects", status="active"), "nothing closed"),
    ("lessons_learned_capture", _without("lessons_learned"), "no lessons table, not 0 %"),
    ("training_hours_per_pm", _none_active, "no project manager"),
    ("training_hours_per_pm", _without("training"), "no training table, not 0 h"),
]


@pytest.mark.parametrize(("kpi", "change", "case"), NO_DATA, ids=[f"{c[0]}-{c[2]}" for c in NO_DATA])
def test_nothing_to_count_is_no_data(kpi: str, change: Callable, case: str) -> None:
    result = kpi_result(_report(change(_tables()), kpi), kpi)
    assert (result["value"], result["rag"]) == (None, Rag.NO_DATA), case


def test_all_data_missing_is_no_data_everywhere() -> None:
    report = _report({})
    for kpi in NEW:
        result = kpi_result(report, kpi)
        assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA), kpi
        assert all(r["value"] is None for r in report["results"] if r["kpi"] == kpi), kpi


# (project kept, kpi, value, numerator, denominator, records, rag) for an organisation of one project
SINGLE = [
    ("A", "schedule_slip_median", 10.0, None, None, 3, Rag.AMBER),      # −4 10 20
    ("A", "baseline_change_rate", 1.0, 1, 1, 1, Rag.TOO_FEW),           # CR1
    ("A", "change_board_share", 2 / 3, 2, 3, 3, Rag.TOO_FEW),           # CR1 ✓ CR2 ✓ CR3 ✗
    ("A", "risk_register_currency", 1.0, 1, 1, 1, Rag.GREEN),           # R1 reviewed 10-15
    ("A", "open_high_risks_without_plan", 2.0, 2.0, None, 2, Rag.AMBER),  # R1, R2
    # People who booked on A (P1 30 + 20 of 80, P2 32 of 64, P4 36 of 40; P6 has no
    # capacity) → 118 / 184 = 0.641; nobody exceeds capacity on A alone.
    ("A", "resource_utilisation", 118 / 184, 118, 184, 3, Rag.TOO_FEW),
    ("A", "overallocated_people", 0.0, 0.0, None, 3, Rag.GREEN),
    ("A", "portfolio_green_share", 1.0, 1, 1, 1, Rag.TOO_FEW),
    ("A", "portfolio_red_share", 0.0, 0, 1, 1, Rag.TOO_FEW),
    ("D", "lessons_learned_capture", 1.0, 1, 1, 1, Rag.GREEN),
    ("A", "training_hours_per_pm", 16.0, 16, 1, 1, Rag.TOO_FEW),         # M1
]


@pytest.mark.parametrize(("project", "kpi", "value", "numerator", "denominator", "records", "rag"),
                         SINGLE, ids=[c[1] for c in SINGLE])
def test_single_project(project: str, kpi: str, value: float, numerator: float | None,
                        denominator: float | None, records: int, rag: Rag) -> None:
    result = kpi_result(_report(_only(project), kpi), kpi)
    assert result["value"] == pytest.approx(value)
    assert result["numerator"] == (pytest.approx(numerator) if numerator is not None else None)
    assert result["denominator"] == (pytest.approx(denominator) if denominator is not None else None)
    assert (result["records"], result["rag"]) == (records, rag)


@pytest.mark.parametrize(("kpi", "value", "rag"), [
    ("schedule_slip_median", 0.0, Rag.GREEN), ("schedule_slip_median", 14.0, Rag.AMBER),
    ("schedule_slip_median", 15.0, Rag.RED),
    ("baseline_change_rate", 0.25, Rag.GREEN), ("baseline_change_rate", 0.6, Rag.RED),
    ("change_board_share", 0.95, Rag.GREEN), ("change_board_share", 0.85, Rag.AMBER),
    ("risk_register_currency", 0.9, Rag.GREEN), ("risk_register_currency", 0.74, Rag.RED),
    ("open_high_risks_without_plan", 0.0, Rag.GREEN), ("open_high_risks_without_plan", 3.0, Rag.AMBER),
    ("resource_utilisation", 0.8, Rag.GREEN), ("resource_utilisation", 0.95, Rag.AMBER),
    ("resource_utilisation", 1.01, Rag.RED), ("resource_utilisation", 0.55, Rag.RED),
    ("overallocated_people", 0.0, Rag.GREEN), ("overallocated_people", 4.0, Rag.RED),
    ("portfolio_green_share", 0.75, Rag.GREEN), ("portfolio_green_share", 0.59, Rag.RED),
    ("portfolio_red_share", 0.05, Rag.GREEN), ("portfolio_red_share", 0.10, Rag.AMBER),
    ("portfolio_amber_share", 0.5, Rag.NOT_RATED),
    ("lessons_learned_capture", 1.0, Rag.GREEN), ("lessons_learned_capture", 0.8, Rag.AMBER),
    ("training_hours_per_pm", 20.0, Rag.GREEN), ("training_hours_per_pm", 9.9, Rag.RED),
])
def test_default_bands(kpi: str, value: float, rag: Rag) -> None:
    assert CATALOGUE[kpi].rate(value, 100) == rag


@pytest.fixture(scope="module")
def demo_tables(demo_clean_tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return demo_clean_tables


# Plausible organisation values for the demo (40 projects, 60 people, October 2026).
PLAUSIBLE = {
    "schedule_slip_median": (-60, 120), "baseline_change_rate": (0, 5), "change_board_share": (0, 1),
    "risk_register_currency": (0, 1), "open_high_risks_without_plan": (0, 500),
    "resource_utilisation": (0.3, 1.3), "overallocated_people": (0, 60), "overallocated_share": (0, 1),
    "high_risks_unplanned_share": (0, 1),
    "portfolio_green_share": (0, 1), "portfolio_amber_share": (0, 1), "portfolio_red_share": (0, 1),
    "lessons_learned_capture": (0, 1), "training_hours_per_pm": (0, 200),
}


def test_every_pmo_kpi_has_a_value_for_the_demo_organisation(demo_tables: dict[str, pd.DataFrame]) -> None:
    assert set(PLAUSIBLE) == set(NEW)
    report = compute_kpis(demo_tables, COMPUTED, Period.parse(DEMO_PERIOD), organisation="Demo",
                          business_units=[], measures=MEASURES)
    for kpi, (low, high) in PLAUSIBLE.items():
        result = kpi_result(report, kpi, scope="Demo")
        assert result["value"] is not None and low <= result["value"] <= high, (kpi, result)
        assert result["rag"] != Rag.NO_DATA, kpi
    assert sum(kpi_result(report, k, scope="Demo")["value"] for k in PORTFOLIO) == pytest.approx(1.0)
