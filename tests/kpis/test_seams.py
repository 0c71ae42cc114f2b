"""One meaning of "active project" for every KPI, and proposals that were rejected never
counting as implemented, on organisations built for the rule (not the demo)."""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis.catalogue import load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.period import Period
from support import canonical_table, kpi_result

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
OCT = Period.parse("2026-10")
SEP = Period.parse("2026-09")


def _portfolio() -> dict[str, pd.DataFrame]:
    """Eight projects of one unit; on 2026-10-31 the active ones are RUN, HOLD and LATE:

    RUN   active, started in January
    HOLD  on hold: paused, still in the portfolio
    LATE  closed on 2026-11-10, after the as-of date: still running in October
    SOON  status active, but starts on 2026-11-15: not started in October
    DONE  closed on 2026-10-20: active in September, not in October
    IDEA  proposed: has not started, whatever its planned start says
    STOP  cancelled
    NOFIN closed without an actual finish: cannot be placed in time, never counted
    """
    ids = ["RUN", "HOLD", "LATE", "SOON", "DONE", "IDEA", "STOP", "NOFIN"]
    projects = canonical_table(
        "projects", id=ids, name=ids, business_unit=["U"] * 8, manager=[f"M-{i}" for i in ids],
        status=["active", "on_hold", "closed", "active", "closed", "proposed", "cancelled", "closed"],
        start=["2026-01-05", "2026-02-01", "2026-03-01", "2026-11-15", "2026-01-10", "2026-04-01",
               "2026-02-01", "2026-01-01"],
        actual_finish=[None, None, "2026-11-10", None, "2026-10-20", None, None, None],
        tailoring_approved=[True] * 8,
    )
    # Every project audited on 2026-09-25 (inside both months' 90-day cycle), one risk each
    # that is high, open and reviewed, and an approved change in September.
    audits = canonical_table("qa_audits", id=ids, project=ids, date=["2026-09-25"] * 8,
                             process_area=["PP"] * 8, items_checked=[10] * 8, items_compliant=[10] * 8)
    risks = canonical_table("risks", id=ids, project=ids, probability=[0.9] * 8, impact=[5] * 8,
                            status=["open"] * 8, owner=["x"] * 8, raised=["2026-01-01"] * 8,
                            last_reviewed=["2026-09-25"] * 8, has_response_plan=[False] * 8)
    changes = canonical_table("changes", id=ids, project=ids, kind=["scope"] * 8,
                              raised=["2026-09-01"] * 8, decided=["2026-09-10"] * 8,
                              approved=[True] * 8, via_change_board=[True] * 8)
    training = canonical_table("training", person=["M-RUN"], role=["project_manager"], course=["c"],
                               hours=[8.0], date=["2026-05-01"])
    return {"projects": projects, "qa_audits": audits, "risks": risks, "changes": changes,
            "training": training}


ACTIVE_DENOMINATORS = {
    # KPI: how many of the month's active projects it counts (each has one record per project)
    "audit_coverage": "records",
    "tailoring_approved_share": "records",
    "risk_register_currency": "records",
    "open_high_risks_without_plan": "records",
}


@pytest.mark.parametrize(("period", "active"), [(OCT, 3), (SEP, 4)], ids=["october", "september"])
def test_every_kpi_counts_the_same_active_projects(period: Period, active: int) -> None:
    """October counts RUN, HOLD and LATE; September those and DONE. Before one rule, some
    KPIs took the status alone (missing HOLD and LATE, counting SOON and, for a past month,
    not DONE) and denominators on the same page differed."""
    report = compute_kpis(_portfolio(), CATALOGUE, period, organisation="Org", business_units=["U"])
    counted = {kpi: kpi_result(report, kpi)["records"] for kpi in ACTIVE_DENOMINATORS}
    counted["baseline_change_rate (denominator)"] = kpi_result(report, "baseline_change_rate")["denominator"]
    counted["training_hours_per_pm (managers)"] = kpi_result(report, "training_hours_per_pm")["records"]
    assert counted == dict.fromkeys(counted, active)


def test_a_rejected_proposal_never_counts_as_implemented_whatever_its_dates() -> None:
    """A proposal rejected after work began may carry an implemented date (a tracker that
    keeps the field, an export that fills it): it was not implemented."""
    improvements = canonical_table(
        "improvements", id=["DONE", "REJ", "REJ-OLD"], process=["P1"] * 3,
        raised=["2026-08-01", "2026-09-01", "2026-01-01"],
        status=["implemented", "rejected", "rejected"],
        implemented=["2026-10-10", "2026-10-15", "2026-03-01"])
    report = compute_kpis({"improvements": improvements}, CATALOGUE, OCT, organisation="Org",
                          business_units=["U"])
    throughput = kpi_result(report, "improvement_throughput")
    assert (throughput["value"], throughput["records"]) == (1, 1)
    cycle = kpi_result(report, "improvement_cycle_time_median")
    assert (cycle["value"], cycle["records"]) == (70, 1)


def test_the_health_mix_colours_each_project_as_its_own_spi_and_cpi_rows() -> None:
    """STRICT's head set SPI green at 0.98: its project at SPI 0.96 is amber in its own row,
    and so amber in the mix; LOOSE's project at the same SPI keeps the catalogue's green.
    With only one record per project, a catalogue minimum above one would leave the
    project uncoloured in both places, never coloured in one and not the other."""
    from pmopulse.kpis.catalogue import ThresholdOverrides, Thresholds

    projects = canonical_table("projects", id=["S", "L"], name=["S", "L"], business_unit=["STRICT", "LOOSE"],
                               manager=["m", "n"], status=["active"] * 2, start=["2026-01-01"] * 2)
    ev = canonical_table("evm_snapshots", project=["S", "L"], period=["2026-10"] * 2,
                         planned_value=[100.0] * 2, earned_value=[96.0] * 2, actual_cost=[96.0] * 2)
    strict = Thresholds.parse({"green": {"min": 0.98}, "amber": {"min": 0.90}}, "test")
    overrides = ThresholdOverrides(business_units={"STRICT": {"spi": strict}})
    report = compute_kpis({"projects": projects, "evm_snapshots": ev}, CATALOGUE, OCT, organisation="Org",
                          business_units=["STRICT", "LOOSE"], overrides=overrides)
    assert kpi_result(report, "spi", "project", "S")["rag"] == "amber"
    assert kpi_result(report, "spi", "project", "L")["rag"] == "green"
    for unit, colour in (("STRICT", "amber"), ("LOOSE", "green")):
        share = kpi_result(report, f"portfolio_{colour}_share", "business_unit", unit)
        assert (share["value"], share["records"]) == (1.0, 1), unit
