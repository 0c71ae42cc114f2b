"""Shared fixtures. Airflow's home is pointed at a throw-away folder before Airflow loads."""

from __future__ import annotations

import email
import json
import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="pmopulse-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
for _name in [n for n in os.environ if n.startswith(("AIRFLOW_CONN_", "PMOPULSE_"))]:
    del os.environ[_name]

DEMO_PERIOD = "2026-10"


def pdf_text(path: Path) -> str:
    """The text a reader would copy out of the PDF (poppler's pdftotext)."""
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo organisation (40 projects, data through 2026-10) with its config."""
    from pmopulse.demo.config import write_demo_config
    from pmopulse.demo.generator import generate_demo

    folder = tmp_path_factory.mktemp("demo-org")
    manifest = generate_demo(folder, projects=40, months=12, seed=7, as_of_month=DEMO_PERIOD)
    write_demo_config(folder, list(manifest.business_units))
    return folder


@pytest.fixture
def demo_copy(demo_org: Path, tmp_path: Path) -> Path:
    """A private copy of the demo organisation that a test may break or run into."""
    import shutil

    target = tmp_path / "org"
    shutil.copytree(demo_org, target, ignore=shutil.ignore_patterns("artifacts"))
    return target


@dataclass
class SmtpSink:
    host: str
    port: int
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
            for _, _, content in self.envelopes
        ]


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback, wired up as Airflow connection smtp_default."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

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
