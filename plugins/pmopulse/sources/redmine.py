"""Redmine source: projects, issues with their status history, versions and time entries,
read over Redmine's REST API (built and tested against Redmine 5.0).

What the API does that shapes this reader:
- `/issues.json` lists only open issues unless asked for `status_id=*`, at most 100 a page;
- journals (the status history) come only one issue at a time, from
  `/issues/{id}.json?include=journals`;
- a project's list also holds its subprojects' issues, time entries and shared versions, so
  each row is kept only under the project that owns it;
- Redmine keeps no baseline and no date on which a version was reached: a version's due date
  is its baseline and its forecast, and a closed version's actual date is taken from its
  issues (`_milestones`);
- a version shared with other projects (`sharing` other than `none`) holds issues of those
  projects too: they are read with `/issues.json?fixed_version_id=…`, and the version stays
  one milestone, under the project that owns it.

Tracker, priority and status names stay as Redmine has them (they are localised and
configurable there); the default value maps below translate the names of a standard
English Redmine, and the config's `tables.<table>.values` entries win over them.

Redmine's timestamps are UTC; each is counted on its day in the organisation's time zone
(`organisation.timezone`), so an issue closed at 22:30 UTC on 31 March belongs to April in
Shanghai.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pmopulse.errors import ConfigError
from pmopulse.sources import (
    RawTable,
    cell_text,
    check_value_maps_only,
    local_day,
    record_frame,
    week_start,
    with_default_values,
)
from pmopulse.sources.http import ApiClient, HttpSettings, SourceSite, connection_credentials

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from pmopulse.config import SourceConfig
    from pmopulse.sources import SourceRequest

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
"""Redmine never returns more than 100 records a page, whatever `limit` asks for."""

COLUMNS = {
    "projects": ("id", "name", "business_unit", "status", "start", "manager"),
    "work_items": ("project", "key", "type", "priority", "status", "created", "resolved", "due"),
    "work_item_history": ("project", "item", "seq", "changed", "from_status", "to_status", "author"),
    "milestones": ("project", "id", "name", "baseline_date", "forecast_date", "actual_date"),
    "timesheets": ("person", "project", "week", "hours"),
}
"""The canonical columns each table is read into (only columns its contract has)."""

ISSUES_NAMED = 20
"""Open issues a closed version's warning lists by id before it says how many more there are."""
ISSUE_TABLES = ("work_items", "work_item_history", "milestones")
"""Tables that need the issues (milestones: a closed version's actual date)."""

PROJECT_STATUS = {"1": "active", "5": "closed", "9": "closed"}
"""Redmine's project status codes: 1 active, 5 closed, 9 archived."""
TRACKERS = {"Bug": "bug", "Feature": "requirement", "Task": "task", "Support": "incident"}
PRIORITIES = {"Low": "low", "Normal": "medium", "High": "high", "Urgent": "critical",
              "Immediate": "critical"}
STATUSES = {"New": "open", "In Progress": "in_progress", "Feedback": "in_progress",
            "Resolved": "resolved", "Closed": "closed", "Rejected": "closed"}
"""Redmine's default statuses. Other statuses that Redmine marks closed map to closed."""


@dataclass(frozen=True)
class Options:
    """A Redmine source's `options:`."""

    projects_table: bool = True    # false when the PMO's own register supplies `projects`
    page_size: int = MAX_PAGE_SIZE
    manager_role: str = "Manager"  # the project role whose member is the project manager
    http: HttpSettings = field(default_factory=HttpSettings)  # timeout_seconds, retries, ...


def parse_options(raw: Mapping[str, Any], where: str) -> Options:
    known = {"projects_table", "page_size", "manager_role", *HttpSettings.KEYS}
    if unknown := sorted(set(raw) - known):
        raise ConfigError(f"{where}.options: unknown key(s) {unknown}; a redmine source "
                          f"takes {sorted(known)}")
    options = Options(http=HttpSettings.parse(raw, f"{where}.options"))
    if "projects_table" in raw:
        if not isinstance(raw["projects_table"], bool):
            raise ConfigError(f"{where}.options.projects_table must be true or false, "
                              f"not {raw['projects_table']!r}")
        options = replace(options, projects_table=raw["projects_table"])
    if "page_size" in raw:
        size = raw["page_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            raise ConfigError(f"{where}.options.page_size must be a whole number from 1 to "
                              f"{MAX_PAGE_SIZE} (Redmine's largest page), not {size!r}")
        options = replace(options, page_size=size)
    if "manager_role" in raw:
        if not isinstance(raw["manager_role"], str) or not raw["manager_role"].strip():
            raise ConfigError(f"{where}.options.manager_role must name a Redmine role, "
                              f"not {raw['manager_role']!r}")
        options = replace(options, manager_role=raw["manager_role"].strip())
    return options


def read(source: SourceConfig, request: SourceRequest) -> list[RawTable]:
    where = f"sources[{source.name}]"
    options = parse_options(source.options, where)
    wanted = {t for t in COLUMNS if t in request.contracts}
    if not options.projects_table:
        wanted.discard("projects")
    check_value_maps_only(source, COLUMNS)
    if "projects" in wanted and not source.business_unit:
        raise ConfigError(f"{where}: a redmine source that reads the projects table needs "
                          "`business_unit` (the unit owning its projects), or set "
                          "`options: {projects_table: false}` when another source supplies projects")
    site = Site.connect(source, options)
    projects = site.projects(source.projects)
    frames: dict[str, list[dict[str, str | None]]] = {}
    statuses: dict[int, Status] = {}
    issues: dict[int, list[dict[str, Any]]] = {}
    if wanted & set(ISSUE_TABLES):
        statuses = site.statuses()
        issues = {p.number: site.issues(p) for p in projects}
    if "projects" in wanted:
        frames["projects"] = [
            {"id": p.id, "name": p.name, "business_unit": source.business_unit,
             "status": p.status, "start": local_day(p.created, request.zone),
             "manager": site.manager(p, options.manager_role)}
            for p in projects]
    if "work_items" in wanted:
        frames["work_items"] = [_work_item(p, issue, statuses, request.zone) for p in projects
                                for issue in issues[p.number]]
    if "work_item_history" in wanted:
        frames["work_item_history"] = [row for p in projects for issue in issues[p.number]
                                       for row in _history(p, issue, site.journals(p, issue), statuses,
                                                           request.zone)]
    warnings: dict[str, list[str]] = defaultdict(list)
    if "milestones" in wanted:
        frames["milestones"] = [row for p in projects
                                for row in _milestones(p, site, issues[p.number], statuses, request.zone,
                                                       {q.number: q.id for q in projects},
                                                       warnings["milestones"])]
    if "timesheets" in wanted:
        frames["timesheets"] = _timesheets(projects, site)
    values = default_values(source, statuses)
    return [RawTable(table, record_frame(rows, COLUMNS[table]),
                     f"Redmine {site.url}, {table} of {_scope(projects)}",
                     with_default_values(source.tables.get(table), values.get(table, {})),
                     warnings=tuple(warnings.get(table, ())))
            for table, rows in frames.items()]


def default_values(source: SourceConfig,
                    statuses: Mapping[int, Status]) -> dict[str, dict[str, Mapping[str, str]]]:
    """The default value maps per table and column, for the statuses this site has."""
    status_map = {**STATUSES, **{s.name: "closed" for s in statuses.values()
                                 if s.is_closed and s.name.casefold() not in _folded(STATUSES)}}
    # The history is translated like the work items' statuses, the configured entries included.
    configured = source.tables.get("work_items")
    history = {**status_map, **(configured.values.get("status", {}) if configured else {})}
    return {
        "projects": {"status": PROJECT_STATUS},
        "work_items": {"type": TRACKERS, "priority": PRIORITIES, "status": status_map},
        "work_item_history": {"from_status": history, "to_status": history},
    }


def _scope(projects: list[Project], shown: int = 5) -> str:
    names = [p.identifier for p in projects]
    if len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} more projects"
    return ", ".join(names) or "no projects"


def _folded(value_map: Mapping[str, str]) -> set[str]:
    return {k.casefold() for k in value_map}


@dataclass(frozen=True)
class Project:
    number: int          # Redmine's numeric id, used in API paths
    identifier: str      # Redmine's project identifier, the key in `projects:`
    id: str              # the canonical project id
    name: str
    status: str
    created: str | None  # Redmine's UTC timestamp


@dataclass(frozen=True)
class Status:
    name: str
    is_closed: bool


class Site:
    """One Redmine site, read with an API key through the shared REST client."""

    def __init__(self, client: ApiClient, page_size: int) -> None:
        self.client = client
        self.url = client.base_url
        self.page_size = page_size

    @classmethod
    def connect(cls, source: SourceConfig, options: Options) -> Site:
        assert source.conn_id is not None  # the config requires one for a redmine source
        located = SourceSite(f"Redmine source {source.name!r}", (source.site or "").rstrip("/"),
                             tuple(source.projects), source.conn_id, f"sources[{source.name}].options")
        credentials = connection_credentials(source.conn_id, str(located))
        located = replace(located, site=located.site or credentials.host.rstrip("/"))
        client = ApiClient(located, headers={"X-Redmine-API-Key": credentials.password or ""},
                           settings=options.http)
        if not credentials.password:
            raise client.error(f"Airflow connection {source.conn_id!r} has no password; "
                               "put the Redmine API key (My account → API access key) there")
        return cls(client, options.page_size)

    def pages(self, path: str, key: str, params: Mapping[str, Any] | None = None, *,
              hint: str = "") -> Iterator[dict[str, Any]]:
        """Every record of a paged Redmine list, each once (by id), following offset and limit."""
        offset, seen = 0, set()
        while True:
            page = self._list(path, key, {**(params or {}), "offset": offset, "limit": self.page_size},
                              hint)
            records = page[key]
            for record in records:
                if record.get("id") not in seen:
                    seen.add(record.get("id"))
                    yield record
            offset += len(records)
            total = page.get("total_count")
            if not records or not isinstance(total, int) or offset >= total:
                return

    def _list(self, path: str, key: str, params: Mapping[str, Any] | None, hint: str) -> dict[str, Any]:
        page = self.client.get(path, params, hint=hint)
        if not isinstance(page, dict) or not isinstance(page.get(key), list):
            raise self.client.error(f"GET {path} did not answer a list of {key}; is the site URL a "
                                    "Redmine with the REST API enabled?")
        return page

    def projects(self, selected: Mapping[str, str]) -> list[Project]:
        """The projects the key can see, or only those `projects:` names (by identifier)."""
        found = [Project(number=int(p["id"]), identifier=str(p["identifier"]),
                         id=selected.get(str(p["identifier"]), str(p["identifier"])),
                         name=str(p["name"]), status=str(p.get("status", "")),
                         created=p.get("created_on") or None)
                 # Redmine 5 lists only active projects unless asked for closed ones too.
                 for p in self.pages("/projects.json", "projects", {"status": "1|5"})
                 if not selected or str(p["identifier"]) in selected]
        if missing := sorted(set(selected) - {p.identifier for p in found}):
            raise self.client.error(f"{self.url} has no project {missing} that the API key can see; "
                                    "`projects:` takes Redmine project identifiers (as in "
                                    "/projects/<identifier>), and archived projects are not listed")
        return found

    def statuses(self) -> dict[int, Status]:
        answer = self._list("/issue_statuses.json", "issue_statuses", None, "issue statuses")
        return {int(s["id"]): Status(str(s["name"]), bool(s.get("is_closed")))
                for s in answer["issue_statuses"]}

    def issues(self, project: Project) -> list[dict[str, Any]]:
        """All the project's own issues, closed ones included, oldest first."""
        params = {"project_id": project.number, "subproject_id": "!*", "status_id": "*", "sort": "id"}
        return [issue for issue in self.pages("/issues.json", "issues", params,
                                              hint=f"issues of project {project.identifier}")
                if _owner(issue) == project.number]

    def journals(self, project: Project, issue: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.client.get(f"/issues/{issue['id']}.json", {"include": "journals"},
                                 hint=f"issue #{issue['id']} of project {project.identifier}")
        journals = (answer.get("issue") or {}).get("journals") if isinstance(answer, dict) else None
        if not isinstance(journals, list):
            raise self.client.error(f"GET /issues/{issue['id']}.json did not answer the issue's "
                                    "journals")
        return journals

    def version_issues(self, version: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every issue in a version, whichever project it belongs to, closed ones included."""
        params = {"fixed_version_id": version["id"], "status_id": "*", "sort": "id"}
        return list(self.pages("/issues.json", "issues", params,
                               hint=f"issues of shared version #{version['id']} {version.get('name')!r}"))

    def versions(self, project: Project) -> list[dict[str, Any]]:
        """The project's own versions (not those other projects share with it); not paged."""
        answer = self._list(f"/projects/{project.number}/versions.json", "versions", None,
                            f"versions of project {project.identifier}")
        return [v for v in answer["versions"] if _owner(v) == project.number]

    def time_entries(self, project: Project) -> Iterator[dict[str, Any]]:
        params = {"project_id": project.number, "subproject_id": "!*"}
        for entry in self.pages("/time_entries.json", "time_entries", params,
                                hint=f"time entries of project {project.identifier}"):
            if _owner(entry) == project.number:
                yield entry

    def manager(self, project: Project, role: str) -> str | None:
        """The first member (by membership id) holding the manager role; groups do not count."""
        for member in self.pages(f"/projects/{project.number}/memberships.json", "memberships",
                                 hint=f"members of project {project.identifier}"):
            roles = {str(r.get("name", "")).casefold() for r in member.get("roles") or []}
            if role.casefold() in roles and member.get("user"):
                return _name(member["user"])
        return None


def _owner(record: Mapping[str, Any]) -> int | None:
    project = record.get("project") or {}
    return int(project["id"]) if "id" in project else None


def _name(who: Mapping[str, Any] | None) -> str | None:
    """A user as people know them: the name Redmine shows, else `user <id>`."""
    if not who:
        return None
    return str(who.get("name") or f"user {who.get('id')}")


def _key(project: Project, issue_id: Any) -> str:
    """`<project id>#<issue id>`: Redmine's own #id notation, never a Jira key (ABC-123)."""
    return f"{project.id}#{issue_id}"


def _status_name(statuses: Mapping[int, Status], status_id: Any) -> str | None:
    """A status id from a journal, named; an id Redmine no longer has stays as its number."""
    if status_id in (None, ""):
        return None
    status = statuses.get(int(status_id))
    return status.name if status else str(status_id)


def _is_closed(issue: Mapping[str, Any], statuses: Mapping[int, Status]) -> bool:
    status = statuses.get(int((issue.get("status") or {}).get("id", 0)))
    return bool(status and status.is_closed)


def _work_item(project: Project, issue: dict[str, Any], statuses: Mapping[int, Status],
               zone: ZoneInfo) -> dict[str, str | None]:
    return {
        "project": project.id,
        "key": _key(project, issue["id"]),
        "type": (issue.get("tracker") or {}).get("name"),
        "priority": (issue.get("priority") or {}).get("name"),
        "status": (issue.get("status") or {}).get("name"),
        "created": local_day(issue.get("created_on"), zone),
        # Redmine keeps closed_on when an issue is reopened: only a closed issue is resolved.
        "resolved": local_day(issue.get("closed_on"), zone) if _is_closed(issue, statuses) else None,
        "due": local_day(issue.get("due_date"), zone),
    }


def _history(project: Project, issue: Mapping[str, Any], journals: list[dict[str, Any]],
             statuses: Mapping[int, Status], zone: ZoneInfo) -> Iterator[dict[str, str | None]]:
    """One row per status change in the journals, in time order.

    Creation is not a row: Redmine journals no creation, and the status an issue was
    created in is only implied (work_items.created dates it). So every row is a change
    that happened, and from_status is always set.
    """
    changes = [(journal, detail)
               for journal in sorted(journals, key=lambda j: (str(j.get("created_on")), j.get("id", 0)))
               for detail in journal.get("details") or []
               if detail.get("property") == "attr" and detail.get("name") == "status_id"]
    for seq, (journal, detail) in enumerate(changes, start=1):
        yield {
            "project": project.id,
            "item": _key(project, issue["id"]),
            "seq": str(seq),
            "changed": local_day(journal.get("created_on"), zone),
            "from_status": _status_name(statuses, detail.get("old_value")),
            "to_status": _status_name(statuses, detail.get("new_value")),
            "author": _name(journal.get("user")),
        }


def _milestones(project: Project, site: Site, issues: list[dict[str, Any]],
                statuses: Mapping[int, Status], zone: ZoneInfo, read: Mapping[int, str],
                warnings: list[str]) -> Iterator[dict[str, str | None]]:
    """The project's own versions with a due date. Redmine keeps no baseline: the due date is
    both baseline and forecast.

    A closed version is a reached milestone: its actual date is the day the last of its
    closed issues closed, or its due date when none of them is closed. Open issues left in
    it are a data-quality warning (appended to `warnings`). An open or locked version has
    no actual date, since Redmine records none. A shared version counts the issues of every
    project using it (`read` names the projects being read, by Redmine id).
    """
    undated = 0
    for version in site.versions(project):
        due = local_day(version.get("due_date"), zone)
        if due is None:
            undated += 1
            continue
        if version.get("sharing", "none") == "none":
            in_version = [i for i in issues
                          if (i.get("fixed_version") or {}).get("id") == version["id"]]
        else:
            in_version = site.version_issues(version)
        actual = None
        if version.get("status") == "closed":
            closed = [day for i in in_version if _is_closed(i, statuses)
                      and (day := local_day(i.get("closed_on"), zone)) is not None]
            actual = max(closed, default=due)
            if left := [i for i in in_version if not _is_closed(i, statuses)]:
                warnings.append(_open_in_closed(project, version, left, read))
        yield {"project": project.id, "id": str(version["id"]), "name": version.get("name"),
               "baseline_date": due, "forecast_date": due, "actual_date": actual}
    if undated:
        log.info("Redmine project %s: %d version(s) without a due date are not milestones",
                 project.identifier, undated)


def _open_in_closed(project: Project, version: Mapping[str, Any], left: list[dict[str, Any]],
                    read: Mapping[int, str]) -> str:
    """The warning for open issues in a closed version, naming each issue and its project."""
    def where(issue: Mapping[str, Any]) -> str:
        owner = _owner(issue)
        if owner is not None and owner in read:
            return read[owner]
        return str((issue.get("project") or {}).get("name") or f"project {owner}")

    named = ", ".join(f"#{i['id']} ({where(i)})" for i in left[:ISSUES_NAMED])
    if len(left) > ISSUES_NAMED:
        named += f" and {len(left) - ISSUES_NAMED} more"
    return (f"milestones: Redmine version {version.get('name')!r} (#{version['id']}) of project "
            f"{project.id} is closed, so counted reached, but holds {len(left)} open issue(s): "
            f"{named}; close or move them, or reopen the version")


def _timesheets(projects: list[Project], site: Site) -> list[dict[str, str | None]]:
    """Hours summed per person (user name), project and week (Monday of spent_on)."""
    hours: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for project in projects:
        for entry in site.time_entries(project):
            monday = week_start(dt.date.fromisoformat(str(entry["spent_on"]))).isoformat()
            person = _name(entry.get("user")) or ""
            hours[(person, project.id, monday)] += Decimal(str(entry.get("hours") or 0))
    return [{"person": person, "project": project, "week": week, "hours": cell_text(total)}
            for (person, project, week), total in sorted(hours.items())]
