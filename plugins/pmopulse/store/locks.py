"""One run per period: a lock row in the history database, so that it holds across
processes and hosts on SQLite and PostgreSQL alike.

A run inserts `period:<YYYY-MM>` into `pmopulse_locks` in its own transaction; the primary
key lets exactly one insert win. The row names its holder (host, process id, run id) and
when it was taken, and is deleted when the run ends, however it ends.

A lock is stale, and taken over, when its holder is gone: it was taken on this host by a
process that is no longer alive, or it is older than STALE_AFTER (a holder on another
host cannot be checked). A take-over deletes only the very row it judged stale, so two
runs that both find a dead holder still end with one winner.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from pmopulse.errors import PmoPulseError
from pmopulse.store.base import Store, metadata

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(hours=12)
"""A lock this old is taken over even when its holder cannot be checked (another host)."""
SENDING_PATIENCE = dt.timedelta(minutes=15)
"""A claim from another host this young may still be at work (a mail's retries take ~1 min)."""
WAIT_POLL = 5.0
"""Seconds between two tries of a run that waits for the lock."""

locks = sa.Table(
    "pmopulse_locks",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(300), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)


class LockBusy(PmoPulseError):
    """Another run holds the lock."""

    def __init__(self, name: str, holder: str, since: dt.datetime, table: str = locks.name):
        self.holder, self.since = holder, since
        what = name.replace(":", " ", 1)
        super().__init__(
            f"{what} is being run by {holder} since {since:%Y-%m-%d %H:%M:%S} UTC; wait for it "
            f"to finish or pass --wait. If that run is gone for good on another host, delete "
            f"the row {name!r} from the table {table} of the history database "
            f"(a lock is taken over after {STALE_AFTER.total_seconds() / 3600:g} hours)")


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    run_id: str

    @classmethod
    def this_process(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])

    def __str__(self) -> str:
        return f"{self.host} pid {self.pid} (run {self.run_id})"


def may_be_running(holder: str, since: dt.datetime, now: dt.datetime | None = None) -> bool:
    """Whether the run named `holder` (as Holder writes it) may still be at work: a process
    alive on this host other than this one, or on another host one that began less than
    SENDING_PATIENCE ago (it cannot be checked from here)."""
    match = re.fullmatch(r"(.+) pid (\d+) \(run \w+\)", holder)
    if match is None:
        return False
    host, pid = match[1], int(match[2])
    if host == socket.gethostname():
        return pid != os.getpid() and _alive(pid)
    return (now or dt.datetime.now(dt.UTC)) - _utc(since) < SENDING_PATIENCE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class LockStore(Store):
    what = "run lock table"

    def __init__(self, url: str, holder: Holder | None = None):
        super().__init__(url)
        self.holder = holder or Holder.this_process()

    def acquire(self, name: str, *, now: dt.datetime | None = None) -> None:
        """Take the lock `name` or raise LockBusy naming who holds it and since when."""
        busy: LockBusy | None = None
        for _ in range(3):  # a stale row deleted, then one more try (twice if another run raced us)
            moment = now or dt.datetime.now(dt.UTC)
            with self._errors():
                try:
                    with self.engine.begin() as connection:
                        connection.execute(locks.insert().values(
                            name=name, holder=str(self.holder), host=self.holder.host,
                            pid=self.holder.pid, acquired_at=moment))
                    return
                except sa.exc.IntegrityError:
                    pass  # held: by whom, and is it stale?
            held = self._row(name)
            if held is None:
                continue  # released meanwhile
            since = _utc(held.acquired_at)
            busy = LockBusy(name, held.holder, since)
            if not self._stale(held.host, held.pid, since, moment):
                raise busy
            log.warning("%s: taking over the stale lock of %s (since %s)", name, held.holder, since)
            with self._errors(), self.engine.begin() as connection:
                connection.execute(locks.delete().where(
                    (locks.c.name == name) & (locks.c.holder == held.holder)))
        raise busy or LockBusy(name, "another run", moment)

    def _row(self, name: str) -> sa.Row | None:
        with self._errors(), self.engine.connect() as connection:
            return connection.execute(sa.select(locks).where(locks.c.name == name)).first()

    def _stale(self, host: str, pid: int, since: dt.datetime, now: dt.datetime) -> bool:
        if now - since > STALE_AFTER:
            return True
        return host == self.holder.host and pid != self.holder.pid and not _alive(pid)

    def release(self, name: str) -> None:
        with self._errors(), self.engine.begin() as connection:
            connection.execute(locks.delete().where(
                (locks.c.name == name) & (locks.c.holder == str(self.holder))))

    @contextmanager
    def held(self, name: str, *, wait: bool = False) -> Iterator[None]:
        """The lock for the duration of the block; waits for it when `wait` is set."""
        while True:
            try:
                self.acquire(name)
                break
            except LockBusy as busy:
                if not wait:
                    raise
                log.info("%s is held by %s since %s; waiting", name, busy.holder, busy.since)
                time.sleep(WAIT_POLL)
        try:
            yield
        finally:
            self.release(name)


@contextmanager
def period_lock(url: str, period: object, *, wait: bool = False) -> Iterator[Holder]:
    """Hold the period's run lock in the history database at `url`."""
    store = LockStore(url)
    try:
        with store.held(f"period:{period}", wait=wait):
            yield store.holder
    finally:
        store.close()
