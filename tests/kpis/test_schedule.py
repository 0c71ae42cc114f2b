"""DCMA schedule checks on a small hand-computed schedule_tasks table; roll-ups add parts.

Period 2026-10 (as-of date 2026-10-31). Project A (unit NET) is one schedule with status
date 2026-10-15; project B (unit CLOUD) is a schedule without a status date, so it is
checked as of 2026-10-31, has no total float (an unscheduled P6 export), no baseline and
no resources.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis.catalogue import Department, Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.kpis.schedule import MEASURES
from pmopulse.period import Period
from support import canonical_table, kpi_result

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
SCHEDULE = {k: CATALOGUE[k] for k in MEASURES}
OCT = Period.parse("2026-10")
NA = None

COLUMNS = ("project", "schedule", "period", "task", "is_summary", "is_milestone", "is_level_of_effort",
           "status_date", "start", "finish", "baseline_finish", "actual_start", "actual_finish",
           "duration_days", "baseline_duration_days", "total_float_days", "predecessors", "successors",
           "leads", "lags", "non_fs_relationships", "hard_constraint", "has_resources")
ROWS = [
    # A/S: a summary task, never counted
    ("A", "a.mpp", "2026-10", "S", True, False, False, "2026-10-15", "2026-10-01", "2026-12-01", NA,
     NA, NA, 60, NA, 0, 0, 0, 0, 0, 0, False, False),
    # A1: complete, finished 2 days after its baseline finish
    ("A", "a.mpp", "2026-10", "A1", False, False, False, "2026-10-15", "2026-10-01", "2026-10-05",
     "2026-10-03", "2026-10-01", "2026-10-05", 4, 2, 0, 0, 1, 0, 0, 0, False, True),
    # A2: open; a lead, a lag and an SS link; 50 days float; 60 days long (no baseline
    # duration); hard constraint; not started though its start (10-10) is before the status date
    ("A", "a.mpp", "2026-10", "A2", False, False, False, "2026-10-15", "2026-10-10", "2026-12-01",
     "2026-10-10", NA, NA, 60, NA, 50, 2, 1, 1, 1, 1, True, True),
    # A3: open milestone without successor, negative float
    ("A", "a.mpp", "2026-10", "A3", False, True, False, "2026-10-15", "2026-11-01", "2026-11-01",
     "2026-11-01", NA, NA, 0, 0, -2, 1, 0, 0, 0, 0, False, False),
    # A4: open; 10 days now but 50 in the baseline; no resource; started 10-20, after the status date
    ("A", "a.mpp", "2026-10", "A4", False, False, False, "2026-10-15", "2026-10-20", "2026-11-03",
     "2026-10-20", "2026-10-20", NA, 10, 50, 3, 1, 1, 0, 0, 0, False, False),
    # A5: level of effort, never counted
    ("A", "a.mpp", "2026-10", "A5", False, False, True, "2026-10-15", "2026-10-01", "2026-12-31", NA,
     NA, NA, 65, NA, 0, 0, 0, 0, 0, 0, True, False),
    # A6: complete early (baseline finish 11-20)
    ("A", "a.mpp", "2026-10", "A6", False, False, False, "2026-10-15", "2026-10-08", "2026-10-12",
     "2026-11-20", "2026-10-08", "2026-10-12", 4, 4, 0, 1, 1, 0, 0, 0, False, True),
    # A7: read for September: not this period's snapshot
    ("A", "a.mpp", "2026-09", "A7", False, False, False, "2026-09-15", "2026-09-01", "2026-12-01",
     "2026-09-01", NA, NA, 90, 90, 90, 0, 0, 0, 0, 0, True, False),
    # B1, B2: no status date (checked as of 10-31), no float, no baseline, no resources
    ("B", "b.xer", "2026-10", "B1", False, False, False, NA, "2026-11-02", "2026-11-06", NA, NA, NA,
     5, NA, NA, 1, 1, 0, 0, 0, False, False),
    ("B", "b.xer", "2026-10", "B2", False, False, False, NA, "2026-10-15", "2026-10-20", NA, NA, NA,
     3, NA, NA, 0, 1, 0, 0, 0, False, False),
]


def _tables() -> dict[str, pd.DataFrame]:
    projects = canonical_table("projects", id=["A", "B"], business_unit=["NET", "CLOUD"],
                               status=["active", "active"])
    tasks = canonical_table("schedule_tasks", **{c: [row[i] for row in ROWS] for i, c in enumerate(COLUMNS)})
    return {"projects": projects, "schedule_tasks": tasks}


def _compute(tables: dict[str, pd.DataFrame], period: Period = OCT) -> dict:
    return compute_kpis(tables, SCHEDULE, period, organisation="Org", business_units=["NET", "CLOUD"],
                        measures=MEASURES)


@pytest.fixture(scope="module")
def report() -> dict:
    return _compute(_tables())


@pytest.mark.parametrize(
    ("kpi", "scope", "numerator", "denominator", "records"),
    [
        # incomplete activities: A2 A3 A4 (A1, A6 done; S summary; A5 LOE; A7 September), B1 B2
        pytest.param("dcma_missing_logic", "A", 1, 3, 3, id="logic-A3-has-no-successor"),
        pytest.param("dcma_missing_logic", "B", 1, 2, 2, id="logic-B2-has-no-predecessor"),
        pytest.param("dcma_missing_logic", "Org", 2, 5, 5, id="logic-org-sums-parts"),
        # relationships of incomplete activities, at the successor: A2 2, A3 1, A4 1; B1 1
        pytest.param("dcma_leads", "A", 1, 4, 3, id="leads"),
        pytest.param("dcma_lags", "Org", 1, 5, 4, id="lags-org"),
        pytest.param("dcma_fs_relationships", "A", 3, 4, 3, id="fs-A2s-ss-link-is-not-fs"),
        pytest.param("dcma_fs_relationships", "Org", 4, 5, 4, id="fs-org"),
        pytest.param("dcma_hard_constraints", "Org", 1, 5, 5, id="hard-constraints-A5-is-loe"),
        # float only where the schedule states it: A2 50, A3 −2, A4 3
        pytest.param("dcma_high_float", "A", 1, 3, 3, id="high-float"),
        pytest.param("dcma_negative_float", "Org", 1, 3, 3, id="negative-float-B-has-none"),
        # incomplete non-milestones: A2 60 (current), A4 50 (baseline wins over 10); B1 5, B2 3
        pytest.param("dcma_high_duration", "A", 2, 2, 2, id="high-duration-baseline-first"),
        pytest.param("dcma_high_duration", "Org", 2, 4, 4, id="high-duration-org"),
        # A: A2 not started before 10-15, A4 started after it; B2 forecast 10-15 < 10-31
        pytest.param("dcma_invalid_dates", "A", 2, 5, 5, id="invalid-dates-status-date"),
        pytest.param("dcma_invalid_dates", "B", 1, 2, 2, id="invalid-dates-as-of-without-status"),
        # A is resource-loaded: A2 has one, A4 none; B has none at all: not resource-loaded
        pytest.param("dcma_missing_resources", "Org", 1, 2, 2, id="resources-loaded-schedules-only"),
        # due by 10-15: A1 (finished 2 days late), A2 (not finished)
        pytest.param("dcma_missed_tasks", "A", 2, 2, 2, id="missed-tasks"),
        # completed A1, A6 (early) / due A1, A2
        pytest.param("dcma_bei", "A", 2, 2, 3, id="bei-counts-early-completions"),
    ],
)
def test_values_and_their_basis(report: dict, kpi: str, scope: str, numerator: float,
                                denominator: float, records: int) -> None:
    level = "organisation" if scope == "Org" else "project"
    result = kpi_result(report, kpi, level, scope)
    assert (result["numerator"], result["denominator"], result["records"]) == (
        numerator, denominator, records)
    assert result["value"] == pytest.approx(numerator / denominator)


def test_a_business_unit_pools_its_schedules(report: dict) -> None:
    assert kpi_result(report, "dcma_missing_logic", "business_unit", "NET")["value"] == pytest.approx(1 / 3)
    assert kpi_result(report, "dcma_missing_logic", "business_unit", "CLOUD")["value"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    ("kpi", "scope", "rag"),
    [
        ("dcma_leads", "A", Rag.RED),                    # any lead fails
        ("dcma_fs_relationships", "B", Rag.GREEN),       # 1/1 ≥ 90 %
        ("dcma_fs_relationships", "Org", Rag.RED),       # 0.8 < 90 %: no amber band
        ("dcma_bei", "A", Rag.GREEN),                    # 1.0 ≥ 0.95
        ("dcma_missing_resources", "Org", Rag.NOT_RATED),  # informative
    ],
)
def test_dcma_pass_fail_colours(report: dict, kpi: str, scope: str, rag: Rag) -> None:
    level = "organisation" if scope == "Org" else "project"
    assert kpi_result(report, kpi, level, scope)["rag"] == rag


@pytest.mark.parametrize("kpi", ["dcma_high_float", "dcma_negative_float", "dcma_missing_resources",
                                 "dcma_missed_tasks", "dcma_bei"])
def test_what_a_schedule_does_not_state_is_no_data(report: dict, kpi: str) -> None:
    # B has no float, no resources and no baseline
    assert not [r for r in report["results"] if r["kpi"] == kpi and r["scope"] == "B"]
    unit = kpi_result(report, kpi, "business_unit", "CLOUD")
    assert unit["value"] is None and unit["rag"] == Rag.NO_DATA


def test_without_schedules_every_check_is_no_data() -> None:
    tables = _tables()
    del tables["schedule_tasks"]
    report = _compute(tables)
    for kpi in MEASURES:
        result = kpi_result(report, kpi)
        assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA), kpi


def test_a_snapshot_counts_for_its_own_period_only(report: dict) -> None:
    # September is computed from the rows read for September (A7 alone, without logic), not
    # from October's schedules; months without a snapshot have no data (the history store
    # holds what was reported then).
    assert kpi_result(report, "dcma_missing_logic")["previous"] == 1.0
    assert [p["value"] for p in report["trend"]["dcma_missing_logic"]][-3:] == [None, 1.0, 0.4]


DCMA_LIMITS = {
    "dcma_missing_logic": ("max", 0.05), "dcma_leads": ("max", 0), "dcma_lags": ("max", 0.05),
    "dcma_fs_relationships": ("min", 0.90), "dcma_hard_constraints": ("max", 0.05),
    "dcma_high_float": ("max", 0.05), "dcma_negative_float": ("max", 0),
    "dcma_high_duration": ("max", 0.05), "dcma_invalid_dates": ("max", 0),
    "dcma_missed_tasks": ("max", 0.05), "dcma_bei": ("min", 0.95),
}


def test_catalogue_carries_the_dcma_limits_as_pass_fail() -> None:
    assert set(SCHEDULE) == set(DCMA_LIMITS) | {"dcma_missing_resources"}
    for kpi, definition in SCHEDULE.items():
        assert definition.department is Department.PMO and definition.group == "schedule_quality", kpi
        assert "schedule_tasks" in definition.tables and definition.name["zh"] and definition.rationale
        if kpi == "dcma_missing_resources":
            assert definition.thresholds is None
            continue
        side, limit = DCMA_LIMITS[kpi]
        assert definition.thresholds is not None
        assert getattr(definition.thresholds.green, side) == limit, kpi
        assert definition.thresholds.amber == definition.thresholds.green, kpi
