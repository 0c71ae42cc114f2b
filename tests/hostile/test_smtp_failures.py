"""SMTP settings that cannot work fail at once and say which setting to change.

A server without STARTTLS, a TLS handshake on a plain port and a refused login fail the
same way on every attempt; retrying them only delays the failure (2 + 10 + 30 s per mail).
Each test runs a real SMTP server (aiosmtpd) on loopback and counts its connections.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pmopulse.deliver.mail import MISFIT, Mail, send_all
from pmopulse.errors import DeliveryError
from support import REPO


@dataclass
class Server:
    host: str
    port: int
    connections: int = 0
    delivered: int = 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(**options: Any) -> Iterator[Server]:
    """A plain SMTP server on loopback (no STARTTLS, no TLS on connect) that counts the
    connections it takes."""
    from aiosmtpd.controller import Controller

    seen = Server("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            seen.delivered += 1
            return "250 OK"

    class Counting(Controller):
        def factory(self):  # called once per connection
            seen.connections += 1
            return super().factory()

    controller = Counting(Handler(), hostname=seen.host, port=seen.port, **options)
    controller.start()
    seen.connections = 0  # the controller's own start-up probe
    try:
        yield seen
    finally:
        controller.stop()


@pytest.fixture
def server() -> Iterator[Server]:
    with _serve() as seen:
        yield seen


@pytest.fixture
def refusing_server() -> Iterator[Server]:
    """Asks for a login and refuses every one."""
    from aiosmtpd.smtp import AuthResult

    def refuse(server, session, envelope, mechanism, auth_data) -> AuthResult:
        return AuthResult(success=False, handled=False)

    with _serve(auth_required=True, auth_require_tls=False, authenticator=refuse) as seen:
        yield seen


def _connect(monkeypatch: pytest.MonkeyPatch, server: Server, **settings) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(
        {"conn_type": "smtp", "host": server.host, "port": server.port, **settings}))


def _readme_connection() -> dict:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"AIRFLOW_CONN_SMTP_DEFAULT='(\{.*?\})'", readme)
    assert match, "README.md shows an AIRFLOW_CONN_SMTP_DEFAULT example"
    return json.loads(match.group(1))


def _mails(tmp_path: Path, count: int = 3) -> list[Mail]:
    return [Mail(sender="pulse@org.example", to=(f"head{n}@org.example",), subject="Report",
                 html="<p>ok</p>", key=f"k{n}") for n in range(count)]


def _send(tmp_path: Path) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(DeliveryError) as failure:
        send_all(_mails(tmp_path), smtp_conn_id="smtp_default", outbox=tmp_path / "out")
    return str(failure.value), time.monotonic() - started


def test_the_readme_example_shows_disable_tls() -> None:
    extra = _readme_connection()["extra"]
    assert extra["disable_ssl"] is True and "disable_tls" in extra


def test_readme_example_on_a_server_without_starttls_fails_at_once(
        tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    example = _readme_connection()
    _connect(monkeypatch, server, login=example["login"], password=example["password"],
             extra=example["extra"])
    message, seconds = _send(tmp_path)
    assert server.connections == 1, "one try, and the other mails are not tried"
    assert seconds < 5
    assert f"{MISFIT}: 127.0.0.1:{server.port} does not offer STARTTLS" in message
    assert '"disable_tls": true in the extra of Airflow connection \'smtp_default\'' in message
    assert message.count("not tried") == 2 and server.delivered == 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_refused_login_fails_at_once_and_names_the_login(
        tmp_path: Path, refusing_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    server = refusing_server
    _connect(monkeypatch, server, login="pulse", password="wrong",
             extra={"disable_ssl": True, "disable_tls": True})
    message, seconds = _send(tmp_path)
    assert server.connections == 1 and seconds < 5
    assert f"{MISFIT}: 127.0.0.1:{server.port} refused the login (535" in message
    assert "check the login and password of Airflow connection 'smtp_default'" in message


def test_tls_on_connect_to_a_plain_port_fails_at_once_and_names_disable_ssl(
        tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    _connect(monkeypatch, server, extra={"timeout": 5})  # provider default: TLS from the start
    message, seconds = _send(tmp_path)
    assert server.connections == 1 and seconds < 5
    assert f"the TLS handshake with 127.0.0.1:{server.port} failed" in message
    assert '"disable_ssl": true in the extra of Airflow connection' in message


def test_a_fitting_connection_still_delivers(tmp_path: Path, server: Server,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _connect(monkeypatch, server, extra={"disable_ssl": True, "disable_tls": True})
    records = send_all(_mails(tmp_path), smtp_conn_id="smtp_default", outbox=tmp_path / "out")
    assert [r["status"] for r in records] == ["sent"] * 3 and server.delivered == 3
