"""Process KPIs: the architecture's coverage, improvement flow and tailoring, hand-computed.

Period 2026-10: start 2026-10-01, as-of 2026-10-31. The 365-day windows ending on the
as-of date start on 2025-11-01 (2026-10-31 − 364 days).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis.base import KpiInputs
from pmopulse.kpis.catalogue import Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.kpis.process import MEASURES
from pmopulse.period import Period
from support import DEMO_PERIOD, canonical_table, kpi_result

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
PROCESS = {k: CATALOGUE[k] for k in MEASURES}
OCT = Period.parse("2026-10")
UNITS = ["NET", "CLOUD", "EMPTY"]
SHARES = ("process_owner_share", "process_documented_share", "process_review_currency", "process_kpi_share")


def _processes_table(names: list[str], **columns: list) -> pd.DataFrame:
    """A clean processes table (canonical_table's own first parameter is called `name`)."""
    return canonical_table("processes", **columns).assign(name=pd.Series(names, dtype="str"))


def _processes() -> pd.DataFrame:
    return _processes_table(
        ["DSTE", "Project management", "Risk management", "Change control", "EV reporting", "PQA audit"],
        id=["P1", "P2", "P3", "P4", "P5", "P6"],
        level=["L1", "L2", "L3", "L3", "L4", "L4"],
        category=["strategic", "core", "core", "core", "core", "support"],
        # P4's owner is blank: none
        owner=["alice", "bob", None, "  ", "carol", "dan"],
        # P5: documentation status not recorded (unknown)
        documented=[True, True, False, True, None, False],
        # P1 in Oct; P2 on the window's first day; P3 one day too old; P4 never reviewed;
        # P5 reviewed after the as-of date (unknown then); P6 in June
        last_reviewed=["2026-10-15", "2025-11-01", "2025-10-31", None, "2026-11-05", "2026-06-30"],
        # P5: KPI status not recorded (unknown)
        has_kpi=[True, True, False, True, None, True],
    )


def _improvements() -> pd.DataFrame:
    rows = [
        # id     raised        status          implemented
        ("I1", "2026-08-01", "implemented", "2026-10-10"),  # in Oct, 70 days
        ("I2", "2026-09-15", "implemented", "2026-10-31"),  # on the as-of date, 46 days
        ("I3", "2026-06-01", "implemented", "2026-09-30"),  # before Oct; 121 days, in the year
        ("I4", "2026-09-01", "in_progress", None),          # open: counts 0
        ("I5", "2026-10-20", "proposed", None),             # raised in Oct, open: counts 0
        ("I6", "2026-11-02", "proposed", None),             # raised after the as-of date
        ("I7", "2026-07-01", "rejected", None),             # rejected: left out
        ("I8", "2026-05-01", "implemented", "2026-11-15"),  # open on the as-of date: counts 0
        ("I9", "2025-01-10", "implemented", "2025-10-31"),  # one day before the year's window
        ("I10", "2025-06-01", "implemented", "2025-11-01"),  # the window's first day, 153 days
        ("I11", "2026-03-01", "implemented", None),          # implemented, no date: left out
        ("I12", "2026-10-05", "implemented", "2026-10-01"),  # implemented before raised (bad dates)
        ("I13", "2026-04-01", "implemented", "2026-05-01"),  # before Oct; 30 days, in the year
    ]
    ids, raised, status, implemented = (list(c) for c in zip(*rows, strict=True))
    return canonical_table("improvements", id=ids, process=["P1"] * len(ids), raised=raised,
                           status=status, implemented=implemented)


def _projects() -> pd.DataFrame:
    return canonical_table(
        "projects",
        id=["A", "B", "C", "D", "E", "F", "G"],
        business_unit=["NET", "NET", "NET", "CLOUD", "CLOUD", "CLOUD", "CLOUD"],
        program=["5G", "5G", None, None, None, None, None],
        # E is closed; F starts after the as-of date; G's tailoring status is unknown
        status=["active", "active", "active", "active", "closed", "active", "active"],
        start=["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2025-01-01", "2026-11-10",
               "2026-05-01"],
        tailoring_approved=[True, False, True, True, False, True, None],
    )


def _tables() -> dict[str, pd.DataFrame]:
    return {"processes": _processes(), "improvements": _improvements(), "projects": _projects()}


def _compute(tables: dict[str, pd.DataFrame], period: Period = OCT) -> dict:
    return compute_kpis(tables, PROCESS, period, organisation="Org", business_units=UNITS)


@pytest.fixture(scope="module")
def report() -> dict:
    return _compute(_tables())


def test_every_function_has_a_catalogue_entry_of_the_process_department() -> None:
    from pmopulse.contracts import load_contracts

    assert {k for k, d in CATALOGUE.items() if d.department.value == "Process"} == set(MEASURES)
    for kpi in PROCESS.values():
        assert kpi.department.value == "Process" and kpi.rationale, kpi.id
        assert set(kpi.tables) <= set(load_contracts()), kpi.id


@pytest.mark.parametrize(
    ("kpi", "level", "scope", "value", "numerator", "denominator", "records"),
    [
        # owners: P1, P2, P5, P6 (P3 none, P4 blank) → 4 / 6
        pytest.param("process_owner_share", "organisation", "Org", 4 / 6, 4, 6, 6, id="owner"),
        # documented known for P1–P4, P6 (P5 unknown); documented P1, P2, P4 → 3 / 5
        pytest.param("process_documented_share", "organisation", "Org", 3 / 5, 3, 5, 5, id="documented"),
        # P5 left out (review after as-of); current P1, P2 (first day), P6 → 3 / 5
        pytest.param("process_review_currency", "organisation", "Org", 3 / 5, 3, 5, 5, id="review"),
        # known for P1–P4, P6; with a KPI P1, P2, P4, P6 → 4 / 5
        pytest.param("process_kpi_share", "organisation", "Org", 4 / 5, 4, 5, 5, id="kpi"),
        # pipeline I1, I2, I4, I5, I8, I12 (6 records); implemented in Oct I1, I2, I12 → 3
        pytest.param("improvement_throughput", "organisation", "Org", 3, 3, None, 6, id="throughput"),
        # implemented 2025-11-01..2026-10-31: I13 30, I2 46, I1 70, I3 121, I10 153 days → median 70
        pytest.param("improvement_cycle_time_median", "organisation", "Org", 70, None, None, 5,
                     id="cycle-time"),
        # active, started, known: A 1, B 0, C 1, D 1 → 3 / 4 (E closed, F not started, G unknown)
        pytest.param("tailoring_approved_share", "organisation", "Org", 3 / 4, 3, 4, 4, id="tailoring-org"),
        # NET: A 1, B 0, C 1 → 2 / 3
        pytest.param("tailoring_approved_share", "business_unit", "NET", 2 / 3, 2, 3, 3, id="tailoring-bu"),
        # 5G: A 1, B 0 → 1 / 2
        pytest.param("tailoring_approved_share", "program", "5G", 1 / 2, 1, 2, 2, id="tailoring-program"),
        pytest.param("tailoring_approved_share", "project", "B", 0, 0, 1, 1, id="tailoring-project"),
    ],
)
def test_values_and_their_basis(report: dict, kpi: str, level: str, scope: str, value: float,
                                numerator: float | None, denominator: float | None, records: int) -> None:
    result = kpi_result(report, kpi, level, scope)
    assert result["value"] == pytest.approx(value)
    assert (result["numerator"], result["denominator"], result["records"]) == (
        numerator, denominator, records)


@pytest.mark.parametrize(
    ("kpi", "level", "scope", "rag"),
    [
        ("process_owner_share", "organisation", "Org", Rag.RED),             # 0.667 < 0.85
        ("process_documented_share", "organisation", "Org", Rag.RED),        # 0.60 < 0.75
        ("process_review_currency", "organisation", "Org", Rag.RED),         # 0.60 < 0.75
        ("process_kpi_share", "organisation", "Org", Rag.GREEN),             # 0.80 ≥ 0.80
        ("improvement_throughput", "organisation", "Org", Rag.GREEN),        # 3 ≥ 1
        ("improvement_cycle_time_median", "organisation", "Org", Rag.GREEN),  # 70 ≤ 90, 5 records
        ("tailoring_approved_share", "organisation", "Org", Rag.RED),        # 0.75 < 0.80
        ("tailoring_approved_share", "business_unit", "CLOUD", Rag.GREEN),   # D alone: 1 / 1
        ("tailoring_approved_share", "project", "B", Rag.RED),               # 0 / 1
    ],
)
def test_rag_at_default_thresholds(report: dict, kpi: str, level: str, scope: str, rag: Rag) -> None:
    assert kpi_result(report, kpi, level, scope)["rag"] == rag


@pytest.mark.parametrize(
    ("kpi", "value", "records", "rag"),
    [
        ("process_owner_share", 0.95, 40, Rag.GREEN),
        ("process_owner_share", 0.90, 40, Rag.AMBER),
        ("process_documented_share", 0.80, 40, Rag.AMBER),
        ("process_review_currency", 0.90, 40, Rag.GREEN),
        ("process_kpi_share", 0.59, 40, Rag.RED),
        ("improvement_throughput", 0, 12, Rag.AMBER),           # a stall is amber, never red alone
        ("improvement_cycle_time_median", 120, 8, Rag.AMBER),   # 90 < 120 ≤ 180
        ("improvement_cycle_time_median", 200, 8, Rag.RED),
        ("improvement_cycle_time_median", 30, 4, Rag.TOO_FEW),  # fewer than 5 implementations
        ("tailoring_approved_share", 0.85, 20, Rag.AMBER),
    ],
)
def test_band_edges(kpi: str, value: float, records: int, rag: Rag) -> None:
    assert CATALOGUE[kpi].rate(value, records) == rag


def test_process_kpis_are_organisation_only(report: dict) -> None:
    levels = {r["level"] for r in report["results"] if r["kpi"] != "tailoring_approved_share"}
    assert levels == {"organisation"}


def test_every_process_counts_once_whatever_its_level(report: dict) -> None:
    # Owners per level: L1 1/1, L2 1/1, L3 0/2, L4 2/2. Averaging the levels' shares would
    # give (1 + 1 + 0 + 1) / 4 = 0.75 (amber); each process counting once gives 4 / 6.
    assert kpi_result(report, "process_owner_share")["value"] == pytest.approx(4 / 6)


def test_tailoring_rolls_up_from_summed_parts(report: dict) -> None:
    # NET 2/3 and CLOUD 1/1: the average of the units' shares would be 0.833 (amber);
    # the organisation's share is (2 + 1) / (3 + 1) = 0.75 (red).
    assert kpi_result(report, "tailoring_approved_share")["value"] == pytest.approx(0.75)


def test_throughput_previous_month_is_recomputed_from_dates(report: dict) -> None:
    # September: pipeline I1, I2, I3, I4, I8 (I5, I12 raised later); implemented I3 (09-30) → 1
    assert kpi_result(report, "improvement_throughput")["previous"] == 1


def test_review_and_cycle_windows_end_on_the_as_of_date() -> None:
    inputs = KpiInputs(_tables(), OCT)
    assert inputs.days_before(365) == pd.Timestamp("2025-11-01")
    assert sorted(MEASURES["improvement_cycle_time_median"](inputs)["value"]) == [30, 46, 70, 121, 153]


def test_single_process_and_single_project() -> None:
    tables = {
        "processes": _processes_table(["IPD"], id=["P1"], level=["L1"], category=["core"],
                                      owner=["alice"], documented=[False], last_reviewed=["2026-01-10"],
                                      has_kpi=[True]),
        "projects": canonical_table("projects", id=["A"], business_unit=["NET"], status=["active"],
                                    start=["2026-01-01"], tailoring_approved=[True]),
    }
    report = _compute(tables)
    # one process: owner 1/1, documented 0/1, reviewed 1/1, KPI 1/1
    assert [(kpi_result(report, k)["value"], kpi_result(report, k)["records"]) for k in SHARES] == [
        (1.0, 1), (0.0, 1), (1.0, 1), (1.0, 1)]
    assert kpi_result(report, "process_documented_share")["rag"] == Rag.RED
    # one project: 1/1 at every level
    for level, scope in (("project", "A"), ("business_unit", "NET"), ("organisation", "Org")):
        result = kpi_result(report, "tailoring_approved_share", level, scope)
        assert (result["value"], result["numerator"], result["denominator"]) == (1.0, 1.0, 1.0)
        assert result["rag"] == Rag.GREEN


def _assert_no_data(result: dict) -> None:
    assert result["value"] is None and result["records"] == 0 and result["rag"] == Rag.NO_DATA


def _nothing_to_count() -> dict[str, pd.DataFrame]:
    return {
        # an architecture with no processes
        "processes": canonical_table("processes", id=[]),
        # proposals, but none open or implemented in the year: one implemented in 2024,
        # one rejected
        "improvements": canonical_table("improvements", id=["I1", "I2"], process=["P1", "P1"],
                                        raised=["2024-01-01", "2026-09-01"],
                                        status=["implemented", "rejected"],
                                        implemented=["2024-03-01", None]),
        # no active project
        "projects": canonical_table("projects", id=["A"], business_unit=["NET"], status=["closed"],
                                    start=["2025-01-01"], tailoring_approved=[True]),
    }


@pytest.mark.parametrize("kpi", list(MEASURES))
def test_nothing_to_count_is_no_data(kpi: str) -> None:
    _assert_no_data(kpi_result(_compute(_nothing_to_count()), kpi))


@pytest.mark.parametrize("kpi", list(MEASURES))
def test_all_tables_missing_is_no_data(kpi: str) -> None:
    report = _compute({})
    _assert_no_data(kpi_result(report, kpi))
    assert all(p["value"] is None for p in report["trend"][kpi])


def test_unknown_flags_are_no_data_not_zero() -> None:
    # A source without `documented`, `has_kpi` and `tailoring_approved`: all cells empty.
    tables = {
        "processes": _processes_table(["a", "b"], id=["P1", "P2"], level=["L1", "L2"],
                                      category=["core", "core"], owner=["x", "y"]),
        "projects": canonical_table("projects", id=["A"], business_unit=["NET"], status=["active"],
                                    start=["2026-01-01"]),
    }
    report = _compute(tables)
    for kpi in ("process_documented_share", "process_kpi_share", "tailoring_approved_share"):
        _assert_no_data(kpi_result(report, kpi))
    # the contract defines an empty owner as "none" and an empty review date as never reviewed
    assert kpi_result(report, "process_owner_share")["value"] == 1.0
    assert kpi_result(report, "process_review_currency")["value"] == 0.0


def test_waiting_proposals_without_implementation_are_zero_not_no_data() -> None:
    tables = {"improvements": canonical_table(
        "improvements", id=["I1", "I2"], process=["P1", "P1"], raised=["2026-08-01", "2026-10-03"],
        status=["approved", "proposed"], implemented=[None, None])}
    report = _compute(tables)
    result = kpi_result(report, "improvement_throughput")
    # two proposals waiting, none implemented: 0 on 2 records, amber
    assert (result["value"], result["records"], result["rag"]) == (0, 2, Rag.AMBER)
    _assert_no_data(kpi_result(report, "improvement_cycle_time_median"))


def test_nothing_dated_after_the_as_of_date_counts() -> None:
    # the same tables a month earlier: September knows nothing of October
    report = _compute(_tables(), Period.parse("2026-09"))
    # implemented 2025-10-01..2026-09-30: I13 30, I3 121, I10 153, I9 (2025-10-31) 294 → median 137
    cycle = kpi_result(report, "improvement_cycle_time_median")
    assert (cycle["value"], cycle["records"]) == (137, 4)
    # reviewed 2025-10-01..2026-09-30: P2, P3, P6; P1 (Oct) and P5 (Nov) are after → 3 / 4
    review = kpi_result(report, "process_review_currency")
    assert (review["value"], review["numerator"], review["denominator"]) == (0.75, 3, 4)


# --- the demo organisation --------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_tables(demo_clean_tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return demo_clean_tables


def test_demo_organisation_has_plausible_values(demo_tables: dict[str, pd.DataFrame]) -> None:
    report = compute_kpis(demo_tables, PROCESS, Period.parse(DEMO_PERIOD), organisation="Org",
                          business_units=[])
    values: dict[str, Any] = {k: kpi_result(report, k)["value"] for k in MEASURES}
    assert all(v is not None for v in values.values()), values
    for kpi in (*SHARES, "tailoring_approved_share"):
        assert 0 < values[kpi] <= 1, (kpi, values[kpi])
    assert values["improvement_throughput"] >= 0 and values["improvement_throughput"] == int(
        values["improvement_throughput"])
    assert 0 < values["improvement_cycle_time_median"] <= 365
