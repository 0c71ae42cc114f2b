"""The answers inbox: which files are taken, when, and that each is taken exactly once."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from pmopulse.maturity.inbox import CLAIMED, InboxWatch, landed_files, pending, release, slug


def _drop(path: Path, text: str = "respondent,item,answer\n", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_only_answer_exports_are_seen_and_a_sub_folder_names_the_business_unit(tmp_path: Path) -> None:
    _drop(tmp_path / "org.csv", mtime=1_700_000_000)
    _drop(tmp_path / "BU-NET" / "网络事业部.xlsx", mtime=1_700_000_100)
    for ignored in ("~$org.xlsx", ".hidden.csv", "notes.txt", "answers.xls"):
        _drop(tmp_path / ignored)
    _drop(tmp_path / CLAIMED / "taken.csv")

    found = landed_files(tmp_path)

    assert [(f.path.name, f.business_unit) for f in found] == [
        ("org.csv", None), ("网络事业部.xlsx", "BU-NET")]


def test_a_file_is_claimed_once_it_stops_changing_and_never_twice(tmp_path: Path) -> None:
    answers = _drop(tmp_path / "Q4 answers (PMO).csv", mtime=1_790_000_000)
    watch = InboxWatch(tmp_path)

    assert watch.poll() == []          # first sight: it may still be copying
    (claimed,) = watch.poll()          # unchanged since: taken

    assert claimed.name == "Q4 answers (PMO).csv" and claimed.business_unit is None
    assert claimed.payload()["received"] == "2026-09-21T14:13:20+00:00"  # the file's own time, UTC
    assert claimed.path == tmp_path / CLAIMED / "20260921T141320Z" / "Q4 answers (PMO).csv"
    assert claimed.path.read_text(encoding="utf-8") == "respondent,item,answer\n"
    assert not answers.exists()
    assert watch.poll() == [] and InboxWatch(tmp_path).poll() == []  # a restarted watcher too
    assert pending(tmp_path) == [claimed], "the claimed path alone says what the file is"

    release(claimed, tmp_path)
    assert pending(tmp_path) == [] and list((tmp_path / CLAIMED).iterdir()) == []


def test_a_file_still_being_written_waits_for_the_next_poll(tmp_path: Path) -> None:
    answers = _drop(tmp_path / "BU-NET" / "a.csv", "respondent,item", mtime=1_790_000_000)
    watch = InboxWatch(tmp_path)
    watch.poll()
    _drop(answers, "respondent,item,answer\nR1,GS-2.1-Q1,fully\n", mtime=1_790_000_005)

    assert watch.poll() == []
    (claimed,) = watch.poll()
    assert claimed.business_unit == "BU-NET"
    assert claimed.path.read_text(encoding="utf-8").endswith("fully\n")
    assert pending(tmp_path) == [claimed]


def test_two_files_with_one_name_and_time_are_both_kept(tmp_path: Path) -> None:
    watch = InboxWatch(tmp_path)
    _drop(tmp_path / "a.csv", "first", mtime=1_790_000_000)
    _drop(tmp_path / "BU1" / "a.csv", "second", mtime=1_790_000_000)
    watch.poll()
    claimed = watch.poll()
    assert sorted(str(c.path.relative_to(tmp_path / CLAIMED)) for c in claimed) == [
        "20260921T141320Z-2/a.csv", "20260921T141320Z/BU1/a.csv"]
    assert sorted((c.business_unit or "", c.path.read_text(encoding="utf-8")) for c in pending(tmp_path)) \
        == [("", "first"), ("BU1", "second")]


def test_a_missing_inbox_is_empty_not_an_error(tmp_path: Path) -> None:
    assert InboxWatch(tmp_path / "not-yet").poll() == []


@pytest.mark.parametrize(("name", "expected"), [
    ("评估 (Q4)", "评估-Q4"), ("../../etc/passwd", "etc-passwd"), ("***", "answers")])
def test_claimed_names_are_safe(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_the_trigger_yields_one_event_per_landed_file(tmp_path: Path) -> None:
    from pmopulse.maturity.trigger import AnswersInboxTrigger
    from support import minimal_config, write_config

    config = write_config(tmp_path, {**minimal_config([{"name": "s", "kind": "files", "path": "."}]),
                                     "assessment": {"inbox": "drop"}})
    _drop(tmp_path / "drop" / "BU1" / "answers.csv")
    trigger = AnswersInboxTrigger(config=str(config), poll_seconds=0.01)

    async def first_event() -> dict:  # the trigger runs for ever; take its first event
        events = trigger.run()
        try:
            return (await asyncio.wait_for(anext(events), timeout=10)).payload
        finally:
            await events.aclose()

    (payload,) = asyncio.run(first_event())["files"]
    assert payload["name"] == "answers.csv" and payload["business_unit"] == "BU1"
    assert Path(payload["file"]).parent.parent.parent == tmp_path / "drop" / CLAIMED
    # What Airflow stores to re-create the trigger in the triggerer.
    assert trigger.serialize() == ("pmopulse.maturity.trigger.AnswersInboxTrigger",
                                   {"config": str(config), "poll_seconds": 0.01})
