"""What every PMO Pulse table in the history database shares: one metadata, one engine per
store, and database failures as messages that name the store (password hidden)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from pmopulse.db import create_engine, db_error, safe_url
from pmopulse.errors import SourceError

metadata = sa.MetaData()


class Store:
    """A connection to the history database that creates its tables on first use."""

    what = "history store"

    def __init__(self, url: str):
        self.engine = create_engine(url, self.what)
        try:
            metadata.create_all(self.engine)
        except sa.exc.DBAPIError:
            # Two runs starting at once both find a table missing and both create it; the
            # second create fails. Its tables now exist: check again (and report what is left).
            with self._errors():
                metadata.create_all(self.engine)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A database that is down or refuses a write is a message, not a traceback."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise SourceError(f"{self.what} {safe_url(self.engine)}: {db_error(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()
