"""Delivery: through a real SMTP server when the Airflow connection exists, else an outbox."""

from __future__ import annotations

import dataclasses
import email
import os
import socket
from email import policy
from pathlib import Path

import pytest
from pmopulse.deliver import mail as mail_module
from pmopulse.deliver.mail import Mail, send_all
from pmopulse.errors import DeliveryError
from pmopulse.store.ledger import DeliveryLedger
from support import SmtpSink


def _mail(tmp_path: Path) -> Mail:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7 test")
    return Mail(sender="PMO Pulse <pulse@acme.example>", to=("ceo@acme.example",),
                subject="Acme — governance report 2026-10 治理报告", html="<p>SPI 0.95</p>",
                attachments=(pdf,), key="2026-10-organisation-ceo@acme.example")


def test_smtp_connection_sends_through_the_server(tmp_path: Path, smtp_server: SmtpSink) -> None:
    records = send_all([_mail(tmp_path)], smtp_conn_id="smtp_default", outbox=tmp_path / "out")
    assert records == [{"to": "ceo@acme.example", "subject": _mail(tmp_path).subject,
                        "via": "smtp:smtp_default", "status": "sent"}]
    (message,) = smtp_server.messages
    assert message["Subject"] == "Acme — governance report 2026-10 治理报告"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.7 test"
    assert not (tmp_path / "out").exists()


def test_without_connection_mails_land_in_the_outbox(tmp_path: Path) -> None:
    records = send_all([_mail(tmp_path)], smtp_conn_id="smtp_default", outbox=tmp_path / "out")
    (eml,) = (tmp_path / "out").glob("*.eml")
    assert records[0]["via"] == f"outbox:{eml}"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ceo@acme.example"
    assert message.get_body(("html",)).get_content().strip() == "<p>SPI 0.95</p>"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf"


def _mails(tmp_path: Path, *recipients: str) -> list[Mail]:
    base = dataclasses.replace(_mail(tmp_path), run="2026-10", report="organisation", language="en")
    return [dataclasses.replace(base, to=(to,), key=f"2026-10-organisation-en-{to}") for to in recipients]


@pytest.fixture
def ledger(tmp_path: Path):
    store = DeliveryLedger(f"sqlite:///{tmp_path / 'history.sqlite'}")
    yield store
    store.close()


def test_a_rerun_sends_only_what_the_ledger_has_not_recorded(
    tmp_path: Path, smtp_server: SmtpSink, ledger: DeliveryLedger
) -> None:
    send_all(_mails(tmp_path, "ceo@acme.example"), smtp_conn_id="smtp_default", outbox=tmp_path / "o",
             ledger=ledger)
    records = send_all(_mails(tmp_path, "ceo@acme.example", "cto@acme.example"),
                       smtp_conn_id="smtp_default", outbox=tmp_path / "o", ledger=ledger)

    assert [(r["to"], r["status"]) for r in records] == [
        ("ceo@acme.example", "skipped: sent before"), ("cto@acme.example", "sent")]
    assert [tos for _, tos, _ in smtp_server.envelopes] == [["ceo@acme.example"], ["cto@acme.example"]]
    assert [(d.recipient, d.status, d.attempts) for d in ledger.entries("2026-10")] == [
        ("ceo@acme.example", "sent", 1), ("cto@acme.example", "sent", 1)]

    resent = send_all(_mails(tmp_path, "ceo@acme.example"), smtp_conn_id="smtp_default",
                      outbox=tmp_path / "o", ledger=ledger, resend=True)
    assert resent[0]["status"] == "sent" and len(smtp_server.envelopes) == 3


def test_a_refused_recipient_does_not_stop_the_others_and_is_reported(
    tmp_path: Path, smtp_server: SmtpSink, ledger: DeliveryLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail_module, "RETRY_DELAYS", (0.0, 0.0))
    smtp_server.refuse = {"gone@acme.example"}
    mails = _mails(tmp_path, "ceo@acme.example", "gone@acme.example", "cto@acme.example")

    with pytest.raises(DeliveryError, match=r"1 of 3 mail\(s\) could not be delivered \(the others "
                                            r"went out\): gone@acme.example: refused by the server: 550"):
        send_all(mails, smtp_conn_id="smtp_default", outbox=tmp_path / "o", ledger=ledger)

    assert sorted(tos[0] for _, tos, _ in smtp_server.envelopes) == ["ceo@acme.example", "cto@acme.example"]
    failed = {d.recipient: d for d in ledger.entries("2026-10") if d.status == "failed"}
    assert list(failed) == ["gone@acme.example"] and failed["gone@acme.example"].attempts == 1, \
        "a permanent refusal is not retried"
    assert "mailbox unknown" in (failed["gone@acme.example"].error or "")

    # The retry sends only the one that failed, once the address is fixed on the server.
    smtp_server.refuse = set()
    records = send_all(mails, smtp_conn_id="smtp_default", outbox=tmp_path / "o", ledger=ledger)
    assert [r["status"] for r in records] == ["skipped: sent before", "sent", "skipped: sent before"]


def test_a_busy_server_is_retried_with_backoff(
    tmp_path: Path, smtp_server: SmtpSink, ledger: DeliveryLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(mail_module, "RETRY_DELAYS", (1.0, 5.0, 25.0))
    monkeypatch.setattr(mail_module.time, "sleep", waits.append)
    smtp_server.busy = 2

    (record,) = send_all(_mails(tmp_path, "ceo@acme.example"), smtp_conn_id="smtp_default",
                         outbox=tmp_path / "o", ledger=ledger)

    assert record["status"] == "sent" and waits == [1.0, 5.0]
    assert ledger.entries("2026-10")[0].attempts == 3
    assert len(smtp_server.envelopes) == 1


def test_an_unreachable_server_stops_after_one_recipient_and_a_later_run_sends_everything(
    tmp_path: Path, smtp_server: SmtpSink, ledger: DeliveryLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(mail_module.time, "sleep", waits.append)
    mails = _mails(tmp_path, "ceo@acme.example", "cto@acme.example", "cfo@acme.example")
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    live = os.environ["AIRFLOW_CONN_SMTP_DEFAULT"]
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", live.replace(str(smtp_server.port), str(dead_port)))

    with pytest.raises(DeliveryError, match="3 of 3") as failure:
        send_all(mails, smtp_conn_id="smtp_default", outbox=tmp_path / "o", ledger=ledger)

    assert "could not be reached" in str(failure.value) and "ConnectionRefusedError" in str(failure.value)
    assert waits == list(mail_module.RETRY_DELAYS), "only the first recipient waits out the backoff"
    entries = {e.recipient: e for e in ledger.entries("2026-10")}
    assert entries["ceo@acme.example"].attempts == 4
    assert entries["cto@acme.example"].attempts == entries["cfo@acme.example"].attempts == 0
    assert all(e.status == "failed" for e in entries.values())

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", live)  # the server is back: the retry sends all
    records = send_all(mails, smtp_conn_id="smtp_default", outbox=tmp_path / "o", ledger=ledger)
    assert [r["status"] for r in records] == ["sent"] * 3
    assert sorted(to for _, tos, _ in smtp_server.envelopes for to in tos) == [
        "ceo@acme.example", "cfo@acme.example", "cto@acme.example"]
