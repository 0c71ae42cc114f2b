"""Delivery: through a real SMTP server when the Airflow connection exists, else an outbox."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from pmopulse.deliver.mail import Mail, send_all
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
                        "via": "smtp:smtp_default"}]
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
