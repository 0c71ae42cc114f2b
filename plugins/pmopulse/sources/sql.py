"""SQL source: any SQLAlchemy database, one SELECT per canonical table.

Queries take the period only as bound parameters (`:period` = "2026-10",
`:period_start` and `:period_end` as dates), never as text pasted into SQL. The session is
read-only on PostgreSQL, MySQL/MariaDB and SQLite, and its transaction is rolled back on
every database, so a query cannot change data by mistake (give the source a read-only
database account as well: a session setting is no security boundary).
The URL comes from an Airflow connection or an environment variable, so no password
lives in the config.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmopulse.contracts import Contract
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.db import create_engine, db_error, safe_url
from pmopulse.errors import SourceError
from pmopulse.period import Period
from pmopulse.sources import RawTable, cell_text

if TYPE_CHECKING:
    from pmopulse.config import SourceConfig
    from pmopulse.sources import SourceRequest


_CAST_AFTER_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)::")
"""`:period_start::date`: SQLAlchemy does not see a parameter directly followed by `::`."""


def period_parameters(period: Period) -> dict[str, object]:
    return {"period": str(period), "period_start": period.start, "period_end": period.end}


def read(source: SourceConfig, request: SourceRequest) -> list[RawTable]:
    return read_sql(source, request.contracts, request.period)


def read_sql(source: SourceConfig, contracts: dict[str, Contract],
             period: Period) -> list[RawTable]:
    import sqlalchemy as sa

    assert source.database is not None  # the config requires one for a SQL source
    what = f"source {source.name!r}"
    engine = create_engine(source.database.resolve(what), what)
    where = f"{what} ({safe_url(engine)})"
    available = period_parameters(period)
    tables: list[RawTable] = []
    try:
        with engine.connect() as connection:
            _read_only(connection)
            for name in contracts:
                mapping = source.tables.get(name)
                if mapping is None or not mapping.query:
                    continue
                statement = sa.text(_CAST_AFTER_PARAMETER.sub(r":\1 ::", mapping.query))
                wanted = set(statement.compile().params)
                if unknown := sorted(wanted - set(available)):
                    raise SourceError(
                        f"{where}: the query for table {name!r} uses parameter(s) "
                        f"{[':' + u for u in unknown]}; available are "
                        f"{[':' + a for a in available]}")
                origin = f"{where}, query for table {name!r}"
                try:
                    result = connection.execute(statement, {k: available[k] for k in wanted})
                    headers = list(map(str, result.keys()))
                    rows = [[cell_text(v) for v in row] for row in result]
                except sa.exc.DBAPIError as exc:
                    connection.rollback()
                    raise SourceError(f"{origin} failed: {db_error(exc)}") from None
                frame = pd.DataFrame(rows, columns=headers, dtype="str")
                # Result rows count from 1; there is no header row in a result set.
                frame[SOURCE_ROW] = range(1, len(frame) + 1)
                tables.append(RawTable(name, frame, origin, mapping))
            connection.rollback()
    except sa.exc.DBAPIError as exc:  # query failures are reported above; this is connecting
        raise SourceError(f"{where}: cannot connect ({db_error(exc)})") from None
    finally:
        engine.dispose()
    return tables


_READ_ONLY = {
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
    "sqlite": "PRAGMA query_only = ON",
}


def _read_only(connection: Any) -> None:
    """Make the session refuse writes, even after a COMMIT smuggled into a query."""
    import sqlalchemy as sa

    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execution_options(postgresql_readonly=True)
    elif dialect in _READ_ONLY:
        connection.execute(sa.text(_READ_ONLY[dialect]))
