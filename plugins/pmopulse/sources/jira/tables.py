"""Jira records as raw text tables under canonical column names, in Jira's own vocabulary.

Type and priority names stay as Jira writes them; the default translation goes into each
table's value maps, where a user's `tables.<table>.values` entry wins. A status is
translated here, row by row: a name is not enough, since each team-managed project has
its own workflow and two projects may both have a "Review" in different categories. The
user's map for the name wins; otherwise the category of the status id, as the issue (or
the changelog item) names it. Jira's own status names stay in the raw snapshot's
`*status_name` columns. Jira's
timestamps carry the account's zone offset (sprint dates are UTC); each is counted on its
day in the organisation's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from pmopulse.sources import local_day, week_start, with_default_values
from pmopulse.sources.mapping import TableMapping, translate_one

STATUS_CATEGORIES = {"new": "open", "indeterminate": "in_progress", "done": "closed"}
"""Jira's three status categories; each status id maps through the category it belongs to."""
DEFAULT_TYPES = {"Bug": "bug", "Story": "requirement", "Epic": "requirement", "Requirement": "requirement",
                 "Feature": "requirement", "Task": "task", "Sub-task": "task", "Subtask": "task",
                 "Incident": "incident", "Problem": "incident"}
DEFAULT_PRIORITIES = {"Highest": "critical", "High": "high", "Medium": "medium", "Low": "low",
                      "Lowest": "low"}

WORK_ITEM_COLUMNS = ("project", "key", "type", "priority", "status", "created", "resolved", "due",
                     "found_after_release", "status_name")
HISTORY_COLUMNS = ("project", "item", "seq", "changed", "from_status", "to_status", "author",
                   "from_status_name", "to_status_name")
STATUS_COLUMNS = {"work_items": ("status",), "work_item_history": ("from_status", "to_status")}
"""Columns the reader translates itself (per status id); their value maps are applied here."""
MILESTONE_COLUMNS = ("project", "id", "name", "is_gate", "baseline_date", "forecast_date", "actual_date")
TIMESHEET_COLUMNS = ("person", "project", "week", "hours")


def value_maps(user: Mapping[str, TableMapping]) -> dict[str, TableMapping]:
    """Each table's mapping: the defaults, then the user's value maps over them; without the
    status columns, which `StatusWords` has translated already."""
    defaults = {"work_items": {"type": DEFAULT_TYPES, "priority": DEFAULT_PRIORITIES}}
    maps = {table: with_default_values(user.get(table), defaults.get(table, {}))
            for table in ("work_items", "work_item_history", "milestones", "timesheets")}
    for table, columns in STATUS_COLUMNS.items():
        maps[table] = replace(maps[table], values={column: values for column, values
                                                   in maps[table].values.items() if column not in columns})
    return maps


class StatusWords:
    """Status names to canonical statuses: the user's map for the name, else the category
    of the status id (status id -> Jira category key in `categories`), else the name itself,
    which validation then reports."""

    def __init__(self, categories: Mapping[str, str], user: Mapping[str, TableMapping]) -> None:
        self.categories = categories
        items = user.get("work_items", TableMapping()).values.get("status", {})
        history = user.get("work_item_history", TableMapping()).values
        # History speaks the same status names: the work_items status map applies there too.
        self.user = {column: _folded({**items, **history.get(column, {})})
                     for column in ("from_status", "to_status")} | {"status": _folded(items)}

    def __call__(self, column: str, name: str | None, status_id: str | None,
                 category: str | None = None) -> str | None:
        """`category`: the one the issue itself shows for its current status, which wins."""
        if name is not None and (mapped := self.user[column].get(name.strip().casefold())):
            return mapped
        category = category or (self.categories.get(status_id) if status_id else None)
        return STATUS_CATEGORIES.get(category or "", name)

    def is_done(self, issue: Mapping[str, Any]) -> bool:
        return (issue["status_category"] or self.categories.get(issue["status_id"] or "")) == "done"


def _folded(value_map: Mapping[str, str]) -> dict[str, str]:
    return {k.strip().casefold(): v for k, v in value_map.items()}


def work_item_rows(issues: Iterable[Mapping[str, Any]], projects: Mapping[str, str],
                   type_map: Mapping[str, str], statuses: StatusWords, escaped_label: str,
                   zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per issue. Resolved is Jira's resolution date; a done issue without one (a
    team-managed workflow need not set a resolution) was resolved when it entered done."""
    escaped = escaped_label.strip().casefold()
    rows = []
    for issue in issues:
        is_bug = translate_one(issue["type"], type_map) == "bug"
        labels = {label.casefold() for label in issue["labels"]}
        resolved = issue["resolved"] or (issue.get("status_category_changed")
                                         if statuses.is_done(issue) else None)
        rows.append({
            "project": projects[issue["project"]], "key": issue["key"], "type": issue["type"],
            "priority": issue["priority"],
            "status": statuses("status", issue["status"], issue["status_id"], issue["status_category"]),
            "created": local_day(issue["created"], zone), "resolved": local_day(resolved, zone),
            "due": local_day(issue["due"], zone),
            "found_after_release": (escaped in labels) if is_bug else None,
            "status_name": issue["status"],
        })
    return rows


def history_rows(issues: Iterable[Mapping[str, Any]], projects: Mapping[str, str],
                 statuses: StatusWords, zone: ZoneInfo) -> list[dict[str, Any]]:
    return [{"project": projects[issue["project"]], "item": issue["key"], "seq": seq,
             "changed": local_day(change["changed"], zone),
             "from_status": statuses("from_status", change["from"], change["from_id"]),
             "to_status": statuses("to_status", change["to"], change["to_id"]), "author": change["author"],
             "from_status_name": change["from"], "to_status_name": change["to"]}
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
