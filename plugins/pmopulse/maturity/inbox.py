"""The questionnaire inbox: where answer exports land, and how a landed file is claimed.

Layout (the folder is `assessment.inbox` in pmopulse.yaml):

    inbox/answers.xlsx            an organisation-wide assessment
    inbox/<business unit id>/x.csv   an assessment of that business unit
    inbox/.claimed/               files taken for scoring (moved here, never read twice)

A file is taken once it has stopped changing between two polls, so an export that is still
being copied is not read half-written. Taking it is an atomic rename into `.claimed/`, so a
restarted watcher never fires twice for one file. Hidden files, Excel's `~$` lock files and
anything that is not CSV or XLSX are left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ANSWER_SUFFIXES = (".csv", ".xlsx")
CLAIMED = ".claimed"


@dataclass(frozen=True)
class Landed:
    path: Path
    business_unit: str | None   # the sub-folder it landed in, if any
    size: int
    mtime_ns: int


def landed_files(inbox: Path) -> list[Landed]:
    """Answer files in the inbox and its business-unit sub-folders, oldest first."""
    found: list[Landed] = []
    for folder, unit in [(inbox, None), *((d, d.name) for d in _subfolders(inbox))]:
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if _is_answers(path):
                stat = path.stat()
                found.append(Landed(path, unit, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.mtime_ns, str(f.path)))


def _subfolders(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(d for d in inbox.iterdir() if d.is_dir() and not d.name.startswith("."))


def _is_answers(path: Path) -> bool:
    return (path.is_file() and path.suffix.lower() in ANSWER_SUFFIXES
            and not path.name.startswith((".", "~$")))


def claim(landed: Landed, inbox: Path) -> dict[str, Any]:
    """Move a landed file into `.claimed/` under a unique name; the event payload for it.

    `received` is the file's own modification time (UTC), so the assessment's name does not
    depend on when the watcher happened to look.
    """
    received = dt.datetime.fromtimestamp(landed.mtime_ns / 1e9, tz=dt.UTC).replace(microsecond=0)
    stem = f"{received:%Y%m%dT%H%M%SZ}-{slug(landed.path.stem)}"
    claimed_dir = inbox / CLAIMED
    claimed_dir.mkdir(parents=True, exist_ok=True)
    target = claimed_dir / f"{stem}{landed.path.suffix.lower()}"
    counter = 1
    while target.exists():
        counter += 1
        target = claimed_dir / f"{stem}-{counter}{landed.path.suffix.lower()}"
    os.rename(landed.path, target)  # atomic on one file system: a second watcher finds nothing
    log.info("answers file %s claimed as %s", landed.path, target)
    return {"file": str(target), "name": landed.path.name, "business_unit": landed.business_unit,
            "received": received.isoformat()}


def slug(text: str) -> str:
    """A file-name-safe form that keeps CJK letters: '评估 (Q4).xlsx' -> '评估-Q4'."""
    cleaned = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return cleaned[:60] or "answers"


@dataclass
class InboxWatch:
    """Remembers what each poll saw, to take a file only once it has stopped changing."""

    inbox: Path
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def poll(self) -> list[dict[str, Any]]:
        """Claim every file unchanged since the previous poll; the payloads, oldest first."""
        current = landed_files(self.inbox)
        payloads = []
        for landed in current:
            if self._seen.get(landed.path) == (landed.size, landed.mtime_ns):
                try:
                    payloads.append(claim(landed, self.inbox))
                except FileNotFoundError:
                    continue  # another watcher took it between the listing and the rename
        self._seen = {f.path: (f.size, f.mtime_ns) for f in current}
        return payloads
