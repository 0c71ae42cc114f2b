"""The data contracts load, hang together, and type data with errors that say where."""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.contracts import ColumnType, load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW, typed_frame
from pmopulse.errors import ContractViolation

DESIGN_TABLES = {
    "projects", "milestones", "evm_snapshots", "changes", "risks", "work_items", "qa_audits",
    "nonconformances", "gate_reviews", "timesheets", "capacity", "processes", "improvements",
    "lessons_learned", "training", "assessment_responses",
}
EXTENDED_TABLES = {
    "work_item_history",  # status history from Jira changelogs and Redmine journals
    "schedule_tasks",     # tasks of MS Project / P6 schedules, for the DCMA schedule checks
}


def test_every_design_table_has_a_contract() -> None:
    assert set(load_contracts()) == DESIGN_TABLES | EXTENDED_TABLES


def test_foreign_keys_point_at_existing_columns_and_parents_come_first() -> None:
    contracts = load_contracts()
    order = list(contracts)
    for name, contract in contracts.items():
        for fk in contract.foreign_keys:
            assert fk.target in contracts[fk.table].column_names, f"{name}.{fk.column}"
            assert order.index(fk.table) < order.index(name)


def _raw(**columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame[SOURCE_ROW] = range(2, len(frame) + 2)
    return frame


def test_typed_frame_converts_each_declared_type() -> None:
    contract = load_contracts()["milestones"]
    raw = _raw(project=["P1", "P1"], id=["M1", "M2"], name=["Kick-off", "TR4"],
               is_gate=["false", "TRUE"], baseline_date=["2026-01-31", "2026-03-01"],
               forecast_date=["", "2026-03-05"], actual_date=["2026-01-30", ""])
    typed = typed_frame(raw, contract, "milestones.csv")
    assert typed["is_gate"].tolist() == [False, True]
    assert typed["baseline_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-31", "2026-03-01"]
    assert typed["forecast_date"].isna().tolist() == [True, False]
    assert typed[SOURCE_ROW].tolist() == [2, 3]
    assert list(typed.columns) == [*contract.column_names, SOURCE_ROW]


def test_non_numeric_cost_names_file_column_row_and_value() -> None:
    contract = load_contracts()["evm_snapshots"]
    raw = _raw(project=["P1", "P2"], period=["2026-10", "2026-10"],
               planned_value=["10", "20"], earned_value=["9", "21"], actual_cost=["11", "n/a"])
    with pytest.raises(ContractViolation) as info:
        typed_frame(raw, contract, "data/evm_snapshots.csv")
    message = str(info.value)
    assert "data/evm_snapshots.csv" in message
    assert "row 3, column 'actual_cost': 'n/a' is not a number" in message


def test_missing_required_column_names_it_and_lists_what_was_found() -> None:
    contract = load_contracts()["evm_snapshots"]
    raw = _raw(project=["P1"], period=["2026-10"], planned_value=["1"], earned_value=["1"])
    with pytest.raises(ContractViolation, match=r"evm_snapshots.csv: required column\(s\) actual_cost"):
        typed_frame(raw, contract, "evm_snapshots.csv")


def test_optional_columns_may_be_absent() -> None:
    contract = load_contracts()["projects"]
    required = [c.name for c in contract.columns if c.required]
    raw = _raw(**{name: ["x"] for name in required})
    raw["start"] = ["2026-01-01"]
    typed = typed_frame(raw, contract, "projects.csv")
    assert typed["budget_at_completion"].isna().all()
    assert contract.column("start").type is ColumnType.DATE


def test_every_rule_has_a_known_severity_and_type() -> None:
    from pmopulse.contracts import Severity

    for contract in load_contracts().values():
        assert len(set(contract.column_names)) == len(contract.column_names)
        for col in contract.columns:
            assert isinstance(col.severity, Severity) and isinstance(col.type, ColumnType)
        for fk in contract.foreign_keys:
            assert isinstance(fk.severity, Severity)


def test_a_duplicated_column_in_a_contract_is_an_error_naming_file_and_line(tmp_path) -> None:
    from pmopulse.errors import ConfigError
    from pmopulse.yamlfile import load_yaml

    path = tmp_path / "risks.yaml"
    path.write_text("table: risks\ncolumns:\n  owner: {type: string}\n  owner: {type: date}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"(?s)risks.yaml.*duplicate key 'owner'.*line 4"):
        load_yaml(path, "contract")


def test_every_business_unit_column_draws_from_the_configured_units() -> None:
    from pmopulse.contracts import ConfigList

    carrying = {name: contract.column("business_unit").allowed_from
                for name, contract in load_contracts().items()
                if "business_unit" in contract.column_names}
    assert carrying == {"projects": ConfigList.BUSINESS_UNITS,
                        "assessment_responses": ConfigList.BUSINESS_UNITS}


@pytest.mark.parametrize(("cumulative", "message"), [
    ("{per: [project], over: period, columns: [cost]}", r"unknown columns \['cost'\]"),
    ("{per: [project], over: project, columns: [earned_value]}", "cumulative.over needs a date or month"),
    ("{per: [project], over: period, columns: [project]}", r"cumulative.columns must be numbers"),
    ("{per: [project], columns: [earned_value]}", "malformed"),
], ids=["unknown column", "not dated", "not a number", "no over"])
def test_a_bad_cumulative_rule_names_the_contract_and_what_to_fix(tmp_path, cumulative: str,
                                                                  message: str) -> None:
    from pmopulse.contracts import _load
    from pmopulse.errors import ConfigError

    path = tmp_path / "evm_snapshots.yaml"
    path.write_text("table: evm_snapshots\ncolumns:\n  project: {type: string}\n"
                    "  period: {type: month}\n  earned_value: {type: number}\n"
                    f"cumulative: {cumulative}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"contract evm_snapshots.yaml: .*{message}"):
        _load(path)
