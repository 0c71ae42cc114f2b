"""The Airflow event trigger that turns a landed answers file into an asset event.

It runs in the triggerer, for as long as the DAG `pmo_maturity_assessment` watches the
asset: every `poll_seconds` it reads the inbox folder from pmopulse.yaml (so a changed inbox
needs no restart), claims files that have stopped changing (see `inbox.py`) and yields one
event for the files claimed in that poll; its payload names each file, its original name,
business unit and time received (for the logs and the UI: the DAG scores what is claimed).

Airflow's own FileDeleteTrigger deletes the file it finds; answers must not be lost, so they
are moved aside instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from pmopulse.maturity.inbox import InboxWatch

DEFAULT_POLL_SECONDS = 10.0


class AnswersInboxTrigger(BaseEventTrigger):
    def __init__(self, *, config: str, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        super().__init__()
        self.config = config
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"config": self.config, "poll_seconds": self.poll_seconds})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watch: InboxWatch | None = None
        while True:
            inbox = await anyio.to_thread.run_sync(self._inbox)
            if inbox is not None:
                if watch is None or watch.inbox != inbox:
                    self.log.info("watching %s for questionnaire answers (CSV or XLSX)", inbox)
                    watch = InboxWatch(inbox)
                claimed = await anyio.to_thread.run_sync(watch.poll)
                if claimed:
                    # One event per poll: Airflow may fold events that arrive together into
                    # one run, and the run scores everything claimed anyway.
                    yield TriggerEvent({"files": [c.payload() for c in claimed]})
            await asyncio.sleep(self.poll_seconds)

    def _inbox(self) -> Path | None:
        from pmopulse.config import load_config
        from pmopulse.errors import PmoPulseError

        try:
            inbox = load_config(self.config).assessment_inbox
            inbox.mkdir(parents=True, exist_ok=True)  # so people find where to put answers
        except (PmoPulseError, OSError) as exc:  # keep watching: the next poll reads the fixed config
            self.log.error("cannot watch the answers inbox of %s: %s", self.config, exc)
            return None
        return inbox
