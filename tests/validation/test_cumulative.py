"""Earned value is cumulative: a figure that falls from one month to the next is a warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from pmopulse import pipeline
from pmopulse.cli import _print_summary
from pmopulse.config import load_config
from pmopulse.contracts import load_contracts
from pmopulse.jsonfile import read_json
from pmopulse.period import Period
from support import minimal_config, write_config

PROJECTS = """id,name,business_unit,manager,status,start,baseline_finish,budget_at_completion
P1,Alpha,BU1,Ann,active,2026-01-01,2026-12-31,1000
P2,Beta,BU1,Bob,active,2026-01-01,2026-12-31,1000
"""
# P1 is cumulative (flat in October is fine); P2 was exported as monthly increments,
# and the rows are not in month order.
EVM = """project,period,planned_value,earned_value,actual_cost
P1,2026-08,100,90,95
P1,2026-09,200,180,190
P1,2026-10,200,250,260
P2,2026-09,80,70,120
P2,2026-08,100,90,95
P2,2026-10,120,110,60
"""


@pytest.fixture
def summary(tmp_path: Path) -> dict:
    data = tmp_path / "data"
    data.mkdir()
    (data / "projects.csv").write_text(PROJECTS, encoding="utf-8")
    (data / "evm_snapshots.csv").write_text(EVM, encoding="utf-8")
    config = load_config(write_config(tmp_path, minimal_config(
        [{"name": "finance", "kind": "files", "path": "data"}])))
    period = Period.parse("2026-10")
    pipeline.extract(config, period)
    return read_json(Path(pipeline.validate(config, period)["validation"]))


def test_a_falling_figure_names_project_months_and_row(summary: dict) -> None:
    rules = {r["rule"]: r for r in summary["tables"]["evm_snapshots"]["rules"]}
    planned, earned, cost = (rules[f"evm_snapshots.{c}.cumulative"]
                             for c in ("planned_value", "earned_value", "actual_cost"))
    assert (planned["success"], earned["success"], cost["success"]) == (False, False, False)
    assert [r["severity"] for r in (planned, earned, cost)] == ["warning"] * 3
    assert [r["unexpected"] for r in (planned, earned, cost)] == [1, 1, 1]
    assert [e["row"] for e in planned["examples"]] == [5] and planned["examples"][0]["value"] == 80
    [finding] = planned["findings"]
    assert finding.startswith("evm_snapshots: P2: planned_value falls from 100.00 in 2026-08 to 80.00 "
                              "in 2026-09 (row 5 ")
    assert "data/evm_snapshots.csv); the figures must be cumulative" in finding
    assert earned["findings"][0].startswith("evm_snapshots: P2: earned_value falls from 90.00 in 2026-08")
    assert cost["findings"][0].startswith("evm_snapshots: P2: actual_cost falls from 120.00 in 2026-09 "
                                          "to 60.00 in 2026-10 (row 7 ")
    # a warning: the rows are kept and nothing blocks
    assert summary["tables"]["evm_snapshots"]["quarantined"] == 0 and not summary["blocking"]


def test_validate_output_shows_the_falls(summary: dict, capsys: pytest.CaptureFixture[str]) -> None:
    _print_summary(summary)
    out = capsys.readouterr().out
    assert "3 warning rule(s) failed" in out
    assert "P2: planned_value falls from 100.00 in 2026-08 to 80.00 in 2026-09" in out
    assert "P2: actual_cost falls from 120.00 in 2026-09 to 60.00 in 2026-10" in out
    assert "P1:" not in out


def test_the_contract_says_the_figures_are_cumulative() -> None:
    contract = load_contracts()["evm_snapshots"]
    assert contract.cumulative is not None
    assert contract.cumulative.columns == ("planned_value", "earned_value", "actual_cost")
    assert "cumulative" in contract.description
