"""Deliver mails through an Airflow SMTP connection, or to an outbox folder when none is set.

Each recipient's mail goes out once: with a delivery ledger, each mail is claimed there
before it is sent and confirmed after; what it records as sent for the run is skipped, and
so is a claim never confirmed (reported as unknown), unless a resend is asked for. A
transient SMTP failure (connection lost, a 4xx reply) is retried with backoff; a permanent
one (a 5xx reply, such as an unknown mailbox) is not. Nor is a connection that does not fit
the server (no STARTTLS offered, a TLS handshake that fails, a refused login): that fails
at once, naming the connection setting to change. One recipient's refusal never stops the
others: every mail is tried, every outcome recorded, and then a DeliveryError lists what
failed. Only when the server itself cannot be reached after the retries, or the connection
does not fit it, are the remaining mails not tried (each would fail the same way); they are
recorded as failed, to go out on the next try.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from pmopulse.errors import DeliveryError
from pmopulse.store.ledger import CLAIMED, CLAIMED_BY, Delivery, DeliveryLedger
from pmopulse.store.locks import Holder, may_be_running

log = logging.getLogger(__name__)


RETRY_DELAYS = (2.0, 10.0, 30.0)
"""Seconds to wait before each retry of a transient SMTP failure."""
UNREACHABLE = "the SMTP server could not be reached"
MISFIT = "the SMTP connection does not fit the server"
"""Starts the error of a connection that fails the same way for every mail (no retry)."""


@dataclass(frozen=True)
class Mail:
    sender: str
    to: tuple[str, ...]
    subject: str
    html: str
    attachments: tuple[Path, ...] = ()
    key: str = ""        # names the outbox file: period-report-language-recipient
    run: str = ""        # for the ledger: the period, or the assessment's id
    report: str = ""     # for the ledger: organisation, a business unit id, assessment, held-back
    language: str = ""


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


def send_all(mails: list[Mail], *, smtp_conn_id: str, outbox: Path,
             ledger: DeliveryLedger | None = None, resend: bool = False,
             claimant: str = "") -> list[dict[str, Any]]:
    """Send every mail to each of its recipients; one record per recipient saying how it went
    (status sent, failed, skipped: sent before, or unknown: claimed by a run that never
    confirmed it). With a ledger each mail is claimed there before it is sent, by `claimant`
    (who is sending: host, process, run). Raises DeliveryError when any failed."""
    smtp = smtp_connection_exists(smtp_conn_id)
    if smtp:
        log.info("sending %d mail(s) through Airflow connection %r", len(mails), smtp_conn_id)
    else:
        log.info("no Airflow connection %r: writing %d mail(s) to outbox %s",
                 smtp_conn_id, len(mails), outbox)
    claimant = claimant or str(Holder.this_process())
    records = []
    unreachable = ""  # set once the server could not be reached at all
    for mail in mails:
        for to in mail.to:
            one = replace(mail, to=(to,))
            if ledger is not None:
                held = ledger.claim(mail.run, mail.report, to, mail.language, by=claimant,
                                    resend=resend)
                if held is not None:
                    records.append(_not_sent(held, to, mail.subject))
                    continue
            error: str | None
            if unreachable:
                via, attempts, error = f"smtp:{smtp_conn_id}", 0, f"not tried: {unreachable}"
            elif smtp:
                via, attempts, error = _send_smtp(one, smtp_conn_id)
                if error and error.startswith((UNREACHABLE, MISFIT)):
                    unreachable = error
            else:
                via, attempts, error = _write_outbox(one, outbox)
            status = "failed" if error else "sent"
            if ledger is not None:
                ledger.record(Delivery(mail.run, mail.report, to, mail.language, status, via, attempts,
                                       error))
            records.append({"to": to, "subject": mail.subject, "via": via, "status": status,
                            **({"error": error} if error else {})})
    failed = [r for r in records if r["status"] == "failed"]
    if failed:
        raise DeliveryError(
            f"{len(failed)} of {len(records)} mail(s) could not be delivered (the others went out): "
            + "; ".join(f"{r['to']}: {r['error']}" for r in failed))
    return records


def _not_sent(held: Delivery, to: str, subject: str) -> dict[str, Any]:
    """The record of a mail the ledger stopped: sent before, or claimed and never confirmed."""
    if held.status != CLAIMED:
        return {"to": to, "subject": subject, "via": "ledger", "status": "skipped: sent before"}
    since = f"{held.recorded_at:%Y-%m-%d %H:%M:%S} UTC" if held.recorded_at else "an unknown time"
    holder = held.via.removeprefix(CLAIMED_BY)
    if held.recorded_at and may_be_running(holder, held.recorded_at):
        log.info("%s (%s): being sent by %s since %s", to, held.report, holder, since)
        return {"to": to, "subject": subject, "via": "ledger",
                "status": f"skipped: being sent by {holder} since {since}"}
    claim = (f"{held.via.removeprefix(CLAIMED_BY)} claimed it at {since} and never confirmed it: "
             "it was being sent at that moment or its run died while sending. Check whether "
             f"{to} received it; re-run with resend to send it again")
    log.warning("%s (%s): delivery unknown: %s", to, held.report, claim)
    return {"to": to, "subject": subject, "via": "ledger", "status": "unknown", "report": held.report,
            "error": claim}


def _send_smtp(mail: Mail, conn_id: str) -> tuple[str, int, str | None]:
    """(via, attempts, error or None). Retries transient failures with backoff. An error
    that starts with UNREACHABLE means no attempt reached the server at all; one that starts
    with MISFIT means the connection's settings do not fit the server (not retried)."""
    import smtplib
    import ssl

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk.exceptions import AirflowException

    via = f"smtp:{conn_id}"
    error = ""
    reached = False
    for attempt, delay in enumerate((0.0, *RETRY_DELAYS), start=1):
        if delay:
            log.warning("%s: %s; retrying in %.0f s", mail.to[0], error, delay)
            time.sleep(delay)
        hook = SmtpHook(smtp_conn_id=conn_id)
        try:
            with hook:
                hook.send_email_smtp(
                    to=list(mail.to), subject=mail.subject, html_content=mail.html,
                    from_email=mail.sender, files=[str(p) for p in mail.attachments],
                )
            return via, attempt, None
        except (smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError, ssl.SSLError) as exc:
            _close(hook)
            return via, attempt, _misfit(exc, hook, conn_id)
        except smtplib.SMTPRecipientsRefused as exc:
            reached = True
            code, reply = next(iter(exc.recipients.values()))
            error = f"refused by the server: {code} {_text(reply)}"
            if code >= 500:
                return via, attempt, error
        except smtplib.SMTPResponseException as exc:
            reached = True
            error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                return via, attempt, error
        except smtplib.SMTPException as exc:  # e.g. disconnected mid-session
            reached = True
            error = f"{type(exc).__name__}: {exc}"
        except (OSError, AirflowException) as exc:  # refused, timed out, no such host
            error = f"{type(exc).__name__}: {exc}"
    attempts = len(RETRY_DELAYS) + 1
    outcome = "gave up" if reached else UNREACHABLE
    return via, attempts, f"{outcome} after {attempts} attempts: {error}"


def _misfit(exc: Exception, hook: Any, conn_id: str) -> str:
    """What to change in the connection when the server cannot take it as set: these fail
    the same way on every attempt, so they are not retried."""
    import smtplib
    import ssl

    server = f"{hook.host}:{hook.port}" if getattr(hook, "smtp_connection", None) else "the server"
    where = f"in the extra of Airflow connection {conn_id!r}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        fix = (f"{server} refused the login ({exc.smtp_code} {_text(exc.smtp_error)}): check the "
               f"login and password of Airflow connection {conn_id!r} (some providers want an app "
               f"password, or \"auth_type\": \"oauth2\" {where})")
    elif isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(exc).upper():
        fix = (f"{server} does not offer STARTTLS: set \"disable_tls\": true {where} "
               f"(mail then crosses the network unencrypted), or use the server's TLS port "
               f"(465, with \"disable_ssl\": false)")
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        fix = (f"{server} does not support what the connection asks ({exc}): for AUTH, remove the "
               f"login and password from Airflow connection {conn_id!r} or use the port that "
               f"offers AUTH")
    elif isinstance(exc, ssl.SSLCertVerificationError):
        fix = (f"the certificate of {server} could not be verified ({exc.verify_message}): use "
               f"the host name the certificate names, or add its CA to the image's trust store")
    elif getattr(hook, "use_ssl", False):
        fix = (f"the TLS handshake with {server} failed ({exc}): the port does not speak TLS from "
               f"the start; for port 587 or 25 set \"disable_ssl\": true {where} (STARTTLS "
               f"still protects the mail), or use port 465")
    else:
        fix = (f"the STARTTLS handshake with {server} failed ({exc}): set \"disable_tls\": true "
               f"{where} only if the server cannot do TLS, or fix its TLS set-up")
    return f"{MISFIT}: {fix}"


def _close(hook: Any) -> None:
    """Close the socket the hook opened when its own set-up (STARTTLS, login) failed: the
    hook's __exit__ does not run then."""
    import smtplib

    client = getattr(hook, "_smtp_client", None)
    if client is not None:
        try:
            client.close()
        except (OSError, smtplib.SMTPException) as exc:
            log.debug("closing the SMTP connection: %s", exc)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _write_outbox(mail: Mail, outbox: Path) -> tuple[str, int, str | None]:
    outbox.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._@-]+", "_", mail.key or mail.subject)
    path = outbox / f"{name}.eml"
    path.write_bytes(bytes(to_mime(mail)))
    return f"outbox:{path}", 1, None
