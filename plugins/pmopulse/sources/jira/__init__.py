"""Jira Cloud source (REST API v3): issues, their status history, versions and sprints as
milestones, and worklogs as timesheets.

A pull asks the search for the configured projects' issues: all of them the first time or
on a refresh, afterwards only those updated since the last pull (see `mirror`). What it
got is merged into the mirror kept in the source's state folder, by issue id (a moved
issue keeps its id), which is written only when the whole pull succeeded, and the tables
are built from the mirror. A full pull also drops the issues the server no longer returns,
so a refresh notices deleted issues and issues moved out of the configured projects.
Versions and sprints are few and always read in full.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pmopulse.sources import RawTable, check_value_maps_only, local_day, record_frame
from pmopulse.sources.http import ApiClient, SourceSite, connection_credentials
from pmopulse.sources.jira.api import JiraApi
from pmopulse.sources.jira.mirror import Mirror, issue_record
from pmopulse.sources.jira.options import TABLES, JiraOptions
from pmopulse.sources.jira.tables import (
    HISTORY_COLUMNS,
    MILESTONE_COLUMNS,
    TIMESHEET_COLUMNS,
    WORK_ITEM_COLUMNS,
    StatusWords,
    history_rows,
    key_order,
    milestone_row,
    timesheet_rows,
    value_maps,
    work_item_rows,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from pmopulse.config import SourceConfig
    from pmopulse.sources import SourceRequest

log = logging.getLogger(__name__)


def read(source: SourceConfig, request: SourceRequest) -> list[RawTable]:
    return read_jira(source, request)


def read_jira(source: SourceConfig, request: SourceRequest, *,
              sleep: Callable[[float], None] = time.sleep) -> list[RawTable]:
    """Pull the source's projects and return the Jira tables the request asks for."""
    where = f"sources[{source.name}]"
    options = JiraOptions.parse(source.options, f"{where}.options")
    check_value_maps_only(source, TABLES)
    wanted = [t for t in TABLES if t in request.contracts]
    if not wanted:
        return []
    located = SourceSite(f"source {source.name!r} (Jira)", (source.site or "").rstrip("/"),
                         tuple(sorted(source.projects)), str(source.conn_id), f"{where}.options")
    what = located.source
    credentials = connection_credentials(located.conn_id, str(located))
    site = located.site or credentials.host.rstrip("/")
    located = replace(located, site=site)
    client = ApiClient(located, auth=(credentials.login or "", credentials.password or ""),
                       settings=options.http, sleep=sleep)
    if not credentials.login or not credentials.password:
        raise client.error("the connection needs the Atlassian account e-mail as login and an API "
                           "token as password")
    api = JiraApi(client, options.page_size)
    keys = sorted(source.projects) or api.project_keys()
    if not keys:
        raise client.error("the site shows these credentials no project; list the project keys "
                           f"under {where}.projects or give the account permission to browse them")
    projects = dict(source.projects) or {key: key for key in keys}

    scope = " AND ".join([f"project in ({', '.join(_quoted(k) for k in keys)})",
                          *([f"({options.jql})"] if options.jql else [])])
    held = f"{site} | {scope} | worklogs={options.worklogs}"
    previous = Mirror.load(request.state_dir, held) or Mirror(held)
    issues, pulled_how = _pull_issues(api, previous, scope, options, refresh=request.refresh,
                                      hint=f"project {', '.join(keys)}", what=what)
    statuses = _status_categories(api, previous.statuses, issues)
    if "milestones" in wanted:
        milestones, baselines, skipped = _milestones(api, keys, projects, previous.baselines,
                                                     options.sprints, what, request.zone)
    else:
        milestones, baselines, skipped = [], previous.baselines, 0
    Mirror(previous.scope, issues, baselines, statuses).save(request.state_dir)

    in_scope = sorted((i for i in issues.values() if i["project"] in projects),
                      key=lambda i: key_order(i["key"]))
    maps = value_maps(source.tables)
    words = StatusWords(statuses, source.tables)
    origin = f"Jira {site}, project(s) {', '.join(keys)}"
    rows = {
        "work_items": (work_item_rows(in_scope, projects, maps["work_items"].values["type"], words,
                                      options.escaped_label, request.zone),
                       WORK_ITEM_COLUMNS, f"issues ({pulled_how})"),
        "work_item_history": (history_rows(in_scope, projects, words, request.zone), HISTORY_COLUMNS,
                              "status changes"),
        "milestones": (milestones, MILESTONE_COLUMNS,
                       f"versions and sprints, {skipped} without a date or abandoned skipped"),
        "timesheets": (timesheet_rows(in_scope, projects, options.person, request.zone), TIMESHEET_COLUMNS,
                       "worklogs per person and week"),
    }
    return [RawTable(table, record_frame(rows[table][0], rows[table][1]), f"{origin}: {rows[table][2]}",
                     maps[table])
            for table in wanted if table != "timesheets" or options.worklogs]


def _pull_issues(api: JiraApi, previous: Mirror, scope: str, options: JiraOptions, *, refresh: bool,
                 hint: str, what: str) -> tuple[dict[str, dict[str, Any]], str]:
    """The mirror's issues (by id) after this pull, and how they were pulled (for the origin).

    An issue moved between the configured projects comes back with its id and a new key and
    project: it replaces itself, its history and worklogs with it.
    """
    watermark = None if refresh else previous.watermark()
    jql = scope if watermark is None else f'{scope} AND updated >= "{watermark}"'
    pulled: dict[str, dict[str, Any]] = {}
    for issue in api.search(f"{jql} ORDER BY key ASC", worklogs=options.worklogs, hint=hint):
        record = issue_record(issue, api.histories(issue),
                              api.worklogs(issue) if options.worklogs else [], str(api.client.where))
        pulled[record["id"]] = record
    if watermark is not None:
        moved = [f"{previous.issues[i]['key']} -> {r['key']}" for i, r in pulled.items()
                 if i in previous.issues and previous.issues[i]["key"] != r["key"]]
        log.info("%s: %d issue(s) updated since %s merged into the mirror of %d%s", what, len(pulled),
                 watermark, len(previous.issues), f"; moved: {', '.join(moved[:20])}" if moved else "")
        return {**previous.issues, **pulled}, f"{len(pulled)} updated since {watermark} merged"
    removed = sorted((previous.issues[i]["key"] for i in set(previous.issues) - set(pulled)),
                     key=key_order)
    log.info("%s: full pull of %d issue(s); %d issue(s) no longer on the server removed from the "
             "mirror%s", what, len(pulled), len(removed), f": {', '.join(removed[:20])}" if removed else "")
    return pulled, f"full pull, {len(removed)} deleted issue(s) removed"


def _status_categories(api: JiraApi, known: Mapping[str, str],
                       issues: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Status id -> category key, as each issue's own `status.statusCategory` says; for ids
    only met in changelogs (a status no issue is in now), from the site's status list, asked
    once. Ids, not names: each team-managed project has its own statuses, and two of them
    may share a name but not a category. Ids are unique across the site, project-scoped
    statuses included, so the id alone says which workflow a status belongs to."""
    statuses = dict(known)
    statuses.update({i["status_id"]: i["status_category"] for i in issues.values()
                     if i["status_id"] and i["status_category"]})
    in_history = {change[end] for issue in issues.values() for change in issue["changes"]
                  for end in ("from_id", "to_id") if change[end]}
    if in_history - set(statuses):
        for status in api.statuses():
            category = (status.get("statusCategory") or {}).get("key")
            if status.get("id") is not None and category:
                statuses.setdefault(str(status["id"]), category)
    return statuses


def _milestones(api: JiraApi, keys: list[str], projects: Mapping[str, str], known: Mapping[str, str],
                sprints: bool, what: str, zone: ZoneInfo) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """Versions (and sprints) as milestone rows, the baselines to remember, and how many
    were skipped.

    Jira keeps no baseline: the first release (or end) date seen is kept as the baseline,
    the current one is the forecast. Without any date, or archived without being released
    (abandoned), there is nothing to measure and the item is skipped.
    """
    rows: list[dict[str, Any]] = []
    baselines: dict[str, str] = {}
    skipped = 0
    board_sprints: dict[int, list[dict[str, Any]]] = {}
    for key in keys:
        project = projects[key]
        for version in api.versions(key):
            ident, release = f"version-{version['id']}", local_day(version.get("releaseDate"), zone)
            baseline = known.get(ident) or release
            if baseline is None or (version.get("archived") and not version.get("released")):
                skipped += 1
                continue
            baselines[ident] = baseline
            rows.append(milestone_row(project, ident, str(version.get("name") or ident), baseline, release,
                                      release if version.get("released") else None))
        for sprint in _project_sprints(api, key, board_sprints) if sprints else ():
            ident, end = f"sprint-{sprint['id']}", local_day(sprint.get("endDate"), zone)
            baseline = known.get(ident) or end
            if baseline is None:
                skipped += 1
                continue
            baselines[ident] = baseline
            rows.append(milestone_row(project, ident, str(sprint.get("name") or ident), baseline, end,
                                      local_day(sprint.get("completeDate"), zone)))
    log.info("%s: %d milestone(s) from versions%s; %d skipped (no date, or archived unreleased)",
             what, len(rows), " and sprints" if sprints else "", skipped)
    return rows, baselines, skipped


def _project_sprints(api: JiraApi, key: str,
                     board_sprints: dict[int, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The sprints of a project's boards, each once; a board shared by projects is asked once."""
    seen: set[Any] = set()
    for board in api.boards(key):
        board_id = int(board["id"])
        if board_id not in board_sprints:
            board_sprints[board_id] = list(api.sprints(board_id, key))
        for sprint in board_sprints[board_id]:
            if sprint["id"] not in seen:
                seen.add(sprint["id"])
                yield sprint


def _quoted(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
