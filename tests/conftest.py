"""Shared fixtures. Airflow's home is pointed at a throw-away folder before Airflow loads."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import DEMO_PERIOD, REPO, SERVER, Database, SmtpSink

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="pmopulse-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
for _name in [n for n in os.environ if n.startswith(("AIRFLOW_CONN_", "PMOPULSE_"))]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh Airflow metadata database in the session's throw-away AIRFLOW_HOME."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo organisation (40 projects, data through 2026-10) with its config."""
    from pmopulse.demo.config import build_demo_organisation

    folder = tmp_path_factory.mktemp("demo-org")
    build_demo_organisation(folder, projects=40, months=12, seed=7, as_of_month=DEMO_PERIOD)
    return folder


@pytest.fixture(scope="session")
def demo_reported(demo_org: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo organisation whose DEMO_PERIOD went through the real
    extract, validate and KPI stages: the KPI evidence a stand-alone assessment is checked
    against. Tests that write into it take `reported_copy`."""
    import shutil

    from pmopulse import pipeline
    from pmopulse.config import load_config
    from pmopulse.period import Period

    org = tmp_path_factory.mktemp("demo-reported") / "org"
    shutil.copytree(demo_org, org, ignore=shutil.ignore_patterns("artifacts"))
    config, period = load_config(org / "pmopulse.yaml"), Period.parse(DEMO_PERIOD)
    pipeline.extract(config, period)
    pipeline.validate(config, period)
    pipeline.compute_kpis(config, period)
    return org


@pytest.fixture(scope="session")
def demo_clean_tables(demo_reported: Path) -> dict:
    """The demo organisation's clean tables for DEMO_PERIOD, as validation handed them on."""
    import pandas as pd

    clean = demo_reported / "artifacts" / DEMO_PERIOD / "clean"
    return {p.stem: pd.read_parquet(p) for p in sorted(clean.glob("*.parquet"))}


@pytest.fixture
def reported_copy(demo_reported: Path, tmp_path: Path) -> Path:
    """A private copy of `demo_reported` (artifacts included) that a test may write into."""
    import shutil

    target = tmp_path / "org"
    shutil.copytree(demo_reported, target)
    return target


@pytest.fixture
def demo_copy(demo_org: Path, tmp_path: Path) -> Path:
    """A private copy of the demo organisation that a test may break or run into."""
    import shutil

    target = tmp_path / "org"
    shutil.copytree(demo_org, target, ignore=shutil.ignore_patterns("artifacts"))
    return target


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback, wired up as Airflow connection smtp_default."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink("127.0.0.1", port)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in sink.refuse:
                return f"550 5.1.1 <{address}>: mailbox unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if sink.busy:
                sink.busy -= 1
                return "451 4.3.0 try again later"
            sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 0},
    }))
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def db() -> Iterator[Database]:
    schema = f"pmopulse_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"postgresql+psycopg2://postgres@{SERVER}/test", poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(sa.schema.CreateSchema(schema))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {SERVER} (database test, user postgres) is needed: {exc.orig}")
    engine = sa.create_engine(f"postgresql+psycopg2://postgres@{SERVER}/test",
                              connect_args={"options": f"-csearch_path={schema}"},
                              poolclass=sa.pool.NullPool)
    try:
        yield Database(schema, engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


