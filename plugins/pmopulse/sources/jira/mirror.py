"""What a Jira source remembers between runs, in its state folder.

The mirror holds, per issue, only what the tables need (fields, status changes, worklogs),
plus what Jira does not keep or a pull may not show again: the first release or end date
seen for each version and sprint (the baseline), and the category of every status id seen.
An incremental pull asks only for issues updated since the newest `updated` in the mirror,
less a margin, and merges them in. Issues are kept by id, not key: an issue moved to
another project keeps its id and gets a new key, and must replace itself, history and
worklogs included, instead of counting twice. An overlap is harmless for the same reason.

Statuses are kept by id because each team-managed project has its own workflow: two
projects may both have a "Review", one done and one in progress, with different ids.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmopulse.errors import SourceError

log = logging.getLogger(__name__)

MIRROR_FILE = "jira_mirror.json"
FORMAT = 2
"""1 kept issues by key and statuses by name: its issues are pulled again, its baselines kept."""
WATERMARK_MARGIN = dt.timedelta(days=1)
"""JQL compares minutes in the account's time zone, and search results lag edits a little:
asking a day further back costs a few issues again and misses none."""
TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f%z"


@dataclass
class Mirror:
    scope: str                                                      # site, JQL and options it holds
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue id -> issue_record
    baselines: dict[str, str] = field(default_factory=dict)          # milestone id -> first date seen
    statuses: dict[str, str] = field(default_factory=dict)           # status id -> category key

    @classmethod
    def load(cls, folder: Path, scope: str) -> Mirror | None:
        """The mirror of this scope; None (pull everything) when there is none or it is for
        another scope. Remembered baselines and statuses outlive a change of scope."""
        path = folder / MIRROR_FILE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{path}: the Jira mirror cannot be read ({exc}); delete the file to "
                              "pull everything again (release baselines seen so far are lost)") from None
        if data.get("format") != FORMAT:
            log.info("the Jira mirror %s has an older format; pulling every issue again (the "
                     "remembered baselines stay)", path)
            return cls(scope, baselines=dict(data.get("baselines") or {}))
        mirror = cls(str(data.get("scope")), dict(data.get("issues") or {}),
                     dict(data.get("baselines") or {}), dict(data.get("statuses") or {}))
        if mirror.scope != scope:
            log.info("the Jira mirror %s was pulled for %s; pulling %s in full", path, mirror.scope, scope)
            mirror.scope, mirror.issues = scope, {}
        return mirror

    def save(self, folder: Path) -> Path:
        """Write atomically: a run that dies half-way leaves the previous mirror whole."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MIRROR_FILE
        data = {"format": FORMAT, "scope": self.scope, "issues": self.issues,
                "baselines": self.baselines, "statuses": self.statuses}
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{MIRROR_FILE}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, sort_keys=True)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path

    def watermark(self) -> str | None:
        """The JQL date to ask `updated >=` from: the newest `updated` in the mirror (on the
        server's clock, so no `now()` is needed) less the margin; None without issues."""
        stamps = [timestamp(i["updated"]) for i in self.issues.values() if i.get("updated")]
        if not stamps:
            return None
        newest = max(stamps)
        # Its wall clock as Jira wrote it, i.e. in the account's zone, which is how JQL reads it.
        return (newest - WATERMARK_MARGIN).strftime("%Y-%m-%d %H:%M")


def timestamp(text: str) -> dt.datetime:
    """A Jira timestamp such as 2026-10-05T09:15:22.123+0800."""
    try:
        return dt.datetime.strptime(text, TIMESTAMP)
    except ValueError:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def issue_record(issue: Mapping[str, Any], histories: list[dict[str, Any]],
                 worklogs: list[dict[str, Any]], where: str) -> dict[str, Any]:
    """The part of a search result (and its full changelog and worklogs) the tables use."""
    fields = issue.get("fields") or {}
    ident, key, project = issue.get("id"), issue.get("key"), (fields.get("project") or {}).get("key")
    if not ident or not key or not project:
        raise SourceError(f"{where}: the search answered an issue without id, key or project "
                          f"(id {ident!r}, key {key!r}); is the site a Jira Cloud site?")
    status = fields.get("status") or {}
    return {
        "id": str(ident),
        "key": key,
        "project": project,
        "type": _name(fields.get("issuetype")),
        "priority": _name(fields.get("priority")),
        "status": status.get("name"),
        "status_id": _text(status.get("id")),
        "status_category": (status.get("statusCategory") or {}).get("key"),
        "status_category_changed": fields.get("statuscategorychangedate"),
        "created": fields.get("created"),
        "updated": fields.get("updated"),
        "resolved": fields.get("resolutiondate"),
        "due": fields.get("duedate"),
        "labels": list(fields.get("labels") or []),
        "changes": status_changes(histories),
        "worklogs": [{"author_id": (w.get("author") or {}).get("accountId"),
                      "author_name": (w.get("author") or {}).get("displayName"),
                      "started": w.get("started"), "seconds": w.get("timeSpentSeconds") or 0}
                     for w in worklogs],
    }


def status_changes(histories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status transitions of a changelog, oldest first (Jira does not promise an order):
    the status names as written then, and the status ids (`from`/`to`) that say their category."""
    ordered = sorted((h for h in histories if h.get("created")),
                     key=lambda h: (timestamp(h["created"]), int(h.get("id") or 0)))
    return [{"changed": h["created"], "author": (h.get("author") or {}).get("displayName"),
             "from": item.get("fromString"), "to": item.get("toString"),
             "from_id": _text(item.get("from")), "to_id": _text(item.get("to"))}
            for h in ordered for item in h.get("items") or []
            if (item.get("fieldId") or item.get("field")) == "status"]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, Mapping) else None
