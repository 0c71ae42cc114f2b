"""The docker-compose topology without Docker: Airflow's API server, scheduler, DAG processor
and a Celery worker as separate processes, on a real PostgreSQL metadata database and a
real Redis broker on loopback. The monthly DAG is triggered through the REST API, runs on
the worker, and its mails reach a real SMTP server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import DEMO_PERIOD, REPO, SERVER, SmtpSink

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/0"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's metadata, dropped afterwards."""
    name = f"pmopulse_airflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"postgresql+psycopg2://postgres@{SERVER}/postgres",
                             isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {SERVER} (user postgres) is needed: {exc.orig}")
    try:
        yield f"postgresql+psycopg2://postgres@{SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _redis_up() -> None:
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.fail("Redis at 127.0.0.1:6379 is needed (.ci/run starts it)")


class Cluster:
    def __init__(self, env: dict[str, str], port: int, logs: Path):
        self.env, self.port, self.logs = env, port, logs
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> None:
        out = (self.logs / f"{name}.log").open("wb")
        self.processes.append(subprocess.Popen(["airflow", *args], env=self.env, stdout=out,
                                               stderr=subprocess.STDOUT, start_new_session=True))

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v2/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def wait(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        stopped: list[str] = []
        while time.monotonic() < deadline and not stopped:
            try:
                if ready():
                    return
            except OSError:
                pass
            stopped = [" ".join(p.args[1:3]) for p in self.processes if p.poll() is not None]
            time.sleep(2)
        tails = "\n".join(f"--- {log.name}\n" + "\n".join(
            log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
            for log in sorted(self.logs.glob("*.log")))
        reason = f"{', '.join(stopped)} stopped" if stopped else f"timed out after {timeout:.0f} s"
        pytest.fail(f"{reason} waiting for {what}\n{tails}")

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def cluster(metadata_db: str, demo_copy: Path, smtp_server: SmtpSink, tmp_path: Path) -> Iterator[Cluster]:
    _redis_up()
    dags = tmp_path / "dags"
    dags.mkdir()
    # The monthly DAG as shipped, except that the test triggers it instead of the cron
    # (otherwise unpausing it would also start the latest scheduled month).
    source = (REPO / "dags" / "pmo_monthly_governance.py").read_text(encoding="utf-8")
    shipped = 'schedule=CronTriggerTimetable("0 6 1 * *", timezone=TIMEZONE)'
    assert shipped in source
    (dags / "pmo_monthly_governance.py").write_text(source.replace(shipped, "schedule=None"),
                                                    encoding="utf-8")
    port, queue = _free_port(), f"pmopulse-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW__CELERY__BROKER_URL": REDIS,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_db,
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,   # this test's tasks only reach its worker
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "PMOPULSE_CONFIG": str(demo_copy / "pmopulse.yaml"),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    migrate = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    if migrate.returncode:
        pytest.fail(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}")
    running = Cluster(env, port, logs)
    try:
        running.start("api-server", "api-server", "--port", str(port))
        running.start("scheduler", "scheduler")
        running.start("dag-processor", "dag-processor")
        running.start("worker", "celery", "worker", "--queues", queue, "--concurrency", "2")
        running.wait("the API server, scheduler and DAG processor", lambda: all(
            part["status"] == "healthy" for name, part in running.api("GET", "monitor/health").items()
            if name in ("metadatabase", "scheduler", "dag_processor")), 180)
        yield running
    finally:
        running.stop()


def test_the_monthly_dag_runs_on_a_celery_worker_and_mails_every_audience(
    cluster: Cluster, smtp_server: SmtpSink, demo_copy: Path
) -> None:
    def parsed() -> bool:
        try:
            return cluster.api("GET", "dags/pmo_monthly_governance")["dag_id"] == "pmo_monthly_governance"
        except urllib.error.HTTPError:
            return False

    cluster.wait("the DAG to be parsed", parsed, 120)
    cluster.api("PATCH", "dags/pmo_monthly_governance", {"is_paused": False})
    run = cluster.api("POST", "dags/pmo_monthly_governance/dagRuns",
                      {"logical_date": None, "conf": {"period": DEMO_PERIOD}})
    path = f"dags/pmo_monthly_governance/dagRuns/{run['dag_run_id']}"
    cluster.wait("the run to finish", lambda: cluster.api("GET", path)["state"] in ("success", "failed"),
                 480)

    instances = cluster.api("GET", f"{path}/taskInstances")["task_instances"]
    assert cluster.api("GET", path)["state"] == "success", {
        (t["task_id"], t["map_index"]): t["state"] for t in instances}
    assert {t["queue"] for t in instances} == {cluster.env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]}
    assert {t["executor"] or "CeleryExecutor" for t in instances} == {"CeleryExecutor"}
    assert len([t for t in instances if t["task_id"] == "render_business_unit"]) == 3

    assert sorted(to for _, tos, _ in smtp_server.envelopes for to in tos) == [
        "ceo@acme.example", "cloud-head@acme.example", "cto@acme.example", "device-head@acme.example",
        "net-head@acme.example", *["pmo-lead@acme.example"] * 4]  # the organisation's and each unit's
    assert (demo_copy / "artifacts" / DEMO_PERIOD / "reports" /
            f"business-unit-BU-NET-{DEMO_PERIOD}.zh.pdf").is_file()
    shutil.rmtree(demo_copy / "artifacts" / DEMO_PERIOD / "raw")  # keep the tmp folder small
