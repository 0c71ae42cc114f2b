"""The SQL source against a real PostgreSQL (127.0.0.1:5432, database `test`, trust auth).

Each test gets its own schema, put first on the search path through the URL, so the
queries in the configs read like a user's (`FROM projects`). PostgreSQL being down is a
failure, not a skip: CI starts it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pmopulse.config import Config, load_config
from pmopulse.contracts import load_contracts
from pmopulse.errors import ConfigError, SourceError
from pmopulse.period import Period
from pmopulse.pipeline import extract
from pmopulse.sources import RawTable
from pmopulse.sources.mapping import canonical_frame
from pmopulse.sources.sql import read_sql
from support import SERVER, Database

pytestmark = pytest.mark.integration

URL_ENV = "PMOPULSE_FINANCE_DB_URL"
PERIOD = Period.parse("2026-10")

PROJECTS_DDL = """
CREATE TABLE projects (
    proj_code text PRIMARY KEY, proj_name text, bu text, pm text, state text,
    start_date date, finish date, bac numeric(12, 2), tailored boolean)
"""
PROJECTS_ROWS = [
    {"code": "P-001", "name": "ERP 升级", "bu": "FIN", "pm": "u1", "state": "已关闭",
     "start": dt.date(2025, 3, 1), "finish": dt.date(2026, 10, 12), "bac": "1200000.50", "tailored": True},
    {"code": "P-002", "name": "CRM", "bu": "FIN", "pm": "u2", "state": "Active",
     "start": dt.date(2026, 2, 1), "finish": None, "bac": "80000", "tailored": False},
    {"code": "P-003", "name": "Data platform", "bu": "OPS", "pm": "u3", "state": "Closed",
     "start": dt.date(2024, 5, 6), "finish": dt.date(2025, 12, 31), "bac": None, "tailored": None},
    {"code": "P-004", "name": "Next year", "bu": "OPS", "pm": "u1", "state": "Active",
     "start": dt.date(2026, 11, 15), "finish": None, "bac": "5000.25", "tailored": None},
]
PROJECTS_QUERY = """
SELECT proj_code, proj_name, bu, pm, state, start_date, finish, bac, tailored
FROM projects ORDER BY proj_code
"""
PROJECTS_MAPPING: dict[str, Any] = {
    "columns": {"proj_code": "id", "proj_name": "name", "bu": "business_unit", "pm": "manager",
                "state": "status", "start_date": "start", "finish": "actual_finish",
                "bac": "budget_at_completion", "tailored": "tailoring_approved"},
    "values": {"status": {"已关闭": "closed", "Closed": "closed", "Active": "active"}},
}


@pytest.fixture
def projects(db: Database) -> Database:
    db.run(PROJECTS_DDL)
    db.run("INSERT INTO projects VALUES "
           "(:code, :name, :bu, :pm, :state, :start, :finish, CAST(:bac AS numeric), :tailored)",
           PROJECTS_ROWS)
    return db


def _config(tmp_path: Path, tables: dict[str, Any], **source: Any) -> Config:
    """Load pmopulse.yaml with one SQL source `finance_db`, as a user would write it."""
    data = {
        "organisation": {"name": "Org", "business_units": [{"id": "FIN"}, {"id": "OPS"}]},
        "sources": [{"name": "finance_db", "kind": "sql", "url_env": URL_ENV, **source,
                     "tables": tables}],
        "delivery": {"sender": "pulse@org.example", "allowed_domains": ["org.example"],
                     "pmo_contact": "pmo@org.example",
                     "recipients": {"organisation": ["ceo@org.example"]}},
    }
    path = tmp_path / "pmopulse.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def _read(config: Config, period: Period = PERIOD) -> dict[str, RawTable]:
    return {raw.table: raw for raw in read_sql(config.sources[0], load_contracts(), period)}


def _typed(raw: RawTable) -> pd.DataFrame:
    return canonical_frame(raw.frame, load_contracts()[raw.table], raw.mapping, raw.origin)


def test_queries_take_the_period_and_give_typed_canonical_rows(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    projects.run("CREATE TABLE evm (project text, month text, pv numeric(14, 2), ev numeric(14, 2), "
                 "ac numeric(14, 2))")
    projects.run("INSERT INTO evm VALUES (:p, :m, :pv, :ev, :ac)", [
        {"p": "P-001", "m": m, "pv": pv, "ev": ev, "ac": ac}
        for m, pv, ev, ac in [("2026-08", 100, 90, 95.5), ("2026-09", 200, 180.25, 210),
                              ("2026-10", 300, 290, 305.75), ("2026-11", 400, 380, 410)]])
    monkeypatch.setenv(URL_ENV, projects.url())
    config = _config(tmp_path, {
        "evm_snapshots": {
            "query": "SELECT project, month, pv, ev, ac FROM evm WHERE month <= :period ORDER BY month",
            "columns": {"month": "period", "pv": "planned_value", "ev": "earned_value",
                        "ac": "actual_cost"}},
        "projects": {
            **PROJECTS_MAPPING,
            # Running in the period: started by its end, not finished before its start.
            "query": "SELECT proj_code, proj_name, bu, pm, state, start_date, finish, bac, tailored "
                     "FROM projects WHERE start_date <= :period_end "
                     "AND (finish IS NULL OR finish >= :period_start) ORDER BY proj_code"},
    })

    raws = _read(config)

    evm = _typed(raws["evm_snapshots"])
    assert evm["period"].tolist() == ["2026-08", "2026-09", "2026-10"]  # not 2026-11
    assert evm["planned_value"].dtype == "float64"
    assert evm[["planned_value", "earned_value", "actual_cost"]].to_dict("records") == [
        {"planned_value": 100.0, "earned_value": 90.0, "actual_cost": 95.5},
        {"planned_value": 200.0, "earned_value": 180.25, "actual_cost": 210.0},
        {"planned_value": 300.0, "earned_value": 290.0, "actual_cost": 305.75},
    ]
    assert evm["source_row"].tolist() == [1, 2, 3]

    raw = raws["projects"]
    assert raw.frame["proj_code"].tolist() == ["P-001", "P-002"]  # P-003 ended, P-004 not started
    assert raw.frame["bac"].tolist() == ["1200000.50", "80000.00"]  # NUMERIC as exact text
    assert raw.frame["source_row"].tolist() == [1, 2]
    assert "finance_db" in raw.origin and "'projects'" in raw.origin
    typed = _typed(raw)
    assert typed["id"].tolist() == ["P-001", "P-002"]
    assert typed["name"].tolist() == ["ERP 升级", "CRM"]
    assert typed["status"].tolist() == ["closed", "active"]
    assert typed["start"].dtype == "datetime64[us]"
    assert typed["start"].tolist() == [pd.Timestamp("2025-03-01"), pd.Timestamp("2026-02-01")]
    assert typed["actual_finish"].iloc[0] == pd.Timestamp("2026-10-12")
    assert pd.isna(typed["actual_finish"].iloc[1])
    assert typed["budget_at_completion"].tolist() == [1200000.5, 80000.0]
    assert typed["tailoring_approved"].tolist() == [True, False]
    assert typed["source_row"].tolist() == [1, 2]


def test_a_postgresql_cast_right_after_a_parameter_works(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, projects.url())
    config = _config(tmp_path, {"projects": {
        **PROJECTS_MAPPING,
        "query": "SELECT * FROM projects WHERE start_date BETWEEN :period_start::date - 365 "
                 "AND :period_end::date ORDER BY proj_code"}})

    assert _read(config)["projects"].frame["proj_code"].tolist() == ["P-002"]


@pytest.mark.parametrize("url_with_password", [
    "postgresql://postgres:s3cret@{server}/test",
    "postgresql://postgres@{server}/test?password=s3cret",
], ids=["in-user-info", "in-query"])
def test_a_failing_query_names_source_table_and_error_but_no_password(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url_with_password: str) -> None:
    # Trust authentication ignores the password, so the connection works.
    monkeypatch.setenv(URL_ENV, url_with_password.format(server=SERVER)
                       + ("&" if "?" in url_with_password else "?")
                       + f"options=-csearch_path%3D{projects.schema}")
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING,
                                             "query": "SELECT proj_code, budget FROM projects"}})

    with pytest.raises(SourceError) as caught:
        _read(config)

    message = str(caught.value)
    assert "source 'finance_db'" in message
    assert "query for table 'projects' failed" in message
    assert 'column "budget" does not exist' in message
    assert "s3cret" not in message


def test_an_unknown_parameter_lists_the_available_ones(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, projects.url())
    config = _config(tmp_path, {"projects": {
        **PROJECTS_MAPPING, "query": "SELECT * FROM projects WHERE bu = :foo"}})

    with pytest.raises(SourceError) as caught:
        _read(config)

    message = str(caught.value)
    assert "table 'projects'" in message
    assert "[':foo']" in message
    assert "available are [':period', ':period_start', ':period_end']" in message


def test_an_unreachable_database_cannot_connect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "postgresql://postgres:s3cret@127.0.0.1:1/test")
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": "SELECT 1"}})

    with pytest.raises(SourceError, match=r"source 'finance_db' .*: cannot connect \(.*port 1") as caught:
        _read(config)
    assert "s3cret" not in str(caught.value)


def test_an_unusable_url_is_a_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "postgresql://postgres:s3cret@127.0.0.1:port/test")
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": "SELECT 1"}})

    with pytest.raises(SourceError, match=r"source 'finance_db': unusable database URL") as caught:
        _read(config)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("query", [
    "WITH d AS (DELETE FROM projects RETURNING *) SELECT * FROM d ORDER BY proj_code",
    "DELETE FROM projects; COMMIT; SELECT * FROM projects",
])
def test_the_source_cannot_change_the_database(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    monkeypatch.setenv(URL_ENV, projects.url())
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": query}})

    with pytest.raises(SourceError, match=r"query for table 'projects' failed: "
                                          r"cannot execute \w+ in a read-only transaction"):
        _read(config)
    assert projects.count("projects") == 4


def test_a_url_with_a_password_in_the_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[finance_db\]\.url contains a password"):
        _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": "SELECT 1"}},
                url_env=None, url=f"postgresql://postgres:s3cret@{SERVER}/test")


def test_an_unset_url_variable_is_a_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": "SELECT 1"}})

    with pytest.raises(SourceError, match=rf"source 'finance_db': environment variable {URL_ENV} is not set"):
        _read(config)


def test_a_sql_table_without_a_query_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[finance_db\]\.tables \['projects'\] need a `query`"):
        _config(tmp_path, {"projects": PROJECTS_MAPPING})


def test_extract_freezes_raw_and_canonical_tables_and_reports_freshness(
        projects: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, projects.url())
    config = _config(tmp_path, {"projects": {**PROJECTS_MAPPING, "query": PROJECTS_QUERY}})

    snapshot = extract(config, PERIOD)

    run = tmp_path / "artifacts" / "2026-10"
    assert snapshot["tables"] == {"projects": 4}
    canonical = pd.read_parquet(run / "canonical" / "projects.parquet")
    assert canonical["id"].tolist() == ["P-001", "P-002", "P-003", "P-004"]
    assert canonical["status"].tolist() == ["closed", "active", "closed", "active"]
    assert canonical["start"].iloc[0] == pd.Timestamp("2025-03-01")
    assert canonical["source_origin"].str.contains("finance_db").all()
    raw = pd.read_parquet(run / "raw" / "finance_db" / "projects.parquet")
    assert raw["state"].tolist() == ["已关闭", "Active", "Closed", "Active"]  # as the database has it
    assert raw["start_date"].tolist() == ["2025-03-01", "2026-02-01", "2024-05-06", "2026-11-15"]

    [source] = snapshot["sources"]
    assert source["name"] == "finance_db"
    assert source["location"] == f"${URL_ENV}"
    assert source["tables"]["projects"]["rows"] == 4
    # P-004 starts after the period end, so it says nothing about how current the data is.
    assert source["freshness"] == {"newest": "2026-10-12", "basis": "projects.actual_finish",
                                   "age_days": 19, "max_age_days": 45, "stale": False}
