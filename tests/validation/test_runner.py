"""Validation with Great Expectations: row errors are quarantined, the rest is reported."""

from __future__ import annotations

import pandas as pd
from pmopulse.contracts import ConfigList, load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.validation.runner import QUARANTINE_REASON, validate_tables


def _share(share: float) -> QuarantineLimit:
    """The share rule for every table, however small."""
    return QuarantineLimit(share, share_from_rows=0)


def _projects() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["P1", "P2", "P3"], "name": ["Alpha", "Beta", "Gamma"],
        "business_unit": ["BU1", "BU1", "BU2"], "manager": ["M1", None, "M3"],
        "status": ["active", "active", "closed"],
        "start": pd.to_datetime(["2026-01-01"] * 3),
        "baseline_finish": pd.to_datetime(["2026-12-31", "2025-06-30", "2026-08-31"]),
        "budget_at_completion": [100.0, 200.0, 300.0], SOURCE_ROW: [2, 3, 4],
    })


def _evm() -> pd.DataFrame:
    return pd.DataFrame({
        "project": ["P1", "P2", "P9", "P3"], "period": ["2026-10"] * 4,
        "planned_value": [10.0, 20.0, 30.0, 40.0], "earned_value": [9.0, 20.0, 30.0, 40.0],
        "actual_cost": [11.0, -5.0, 30.0, 40.0], SOURCE_ROW: [2, 3, 4, 5],
    })


def _contracts(*names: str) -> dict:
    return {name: c for name, c in load_contracts().items() if name in names}


def test_row_errors_are_quarantined_with_reason_and_row() -> None:
    result = validate_tables({"projects": _projects(), "evm_snapshots": _evm()},
                             _contracts("projects", "evm_snapshots"), quarantine_limit=_share(0.9))
    evm = result.tables["evm_snapshots"]
    assert evm.clean["project"].tolist() == ["P1", "P3"]
    reasons = dict(zip(evm.quarantine[SOURCE_ROW], evm.quarantine[QUARANTINE_REASON], strict=True))
    assert reasons == {3: "actual_cost: expected ≥ 0", 4: "project: expected an existing projects.id"}
    assert not result.blocking


def test_warnings_are_reported_but_rows_kept() -> None:
    result = validate_tables({"projects": _projects()}, _contracts("projects"),
                             quarantine_limit=_share(0.5))
    projects = result.tables["projects"]
    assert len(projects.clean) == 3 and projects.quarantine.empty
    failed = {r["rule"]: r for r in projects.rules if not r["success"]}
    assert failed["projects.manager.required"]["severity"] == "warning"
    assert failed["projects.manager.required"]["examples"] == [{"row": 3, "origin": None, "value": None}]
    assert failed["projects.start.<=.baseline_finish"]["unexpected"] == 1


def test_too_many_quarantined_rows_block_the_report() -> None:
    result = validate_tables({"projects": _projects(), "evm_snapshots": _evm()},
                             _contracts("projects", "evm_snapshots"), quarantine_limit=_share(0.25))
    assert result.blocking
    assert "2 of 4 rows of 'evm_snapshots' (50.0%)" in result.blocking_reasons[0]


def test_missing_required_table_blocks_and_optional_one_is_listed() -> None:
    result = validate_tables({"evm_snapshots": _evm()}, _contracts("projects", "evm_snapshots", "risks"),
                             quarantine_limit=_share(1.0))
    assert result.blocking_reasons == ["required table 'projects' was not provided by any source"]
    assert set(result.missing_tables) == {"projects", "risks"}
    summary = result.summary()
    assert summary["blocking"] is True and summary["totals"]["rows"] == 4


def test_a_business_unit_the_config_does_not_list_blocks_naming_table_rows_file_and_list() -> None:
    projects = _projects().assign(business_unit=["BU1", "BU-X", "BU-X"],
                                  source_origin=["projects.csv", "projects.csv", "projects.csv"])
    answers = pd.DataFrame({"respondent": ["r1", "r2"], "business_unit": ["BU1", "bu1"],
                            "question": ["q1", "q1"], "answer": ["fully", "not"], SOURCE_ROW: [2, 3]})
    result = validate_tables({"projects": projects, "assessment_responses": answers},
                             _contracts("projects", "assessment_responses"), quarantine_limit=_share(1.0),
                             configured={ConfigList.BUSINESS_UNITS: ["BU1", "BU2"]})
    assert result.blocking_reasons == [
        "assessment_responses.business_unit: 'bu1' in row(s) 3 is not one of "
        "organisation.business_units in the config [BU1, BU2]; list it there or correct the rows",
        "projects.business_unit: 'BU-X' in row(s) 3, 4 of projects.csv is not one of "
        "organisation.business_units in the config [BU1, BU2]; list it there or correct the rows",
    ]
    assert result.tables["projects"].clean["id"].tolist() == ["P1"]


def test_without_business_units_configured_every_unit_in_the_data_is_refused() -> None:
    result = validate_tables({"projects": _projects()}, _contracts("projects"), quarantine_limit=_share(1.0),
                             configured={ConfigList.BUSINESS_UNITS: []})
    assert result.blocking_reasons == [
        f"projects.business_unit: {unit!r} in row(s) {rows} is not one of organisation.business_units "
        "in the config [none listed]; list it there or correct the rows"
        for unit, rows in (("BU1", "2, 3"), ("BU2", "4"))]
