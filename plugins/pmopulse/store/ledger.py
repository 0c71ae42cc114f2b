"""The delivery ledger: which report went to whom, so that every mail goes out once.

Keyed by run (a period such as 2026-10, or an assessment id), report (organisation, a
business unit id, assessment) and recipient. A retried or re-run delivery skips what the
ledger says was sent and sends the rest; asking for a resend sends again on purpose. It
lives in the history database, beside the KPI history.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pmopulse.store.base import Store, metadata

deliveries = sa.Table(
    "pmopulse_deliveries",
    metadata,
    sa.Column("run", sa.String(100), primary_key=True),
    sa.Column("report", sa.String(100), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),     # sent | failed
    sa.Column("via", sa.String(500), nullable=False),      # smtp:<conn id> or outbox:<file>
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


@dataclass(frozen=True)
class Delivery:
    run: str
    report: str
    recipient: str
    language: str
    status: str
    via: str
    attempts: int
    error: str | None = None


class DeliveryLedger(Store):
    what = "delivery ledger"

    def sent(self, run: str) -> set[tuple[str, str]]:
        """(report, recipient) pairs of `run` that went out."""
        query = sa.select(deliveries.c.report, deliveries.c.recipient).where(
            deliveries.c.run == run, deliveries.c.status == "sent")
        with self._errors(), self.engine.connect() as connection:
            return {(r.report, r.recipient) for r in connection.execute(query)}

    def record(self, delivery: Delivery) -> None:
        """Write how one mail went, replacing an earlier attempt's record."""
        key = (deliveries.c.run == delivery.run) & (deliveries.c.report == delivery.report) & (
            deliveries.c.recipient == delivery.recipient)
        with self._errors(), self.engine.begin() as connection:
            connection.execute(deliveries.delete().where(key))
            connection.execute(deliveries.insert(), [delivery.__dict__])

    def entries(self, run: str) -> list[Delivery]:
        query = sa.select(*[deliveries.c[f] for f in Delivery.__dataclass_fields__]).where(
            deliveries.c.run == run).order_by(deliveries.c.report, deliveries.c.recipient)
        with self._errors(), self.engine.connect() as connection:
            return [Delivery(**r._mapping) for r in connection.execute(query)]
