"""What a DAG run reports: the period its `plan` task resolves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pmopulse.errors import ConfigError
from pmopulse.runspec import plan_run
from support import minimal_config, write_config


@pytest.fixture
def shanghai_config(tmp_path: Path) -> str:
    data = minimal_config([{"name": "exports", "kind": "files", "path": "data"}])
    data["organisation"]["timezone"] = "Asia/Shanghai"
    return str(write_config(tmp_path, data))


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_the_period_param_is_refused_until_the_month_is_over_in_the_organisations_zone(
        shanghai_config: str) -> None:
    with pytest.raises(ConfigError, match=r"^period 2026-11 has not ended in the organisation's time "
                                          r"zone Asia/Shanghai \(it is 2026-11-30 there\); it can be "
                                          r"reported from 2026-12-01 on$"):
        plan_run(config=shanghai_config, period="2026-11", run_time=_at("2026-11-30T15:59"))
    with pytest.raises(ConfigError, match="period 2027-02 has not ended"):
        plan_run(config=shanghai_config, period="2027-02", run_time=_at("2026-11-30T15:59"))
    # one minute later it is 1 December in Shanghai
    planned = plan_run(config=shanghai_config, period="2026-11", run_time=_at("2026-11-30T16:00"))
    assert planned["period"] == "2026-11"


def test_without_a_period_the_last_month_over_in_the_organisations_zone_is_reported(
        shanghai_config: str) -> None:
    assert plan_run(config=shanghai_config, run_time=_at("2026-11-30T16:00"))["period"] == "2026-11"
    assert plan_run(config=shanghai_config, run_time=_at("2026-11-30T15:59"))["period"] == "2026-10"
