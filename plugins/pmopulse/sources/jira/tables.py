"""Jira records as raw text tables under canonical column names, in Jira's own vocabulary.

Status, type and priority names stay as Jira writes them; the default translation goes
into each table's value maps, where a user's `tables.<table>.values` entry wins. Jira's
timestamps carry the account's zone offset (sprint dates are UTC); each is counted on its
day in the organisation's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from pmopulse.sources import local_day, week_start, with_default_values
from pmopulse.sources.mapping import TableMapping, translate_one

STATUS_CATEGORIES = {"new": "open", "indeterminate": "in_progress", "done": "closed"}
"""Jira's three status categories; each status name maps through the category it belongs to."""
DEFAULT_TYPES = {"Bug": "bug", "Story": "requirement", "Epic": "requirement", "Requirement": "requirement",
                 "Feature": "requirement", "Task": "task", "Sub-task": "task", "Subtask": "task",
                 "Incident": "incident", "Problem": "incident"}
DEFAULT_PRIORITIES = {"Highest": "critical", "High": "high", "Medium": "medium", "Low": "low",
                      "Lowest": "low"}

WORK_ITEM_COLUMNS = ("project", "key", "type", "priority", "status", "created", "resolved", "due",
                     "found_after_release")
HISTORY_COLUMNS = ("project", "item", "seq", "changed", "from_status", "to_status", "author")
MILESTONE_COLUMNS = ("project", "id", "name", "is_gate", "baseline_date", "forecast_date", "actual_date")
TIMESHEET_COLUMNS = ("person", "project", "week", "hours")


def value_maps(statuses: Mapping[str, str], user: Mapping[str, TableMapping]) -> dict[str, TableMapping]:
    """Each table's mapping: the defaults, then the user's value maps over them."""
    status_map = {name: STATUS_CATEGORIES[key] for name, key in statuses.items() if key in STATUS_CATEGORIES}
    user_status = user.get("work_items", TableMapping()).values.get("status", {})
    defaults = {
        "work_items": {"status": status_map, "type": DEFAULT_TYPES, "priority": DEFAULT_PRIORITIES},
        # History speaks the same status names: the work_items status map applies there too.
        "work_item_history": {"from_status": {**status_map, **user_status},
                              "to_status": {**status_map, **user_status}},
    }
    return {table: with_default_values(user.get(table), defaults.get(table, {}))
            for table in ("work_items", "work_item_history", "milestones", "timesheets")}


def work_item_rows(issues: Iterable[Mapping[str, Any]], projects: Mapping[str, str],
                   type_map: Mapping[str, str], escaped_label: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    escaped = escaped_label.strip().casefold()
    rows = []
    for issue in issues:
        is_bug = translate_one(issue["type"], type_map) == "bug"
        labels = {label.casefold() for label in issue["labels"]}
        rows.append({
            "project": projects[issue["project"]], "key": issue["key"], "type": issue["type"],
            "priority": issue["priority"], "status": issue["status"],
            "created": local_day(issue["created"], zone), "resolved": local_day(issue["resolved"], zone),
            "due": local_day(issue["due"], zone),
            "found_after_release": (escaped in labels) if is_bug else None,
        })
    return rows


def history_rows(issues: Iterable[Mapping[str, Any]], projects: Mapping[str, str],
                 zone: ZoneInfo) -> list[dict[str, Any]]:
    return [{"project": projects[issue["project"]], "item": issue["key"], "seq": seq,
             "changed": local_day(change["changed"], zone), "from_status": change["from"],
             "to_status": change["to"], "author": change["author"]}
            for issue in issues for seq, change in enumerate(issue["changes"], start=1)]


def timesheet_rows(issues: Iterable[Mapping[str, Any]], projects: Mapping[str, str],
                   person: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Worklogs summed per person, project and week (Monday of the day work started)."""
    seconds: dict[tuple[str | None, str, str], float] = defaultdict(float)
    for issue in issues:
        for log in issue["worklogs"]:
            started = local_day(log["started"], zone)
            if started is None:
                continue
            monday = week_start(dt.date.fromisoformat(started))
            who = log["author_id"] if person == "account_id" else log["author_name"]
            seconds[(who, projects[issue["project"]], monday.isoformat())] += float(log["seconds"])
    ordered = sorted(seconds.items(), key=lambda kv: tuple(part or "" for part in kv[0]))
    return [{"person": who, "project": project, "week": week, "hours": round(total / 3600, 4)}
            for (who, project, week), total in ordered]


def milestone_row(project: str, ident: str, name: str, baseline: str | None, forecast: str | None,
                  actual: str | None) -> dict[str, Any]:
    return {"project": project, "id": ident, "name": name, "is_gate": False, "baseline_date": baseline,
            "forecast_date": forecast, "actual_date": actual}



def key_order(key: str) -> tuple[str, int]:
    """ABC-9 before ABC-10."""
    match = re.match(r"^(.*?)-(\d+)$", key)
    return (match[1], int(match[2])) if match else (key, 0)
