"""The delivery ledger: which report went to whom, so that every mail goes out once.

Keyed by run (a period such as 2026-10, or an assessment id), report (organisation, a
business unit id, assessment) and recipient (lower-case, trimmed). A retried or re-run
delivery skips what the ledger says was sent and sends the rest; asking for a resend sends
again on purpose. It lives in the history database, beside the KPI history.

Each mail is claimed before it is sent and confirmed (sent or failed) after. The claim is
an insert (or a compare-and-set update of a failed row) on the primary key, so of two
deliveries running at once exactly one sends each mail. A claim never confirmed — the
process died between claim and confirm — is "unknown": the mail may or may not have gone
out. It is reported, and not sent again unless a resend is asked for.
"""

from __future__ import annotations

import datetime as dt
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
    sa.Column("status", sa.String(8), nullable=False),     # claimed | sent | failed
    sa.Column("via", sa.String(500), nullable=False),      # smtp:<id>, outbox:<file>, claimed by <holder>
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
    recorded_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "recipient", normalised(self.recipient))


CLAIMED = "claimed"
CLAIMED_BY = "claimed by "


def normalised(address: str) -> str:
    """A recipient as the ledger keys it: trimmed, lower case."""
    return address.strip().lower()


def _key(delivery: Delivery) -> sa.ColumnElement[bool]:
    return (deliveries.c.run == delivery.run) & (deliveries.c.report == delivery.report) & (
        deliveries.c.recipient == delivery.recipient)


_FIELDS = [deliveries.c[f] for f in Delivery.__dataclass_fields__]


class DeliveryLedger(Store):
    what = "delivery ledger"

    def claim(self, run: str, report: str, recipient: str, language: str, *, by: str,
              resend: bool = False) -> Delivery | None:
        """Claim one mail for sending by `by` (a run's holder). None: the mail is ours to
        send. Otherwise the record that stops us: sent before, or claimed and never
        confirmed (unknown). A failed mail is always taken; a resend takes any."""
        claim = Delivery(run, report, recipient, language, CLAIMED, CLAIMED_BY + by, 0, None,
                         dt.datetime.now(dt.UTC))
        with self._errors():
            try:
                with self.engine.begin() as connection:
                    connection.execute(deliveries.insert(), [claim.__dict__])
                return None
            except sa.exc.IntegrityError:
                pass  # claimed, sent or failed before: see below
        existing = self.entry(claim)
        if existing is None:  # only a person deletes rows; claim it again
            return self.claim(run, report, recipient, language, by=by, resend=resend)
        if existing.status != "failed" and not resend:
            return existing
        # Take the row over only as we read it: of two runs doing this, one wins.
        with self._errors(), self.engine.begin() as connection:
            taken = connection.execute(deliveries.update().where(
                _key(claim) & (deliveries.c.status == existing.status)
                & (deliveries.c.via == existing.via) & (deliveries.c.attempts == existing.attempts)
            ).values(status=CLAIMED, via=claim.via, attempts=0, error=None, language=language,
                     recorded_at=claim.recorded_at)).rowcount
        return None if taken == 1 else self.entry(claim)

    def record(self, delivery: Delivery) -> None:
        """Confirm how one mail went, replacing its claim (or an earlier attempt's record)."""
        row = {**delivery.__dict__, "recorded_at": delivery.recorded_at or dt.datetime.now(dt.UTC)}
        with self._errors(), self.engine.begin() as connection:
            connection.execute(deliveries.delete().where(_key(delivery)))
            connection.execute(deliveries.insert(), [row])

    def entry(self, delivery: Delivery) -> Delivery | None:
        with self._errors(), self.engine.connect() as connection:
            row = connection.execute(sa.select(*_FIELDS).where(_key(delivery))).first()
        return None if row is None else Delivery(**row._mapping)

    def entries(self, run: str) -> list[Delivery]:
        query = sa.select(*_FIELDS).where(
            deliveries.c.run == run).order_by(deliveries.c.report, deliveries.c.recipient)
        with self._errors(), self.engine.connect() as connection:
            return [Delivery(**r._mapping) for r in connection.execute(query)]
