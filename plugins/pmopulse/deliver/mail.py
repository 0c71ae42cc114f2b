"""Deliver mails through an Airflow SMTP connection, or to an outbox folder when none is set."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from pmopulse.errors import DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    sender: str
    to: tuple[str, ...]
    subject: str
    html: str
    attachments: tuple[Path, ...] = ()
    key: str = ""   # names the outbox file: period-report-recipient


def to_mime(mail: Mail, *, date: str | None = None) -> EmailMessage:
    """The mail as a MIME message: HTML body, each attachment as application/pdf."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = date or formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="pmopulse.local")
    message.set_content("This message is HTML; open it in a mail client that shows HTML.")
    message.add_alternative(mail.html, subtype="html")
    for path in mail.attachments:
        message.add_attachment(
            path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
    return message


def smtp_connection_exists(conn_id: str) -> bool:
    """True when Airflow knows the connection (env var, secrets backend or metadata DB)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def send_all(mails: list[Mail], *, smtp_conn_id: str, outbox: Path) -> list[dict[str, Any]]:
    """Send every mail; returns one record per recipient saying how it went out."""
    if smtp_connection_exists(smtp_conn_id):
        log.info("sending %d mail(s) through Airflow connection %r", len(mails), smtp_conn_id)
        return _send_smtp(mails, smtp_conn_id)
    log.info("no Airflow connection %r: writing %d mail(s) to outbox %s",
             smtp_conn_id, len(mails), outbox)
    return _write_outbox(mails, outbox)


def _send_smtp(mails: list[Mail], conn_id: str) -> list[dict[str, Any]]:
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    records = []
    try:
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            for mail in mails:
                hook.send_email_smtp(
                    to=list(mail.to), subject=mail.subject, html_content=mail.html,
                    from_email=mail.sender, files=[str(p) for p in mail.attachments],
                )
                records += [{"to": to, "subject": mail.subject, "via": f"smtp:{conn_id}"}
                            for to in mail.to]
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"SMTP delivery through connection {conn_id!r} failed after "
            f"{len(records)} recipient(s): {exc}"
        ) from exc
    return records


def _write_outbox(mails: list[Mail], outbox: Path) -> list[dict[str, Any]]:
    outbox.mkdir(parents=True, exist_ok=True)
    records = []
    for mail in mails:
        name = re.sub(r"[^A-Za-z0-9._@-]+", "_", mail.key or mail.subject)
        path = outbox / f"{name}.eml"
        path.write_bytes(bytes(to_mime(mail)))
        records += [{"to": to, "subject": mail.subject, "via": f"outbox:{path}"} for to in mail.to]
    return records
