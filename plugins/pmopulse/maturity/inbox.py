"""The questionnaire inbox: where answer exports land, and how a landed file is claimed.

Layout (the folder is `assessment.inbox` in pmopulse.yaml):

    inbox/answers.xlsx                 an organisation-wide assessment
    inbox/<business unit id>/x.csv     an assessment of that business unit
    inbox/.claimed/<received>/[<unit>/]<name>   taken, waiting to be scored

A file is taken once it has stopped changing between two polls, so an export that is still
being copied is not read half-written. Taking it is an atomic rename into `.claimed/`, so a
restarted watcher never takes a file twice. A claimed file's path says all about it (time
received, business unit, original name), so the DAG scores whatever is claimed, even when
Airflow folds two asset events into one run. Hidden files, Excel's `~$` lock files and
anything that is not CSV or XLSX are left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ANSWER_SUFFIXES = (".csv", ".xlsx")
CLAIMED = ".claimed"
STAMP = "%Y%m%dT%H%M%SZ"


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
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # moved away while the folder was listed: seen next poll, or gone
                found.append(Landed(path, unit, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.mtime_ns, str(f.path)))


def _subfolders(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(d for d in inbox.iterdir() if d.is_dir() and not d.name.startswith("."))


def _is_answers(path: Path) -> bool:
    return (path.is_file() and path.suffix.lower() in ANSWER_SUFFIXES
            and not path.name.startswith((".", "~$")))


@dataclass(frozen=True)
class Claimed:
    """A file taken from the inbox, waiting to be scored."""

    path: Path
    name: str                  # as it landed
    business_unit: str | None
    received: dt.datetime      # the file's own modification time, UTC

    def payload(self) -> dict[str, Any]:
        return {"file": str(self.path), "name": self.name, "business_unit": self.business_unit,
                "received": self.received.isoformat()}


def claim(landed: Landed, inbox: Path) -> Claimed:
    """Move a landed file to `.claimed/<received>/[<unit>/]<name>`.

    The time received is the file's own modification time, so the assessment's name does not
    depend on when the watcher happened to look.
    """
    received = dt.datetime.fromtimestamp(landed.mtime_ns / 1e9, tz=dt.UTC).replace(microsecond=0)
    stamp = f"{received:{STAMP}}"
    counter = 1
    while True:  # one folder per claim; mkdir is atomic, so two claims never share one
        slot = inbox / CLAIMED / (stamp if counter == 1 else f"{stamp}-{counter}")
        try:
            slot.mkdir(parents=True)
            break
        except FileExistsError:
            counter += 1
    folder = slot / landed.business_unit if landed.business_unit else slot
    folder.mkdir(exist_ok=True)
    try:
        os.rename(landed.path, folder / landed.path.name)  # atomic on one file system
    except FileNotFoundError:
        shutil.rmtree(slot)  # another watcher took it between the listing and the rename
        raise
    log.info("answers file %s claimed as %s", landed.path, folder / landed.path.name)
    return Claimed(folder / landed.path.name, landed.path.name, landed.business_unit, received)


def pending(inbox: Path) -> list[Claimed]:
    """Claimed files not yet taken in by an assessment, oldest first."""
    found = []
    root = inbox / CLAIMED
    for slot in sorted(root.iterdir()) if root.is_dir() else []:
        received = dt.datetime.strptime(slot.name.split("-")[0], STAMP).replace(tzinfo=dt.UTC)
        for path in sorted(slot.rglob("*")):
            if path.is_file():
                unit = path.parent.name if path.parent != slot else None
                found.append(Claimed(path, path.name, unit, received))
    return found


def release(claimed: Claimed, inbox: Path) -> None:
    """Forget a claimed file once its assessment keeps a copy."""
    claimed.path.unlink()
    slot = inbox / CLAIMED / claimed.path.relative_to(inbox / CLAIMED).parts[0]
    for folder in (claimed.path.parent, slot):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def slug(text: str) -> str:
    """A file-name-safe form that keeps CJK letters: '评估 (Q4).xlsx' -> '评估-Q4'."""
    cleaned = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return cleaned[:60] or "answers"


@dataclass
class InboxWatch:
    """Remembers what each poll saw, to take a file only once it has stopped changing."""

    inbox: Path
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def poll(self) -> list[Claimed]:
        """Claim every file unchanged since the previous poll, oldest first."""
        current = landed_files(self.inbox)
        claimed = []
        for landed in current:
            if self._seen.get(landed.path) == (landed.size, landed.mtime_ns):
                try:
                    claimed.append(claim(landed, self.inbox))
                except FileNotFoundError:
                    continue
        self._seen = {f.path: (f.size, f.mtime_ns) for f in current}
        return claimed
