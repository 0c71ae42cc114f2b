"""The DAG folder parses cleanly, cheaply, and without touching connections or variables."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pendulum
import pytest
from airflow.timetables.base import TimeRestriction
from support import REPO

DAGS = REPO / "dags"


@pytest.fixture(scope="module")
def dagbag(request: pytest.FixtureRequest):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Variable

    lookups: list[str] = []
    patch = pytest.MonkeyPatch()
    patch.setattr(BaseHook, "get_connection",
                  classmethod(lambda cls, conn_id: lookups.append(f"connection {conn_id}")))
    patch.setattr(Variable, "get", staticmethod(lambda key, *a, **k: lookups.append(f"variable {key}")))
    try:
        bag = DagBag(dag_folder=str(DAGS))
    finally:
        patch.undo()
    return bag, lookups


def test_dag_folder_imports_without_errors(dagbag) -> None:
    bag, _ = dagbag
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"pmo_monthly_governance", "pmo_maturity_assessment"}


def test_parsing_looks_up_no_connection_or_variable(dagbag) -> None:
    _, lookups = dagbag
    assert lookups == []


def test_monthly_dag_shape(dagbag) -> None:
    bag, _ = dagbag
    dag = bag.dags["pmo_monthly_governance"]
    assert dag.timetable.summary == "0 6 1 * *"
    assert {"pmo-pulse", "governance"} <= set(dag.tags)
    assert dag.doc_md and "previous" in dag.doc_md
    assert set(dag.params.keys()) == {"config", "period", "refresh", "resend"}
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"plan", "sources", "extract_source", "freeze", "validate", "compute_kpis",
                          "assess_maturity", "recommend", "render_organisation", "business_units",
                          "render_business_unit", "deliver", "store_history"}
    assert all(t.retries >= 1 for t in tasks.values()), "retries are safe: the ledger stops double mail"
    assert tasks["deliver"].upstream_task_ids >= {"render_organisation", "render_business_unit"}
    assert tasks["render_business_unit"].is_mapped, "one report per business unit, mapped"
    assert tasks["extract_source"].is_mapped, "sources are pulled in parallel, one task each"
    assert tasks["freeze"].upstream_task_ids == {"plan", "extract_source"}
    assert tasks["store_history"].upstream_task_ids == {"plan", "deliver"}
    assert "compute_kpis" in tasks["assess_maturity"].upstream_task_ids, "claims are checked against KPIs"


def test_dag_file_imports_no_heavy_library(tmp_path) -> None:
    import os

    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'great_expectations', 'weasyprint', 'matplotlib', 'sqlalchemy_utils')"
        " or (m.startswith('pmopulse') and m not in LIGHT)]; print(','.join(sorted(heavy)))"
    ).replace("LIGHT", repr({"pmopulse", "pmopulse.maturity", "pmopulse.maturity.inbox",
                             "pmopulse.maturity.trigger", "pmopulse.deliver", "pmopulse.deliver.notify",
                             "pmopulse.schedule", "pmopulse.yamlfile", "pmopulse.errors"}))
    # With a config set, the assessment DAG builds its inbox watcher: still nothing heavy.
    # The monthly DAG reads the organisation's time zone from it: still nothing heavy.
    config = tmp_path / "pmopulse.yaml"
    config.write_text("organisation: {name: Org, timezone: Asia/Shanghai}\n", encoding="utf-8")
    env = {**os.environ, "PMOPULSE_CONFIG": str(config)}
    for dag_file in DAGS.glob("*.py"):
        out = subprocess.run([sys.executable, "-c", code, str(dag_file)], check=True,
                             capture_output=True, text=True, env=env).stdout.strip()
        assert out == "", f"{dag_file.name} imports {out} at parse time"


def test_assessment_dag_shape(dagbag) -> None:
    bag, _ = dagbag
    dag = bag.dags["pmo_maturity_assessment"]
    assert set(dag.params.keys()) == {"config", "answers_file", "business_unit", "as_of", "encoding",
                                      "resend"}
    (asset,) = dag.timetable.asset_condition.objects
    assert asset.name == "pmo_questionnaire_answers"
    assert asset.watchers == [], "without PMOPULSE_CONFIG the DAG is run by hand only"
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"intake", "score", "render", "deliver"}
    assert all(t.retries >= 1 for t in tasks.values())


@pytest.mark.parametrize("dag_id", ["pmo_monthly_governance", "pmo_maturity_assessment"])
def test_dags_are_safe_on_first_start(dagbag, dag_id: str) -> None:
    """Paused when they first appear (the first `docker compose up` mails nobody), owned,
    described, and no task runs without a time limit."""
    bag, _ = dagbag
    dag = bag.dags[dag_id]
    assert dag.is_paused_upon_creation is True
    assert dag.owner == "pmo-office"
    assert dag.description and len(dag.description) <= 100
    for task in dag.tasks:
        assert task.owner == "pmo-office", task.task_id
        assert task.execution_timeout is not None, f"{task.task_id} has no execution_timeout"
        assert task.execution_timeout <= dt.timedelta(hours=2), task.task_id


def test_monthly_schedule_runs_in_the_organisation_time_zone(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from pmopulse.config import load_config

    example = REPO / "config" / "pmopulse.example.yaml"
    monkeypatch.setenv("PMOPULSE_CONFIG", str(example))
    bag = DagBag(dag_folder=str(DAGS / "pmo_monthly_governance.py"))
    assert bag.import_errors == {}
    dag = bag.dags["pmo_monthly_governance"]
    zone = load_config(example).organisation.timezone
    assert zone == "Asia/Shanghai"
    assert dag.timetable.serialize()["expression"] == "0 6 1 * *"
    assert dag.timetable.serialize()["timezone"] == zone
    assert dag.start_date == pendulum.datetime(2026, 1, 1, tz=zone)
    # 06:00 on the 1st in Shanghai is 22:00 UTC on the last day of the month before.
    after = pendulum.datetime(2026, 10, 15, tz="UTC")
    info = dag.timetable.next_dagrun_info(last_automated_data_interval=None,
                                          restriction=TimeRestriction(after, None, True))
    assert info.run_after == pendulum.datetime(2026, 10, 31, 22, tz="UTC")


def test_a_config_without_a_valid_time_zone_names_the_key(tmp_path) -> None:
    from pmopulse.errors import ConfigError
    from pmopulse.schedule import organisation_timezone

    config = tmp_path / "pmopulse.yaml"
    config.write_text("organisation: {name: Org, timezone: Mars/Olympus}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"organisation\.timezone 'Mars/Olympus' is not a time zone"):
        organisation_timezone(str(config))
    assert organisation_timezone(str(tmp_path / "missing.yaml")) == "UTC"
    assert organisation_timezone("") == "UTC"
