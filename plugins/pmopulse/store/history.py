"""The history store: every period's KPI results, keyed by period, KPI, level and scope.

SQLite file by default, PostgreSQL (or any SQLAlchemy database) by URL. Re-running a
period replaces that period's rows in one transaction, so a period is never counted
twice and never half-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from pmopulse.kpis.engine import History, HistoryRow
from pmopulse.period import Period
from pmopulse.store.base import Store, metadata

kpi_results = sa.Table(
    "pmopulse_kpi_results",
    metadata,
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("kpi", sa.String(64), primary_key=True),
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("value", sa.Float, nullable=True),          # NULL: no data
    sa.Column("numerator", sa.Float, nullable=True),
    sa.Column("denominator", sa.Float, nullable=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("rag", sa.String(16), nullable=False),
)

_FIELDS = ("kpi", "level", "scope", "value", "numerator", "denominator", "records", "rag")


class HistoryStore(Store):
    """Read and write KPI history in one database."""

    def replace_period(self, period: Period, results: Iterable[Mapping[str, Any]]) -> int:
        """Store a period's results instead of whatever that period held; returns the row count."""
        rows = [{"period": str(period), **{k: r[k] for k in _FIELDS}} for r in results]
        with self._errors(), self.engine.begin() as connection:
            connection.execute(kpi_results.delete().where(kpi_results.c.period == str(period)))
            if rows:
                connection.execute(kpi_results.insert(), rows)
        return len(rows)

    def history(self, periods: Iterable[Period], levels: Iterable[str] | None = None) -> History:
        """Stored values of the given periods (all levels, or only those named)."""
        return History.from_rows(self._values(periods, levels))

    def _values(self, periods: Iterable[Period], levels: Iterable[str] | None = None) -> Sequence[HistoryRow]:
        query = sa.select(kpi_results.c.period, kpi_results.c.kpi, kpi_results.c.level,
                          kpi_results.c.scope, kpi_results.c.value).where(
            kpi_results.c.period.in_([str(p) for p in periods]))
        if levels is not None:
            query = query.where(kpi_results.c.level.in_(list(levels)))
        with self._errors(), self.engine.connect() as connection:
            # Rows unpacked by position, not by name: a month at 10,000 projects is 100,000 rows.
            return connection.execute(query).all()

    def rows(self, period: Period) -> list[dict[str, Any]]:
        """Everything stored for one period, in key order."""
        query = sa.select(kpi_results).where(kpi_results.c.period == str(period)).order_by(
            kpi_results.c.kpi, kpi_results.c.level, kpi_results.c.scope)
        with self._errors(), self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def trend_history(self, period: Period, months: int) -> History:
        """What earlier reports said: the month before in full (for month-over-month change
        per scope), the months before that for the trend lines (organisation and units)."""
        earlier = self._values(period.trailing(months)[:-2], levels=("organisation", "business_unit"))
        return History.from_rows([*earlier, *self._values([period.shift(-1)])])
