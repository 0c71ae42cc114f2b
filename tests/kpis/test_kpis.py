"""KPI functions on small hand-computed tables; roll-ups add parts, never average ratios."""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.kpis.base import KpiInputs
from pmopulse.kpis.catalogue import Rag, load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.kpis.registry import MEASURES
from pmopulse.period import Period
from support import canonical_table, kpi_result

CATALOGUE = load_catalogue(project_home() / "assessments" / "kpis.yaml")
OCT, SEP = Period.parse("2026-10"), Period.parse("2026-09")


def _tables() -> dict[str, pd.DataFrame]:
    projects = canonical_table("projects", id=["A", "B", "C"], business_unit=["NET", "NET", "CLOUD"],
                               program=["5G", None, None])
    evm = canonical_table("evm_snapshots", **{
        "project": ["A", "B", "C", "A", "B"],
        "period": ["2026-10", "2026-10", "2026-10", "2026-09", "2026-09"],
        #            A: SPI 0.9   B: SPI 1.0   C: SPI 0.5
        "planned_value": [100.0, 900.0, 200.0, 80.0, 700.0],
        "earned_value": [90.0, 900.0, 100.0, 80.0, 630.0],
        "actual_cost": [100.0, 850.0, 100.0, 80.0, 700.0],
    })
    milestones = canonical_table(
        "milestones",
        project=["A", "A", "B", "B", "C", "C"],
        id=["M1", "M2", "M1", "M2", "M1", "M2"],
        baseline_date=["2026-10-05", "2026-10-20", "2026-10-31", "2026-09-30", "2026-10-10", "2026-11-15"],
        # A/M1 on time, A/M2 late, B/M1 on the day, B/M2 due in Sep, C/M1 not achieved
        actual_date=["2026-10-01", "2026-10-25", "2026-10-31", "2026-09-29", None, None],
    )
    return {"projects": projects, "evm_snapshots": evm, "milestones": milestones}


@pytest.fixture(scope="module")
def report() -> dict:
    return compute_kpis(_tables(), CATALOGUE, OCT, organisation="Org",
                        business_units=["NET", "CLOUD", "EMPTY"])


def test_every_catalogue_kpi_has_exactly_one_function_and_known_tables() -> None:
    from pmopulse.contracts import load_contracts

    assert set(CATALOGUE) == set(MEASURES)
    for kpi in CATALOGUE.values():
        assert set(kpi.tables) <= set(load_contracts()), kpi.id


@pytest.mark.parametrize(
    ("kpi", "level", "scope", "value", "numerator", "denominator", "records"),
    [
        pytest.param("spi", "project", "A", 0.9, 90, 100, 1, id="spi-project"),
        pytest.param("spi", "business_unit", "NET", 0.99, 990, 1000, 2, id="spi-bu-sums-parts"),
        pytest.param("spi", "organisation", "Org", 1090 / 1200, 1090, 1200, 3, id="spi-org"),
        pytest.param("cpi", "business_unit", "NET", 990 / 950, 990, 950, 2, id="cpi-bu"),
        pytest.param("milestone_on_time", "organisation", "Org", 2 / 4, 2, 4, 4,
                     id="on-time-org-counts-due-in-period-only"),
        pytest.param("milestone_on_time", "project", "A", 0.5, 1, 2, 2, id="on-time-project"),
        pytest.param("spi", "program", "5G", 0.9, 90, 100, 1, id="spi-program"),
    ],
)
def test_values_and_their_basis(report: dict, kpi: str, level: str, scope: str, value: float,
                                numerator: float, denominator: float, records: int) -> None:
    result = kpi_result(report, kpi, level, scope)
    assert result["value"] == pytest.approx(value)
    assert (result["numerator"], result["denominator"], result["records"]) == (
        numerator, denominator, records)


def test_roll_up_is_not_the_average_of_ratios(report: dict) -> None:
    # (0.9 + 1.0) / 2 = 0.95 would be green; the summed parts give 0.99.
    assert kpi_result(report, "spi", "business_unit", "NET")["value"] == pytest.approx(0.99)


def test_rag_uses_catalogue_bands(report: dict) -> None:
    assert kpi_result(report, "spi", "project", "A")["rag"] == Rag.AMBER
    assert kpi_result(report, "spi", "project", "B")["rag"] == Rag.GREEN
    assert kpi_result(report, "spi", "project", "C")["rag"] == Rag.RED
    assert kpi_result(report, "milestone_on_time", "organisation", "Org")["rag"] == Rag.RED


def test_too_few_records_are_not_coloured(report: dict) -> None:
    # two milestones for project A, the catalogue asks for three before colouring
    result = kpi_result(report, "milestone_on_time", "project", "A")
    assert result["value"] == 0.5 and result["rag"] == Rag.TOO_FEW


def test_no_data_is_none_never_zero_or_green(report: dict) -> None:
    empty = kpi_result(report, "spi", "business_unit", "EMPTY")
    assert empty["value"] is None and empty["records"] == 0 and empty["rag"] == Rag.NO_DATA


def test_previous_period_value(report: dict) -> None:
    assert kpi_result(report, "spi", "project", "B")["previous"] == pytest.approx(0.9)
    assert kpi_result(report, "spi", "project", "C")["previous"] is None
    assert kpi_result(report, "spi", "organisation", "Org")["previous"] == pytest.approx(710 / 780)


def test_trend_has_twelve_months_with_gaps_as_none(report: dict) -> None:
    trend = report["trend"]["spi"]
    assert [p["period"] for p in trend][-2:] == ["2026-09", "2026-10"]
    assert len(trend) == 12 and trend[0]["value"] is None
    # SPI rests on earned-value rows stamped with their period: past months may be recomputed
    # (and say so); the month itself is this month's snapshot.
    assert [p["basis"] for p in trend] == ["recomputed"] * 11 + ["snapshot"]
    assert trend[-1]["value"] == pytest.approx(1090 / 1200)


def test_zero_denominator_is_no_data() -> None:
    tables = _tables()
    tables["evm_snapshots"] = tables["evm_snapshots"].assign(planned_value=0.0)
    result = compute_kpis(tables, CATALOGUE, OCT, organisation="Org", business_units=[])
    assert kpi_result(result, "spi", "organisation", "Org")["value"] is None


def test_missing_table_gives_no_data() -> None:
    tables = _tables()
    del tables["milestones"]
    result = compute_kpis(tables, CATALOGUE, SEP, organisation="Org", business_units=[])
    org = kpi_result(result, "milestone_on_time", "organisation", "Org")
    assert org["value"] is None and org["rag"] == Rag.NO_DATA


def test_thresholds_overridden_for_the_organisation_and_per_business_unit() -> None:
    from pmopulse.kpis.catalogue import Band, ThresholdOverrides, Thresholds

    strict = Thresholds(green=Band(min=0.995), amber=Band(min=0.98))
    lenient = Thresholds(green=Band(min=0.85), amber=Band(min=0.80))
    overrides = ThresholdOverrides(organisation={"spi": lenient}, business_units={"NET": {"spi": strict}})
    report = compute_kpis(_tables(), CATALOGUE, OCT, organisation="Org",
                          business_units=["NET", "CLOUD"], overrides=overrides)
    # NET's SPI 0.99 is green by the catalogue (0.95–1.05) but amber by NET's own bands.
    assert kpi_result(report, "spi", "business_unit", "NET")["rag"] == Rag.AMBER
    assert kpi_result(report, "spi", "project", "B")["rag"] == Rag.GREEN      # 1.0 ≥ 0.995
    assert kpi_result(report, "spi", "project", "A")["rag"] == Rag.RED        # 0.9 < 0.98, NET's bands
    # The organisation's lenient bands: 1090 / 1200 = 0.908 is green; C (CLOUD) 0.5 stays red.
    assert kpi_result(report, "spi", "organisation", "Org")["rag"] == Rag.GREEN
    assert kpi_result(report, "spi", "project", "C")["rag"] == Rag.RED


def test_overrides_for_unknown_kpis_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pmopulse.config import load_config
    from pmopulse.errors import ConfigError
    from support import minimal_config, write_config

    data = minimal_config([{"kind": "files", "path": "data"}])
    data["organisation"]["business_units"][0]["kpi_thresholds"] = {"sip": {"green": {"min": 0.9}}}
    config = load_config(write_config(tmp_path, data))
    with pytest.raises(ConfigError, match=r"unknown KPI\(s\) \['sip'\]"):
        config.kpi_thresholds.check(CATALOGUE)
    data["kpi_thresholds"] = {"spi": {"amber": {"min": 0.9}}}
    with pytest.raises(ConfigError, match=r"kpi_thresholds\.spi: thresholds need green"):
        load_config(write_config(tmp_path, data))


def _portfolio() -> dict[str, pd.DataFrame]:
    """Programs P1 (A and B, both NET) and P2 (C in CLOUD, D in NET); E has no unit. Every
    scope's SPI is green by the catalogue's bands (0.98 to 0.99) and amber by NET's strict ones."""
    projects = canonical_table("projects", id=["A", "B", "C", "D", "E"],
                               business_unit=["NET", "NET", "CLOUD", "NET", None],
                               program=["P1", "P1", "P2", "P2", None])
    evm = canonical_table("evm_snapshots", project=["A", "B", "C", "D", "E"], period=["2026-10"] * 5,
                          planned_value=[100.0, 900.0, 500.0, 500.0, 1000.0],
                          earned_value=[90.0, 900.0, 500.0, 490.0, 990.0],
                          actual_cost=[100.0, 900.0, 500.0, 500.0, 1000.0])
    return {"projects": projects, "evm_snapshots": evm}


@pytest.mark.parametrize(
    ("level", "scope", "rag"),
    [
        pytest.param("program", "P1", Rag.AMBER, id="program-in-one-unit-takes-its-bands"),
        pytest.param("program", "P2", Rag.GREEN, id="program-across-units-takes-the-catalogue's"),
        pytest.param("project", "D", Rag.AMBER, id="project-takes-its-unit's-bands"),
        pytest.param("project", "E", Rag.GREEN, id="project-without-unit-takes-the-catalogue's"),
        pytest.param("business_unit", "NET", Rag.AMBER, id="unit-takes-its-own-bands"),
    ],
)
def test_each_scope_is_coloured_with_the_bands_of_its_business_unit(level: str, scope: str,
                                                                      rag: Rag) -> None:
    from pmopulse.kpis.catalogue import Band, ThresholdOverrides, Thresholds

    strict = Thresholds(green=Band(min=0.995), amber=Band(min=0.98))
    report = compute_kpis(_portfolio(), CATALOGUE, OCT, organisation="Org", business_units=["NET", "CLOUD"],
                          overrides=ThresholdOverrides(business_units={"NET": {"spi": strict}}))
    assert kpi_result(report, "spi", level, scope)["rag"] == rag


def test_records_count_for_their_projects_unit_else_their_own() -> None:
    from pmopulse.kpis.base import records

    def spi(inputs: KpiInputs) -> pd.DataFrame:
        # A belongs to NET whatever the record says; the two records without a project count
        # for the unit they name (CLOUD) or, naming none, for the organisation only.
        return records(pd.Series(["A", None, None]), numerator=pd.Series([1.0, 2.0, 4.0]), denominator=1.0,
                       business_unit=pd.Series(["CLOUD", "CLOUD", None]))

    report = compute_kpis(_portfolio(), {"spi": CATALOGUE["spi"]}, OCT, organisation="Org",
                          business_units=["NET", "CLOUD"], measures={"spi": spi})
    assert [(r["level"], r["scope"], r["numerator"], r["records"]) for r in report["results"]] == [
        ("organisation", "Org", 7.0, 3), ("business_unit", "NET", 1.0, 1),
        ("business_unit", "CLOUD", 2.0, 1), ("program", "P1", 1.0, 1), ("project", "A", 1.0, 1)]


def test_a_median_of_records_without_values_is_no_data_at_every_level() -> None:
    from pmopulse.kpis.base import records

    def ages(inputs: KpiInputs) -> pd.DataFrame:  # two open NCs whose age is unknown
        return records(pd.Series(["A", "C"]), value=pd.Series([float("nan"), float("nan")]))

    report = compute_kpis(_portfolio(), {"nc_open_age_median": CATALOGUE["nc_open_age_median"]}, OCT,
                          organisation="Org", business_units=["NET", "CLOUD"],
                          measures={"nc_open_age_median": ages})
    scoped = [r for r in report["results"] if r["records"]]
    assert {r["level"] for r in scoped} >= {"organisation", "business_unit", "project"}
    assert all(r["value"] is None and r["rag"] == Rag.NO_DATA for r in scoped), scoped


def test_an_infinite_amount_is_no_data_not_a_colour() -> None:
    tables = _tables()
    tables["evm_snapshots"] = tables["evm_snapshots"].assign(
        earned_value=[float("inf"), 900.0, 100.0, 80.0, 630.0])
    report = compute_kpis(tables, CATALOGUE, OCT, organisation="Org", business_units=["NET"])
    for level, scope in (("organisation", "Org"), ("business_unit", "NET"), ("project", "A")):
        result = kpi_result(report, "spi", level, scope)
        assert result["value"] is None and result["rag"] == Rag.NO_DATA, result
    assert kpi_result(report, "spi", "project", "B")["value"] == pytest.approx(1.0)
