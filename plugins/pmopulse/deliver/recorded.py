"""Sending as the pipeline does it: through the configured connection or outbox, with every
outcome recorded in the delivery ledger of the config's history database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pmopulse.config import Config
from pmopulse.deliver.mail import Mail, send_all
from pmopulse.store.ledger import DeliveryLedger


def send_recorded(config: Config, mails: list[Mail], outbox: Path, *,
                  resend: bool = False) -> list[dict[str, Any]]:
    ledger = DeliveryLedger(config.history_db.resolve("delivery ledger"))
    try:
        return send_all(mails, smtp_conn_id=config.delivery.smtp_conn_id, outbox=outbox,
                        ledger=ledger, resend=resend)
    finally:
        ledger.close()
