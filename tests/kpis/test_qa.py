"""QA KPIs on small hand-computed tables; roll-ups add parts, medians are pooled.

Period 2026-10: start 2026-10-01, as-of 2026-10-31. The 90-day audit cycle is
2026-08-03 .. 2026-10-31 (as_of − 89 days); the DRE year is 2025-11-01 .. 2026-10-31.
Projects: A (NET, program 5G), B (NET), C (CLOUD) active; D (CLOUD) closed; E (CLOUD)
active but starting after the as-of date.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis import qa
from pmopulse.kpis.base import KpiInputs
from pmopulse.kpis.catalogue import Department, Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.period import Period
from support import DEMO_PERIOD, canonical_table, kpi_result

CATALOGUE = {k: v for k, v in load_catalogue(project_home() / "assessments" / "kpis.yaml").items()
             if k in qa.MEASURES}
OCT = Period.parse("2026-10")
UNITS = ["NET", "CLOUD", "EMPTY"]
SOURCE = {
    "process_compliance": "qa_audits",
    "audit_coverage": "qa_audits",
    "nc_closed_on_time": "nonconformances",
    "nc_open_age_median": "nonconformances",
    "nc_overdue": "nonconformances",
    "gate_first_pass_rate": "gate_reviews",
    "defect_removal_efficiency": "work_items",
    "escaped_defects": "work_items",
    "reopened_share": "work_item_history",
}


def _bugs(project: str, created: list[str], escaped: list[bool | None], kind: str = "bug") -> dict:
    return {"project": [project] * len(created), "created": created, "found_after_release": escaped,
            "type": [kind] * len(created)}


def _changes(project: str, item: str, *steps: tuple[str, str]) -> dict:
    """One item's status history: (date, new status) steps, each from the one before."""
    statuses = ["open"] + [status for _, status in steps]
    return {"project": [project] * len(steps), "item": [item] * len(steps),
            "seq": list(range(1, len(steps) + 1)), "changed": [day for day, _ in steps],
            "from_status": statuses[:-1], "to_status": statuses[1:]}


HISTORY = [
    _changes("A", "A-1", ("2026-09-01", "in_progress"), ("2026-09-10", "resolved"), ("2026-09-12", "closed")),
    # reopened twice (in_progress, then open): counts once
    _changes("A", "A-2", ("2026-09-05", "resolved"), ("2026-09-08", "in_progress"),
             ("2026-09-20", "resolved"), ("2026-10-02", "open"), ("2026-10-10", "closed")),
    # reopened after the as-of date: not (yet) a reopen
    _changes("A", "A-3", ("2026-10-20", "resolved"), ("2026-11-03", "in_progress")),
    # first closed the day before the window: resolving it again inside does not count it
    _changes("A", "A-4", ("2026-08-02", "closed"), ("2026-09-01", "in_progress"), ("2026-09-15", "closed")),
    _changes("A", "A-5", ("2026-08-03", "resolved"), ("2026-08-05", "closed")),   # window's first day
    _changes("B", "B-1", ("2026-10-01", "in_progress")),                          # never resolved
    # resolved on the as-of date and reopened the same day, one change later
    _changes("B", "B-2", ("2026-10-31", "resolved"), ("2026-10-31", "open")),
    _changes("B", "B-3", ("2026-11-01", "resolved")),                             # after the as-of date
    _changes("C", "C-1", ("2026-09-01", "closed"), ("2026-09-03", "resolved")),   # closed -> resolved: none
    _changes("C", "C-2", ("2026-10-05", "resolved"), ("2026-10-06", "in_progress")),
    _changes("D", "D-1", ("2026-09-09", "closed")),                               # closed project: counts
]
"""In the window (2026-08-03 .. 2026-10-31) first resolved: A-1, A-2, A-3, A-5, B-2, C-1,
C-2, D-1; of these A-2, B-2 and C-2 were reopened by the as-of date."""


def _history(parts: list[dict]) -> pd.DataFrame:
    columns = {column: [value for part in parts for value in part[column]] for column in parts[0]}
    return canonical_table("work_item_history", **columns)


def _tables() -> dict[str, pd.DataFrame]:
    projects = canonical_table(
        "projects", id=["A", "B", "C", "D", "E"], business_unit=["NET", "NET", "CLOUD", "CLOUD", "CLOUD"],
        program=["5G", None, None, None, None], status=["active", "active", "active", "closed", "active"],
        start=["2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01", "2026-11-15"])
    audits = canonical_table(
        "qa_audits", id=["AU1", "AU2", "AU3", "AU4", "AU5", "AU6"],
        project=["A", "A", "B", "C", "C", "D"],
        # AU2 on the window's first day (in); AU4 the day before (out); AU5 after as-of (out)
        date=["2026-10-05", "2026-08-03", "2026-09-15", "2026-08-02", "2026-11-02", "2026-10-10"],
        items_checked=[10, 10, 40, 20, 10, 20],
        items_compliant=[9, 5, 40, 10, 10, 18],
    )
    ncs = canonical_table(
        "nonconformances",
        id=["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N10", "N11", "N12"],
        project=["A", "A", "B", "B", "C", "C", "C", "A", "B", "B", "D", "D"],
        severity=["minor"] * 12,
        raised=["2026-09-01", "2026-09-01", "2026-07-01", "2026-08-20", "2026-06-01", "2026-10-01",
                "2026-09-01", "2026-08-01", "2026-11-02", "2026-10-21", "2026-09-10", "2026-09-10"],
        due=["2026-09-30", "2026-09-30", "2026-07-31", None, "2026-06-30", "2026-10-31",
             "2026-10-15", "2026-08-31", "2026-11-30", None, "2026-10-10", "2026-10-10"],
        closed=["2026-09-25", "2026-10-10", "2026-08-10", "2026-09-01", "2026-07-15", None,
                "2026-11-05", None, None, None, "2026-10-10", "2026-10-01"],
    )
    # N1 on time, N2 late, N3 late, N4 no due date, N5 closed before the window,
    # N11 on the due day (on time), N12 early. Open at as-of: N6 (30 d, due on as-of: not
    # overdue), N7 (60 d, closed after as-of, overdue), N8 (91 d, overdue), N10 (10 d, no due).
    # N9 is raised after the as-of date.
    gates = canonical_table(
        "gate_reviews",
        project=["A", "A", "A", "B", "B", "C", "C", "C", "D"],
        gate=["TR4", "TR5", "TR5", "DCP2", "TR4", "TR3", "TR4", "TR5", "DCP4"],
        date=["2026-09-10", "2026-10-10", "2026-10-25", "2026-08-20", "2026-07-01", "2026-10-01",
              "2026-10-20", "2026-11-03", "2026-09-01"],
        outcome=["pass", "conditional", "pass", "fail", "pass", "pass", "pass", "pass", "pass"],
        attempt=[1, 1, 2, 1, 1, 1, 1, 1, 1],
    )
    # In the window, first reviews: A TR4 pass, A TR5 conditional, B DCP2 fail, C TR3 pass,
    # C TR4 pass, D DCP4 pass. Out: A TR5 attempt 2, B TR4 (July), C TR5 (after as-of).
    parts = [
        # A: 9 found in test (3 in October) + 1 escaped in October -> 9/10
        _bugs("A", ["2026-03-10"] * 6 + ["2026-10-01", "2026-10-15", "2026-10-31", "2026-10-05"],
              [False] * 9 + [True]),
        # B: 1 escaped in June, 1 found in test in October -> 1/2
        _bugs("B", ["2026-06-01", "2026-10-20"], [True, False]),
        # C: 8 found in test (first on the window's first day); then left out: an escape the
        # day before the year, one created after as-of, one with an unknown flag
        _bugs("C", ["2025-11-01"] + ["2026-05-05"] * 7 + ["2025-10-31", "2026-11-01", "2026-10-10"],
              [False] * 8 + [True, True, None]),
        _bugs("C", ["2026-10-12"], [True], kind="incident"),   # not a bug
        _bugs("C", ["2026-10-12"], [None], kind="requirement"),
    ]
    work = {column: [value for part in parts for value in part[column]] for column in parts[0]}
    work["key"] = [f"K{i}" for i in range(len(work["project"]))]
    work["status"] = ["open"] * len(work["project"])
    return {"projects": projects, "qa_audits": audits, "nonconformances": ncs, "gate_reviews": gates,
            "work_items": canonical_table("work_items", **work), "work_item_history": _history(HISTORY)}


def _compute(tables: dict[str, pd.DataFrame], period: Period = OCT, *kpis: str) -> dict:
    """The engine's results for the QA KPIs (or only `kpis`, to keep the tests fast)."""
    catalogue = {k: v for k, v in CATALOGUE.items() if not kpis or k in kpis}
    return compute_kpis(tables, catalogue, period, organisation="Org", business_units=UNITS,
                        measures=qa.MEASURES)


@pytest.fixture(scope="module")
def report() -> dict:
    return _compute(_tables())


@pytest.fixture(scope="module")
def before_any_data() -> dict:
    # 2025-06: no audit, NC, gate or bug dated before 2025-06-30, no project started yet
    return _compute(_tables(), Period.parse("2025-06"))


@pytest.fixture(scope="module")
def only_project_a() -> dict:
    return _compute({name: frame[frame["id" if name == "projects" else "project"] == "A"]
                     for name, frame in _tables().items()})


def test_catalogue_and_functions_match() -> None:
    assert set(CATALOGUE) == set(qa.MEASURES) == set(SOURCE)
    for kpi in CATALOGUE.values():
        assert kpi.department is Department.QA
        assert SOURCE[kpi.id] in kpi.tables


@pytest.mark.parametrize(
    ("kpi", "level", "scope", "value", "numerator", "denominator", "records"),
    [
        # AU1 + AU2 + AU3 + AU6 (D is closed, its audit still counts): (9+5+40+18)/(10+10+40+20)
        pytest.param("process_compliance", "organisation", "Org", 72 / 80, 72, 80, 4, id="compliance-org"),
        # NET = (9+5+40)/(10+10+40) = 54/60 = 0.9; average of A 14/20 = 0.7 and B 40/40 = 1.0 is 0.85
        pytest.param("process_compliance", "business_unit", "NET", 0.9, 54, 60, 3, id="compliance-bu-sums"),
        pytest.param("process_compliance", "project", "A", 0.7, 14, 20, 2, id="compliance-project"),
        # CLOUD: only D's AU6 (C's audits are out of the window) 18/20
        pytest.param("process_compliance", "business_unit", "CLOUD", 0.9, 18, 20, 1, id="compliance-cloud"),
        # active and started: A, B audited, C not (AU4 a day early, AU5 after as-of) -> 2/3;
        # the average of the units' rates NET 2/2 = 1.0 and CLOUD 0/1 = 0 would be 0.5
        pytest.param("audit_coverage", "organisation", "Org", 2 / 3, 2, 3, 3, id="coverage-org"),
        pytest.param("audit_coverage", "business_unit", "NET", 1.0, 2, 2, 2, id="coverage-net"),
        pytest.param("audit_coverage", "business_unit", "CLOUD", 0.0, 0, 1, 1, id="coverage-cloud"),
        pytest.param("audit_coverage", "program", "5G", 1.0, 1, 1, 1, id="coverage-program"),
        # closed in the window with a due date: N1 ✓, N2 ✗, N3 ✗, N11 ✓, N12 ✓ -> 3/5
        pytest.param("nc_closed_on_time", "organisation", "Org", 0.6, 3, 5, 5, id="nc-on-time-org"),
        # NET: N1 ✓, N2 ✗, N3 ✗ -> 1/3; the average of A 1/2 and B 0/1 would be 0.25
        pytest.param("nc_closed_on_time", "business_unit", "NET", 1 / 3, 1, 3, 3, id="nc-on-time-bu"),
        pytest.param("nc_closed_on_time", "project", "A", 0.5, 1, 2, 2, id="nc-on-time-project"),
        # open ages [10, 30, 60, 91]: median (30 + 60) / 2 = 45
        pytest.param("nc_open_age_median", "organisation", "Org", 45, None, None, 4, id="nc-age-org"),
        # NET pooled [91 (N8), 10 (N10)] -> 50.5; CLOUD [30, 60] -> 45; median of the units'
        # medians would be 47.75, the pooled organisation median is 45
        pytest.param("nc_open_age_median", "business_unit", "NET", 50.5, None, None, 2, id="nc-age-bu"),
        pytest.param("nc_open_age_median", "project", "C", 45, None, None, 2, id="nc-age-project"),
        # open: N6 (due on as-of), N7 overdue, N8 overdue, N10 (no due) -> 2 of 4
        pytest.param("nc_overdue", "organisation", "Org", 2, 2, None, 4, id="overdue-org"),
        pytest.param("nc_overdue", "project", "B", 0, 0, None, 1, id="overdue-none-is-zero"),
        pytest.param("nc_overdue", "business_unit", "CLOUD", 1, 1, None, 2, id="overdue-bu"),
        # first reviews in the window: pass, conditional, fail, pass, pass, pass -> 4/6
        pytest.param("gate_first_pass_rate", "organisation", "Org", 4 / 6, 4, 6, 6, id="gate-org"),
        # NET: A pass + conditional, B fail -> 1/3; the average of A 1/2 and B 0/1 would be 0.25
        pytest.param("gate_first_pass_rate", "business_unit", "NET", 1 / 3, 1, 3, 3, id="gate-bu-sums"),
        pytest.param("gate_first_pass_rate", "business_unit", "CLOUD", 1.0, 3, 3, 3, id="gate-cloud"),
        # A 9/10, B 1/2, C 8/8 -> 18/20
        pytest.param("defect_removal_efficiency", "organisation", "Org", 0.9, 18, 20, 20, id="dre-org"),
        # NET: (9+1)/(10+2) = 10/12; the average of A 0.9 and B 0.5 would be 0.7
        pytest.param("defect_removal_efficiency", "business_unit", "NET", 10 / 12, 10, 12, 12,
                     id="dre-bu-sums"),
        pytest.param("defect_removal_efficiency", "project", "B", 0.5, 1, 2, 2, id="dre-project"),
        # October bugs with a known flag: A 3 found in test + 1 escaped, B 1 found in test
        pytest.param("escaped_defects", "organisation", "Org", 1, 1, None, 5, id="escaped-org"),
        pytest.param("escaped_defects", "project", "A", 1, 1, None, 4, id="escaped-project"),
        pytest.param("escaped_defects", "project", "B", 0, 0, None, 1, id="escaped-bugs-but-none-is-zero"),
        # first resolved in the window, B-2, C-1, C-2, D-1; reopened A-2, B-2, C-2
        pytest.param("reopened_share", "organisation", "Org", 3 / 8, 3, 8, 8, id="reopened-org"),
        # NET: A 1 of 4 (A-2) + B 1 of 1 (B-2) = 2/5; the average of A 0.25 and B 1.0 would be 0.625
        pytest.param("reopened_share", "business_unit", "NET", 0.4, 2, 5, 5, id="reopened-bu-sums"),
        pytest.param("reopened_share", "business_unit", "CLOUD", 1 / 3, 1, 3, 3, id="reopened-cloud"),
        pytest.param("reopened_share", "project", "A", 0.25, 1, 4, 4, id="reopened-twice-counts-once"),
        pytest.param("reopened_share", "project", "B", 1.0, 1, 1, 1, id="reopened-same-day-as-of"),
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
        ("process_compliance", "organisation", "Org", Rag.GREEN),      # 0.90 ≥ 0.90
        ("process_compliance", "business_unit", "NET", Rag.GREEN),     # 0.90 (the average 0.85 is amber)
        ("process_compliance", "project", "A", Rag.TOO_FEW),           # 2 audits < 3
        ("audit_coverage", "organisation", "Org", Rag.RED),            # 0.667 < 0.75
        ("nc_closed_on_time", "organisation", "Org", Rag.RED),         # 0.60 < 0.75
        ("nc_closed_on_time", "business_unit", "NET", Rag.TOO_FEW),    # 3 closures < 5
        ("nc_open_age_median", "organisation", "Org", Rag.AMBER),      # 30 < 45 ≤ 60
        ("nc_overdue", "organisation", "Org", Rag.AMBER),              # 2 > 0, amber has no limit
        ("nc_overdue", "project", "B", Rag.GREEN),                     # 0
        ("gate_first_pass_rate", "organisation", "Org", Rag.AMBER),    # 0.60 ≤ 0.667 < 0.80
        ("gate_first_pass_rate", "business_unit", "NET", Rag.RED),     # 0.333 < 0.60
        ("gate_first_pass_rate", "business_unit", "CLOUD", Rag.GREEN),  # 1.0
        ("defect_removal_efficiency", "organisation", "Org", Rag.AMBER),  # 0.85 ≤ 0.90 < 0.93
        ("defect_removal_efficiency", "business_unit", "NET", Rag.TOO_FEW),  # 12 bugs < 20
        ("escaped_defects", "organisation", "Org", Rag.AMBER),         # 1 > 0
        ("escaped_defects", "project", "B", Rag.GREEN),                # 0
        ("reopened_share", "organisation", "Org", Rag.TOO_FEW),        # 8 items < 20
    ],
)
def test_rag_at_default_thresholds(report: dict, kpi: str, level: str, scope: str, rag: Rag) -> None:
    assert kpi_result(report, kpi, level, scope)["rag"] == rag


def test_audit_coverage_is_not_reported_per_project(report: dict) -> None:
    assert not [r for r in report["results"] if r["kpi"] == "audit_coverage" and r["level"] == "project"]


@pytest.mark.parametrize("kpi", sorted(SOURCE))
def test_unit_without_records_is_no_data(report: dict, kpi: str) -> None:
    empty = kpi_result(report, kpi, "business_unit", "EMPTY")
    assert (empty["value"], empty["records"], empty["rag"]) == (None, 0, Rag.NO_DATA)


@pytest.mark.parametrize("kpi", sorted(SOURCE))
def test_nothing_to_count_before_any_data_is_no_data(before_any_data: dict, kpi: str) -> None:
    result = kpi_result(before_any_data, kpi, "organisation", "Org")
    assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA)


@pytest.mark.parametrize("kpi", sorted(SOURCE))
def test_missing_table_is_no_data(kpi: str) -> None:
    tables = _tables()
    del tables[SOURCE[kpi]]
    result = kpi_result(_compute(tables, OCT, kpi), kpi, "organisation", "Org")
    assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA)


@pytest.mark.parametrize(
    ("kpi", "value", "numerator", "denominator", "records"),
    [
        pytest.param("process_compliance", 0.7, 14, 20, 2, id="compliance"),    # (9+5)/(10+10)
        pytest.param("audit_coverage", 1.0, 1, 1, 1, id="coverage"),
        pytest.param("nc_closed_on_time", 0.5, 1, 2, 2, id="nc-on-time"),       # N1 ✓ N2 ✗
        pytest.param("nc_open_age_median", 91, None, None, 1, id="nc-age"),     # N8
        pytest.param("nc_overdue", 1, 1, None, 1, id="overdue"),                # N8
        pytest.param("gate_first_pass_rate", 0.5, 1, 2, 2, id="gate"),          # pass, conditional
        pytest.param("defect_removal_efficiency", 0.9, 9, 10, 10, id="dre"),
        pytest.param("escaped_defects", 1, 1, None, 4, id="escaped"),
        pytest.param("reopened_share", 0.25, 1, 4, 4, id="reopened"),           # A-2 of
    ],
)
def test_single_project_organisation(only_project_a: dict, kpi: str, value: float, numerator: float | None,
                                     denominator: float | None, records: int) -> None:
    # only project A's rows in every table: the organisation is project A
    result = kpi_result(only_project_a, kpi, "organisation", "Org")
    assert result["value"] == pytest.approx(value)
    assert (result["numerator"], result["denominator"], result["records"]) == (
        numerator, denominator, records)


def test_compliance_with_no_items_checked_is_no_data() -> None:
    tables = _tables()
    tables["qa_audits"] = tables["qa_audits"].assign(items_checked=0, items_compliant=0)
    result = kpi_result(_compute(tables, OCT, "process_compliance"), "process_compliance")
    assert result["value"] is None and result["rag"] == Rag.NO_DATA


def test_coverage_without_active_projects_is_no_data() -> None:
    tables = _tables()
    tables["projects"] = tables["projects"].assign(status="closed")
    result = kpi_result(_compute(tables, OCT, "audit_coverage"), "audit_coverage", "organisation", "Org")
    assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA)


def test_coverage_before_any_audit_is_recorded_is_no_data() -> None:
    # the projects are active, but every audit is dated after the as-of date: there is no
    # evidence yet that audits are recorded at all, so the coverage is unknown, not 0 %
    tables = _tables()
    tables["qa_audits"] = tables["qa_audits"].assign(date=pd.Timestamp("2026-11-02"))
    result = kpi_result(_compute(tables, OCT, "audit_coverage"), "audit_coverage", "organisation", "Org")
    assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA)


def test_no_open_nc_is_no_data_for_backlog_kpis() -> None:
    tables = _tables()
    ncs = tables["nonconformances"]
    tables["nonconformances"] = ncs.assign(closed=ncs["closed"].fillna(pd.Timestamp("2026-10-30")))
    tables["nonconformances"] = tables["nonconformances"][tables["nonconformances"]["id"] != "N7"]
    report = _compute(tables, OCT, "nc_open_age_median", "nc_overdue")
    for kpi in ("nc_open_age_median", "nc_overdue"):
        result = kpi_result(report, kpi, "organisation", "Org")
        assert (result["value"], result["rag"]) == (None, Rag.NO_DATA), kpi


def test_conditional_pass_is_not_a_first_pass() -> None:
    gates = canonical_table("gate_reviews", project=["A", "A", "B"], gate=["TR4", "TR4", "TR5"],
                            date=["2026-10-01", "2026-10-20", "2026-10-05"],
                            outcome=["conditional", "pass", "pass"], attempt=[1, 2, 1])
    recs = qa.gate_first_pass_rate(KpiInputs({"gate_reviews": gates}, OCT))
    # two first reviews (A TR4 conditional, B TR5 pass); A's second attempt is not counted
    assert sorted(recs["project"]) == ["A", "B"]
    assert recs["numerator"].sum() == 1 and recs["denominator"].sum() == 2


def test_previous_month_uses_its_own_window(report: dict) -> None:
    # September's window is 2026-07-03 .. 2026-09-30: AU2 5/10, AU3 40/40 and AU4 10/20;
    # AU1 and AU6 (October) are not yet known -> (5+40+10)/(10+40+20) = 55/70
    assert kpi_result(report, "process_compliance")["previous"] == pytest.approx(55 / 70)


def _reopened(history: list[dict], period: Period = OCT) -> pd.DataFrame:
    return qa.reopened_share(KpiInputs({"work_item_history": _history(history)}, period))


def test_a_reopen_after_the_as_of_date_does_not_count() -> None:
    history = [_changes("A", "A-3", ("2026-10-20", "resolved"), ("2026-11-03", "in_progress"))]
    assert _reopened(history)["numerator"].tolist() == [0.0]             # October: not yet reopened
    assert _reopened(history, Period.parse("2026-11"))["numerator"].tolist() == [1.0]


def test_an_item_reopened_twice_counts_once() -> None:
    history = [_changes("A", "A-2", ("2026-09-05", "resolved"), ("2026-09-08", "in_progress"),
                        ("2026-09-20", "resolved"), ("2026-10-02", "open"), ("2026-10-10", "closed"))]
    recs = _reopened(history)
    assert (recs["numerator"].tolist(), recs["denominator"].tolist()) == ([1.0], [1.0])


def test_a_provided_but_empty_history_is_no_data() -> None:
    tables = _tables()
    tables["work_item_history"] = tables["work_item_history"].iloc[0:0]
    result = kpi_result(_compute(tables, OCT, "reopened_share"), "reopened_share")
    assert (result["value"], result["records"], result["rag"]) == (None, 0, Rag.NO_DATA)


@pytest.mark.parametrize(("reopened", "rag"), [(1, Rag.GREEN), (2, Rag.AMBER), (3, Rag.RED)],
                         ids=["5-percent-green", "10-percent-amber", "15-percent-red"])
def test_reopened_share_bands(reopened: int, rag: Rag) -> None:
    # 20 items first resolved in October (the least that is coloured), `reopened` of them reopened
    history = [_changes("A", f"R{i}", ("2026-10-05", "resolved"),
                        *([("2026-10-06", "in_progress")] if i < reopened else []))
               for i in range(20)]
    tables = {**_tables(), "work_item_history": _history(history)}
    result = kpi_result(_compute(tables, OCT, "reopened_share"), "reopened_share")
    assert (result["value"], result["records"], result["rag"]) == (pytest.approx(reopened / 20), 20, rag)


def test_reopened_previous_month_uses_its_own_window(report: dict) -> None:
    # September's window is 2026-07-03 .. 2026-09-30: first resolved, A-4 (08-02 is
    # inside it), A-5, C-1, D-1; reopened by 09-30: A-2 (09-08) and A-4 (09-01) -> 2/6
    assert kpi_result(report, "reopened_share")["previous"] == pytest.approx(2 / 6)


@pytest.fixture(scope="module")
def demo_tables(demo_clean_tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return demo_clean_tables


def test_every_qa_kpi_has_a_plausible_value_on_the_demo_org(demo_tables: dict[str, pd.DataFrame]) -> None:
    report = compute_kpis(demo_tables, CATALOGUE, Period.parse(DEMO_PERIOD), organisation="Demo",
                          business_units=[], measures=qa.MEASURES)
    org = {r["kpi"]: r for r in report["results"] if r["level"] == "organisation"}
    for kpi, definition in CATALOGUE.items():
        value = org[kpi]["value"]
        if "work_item_history" in definition.tables:
            # the demo's exports hold no status history (only trackers have one): no data, not 0
            assert (value, org[kpi]["records"]) == (None, 0), kpi
            continue
        assert value is not None and org[kpi]["records"] > 0, kpi
        if definition.unit == "percent":
            assert 0 <= value <= 1, kpi
        elif definition.unit == "days":
            assert 0 <= value <= 730, kpi
        else:
            assert value == int(value) and 0 <= value <= org[kpi]["records"], kpi
