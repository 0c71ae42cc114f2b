"""A small organisation is not held back by one bad row.

With only a share rule (5 %), one bad row in a six-row table (17 %) held back every report.
Below `validation.share_from_rows` rows a count rule applies instead
(`validation.max_quarantined_rows`); larger tables keep the share rule.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pmopulse.config import load_config
from pmopulse.contracts import ConfigList, load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.errors import ConfigError
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.validation.runner import ValidationResult, validate_tables
from support import minimal_config, write_config

SOURCES = [{"name": "exports", "kind": "files", "path": "data"}]


def _organisation(projects: int, bad: int) -> dict[str, pd.DataFrame]:
    """`projects` projects with one EVM snapshot each; the first `bad` report a negative
    actual cost (an error rule: the row is quarantined)."""
    ids = [f"P{n}" for n in range(1, projects + 1)]
    return {
        "projects": pd.DataFrame({
            "id": ids, "name": [f"Project {i}" for i in ids], "business_unit": ["BU1"] * projects,
            "manager": ["M1"] * projects, "status": ["active"] * projects,
            "start": pd.to_datetime(["2026-01-01"] * projects),
            "baseline_finish": pd.to_datetime(["2026-12-31"] * projects),
            "budget_at_completion": [100.0] * projects, SOURCE_ROW: range(2, projects + 2),
        }),
        "evm_snapshots": pd.DataFrame({
            "project": ids, "period": ["2026-10"] * projects,
            "planned_value": [10.0] * projects, "earned_value": [9.0] * projects,
            "actual_cost": [-1.0 if n < bad else 11.0 for n in range(projects)],
            SOURCE_ROW: range(2, projects + 2),
        }),
    }


def _validate(projects: int, bad: int, limit: QuarantineLimit) -> ValidationResult:
    contracts = {name: c for name, c in load_contracts().items()
                 if name in ("projects", "evm_snapshots")}
    result = validate_tables(_organisation(projects, bad), contracts, quarantine_limit=limit,
                             configured={ConfigList.BUSINESS_UNITS: ["BU1"]})
    assert len(result.tables["evm_snapshots"].quarantine) == bad
    return result


@pytest.fixture
def default_limit(tmp_path: Path) -> QuarantineLimit:
    """The limit of a config that does not mention it."""
    return load_config(write_config(tmp_path, minimal_config(SOURCES))).quarantine_limit


def test_the_defaults_are_a_share_of_5_percent_from_40_rows_and_2_rows_below(
        default_limit: QuarantineLimit) -> None:
    assert default_limit == QuarantineLimit(max_share=0.05, share_from_rows=40, max_rows=2)
    # the two rules meet at the boundary: 5 % of 40 rows is 2 rows
    assert default_limit.max_share * default_limit.share_from_rows == default_limit.max_rows


def test_one_bad_row_in_a_six_row_table_does_not_hold_the_reports_back(
        default_limit: QuarantineLimit) -> None:
    result = _validate(6, 1, default_limit)
    assert not result.blocking, result.blocking_reasons


def test_three_bad_rows_in_a_six_row_table_hold_the_reports_back(
        default_limit: QuarantineLimit) -> None:
    result = _validate(6, 3, default_limit)
    assert result.blocking_reasons == [
        "3 of 6 rows of 'evm_snapshots' were quarantined, more than the allowed 2 "
        "(validation.max_quarantined_rows, for tables under 40 rows); "
        "fix the rows listed in quarantine/evm_snapshots.csv"]


@pytest.mark.parametrize(("bad", "blocks"), [(5, False), (6, True)], ids=["5-of-100", "6-of-100"])
def test_a_large_table_keeps_the_share_rule(default_limit: QuarantineLimit, bad: int,
                                            blocks: bool) -> None:
    result = _validate(100, bad, default_limit)
    assert result.blocking == blocks
    if blocks:
        assert result.blocking_reasons[0].startswith(
            "6 of 100 rows of 'evm_snapshots' (6.0%) were quarantined, more than the allowed 5% "
            "(validation.max_quarantine_share)")


def test_the_limits_are_read_from_the_config(tmp_path: Path) -> None:
    data = minimal_config(SOURCES)
    data["validation"] = {"max_quarantine_share": 0.1, "share_from_rows": 10,
                          "max_quarantined_rows": 0}
    limit = load_config(write_config(tmp_path, data)).quarantine_limit
    assert limit == QuarantineLimit(max_share=0.1, share_from_rows=10, max_rows=0)
    assert limit.exceeded("projects", 1, 6) is not None  # a strict small organisation
    assert limit.exceeded("projects", 1, 10) is None     # 10 %: the share rule from 10 rows


@pytest.mark.parametrize(("key", "value"), [("share_from_rows", -1), ("max_quarantined_rows", "two"),
                                            ("max_quarantined_rows", 1.5)])
def test_a_malformed_limit_names_the_key(tmp_path: Path, key: str, value: object) -> None:
    data = minimal_config(SOURCES)
    data["validation"] = {key: value}
    with pytest.raises(ConfigError, match=rf"validation\.{key} is .*expected a whole number"):
        load_config(write_config(tmp_path, data))
