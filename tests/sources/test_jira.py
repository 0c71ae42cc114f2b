"""The Jira source against a local HTTP server that answers like Jira Cloud's REST API v3.

The fake keeps issues with their whole changelogs and worklogs, and answers the search
as Jira does: opaque page tokens (absent on the last page), at most 40 histories and 20
worklogs embedded per issue, only the fields asked for. Versions, boards and sprints page
by startAt; a kanban board answers 400 when asked for sprints. Every request is recorded.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from pmopulse.config import SourceConfig, load_config
from pmopulse.contracts import load_contracts
from pmopulse.errors import ConfigError, SourceError
from pmopulse.jsonfile import read_json
from pmopulse.period import Period
from pmopulse.pipeline import extract
from pmopulse.sources import RawTable, SourceRequest
from pmopulse.sources.http import HttpSettings, SourceSite, check_site, connection_credentials
from pmopulse.sources.jira import read_jira
from pmopulse.sources.jira.mirror import MIRROR_FILE
from pmopulse.sources.mapping import canonical_frame
from support import REPO, canonical_table, minimal_config, write_config

PERIOD = Period.parse("2026-10")
LOGIN, TOKEN = "pm@acme.example", "ATATT3xFfGF0-secret-api-token"
STATUSES = {  # name -> (id, category key), as GET /rest/api/3/status lists them
    "To Do": ("10000", "new"), "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"), "Resolved": ("5", "done"), "Done": ("10002", "done"),
}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
LI = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Li Lei"}
WANG = {"accountId": "712020:0e5d5d0f-bb1a-4c5e-9b44-2b8bd4fbb8e1", "displayName": "Wang Fang"}


def stamp(day: str, time: str = "10:00") -> str:
    """A Jira timestamp in the account's zone (Asia/Shanghai)."""
    return f"{day}T{time}:00.000+0800"


def user(who: dict[str, str]) -> dict[str, Any]:
    return {"self": f"https://acme.atlassian.net/rest/api/3/user?accountId={who['accountId']}",
            "accountId": who["accountId"], "displayName": who["displayName"], "active": True,
            "timeZone": "Asia/Shanghai", "accountType": "atlassian",
            "avatarUrls": {"48x48": "https://avatar-management.example/48.png"}}


TEAM_STATUSES = {  # (project, name) -> (id, category key): each team-managed project's own workflow
    ("ABC", "Review"): ("10100", "done"), ("XYZ", "Review"): ("10200", "indeterminate"),
}
PROJECT_IDS = {"ABC": "10000", "XYZ": "10001"}


def status(name: str, project: str | None = None) -> dict[str, Any]:
    """A status as an issue shows it; a team-managed project's own status has its own id and a
    `scope` naming the project, as GET /rest/api/3/status lists it too."""
    ident, category = TEAM_STATUSES.get((project or "", name)) or STATUSES[name]
    shown = {"self": f"https://acme.atlassian.net/rest/api/3/status/{ident}", "description": "",
             "iconUrl": "https://acme.atlassian.net/", "name": name, "id": ident,
             "statusCategory": {"self": "https://acme.atlassian.net/rest/api/3/statuscategory/2",
                                "id": {"new": 2, "indeterminate": 4, "done": 3}[category],
                                "key": category, "colorName": "blue-gray", "name": category.title()}}
    if (project or "", name) in TEAM_STATUSES:
        shown["scope"] = {"type": "PROJECT", "project": {"id": PROJECT_IDS[str(project)]}}
    return shown


_ids = itertools.count(20000)


def history(created: str, *items: dict[str, Any], who: dict[str, str] = LI) -> dict[str, Any]:
    return {"id": str(next(_ids)), "author": user(who), "created": created, "items": list(items)}


def moved(frm: str, to: str, project: str | None = None) -> dict[str, Any]:
    """A status change in a changelog: `from`/`to` are status ids, the strings their names."""
    return {"field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": status(frm, project)["id"], "fromString": frm,
            "to": status(to, project)["id"], "toString": to}


def reassigned() -> dict[str, Any]:
    return {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "from": LI["accountId"],
            "fromString": LI["displayName"], "to": WANG["accountId"], "toString": WANG["displayName"]}


def worklog(who: dict[str, str], started: str, seconds: int) -> dict[str, Any]:
    ident = str(next(_ids))
    return {"self": f"https://acme.atlassian.net/rest/api/3/issue/10001/worklog/{ident}",
            "author": user(who), "updateAuthor": user(who),
            "comment": {"type": "doc", "version": 1, "content": []},
            "created": started, "updated": started, "started": started,
            "timeSpent": f"{seconds // 3600}h", "timeSpentSeconds": seconds, "id": ident, "issueId": "10001"}


def issue(key: str, *, type: str = "Task", state: str = "To Do", priority: str | None = "Medium",
          created: str = "2026-09-01", updated: str | None = None, resolved: str | None = None,
          due: str | None = None, labels: tuple[str, ...] = (), histories: list[dict[str, Any]] | None = None,
          worklogs: list[dict[str, Any]] | None = None, ident: str | None = None,
          category_changed: str | None = None) -> dict[str, Any]:
    """An issue as GET /rest/api/3/issue/{key}?expand=changelog would show it, whole; `ident`
    for an issue moved from another project, which keeps its id."""
    ident = ident or str(10000 + int(key.split("-")[1]) + 1000 * (key[0] == "X"))
    project = key.split("-")[0]
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": ident, "self": f"https://acme.atlassian.net/rest/api/3/issue/{ident}", "key": key,
        "fields": {
            "summary": f"Work on {key}",
            "issuetype": {"self": "https://acme.atlassian.net/rest/api/3/issuetype/10001", "id": "10001",
                          "name": type, "subtask": type == "Sub-task", "hierarchyLevel": 0},
            "status": status(state, project),
            "statuscategorychangedate": stamp(category_changed, "16:00") if category_changed
            else stamp(created, "09:30"),
            "priority": {"name": priority, "id": PRIORITIES[priority]} if priority else None,
            "created": stamp(created, "09:30"), "updated": updated or stamp(created, "09:30"),
            "resolutiondate": stamp(resolved, "17:45") if resolved else None, "duedate": due,
            "labels": list(labels),
            "project": {"self": f"https://acme.atlassian.net/rest/api/3/project/{PROJECT_IDS.get(project)}",
                        "id": PROJECT_IDS.get(project, "10009"), "key": project, "name": f"Project {project}",
                        "projectTypeKey": "software"},
            "fixVersions": [],
            "worklog": {"startAt": 0, "maxResults": 20, "total": len(worklogs or []),
                        "worklogs": list(worklogs or [])},
        },
        "changelog": {"startAt": 0, "maxResults": 100, "total": len(histories or []),
                      "histories": list(histories or [])},
    }


def version(ident: int, name: str, release: str | None, *, released: bool = False,
            archived: bool = False) -> dict[str, Any]:
    data = {"self": f"https://acme.atlassian.net/rest/api/3/version/{ident}", "id": str(ident),
            "description": "", "name": name, "archived": archived, "released": released,
            "startDate": "2026-07-01", "projectId": 10000, "overdue": False}
    if release:
        data["releaseDate"] = release
    return data


def sprint(ident: int, name: str, state: str, end: str | None = None,
           complete: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": ident, "self": f"https://acme.atlassian.net/rest/agile/1.0/sprint/{ident}",
                            "state": state, "name": name, "originBoardId": 1, "goal": ""}
    if end:
        data |= {"startDate": "2026-10-01T01:00:00.000Z", "endDate": f"{end}T09:00:00.000Z"}
    if complete:
        data["completeDate"] = f"{complete}T08:12:00.000Z"
    return data


@dataclass
class FakeJira:
    """Jira Cloud's state and its answers; `requests` records (path, query) of every call."""

    url: str = ""
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    boards: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sprints: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # a board not here is kanban
    failures: list[tuple[str, int, dict[str, str], str]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    answered_keys: list[list[str]] = field(default_factory=list)  # the keys of each search page
    _pages: dict[str, int] = field(default_factory=dict)

    def add(self, *issues: dict[str, Any]) -> None:
        self.issues.update({i["key"]: i for i in issues})

    def calls(self, path: str) -> list[dict[str, str]]:
        return [query for p, query in self.requests if p == path]

    def answer(self, path: str, query: dict[str, str], authorised: bool) -> tuple[int, dict[str, str], Any]:
        for n, (prefix, code, headers, body) in enumerate(self.failures):
            if path.startswith(prefix):
                del self.failures[n]
                return code, headers, body
        if not authorised:
            return 401, {}, "Client must be authenticated to access this resource."
        if path == "/rest/api/3/search":
            return 410, {}, {"errorMessages": ["The requested API has been removed. Please migrate to the "
                                               "/rest/api/3/search/jql API."], "errors": {}}
        if path == "/rest/api/3/search/jql":
            return self._search(query)
        if match := re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)/(changelog|worklog)", path):
            whole = self.issues[match[1]]
            if match[2] == "changelog":
                return 200, {}, _offset_page(whole["changelog"]["histories"], query, "values", 100)
            page = _offset_page(whole["fields"]["worklog"]["worklogs"], query, "worklogs", 5000)
            page.pop("isLast")  # the worklog page has no isLast, only total
            return 200, {}, page
        if match := re.fullmatch(r"/rest/api/3/project/([A-Z]+)/version", path):
            if match[1] not in self.versions:
                return 404, {}, {"errorMessages": [f"No project could be found with key '{match[1]}'."],
                                 "errors": {}}
            return 200, {}, _offset_page(self.versions[match[1]], query, "values", 50)
        if path == "/rest/agile/1.0/board":
            return 200, {}, _offset_page(self.boards.get(query["projectKeyOrId"], []), query, "values", 50)
        if match := re.fullmatch(r"/rest/agile/1.0/board/(\d+)/sprint", path):
            if int(match[1]) not in self.sprints:
                return 400, {}, {"errorMessages": ["The board does not support sprints"], "errors": {}}
            return 200, {}, _offset_page(self.sprints[int(match[1])], query, "values", 50)
        if path == "/rest/api/3/status":
            return 200, {}, [status(name) for name in STATUSES] + [status(name, project)
                                                                   for project, name in TEAM_STATUSES]
        if path == "/rest/api/3/project/search":
            keys = sorted({i["fields"]["project"]["key"] for i in self.issues.values()})
            return 200, {}, _offset_page([{"id": str(10000 + n), "key": k, "name": f"Project {k}"}
                                          for n, k in enumerate(keys)], query, "values", 50)
        return 404, {}, {"errorMessages": [f"no route {path}"], "errors": {}}

    def _search(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        jql = query["jql"]
        scope = re.search(r"project in \(([^)]*)\)", jql)
        if scope is None:
            return 400, {}, {"errorMessages": ["Unbounded JQL queries are not allowed here. Please add a "
                                               "search restriction to your query."], "errors": {}}
        projects = re.findall(r'"([A-Z]+)"', scope[1])
        unknown = [p for p in projects if p not in self.versions  # a project may have no issue left
                   and not any(i["fields"]["project"]["key"] == p for i in self.issues.values())]
        if unknown:
            return 400, {}, {"errorMessages": [f"The value '{unknown[0]}' does not exist for the field "
                                               "'project'."], "errors": {}}
        since = re.search(r'updated >= "([^"]+)"', jql)
        found = [i for i in self.issues.values() if i["fields"]["project"]["key"] in projects
                 and (since is None or i["fields"]["updated"][:16].replace("T", " ") >= since[1])]
        found.sort(key=lambda i: (i["key"].split("-")[0], int(i["key"].split("-")[1])))
        start = self._pages[query["nextPageToken"]] if "nextPageToken" in query else 0
        size = int(query.get("maxResults", 50))
        wanted = query["fields"].split(",")
        page = {"issues": [_as_found(i, wanted, "changelog" in query.get("expand", ""))
                           for i in found[start:start + size]]}
        self.answered_keys.append([i["key"] for i in page["issues"]])
        if start + size < len(found):
            token = base64.b64encode(f"{jql}|{start + size}".encode()).decode()[-24:]
            self._pages[token] = start + size
            self.tokens_issued.append(token)
            return 200, {}, {**page, "nextPageToken": token, "isLast": False}
        return 200, {}, {**page, "isLast": True}  # no nextPageToken key at all on the last page


def _as_found(whole: dict[str, Any], fields: list[str], changelog: bool) -> dict[str, Any]:
    """An issue as the search returns it: the fields asked for, 40 histories, 20 worklogs."""
    found = {k: whole[k] for k in ("expand", "id", "self", "key")}
    found["fields"] = {k: v for k, v in whole["fields"].items() if k in fields}
    if "worklog" in found["fields"]:
        logs = whole["fields"]["worklog"]["worklogs"]
        found["fields"]["worklog"] = {"startAt": 0, "maxResults": 20, "total": len(logs),
                                      "worklogs": logs[:20]}
    if changelog:
        histories = whole["changelog"]["histories"]
        found["changelog"] = {"startAt": 0, "maxResults": 40, "total": len(histories),
                              "histories": histories[:40]}
    return found


def _offset_page(items: list[Any], query: dict[str, str], key: str, most: int) -> dict[str, Any]:
    start, size = int(query.get("startAt", 0)), min(int(query.get("maxResults", 50)), most)
    return {"self": "https://acme.atlassian.net/page", "startAt": start, "maxResults": size,
            "total": len(items), "isLast": start + size >= len(items), key: items[start:start + size]}


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeJira]:
    """The fake on a free loopback port, and Airflow connection `jira_cloud` pointing at it."""
    fake = FakeJira()
    expected = "Basic " + base64.b64encode(f"{LOGIN}:{TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            fake.requests.append((parts.path, query))
            code, headers, body = fake.answer(parts.path, query,
                                              self.headers.get("Authorization") == expected)
            text = body if isinstance(body, str) else json.dumps(body)
            # A failure may set its own Content-Type (JSON cut short) or a Content-Length longer
            # than the body (the connection dropped half-way).
            headers = {"Content-Type": "text/plain" if isinstance(body, str) else "application/json",
                       "Content-Length": str(len(text.encode())), **headers}
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_CLOUD", json.dumps(
        {"conn_type": "http", "host": fake.url, "login": LOGIN, "password": TOKEN}))
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def jira_source(tmp_path: Path, **settings: Any) -> SourceConfig:
    """The source as a user configures it in pmopulse.yaml."""
    spec = {"name": "jira", "kind": "jira", "conn_id": "jira_cloud", "projects": {"ABC": "P-ABC"},
            **settings}
    return load_config(write_config(tmp_path, minimal_config([spec]))).sources[0]


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def pull(source: SourceConfig, tmp_path: Path, *, refresh: bool = False,
         sleep: Sleeps | None = None, zone: str = "UTC") -> dict[str, RawTable]:
    request = SourceRequest(load_contracts(), PERIOD, tmp_path / "state", refresh, zone=ZoneInfo(zone))
    return {raw.table: raw for raw in read_jira(source, request, sleep=sleep or Sleeps())}


@contextmanager
def jira_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture the Jira source's log. Airflow, first imported by a pull, replaces the root
    logger's handlers, pytest's among them: the handler is attached to the source's logger."""
    logger = logging.getLogger("pmopulse.sources.jira")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            yield
    finally:
        logger.removeHandler(caplog.handler)


def typed(raw: RawTable) -> pd.DataFrame:
    return canonical_frame(raw.frame, load_contracts()[raw.table], raw.mapping, raw.origin)


def milestone_dates(milestones: pd.DataFrame) -> pd.DataFrame:
    """Baseline, forecast and actual dates as ISO text, None where empty."""
    return milestones[["baseline_date", "forecast_date", "actual_date"]].map(
        lambda d: None if pd.isna(d) else d.strftime("%Y-%m-%d")).astype(object).where(
        milestones[["baseline_date", "forecast_date", "actual_date"]].notna(), None)


def test_search_follows_the_page_tokens_until_the_last_page(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(*[issue(f"ABC-{n}") for n in range(1, 8)])
    jira.versions["ABC"] = []

    raws = pull(jira_source(tmp_path, options={"page_size": 3}), tmp_path)

    assert raws["work_items"].frame["key"].tolist() == [f"ABC-{n}" for n in range(1, 8)]
    searches = jira.calls("/rest/api/3/search/jql")
    assert [len(keys) for keys in jira.answered_keys] == [3, 3, 1]
    assert len(jira.tokens_issued) == 2
    assert [q.get("nextPageToken") for q in searches] == [None, *jira.tokens_issued]
    first = searches[0]
    assert first["jql"] == 'project in ("ABC") ORDER BY key ASC'
    assert first["expand"] == "changelog" and first["maxResults"] == "3"
    assert set(first["fields"].split(",")) >= {"summary", "issuetype", "status", "priority", "created",
                                               "updated", "resolutiondate", "duedate", "labels",
                                               "project", "fixVersions", "worklog"}
    assert not jira.calls("/rest/api/3/search")  # the removed endpoint is never asked


def test_a_changelog_longer_than_the_search_shows_is_read_in_full(jira: FakeJira, tmp_path: Path) -> None:
    cycle = ["To Do", "In Progress", "In Review", "Done"]
    histories, expected = [], []
    for n in range(100):  # 100 status changes, with 20 reassignments among them
        frm, to = cycle[n % 4], cycle[(n + 1) % 4]
        day = f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}"
        histories.append(history(stamp(day), moved(frm, to), who=WANG if n % 2 else LI))
        expected.append((frm, to, day))
        if n % 5 == 0:
            histories.append(history(stamp(day, "11:00"), reassigned()))
    long = issue("ABC-1", state="In Progress", histories=histories)
    short = issue("ABC-2", state="Done", histories=[history(stamp("2026-10-02"), moved("To Do", "Done"))])
    jira.add(long, short)
    jira.versions["ABC"] = []

    history_table = typed(pull(jira_source(tmp_path), tmp_path)["work_item_history"])

    item = history_table[history_table["item"] == "ABC-1"]
    assert len(item) == 100
    assert item["seq"].tolist() == list(range(1, 101))
    names = {"To Do": "open", "In Progress": "in_progress", "In Review": "in_progress", "Done": "closed"}
    assert list(zip(item["from_status"], item["to_status"], item["changed"].dt.strftime("%Y-%m-%d"),
                    strict=True)) == [(names[f], names[t], d) for f, t, d in expected]
    assert item["author"].tolist()[:2] == ["Li Lei", "Wang Fang"]
    short_history = history_table[history_table["item"] == "ABC-2"]
    assert short_history[["seq", "from_status", "to_status"]].values.tolist() == [[1, "open", "closed"]]
    # 120 histories: two pages of the issue's own changelog; ABC-2's came whole with the search.
    assert jira.calls("/rest/api/3/issue/ABC-1/changelog") == [{"startAt": "0", "maxResults": "100"},
                                                               {"startAt": "100", "maxResults": "100"}]
    assert not jira.calls("/rest/api/3/issue/ABC-2/changelog")
    # "In Review" is no issue's status now: its category came from the status list, asked once.
    assert len(jira.calls("/rest/api/3/status")) == 1


def test_rate_limits_and_server_errors_are_waited_out(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"), issue("ABC-2"))
    jira.versions["ABC"] = [version(10100, "1.0", "2026-10-30")]
    jira.failures += [
        ("/rest/api/3/search/jql", 429, {"Retry-After": "7"},
         {"errorMessages": ["Rate limit exceeded."], "errors": {}}),
        ("/rest/api/3/project/ABC/version", 500, {}, {"errorMessages": ["Internal server error"]}),
    ]
    sleeps = Sleeps()

    raws = pull(jira_source(tmp_path), tmp_path, sleep=sleeps)

    assert sleeps.waits == [7.0, 2.0]  # Retry-After as the server asked; the 500 after the first delay
    assert raws["work_items"].frame["key"].tolist() == ["ABC-1", "ABC-2"]
    assert raws["milestones"].frame["id"].tolist() == ["version-10100"]
    assert len(jira.calls("/rest/api/3/search/jql")) == 2
    assert len(jira.calls("/rest/api/3/project/ABC/version")) == 2


def test_refused_credentials_name_the_site_and_project_and_hide_the_token(
        jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    jira.add(issue("ABC-1"))
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_CLOUD", json.dumps(
        {"conn_type": "http", "host": jira.url, "login": LOGIN, "password": "expired-" + TOKEN}))

    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as refused:
        pull(jira_source(tmp_path), tmp_path)

    message = str(refused.value)
    assert jira.url in message and "project ABC" in message and "HTTP 401" in message
    assert "API token" in message and TOKEN not in message
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(connection_credentials("jira_cloud", "source 'jira'"))
    assert not (tmp_path / "state" / MIRROR_FILE).exists()


def test_an_unknown_project_is_refused_with_jiras_reason(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"))

    with pytest.raises(SourceError) as refused:
        pull(jira_source(tmp_path, projects={"ABC": "P-ABC", "NOPE": "P-NOPE"}), tmp_path)

    assert "project ABC, NOPE" in str(refused.value)
    assert "The value 'NOPE' does not exist for the field 'project'" in str(refused.value)


def test_incremental_pulls_ask_for_updated_issues_and_a_refresh_drops_deleted_ones(
        jira: FakeJira, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    jira.add(issue("ABC-1", created="2026-09-01", updated=stamp("2026-10-01", "08:00")),
             issue("ABC-2", created="2026-09-02", updated=stamp("2026-10-02", "08:00")),
             issue("ABC-3", created="2026-09-03", updated=stamp("2026-10-03", "14:25")))
    jira.versions["ABC"] = []
    source = jira_source(tmp_path)
    first = pull(source, tmp_path)
    assert first["work_items"].frame["key"].tolist() == ["ABC-1", "ABC-2", "ABC-3"]
    assert "full pull" in first["work_items"].origin

    # On the server: ABC-2 is finished, ABC-4 is new, ABC-3 is deleted.
    jira.add(issue("ABC-2", state="Done", created="2026-09-02", resolved="2026-10-20",
                   updated=stamp("2026-10-20", "17:45"),
                   histories=[history(stamp("2026-10-20", "17:45"), moved("To Do", "Done"))]),
             issue("ABC-4", created="2026-10-21", updated=stamp("2026-10-21", "09:30")))
    del jira.issues["ABC-3"]
    second = pull(source, tmp_path)

    jql = jira.calls("/rest/api/3/search/jql")[-1]["jql"]
    # The newest `updated` in the mirror (2026-10-03 14:25) less a day, in JQL's minute format.
    assert jql == 'project in ("ABC") AND updated >= "2026-10-02 14:25" ORDER BY key ASC'
    assert jira.answered_keys[-1] == ["ABC-2", "ABC-4"]  # ABC-1 was not asked for again
    items = typed(second["work_items"]).set_index("key")
    assert items.index.tolist() == ["ABC-1", "ABC-2", "ABC-3", "ABC-4"]  # ABC-3 still mirrored
    assert items.loc["ABC-2", "status"] == "closed"
    assert items.loc["ABC-2", "resolved"] == pd.Timestamp("2026-10-20")
    assert typed(second["work_item_history"])["item"].tolist() == ["ABC-2"]
    assert "2 updated since 2026-10-02 14:25 merged" in second["work_items"].origin

    with jira_log(caplog):
        third = pull(source, tmp_path, refresh=True)

    assert jira.calls("/rest/api/3/search/jql")[-1]["jql"] == 'project in ("ABC") ORDER BY key ASC'
    assert third["work_items"].frame["key"].tolist() == ["ABC-1", "ABC-2", "ABC-4"]
    assert "1 deleted issue(s) removed" in third["work_items"].origin
    assert "1 issue(s) no longer on the server removed from the mirror: ABC-3" in caplog.text
    mirror = read_json(tmp_path / "state" / MIRROR_FILE)
    assert {ident: i["key"] for ident, i in mirror["issues"].items()} == {  # kept by issue id
        "10001": "ABC-1", "10002": "ABC-2", "10004": "ABC-4"}


def test_a_failed_pull_leaves_the_mirror_as_it_was(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1", updated=stamp("2026-10-01")))
    jira.versions["ABC"] = []
    source = jira_source(tmp_path)
    pull(source, tmp_path)
    before = (tmp_path / "state" / MIRROR_FILE).read_bytes()
    jira.add(issue("ABC-2", updated=stamp("2026-10-09")))
    jira.failures += [("/rest/api/3/project/ABC/version", 503, {}, "Service Unavailable")] * 4

    with pytest.raises(SourceError, match="answered HTTP 503 4 time"):
        pull(source, tmp_path)

    assert (tmp_path / "state" / MIRROR_FILE).read_bytes() == before
    assert [p.name for p in (tmp_path / "state").iterdir()] == [MIRROR_FILE]  # no temporary left


def test_tables_are_typed_against_the_contracts_with_jira_vocabulary_mapped(
        jira: FakeJira, tmp_path: Path) -> None:
    li_week = [worklog(LI, stamp(f"2026-10-0{5 + n % 5}", "09:00"), 3600) for n in range(15)]
    wang_week = [worklog(WANG, stamp("2026-10-12", "10:00"), 3600) for _ in range(10)]
    jira.add(
        issue("ABC-1", type="Bug", state="Done", priority="Highest", created="2026-10-01",
              resolved="2026-10-08", due="2026-10-10", labels=("Escaped", "payments"),
              worklogs=li_week + wang_week,
              histories=[history(stamp("2026-10-02"), moved("To Do", "In Progress")),
                         history(stamp("2026-10-06"), moved("In Progress", "Resolved")),
                         history(stamp("2026-10-08"), moved("Resolved", "Done"))]),
        issue("ABC-2", type="Bug", state="In Progress", priority="Lowest", created="2026-10-02",
              worklogs=[worklog(LI, stamp("2026-10-11", "22:00"), 5400),   # a Sunday: week of 10-05
                        worklog(LI, stamp("2026-10-12", "08:00"), 5400)]),
        issue("ABC-3", type="Story", state="Resolved", priority=None, labels=("escaped",)),
        issue("ABC-4", type="Sub-task", state="To Do", priority="High"),
        issue("ABC-5", type="Incident", state="To Do", priority="Medium"),
        issue("ABC-6", type="Improvement", state="In Progress", priority="Low"),
        issue("XYZ-1", type="Task", state="Done", worklogs=[worklog(WANG, stamp("2026-10-13"), 7200)]),
    )
    jira.versions["ABC"] = [version(10100, "1.0", "2026-09-30", released=True),
                            version(10101, "1.1", "2026-11-15"),
                            version(10102, "2.0", None),                       # no date yet
                            version(10103, "0.9-beta", "2026-08-01", archived=True)]  # abandoned
    jira.versions["XYZ"] = [version(10200, "R1", "2026-12-01")]
    jira.boards["ABC"] = [{"id": 1, "self": "https://acme.atlassian.net/rest/agile/1.0/board/1",
                           "name": "ABC board", "type": "scrum"},
                          {"id": 2, "self": "https://acme.atlassian.net/rest/agile/1.0/board/2",
                           "name": "ABC support", "type": "kanban"}]
    jira.sprints[1] = [sprint(37, "ABC Sprint 1", "closed", end="2026-10-14", complete="2026-10-15"),
                       sprint(38, "ABC Sprint 2", "active", end="2026-10-28"),
                       sprint(39, "ABC Sprint 3", "future")]
    source = jira_source(tmp_path, projects={"ABC": "P-ABC", "XYZ": "P-XYZ"}, tables={
        "work_items": {"values": {"status": {"resolved": "resolved"},
                                  "type": {"Improvement": "requirement"}}},
    })

    raws = pull(source, tmp_path)

    assert raws["work_items"].frame.set_index("key").loc["ABC-3", "status_name"] == "Resolved"  # Jira's words
    items = typed(raws["work_items"]).set_index("key")
    assert items["project"].tolist() == ["P-ABC"] * 6 + ["P-XYZ"]
    assert items["type"].tolist() == ["bug", "bug", "requirement", "task", "incident", "requirement", "task"]
    assert items["status"].tolist() == ["closed", "in_progress", "resolved", "open", "open", "in_progress",
                                        "closed"]
    assert items["priority"].fillna("-").tolist() == ["critical", "low", "-", "high", "medium", "low",
                                                      "medium"]
    assert items["found_after_release"].tolist()[:3] == [True, False, pd.NA]  # only bugs say
    assert items.loc["ABC-1", ["created", "resolved", "due"]].tolist() == [
        pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-08"), pd.Timestamp("2026-10-10")]
    assert pd.isna(items.loc["ABC-2", "resolved"])

    changes = typed(raws["work_item_history"])
    assert changes[["item", "seq", "from_status", "to_status"]].values.tolist() == [
        ["ABC-1", 1, "open", "in_progress"], ["ABC-1", 2, "in_progress", "resolved"],
        ["ABC-1", 3, "resolved", "closed"]]  # the user's "Resolved" applies to history too

    milestones = typed(raws["milestones"]).set_index("id")
    assert milestones.index.tolist() == ["version-10100", "version-10101", "sprint-37", "sprint-38",
                                         "version-10200"]
    assert not milestones["is_gate"].any()
    dates = milestone_dates(milestones)
    assert dates.loc["version-10100"].tolist() == ["2026-09-30", "2026-09-30", "2026-09-30"]
    assert dates.loc["version-10101"].tolist() == ["2026-11-15", "2026-11-15", None]
    assert dates.loc["sprint-37"].tolist() == ["2026-10-14", "2026-10-14", "2026-10-15"]
    assert milestones.loc["sprint-38", "name"] == "ABC Sprint 2"
    assert milestones.loc["version-10200", "project"] == "P-XYZ"
    assert jira.calls("/rest/agile/1.0/board/2/sprint")  # the kanban board was asked and said no
    assert "3 without a date or abandoned skipped" in raws["milestones"].origin  # 2.0, 0.9-beta, Sprint 3

    hours = typed(raws["timesheets"])
    assert hours.assign(week=hours["week"].dt.strftime("%Y-%m-%d"))[
        ["person", "project", "week", "hours"]].values.tolist() == [
        [LI["accountId"], "P-ABC", "2026-10-05", 16.5],
        [LI["accountId"], "P-ABC", "2026-10-12", 1.5],
        [WANG["accountId"], "P-ABC", "2026-10-12", 10.0],
        [WANG["accountId"], "P-XYZ", "2026-10-12", 2.0],
    ]
    # 25 worklogs on ABC-1: more than the search embeds, so its worklog endpoint was read.
    assert len(jira.calls("/rest/api/3/issue/ABC-1/worklog")) == 1
    assert not jira.calls("/rest/api/3/issue/ABC-2/worklog")


def test_the_first_release_date_seen_stays_the_baseline(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"))
    jira.versions["ABC"] = [version(10101, "1.1", "2026-11-15")]
    jira.boards["ABC"] = [{"id": 1, "name": "ABC board", "type": "scrum"}]
    jira.sprints[1] = [sprint(38, "ABC Sprint 2", "active", end="2026-10-28")]
    source = jira_source(tmp_path)
    pull(source, tmp_path)
    jira.versions["ABC"] = [version(10101, "1.1", "2026-12-01")]   # the release slipped
    jira.sprints[1] = [sprint(38, "ABC Sprint 2", "closed", end="2026-10-30", complete="2026-10-31")]

    for refresh in (False, True):  # a full refresh keeps what was seen first, too
        milestones = typed(pull(source, tmp_path, refresh=refresh)["milestones"]).set_index("id")
        dates = milestone_dates(milestones)
        assert dates.loc["version-10101"].tolist() == ["2026-11-15", "2026-12-01", None]
        assert dates.loc["sprint-38"].tolist() == ["2026-10-28", "2026-10-30", "2026-10-31"]


def test_without_a_project_list_every_visible_project_is_pulled(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"), issue("XYZ-1"))
    jira.versions |= {"ABC": [], "XYZ": []}

    raws = pull(jira_source(tmp_path, projects=None, options={"sprints": False, "worklogs": False}),
                tmp_path)

    assert raws["work_items"].frame[["project", "key"]].values.tolist() == [["ABC", "ABC-1"],
                                                                            ["XYZ", "XYZ-1"]]
    assert "timesheets" not in raws
    assert jira.calls("/rest/api/3/search/jql")[0]["jql"] == 'project in ("ABC", "XYZ") ORDER BY key ASC'
    assert "worklog" not in jira.calls("/rest/api/3/search/jql")[0]["fields"].split(",")
    assert not jira.calls("/rest/agile/1.0/board")


def test_the_extra_jql_and_display_names_are_used(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1", worklogs=[worklog(LI, stamp("2026-10-07"), 3600)]))
    jira.versions["ABC"] = []

    raws = pull(jira_source(tmp_path, options={"jql": "component = Payments", "person": "display_name",
                                               "sprints": False}), tmp_path)

    assert jira.calls("/rest/api/3/search/jql")[0]["jql"] == \
        'project in ("ABC") AND (component = Payments) ORDER BY key ASC'
    assert raws["timesheets"].frame["person"].tolist() == ["Li Lei"]


@pytest.mark.parametrize(("settings", "expected"), [
    ({"options": {"sprint": False}}, r"'sources\[jira\]\.options\.sprint' \(did you mean 'sprints'\?\)"),
    ({"options": {"page_size": 500}}, "page_size must be a whole number from 1 to 100"),
    ({"options": {"worklogs": "yes"}}, "worklogs must be true or false"),
    ({"options": {"jql": "labels = x ORDER BY created"}}, "without ORDER BY"),
    ({"options": {"person": "email"}}, "person is 'email'"),
    ({"tables": {"risks": {}}}, r"names \['risks'\], which a jira source does not fill"),
    ({"tables": {"work_items": {"columns": {"Key": "key"}}}}, "only `values`"),
], ids=["unknown-option", "page-size", "not-a-bool", "order-by", "person", "foreign-table", "columns"])
def test_settings_a_jira_source_cannot_use_are_refused_before_any_call(
        jira: FakeJira, tmp_path: Path, settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as refused:
        pull(jira_source(tmp_path, **settings), tmp_path)

    assert "sources[jira]" in str(refused.value)
    assert jira.requests == []


def test_extract_freezes_the_jira_tables_into_the_snapshot(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1", type="Bug", state="Done", created="2026-10-01", resolved="2026-10-05",
                   histories=[history(stamp("2026-10-05"), moved("To Do", "Done"))],
                   worklogs=[worklog(LI, stamp("2026-10-05"), 7200)]),
             issue("ABC-2", type="Story", state="In Progress", created="2026-10-03"))
    jira.versions["ABC"] = [version(10100, "1.0", "2026-10-30")]
    exports = tmp_path / "exports"
    exports.mkdir()
    canonical_table("projects", id=["P-ABC"], name=["Payments"], business_unit=["BU1"], manager=["u1"],
                    status=["active"], start=["2026-01-05"]).to_csv(exports / "projects.csv", index=False)
    config = load_config(write_config(tmp_path, minimal_config([
        {"name": "pmo", "kind": "files", "path": "exports"},
        {"name": "jira", "kind": "jira", "conn_id": "jira_cloud", "projects": {"ABC": "P-ABC"}},
    ])))

    snapshot = extract(config, PERIOD)

    assert snapshot["tables"] == {"milestones": 1, "projects": 1, "timesheets": 1, "work_item_history": 1,
                                  "work_items": 2}
    canonical = Path(snapshot["canonical"])
    items = pd.read_parquet(canonical / "work_items.parquet")
    assert items[["project", "key", "type", "status"]].values.tolist() == [
        ["P-ABC", "ABC-1", "bug", "closed"], ["P-ABC", "ABC-2", "requirement", "in_progress"]]
    assert items["source_origin"].str.startswith(f"Jira {jira.url}, project(s) ABC: issues").all()
    assert pd.read_parquet(canonical / "timesheets.parquet")["hours"].tolist() == [2.0]
    assert (Path(snapshot["raw"]) / "jira" / "work_items.parquet").exists()
    assert (config.artifacts_root / "sources" / "jira" / MIRROR_FILE).exists()


def test_timestamps_are_counted_on_their_day_in_the_organisations_time_zone(
        jira: FakeJira, tmp_path: Path) -> None:
    """22:30 UTC on 31 March is 06:30 on 1 April in Shanghai: the issue was resolved in April
    there, and work logged at 16:30 UTC on Sunday 5 April was done on Monday, a new week."""
    closed, sunday = "2026-03-31T22:30:00.000+0000", "2026-04-05T16:30:00.000+0000"
    jira.add(issue("ABC-1", type="Bug", state="Done", created="2026-03-02", resolved=None,
                   histories=[history(closed, moved("To Do", "Done"))],
                   worklogs=[worklog(LI, sunday, 3600)]))
    jira.issues["ABC-1"]["fields"]["resolutiondate"] = closed
    jira.versions["ABC"] = []
    jira.boards["ABC"] = [{"id": 1, "name": "ABC board", "type": "scrum"}]
    jira.sprints[1] = [{**sprint(7, "Sprint 7", "closed", end="2026-03-31"),
                        "completeDate": "2026-03-31T22:30:00.000Z"}]
    exports = tmp_path / "exports"
    exports.mkdir()
    canonical_table("projects", id=["P-ABC"], name=["Payments"], business_unit=["BU1"], manager=["u1"],
                    status=["active"], start=["2026-01-05"]).to_csv(exports / "projects.csv", index=False)
    settings = minimal_config([
        {"name": "pmo", "kind": "files", "path": "exports"},
        {"name": "jira", "kind": "jira", "conn_id": "jira_cloud", "projects": {"ABC": "P-ABC"}}])

    def days(zone: str) -> dict[str, Any]:
        folder = tmp_path / zone.replace("/", "-")
        folder.mkdir()
        shutil.copytree(exports, folder / "exports")
        settings["organisation"]["timezone"] = zone
        canonical = Path(extract(load_config(write_config(folder, settings)), Period.parse("2026-04"))
                         ["canonical"])
        table = {name: pd.read_parquet(canonical / f"{name}.parquet")
                 for name in ("work_items", "work_item_history", "timesheets", "milestones")}
        return {"resolved": table["work_items"]["resolved"].iloc[0].date().isoformat(),
                "changed": table["work_item_history"]["changed"].iloc[0].date().isoformat(),
                "week": table["timesheets"]["week"].iloc[0].date().isoformat(),
                "sprint reached": table["milestones"]["actual_date"].iloc[0].date().isoformat()}

    assert days("Asia/Shanghai") == {"resolved": "2026-04-01", "changed": "2026-04-01",
                                     "week": "2026-04-06", "sprint reached": "2026-04-01"}
    assert days("UTC") == {"resolved": "2026-03-31", "changed": "2026-03-31",
                           "week": "2026-03-30", "sprint reached": "2026-03-31"}


@pytest.mark.parametrize("command", ["validate", "kpis"])
def test_json_output_is_only_json_while_the_pull_logs_to_standard_error(
        jira: FakeJira, tmp_path: Path, command: str) -> None:
    """Airflow, imported to read the connection, points logging at standard output; the
    command's --json must still be the whole of standard output."""
    jira.add(issue("ABC-1", type="Bug", state="Done", created="2026-10-01", resolved="2026-10-05",
                   histories=[history(stamp("2026-10-05"), moved("To Do", "Done"))]),
             issue("ABC-2", type="Story", state="In Progress", created="2026-10-03"))
    jira.versions["ABC"] = [version(10100, "1.0", "2026-10-30")]
    exports = tmp_path / "exports"
    exports.mkdir()
    canonical_table("projects", id=["P-ABC"], name=["Payments"], business_unit=["BU1"], manager=["u1"],
                    status=["active"], start=["2026-01-05"]).to_csv(exports / "projects.csv", index=False)
    config = write_config(tmp_path, minimal_config([
        {"name": "pmo", "kind": "files", "path": "exports"},
        {"name": "jira", "kind": "jira", "conn_id": "jira_cloud", "projects": {"ABC": "P-ABC"}},
    ]))

    done = subprocess.run(
        [sys.executable, "-m", "pmopulse", command, "--config", str(config), "--period", str(PERIOD),
         "--json"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"),
                                                          os.environ.get("PYTHONPATH", "")])})

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    if command == "validate":
        assert printed["period"] == str(PERIOD) and printed["blocking"] is False
    else:
        assert {r["level"] for r in printed} >= {"organisation", "project"}
    assert "source 'jira' (Jira): full pull of 2 issue(s)" in done.stderr
    assert "INFO source jira: work_items (2 rows)" in done.stderr


def test_a_status_takes_its_category_from_its_own_projects_workflow(jira: FakeJira, tmp_path: Path) -> None:
    """ABC and XYZ are team-managed: each has its own "Review", done in ABC, in progress in
    XYZ. Each issue and each history row takes the category of its own status id."""
    jira.add(
        issue("ABC-1", state="Review", created="2026-10-01", category_changed="2026-10-07",
              histories=[history(stamp("2026-10-07"), moved("To Do", "Review", "ABC"))]),
        issue("ABC-2", state="In Progress", created="2026-10-01",
              histories=[history(stamp("2026-10-03"), moved("To Do", "Review", "ABC")),
                         history(stamp("2026-10-05"), moved("Review", "In Progress", "ABC"))]),
        issue("XYZ-1", state="Review", created="2026-10-02", category_changed="2026-10-06",
              histories=[history(stamp("2026-10-06"), moved("To Do", "Review", "XYZ"))]),
    )
    jira.versions |= {"ABC": [], "XYZ": []}
    source = jira_source(tmp_path, projects={"ABC": "P-ABC", "XYZ": "P-XYZ"}, options={"sprints": False})

    raws = pull(source, tmp_path)

    items = typed(raws["work_items"]).set_index("key")
    assert items["status"].to_dict() == {"ABC-1": "closed", "ABC-2": "in_progress", "XYZ-1": "in_progress"}
    # Done in a workflow that sets no resolution: resolved when it entered the done category.
    assert items.loc["ABC-1", "resolved"] == pd.Timestamp("2026-10-07")
    assert pd.isna(items.loc["XYZ-1", "resolved"])
    assert raws["work_items"].frame["status_name"].tolist() == ["Review", "In Progress", "Review"]
    changes = typed(raws["work_item_history"])
    assert changes[["item", "seq", "from_status", "to_status"]].values.tolist() == [
        ["ABC-1", 1, "open", "closed"], ["ABC-2", 1, "open", "closed"], ["ABC-2", 2, "closed", "in_progress"],
        ["XYZ-1", 1, "open", "in_progress"]]

    # The config's value map still wins over the category, for the issues and their history.
    mapped = jira_source(tmp_path, projects={"ABC": "P-ABC", "XYZ": "P-XYZ"}, options={"sprints": False},
                         tables={"work_items": {"values": {"status": {"review": "resolved"}}}})
    raws = pull(mapped, tmp_path)
    assert typed(raws["work_items"])["status"].tolist() == ["resolved", "in_progress", "resolved"]
    assert typed(raws["work_item_history"])["to_status"].tolist() == [
        "resolved", "resolved", "in_progress", "resolved"]


def test_a_status_met_only_in_a_changelog_takes_the_category_of_its_id(jira: FakeJira,
                                                                       tmp_path: Path) -> None:
    """No issue is in ABC's "Review" any more: its category comes from the status list, by id,
    and not from XYZ's "Review", which an issue is in now."""
    jira.add(issue("ABC-1", state="In Progress",
                   histories=[history(stamp("2026-10-03"), moved("To Do", "Review", "ABC")),
                              history(stamp("2026-10-05"), moved("Review", "In Progress", "ABC"))]),
             issue("XYZ-1", state="Review"))
    jira.versions |= {"ABC": [], "XYZ": []}

    raws = pull(jira_source(tmp_path, projects={"ABC": "P-ABC", "XYZ": "P-XYZ"}, options={"sprints": False}),
                tmp_path)

    assert typed(raws["work_item_history"])[["from_status", "to_status"]].values.tolist() == [
        ["open", "closed"], ["closed", "in_progress"]]
    assert len(jira.calls("/rest/api/3/status")) == 1


def test_an_issue_moved_between_projects_is_one_issue_after_an_incremental_pull(
        jira: FakeJira, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    changes = [history(stamp("2026-10-02"), moved("To Do", "In Progress"))]
    logs = [worklog(LI, stamp("2026-10-05"), 7200)]
    jira.add(issue("ABC-1", state="In Progress", created="2026-10-01", updated=stamp("2026-10-05"),
                   histories=changes, worklogs=logs),
             issue("XYZ-1", created="2026-10-01", updated=stamp("2026-10-01")))
    jira.versions |= {"ABC": [], "XYZ": []}
    source = jira_source(tmp_path, projects={"ABC": "P-ABC", "XYZ": "P-XYZ"}, options={"sprints": False})
    pull(source, tmp_path)

    # Moved to XYZ: the same id, a new key and project; its history and worklogs go with it.
    del jira.issues["ABC-1"]
    jira.add(issue("XYZ-2", ident="10001", state="In Progress", created="2026-10-01",
                   updated=stamp("2026-10-12"), histories=changes, worklogs=logs))
    with jira_log(caplog):
        raws = pull(source, tmp_path)

    assert "updated since" in raws["work_items"].origin  # incremental, not a full pull
    assert jira.answered_keys[-1] == ["XYZ-2"]
    items = typed(raws["work_items"])
    assert items[["project", "key"]].values.tolist() == [["P-XYZ", "XYZ-1"], ["P-XYZ", "XYZ-2"]]
    history_table = typed(raws["work_item_history"])
    assert history_table[["project", "item", "seq"]].values.tolist() == [["P-XYZ", "XYZ-2", 1]]
    hours = typed(raws["timesheets"])
    assert hours[["project", "hours"]].values.tolist() == [["P-XYZ", 2.0]]
    assert "moved: ABC-1 -> XYZ-2" in caplog.text


def test_a_server_failing_again_and_again_is_given_up_on_within_about_a_minute(
        jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"))
    jira.failures += [("/rest/api/3/search/jql", 503, {}, "Service Unavailable")] * 10
    sleeps = Sleeps()

    with pytest.raises(SourceError) as failed:
        pull(jira_source(tmp_path), tmp_path, sleep=sleeps)

    message = str(failed.value)
    assert "GET /rest/api/3/search/jql" in message and "HTTP 503 4 time(s)" in message
    assert jira.url in message and "project(s) ABC" in message
    assert "Airflow connection 'jira_cloud'" in message
    assert len(jira.calls("/rest/api/3/search/jql")) == 4
    # By default: 4 attempts of at most timeout_seconds each, plus the waits, about a minute.
    assert sleeps.waits == [2.0, 5.0, 10.0]
    assert sum(sleeps.waits) + 4 * HttpSettings().timeout_seconds <= 60

    jira.failures[:] = [("/rest/api/3/search/jql", 503, {}, "Service Unavailable")] * 10
    sleeps = Sleeps()
    with pytest.raises(SourceError, match=r"HTTP 503 2 time\(s\)"):
        pull(jira_source(tmp_path, options={"retries": 1, "timeout_seconds": 5}), tmp_path, sleep=sleeps)
    assert sleeps.waits == [2.0]
    assert len(jira.calls("/rest/api/3/search/jql")) == 4 + 2


def test_a_truncated_json_body_is_named_as_such(jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"))
    jira.failures.append(("/rest/api/3/search/jql", 200, {"Content-Type": "application/json;charset=UTF-8"},
                          '{"issues": [{"expand": "changelog", "id": "10001", "key": "AB'))

    with pytest.raises(SourceError) as failed:
        pull(jira_source(tmp_path), tmp_path)

    message = str(failed.value)
    assert "GET /rest/api/3/search/jql" in message and "truncated or malformed JSON" in message
    assert "site URL" not in message
    assert jira.url in message and "project(s) ABC" in message and "'jira_cloud'" in message
    assert not (tmp_path / "state" / MIRROR_FILE).exists()


def test_a_connection_dropped_half_way_through_a_body_is_retried_then_named(
        jira: FakeJira, tmp_path: Path) -> None:
    jira.add(issue("ABC-1"))
    cut = ("/rest/api/3/search/jql", 200, {"Content-Type": "application/json", "Content-Length": "4000"},
           '{"issues": [{"expand": "changelog", "id": "10001"')
    jira.failures += [cut, cut]
    sleeps = Sleeps()

    with pytest.raises(SourceError) as failed:
        pull(jira_source(tmp_path, options={"retries": 1}), tmp_path, sleep=sleeps)

    assert "GET /rest/api/3/search/jql" in str(failed.value) and "no whole answer" in str(failed.value)
    assert sleeps.waits == [2.0]


@pytest.mark.parametrize("site", ["http://jira.acme.example", "http://10.1.2.3:8080"])
def test_a_token_is_never_sent_over_plain_http_to_another_host(
        jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_CLOUD", json.dumps(
        {"conn_type": "http", "host": site, "login": LOGIN, "password": TOKEN}))

    with pytest.raises(ConfigError) as refused:
        pull(jira_source(tmp_path), tmp_path)

    message = str(refused.value)
    assert "sources[jira].options.allow_insecure_http: true" in message and "https://" in message
    assert "Airflow connection 'jira_cloud'" in message and "project(s) ABC" in message
    assert TOKEN not in message
    assert jira.requests == []


@pytest.mark.parametrize(("site", "allowed"), [
    ("http://127.0.0.1:8080", False), ("http://127.4.5.6", False), ("http://[::1]:8080", False),
    ("http://localhost:8080", False), ("https://acme.atlassian.net", False),
    ("http://jira.acme.example", True),
])
def test_plain_http_is_accepted_on_loopback_or_when_allowed(site: str, allowed: bool) -> None:
    check_site(SourceSite("source 'jira' (Jira)", site, ("ABC",), "jira_cloud", "sources[jira].options"),
               HttpSettings(allow_insecure_http=allowed))


@pytest.mark.parametrize(("options", "expected"), [
    ({"retries": -1}, "retries must be a whole number from 0 to 10"),
    ({"timeout_seconds": "fast"}, "timeout_seconds must be a number of seconds"),
    ({"allow_insecure_http": "yes"}, "allow_insecure_http must be true or false"),
], ids=["retries", "timeout", "insecure"])
def test_bad_http_settings_are_refused_before_any_call(jira: FakeJira, tmp_path: Path,
                                                       options: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as refused:
        pull(jira_source(tmp_path, options=options), tmp_path)
    assert "sources[jira].options" in str(refused.value)
    assert jira.requests == []


def test_a_missing_connection_is_named_with_the_source_and_its_projects(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_JIRA_CLOUD", raising=False)

    with pytest.raises(SourceError) as missing:
        pull(jira_source(tmp_path, site="https://acme.atlassian.net"), tmp_path)

    message = str(missing.value)
    assert "Airflow connection 'jira_cloud' does not exist" in message
    assert "site https://acme.atlassian.net" in message and "project(s) ABC" in message


def test_a_mirror_kept_by_key_is_pulled_again_keeping_its_baselines(jira: FakeJira, tmp_path: Path) -> None:
    """A mirror written before issues were kept by id: its issues are pulled again in full
    (merging them by id would count each twice), its remembered baselines stay."""
    jira.add(issue("ABC-1", updated=stamp("2026-10-01")))
    jira.versions["ABC"] = [version(10101, "1.1", "2026-12-01")]
    state = tmp_path / "state"
    state.mkdir()
    (state / MIRROR_FILE).write_text(json.dumps({
        "format": 1, "scope": "whatever", "statuses": {"To Do": "new"},
        "baselines": {"version-10101": "2026-11-15"},
        "issues": {"ABC-1": {"key": "ABC-1", "project": "ABC", "updated": stamp("2026-10-01")}}}))

    raws = pull(jira_source(tmp_path, options={"sprints": False}), tmp_path)

    assert "full pull" in raws["work_items"].origin
    assert raws["work_items"].frame["key"].tolist() == ["ABC-1"]
    assert milestone_dates(typed(raws["milestones"])).values.tolist() == [["2026-11-15", "2026-12-01", None]]
    mirror = read_json(state / MIRROR_FILE)
    assert mirror["format"] == 2 and list(mirror["issues"]) == ["10001"]
