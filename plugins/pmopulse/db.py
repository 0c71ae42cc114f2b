"""Database references in the config (a URL, an environment variable, or an Airflow
connection) and engines made from them, with messages that never show a password."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmopulse.errors import ConfigError, SourceError

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass(frozen=True)
class DatabaseRef:
    """Exactly one of: a URL without password, the variable that holds a URL, a connection id."""

    url: str | None = None
    url_env: str | None = None
    conn_id: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> DatabaseRef:
        ref = cls(**{k: str(raw[k]) for k in ("url", "url_env", "conn_id") if raw.get(k)})
        given = [k for k in ("url", "url_env", "conn_id") if getattr(ref, k)]
        if len(given) != 1:
            raise ConfigError(f"{where}: set exactly one of url, url_env, conn_id (got {given})")
        if ref.url and _has_password(ref.url):
            raise ConfigError(f"{where}.url contains a password; put the URL in an Airflow "
                              "connection (conn_id) or an environment variable (url_env)")
        return ref

    @property
    def location(self) -> str:
        """Where the database is, safe to print: never the contents of a secret."""
        if self.conn_id:
            return f"Airflow connection {self.conn_id}"
        if self.url_env:
            return f"${self.url_env}"
        return str(self.url)

    def resolve(self, what: str) -> str:
        """The URL itself, from wherever the config says it is."""
        if self.url_env:
            url = os.environ.get(self.url_env)
            if not url:
                raise SourceError(f"{what}: environment variable {self.url_env} is not set; "
                                  "it must hold the database URL")
            return url
        if self.conn_id:
            from airflow.exceptions import AirflowNotFoundException
            from airflow.sdk import BaseHook

            try:
                uri = BaseHook.get_connection(self.conn_id).get_uri()
            except AirflowNotFoundException:
                raise SourceError(f"{what}: Airflow connection {self.conn_id!r} does not exist") from None
            # Airflow spells PostgreSQL "postgres://", which SQLAlchemy no longer accepts.
            return "postgresql://" + uri.removeprefix("postgres://") if uri.startswith("postgres://") else uri
        assert self.url is not None  # parse() guarantees one of the three
        return self.url


def hide_password(url: str) -> str:
    """`url` for messages and logs: a password in it (`https://user:token@host`) shown as ***."""
    return re.sub(r"^([\w+.-]+://[^@/:]*):[^@/]*@", r"\1:***@", url)


def _has_password(url: str) -> bool:
    match = re.match(r"^[\w+.-]+://([^@/]*)@", url)
    return bool(match and ":" in match[1])


def create_engine(url: str, what: str) -> sa.Engine:
    """An engine without a pool (runs are short and far apart)."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
        if parsed.drivername == "postgresql":
            # SQLAlchemy 2.1 defaults to psycopg 3; the driver this project installs is psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg2")
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError, ValueError) as exc:
        raise SourceError(f"{what}: unusable database URL ({exc})") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # SQLite creates its file but not the folder: a run that fails in its first task (and
        # mails about it) may come before anything else has made the artifacts folder.
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"{what}: cannot create the folder of {parsed.database}: "
                              f"{exc.strerror}") from None
    return engine


def safe_url(engine: sa.Engine) -> str:
    """The engine's URL for messages: no password, no query options (they may hold one)."""
    return engine.url.set(query={}).render_as_string(hide_password=True)


def db_error(exc: Exception) -> str:
    """The first line of the database's own message."""
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]
