"""The Redmine source against a real Redmine 5.0 on loopback (Debian's package).

The session fixture runs the shared scripts in ../shared/tools/redmine/: start_redmine.sh
installs Redmine on a new machine (about 40 s) and starts it, seed_redmine.py seeds three
projects, versions, 50 issues with journals and about 110 time entries. Redmine failing to
start is a failure, not a skip: CI runs this for real. The seed's dates are relative to the
day it ran, so every period below is chosen from the data.

Expected numbers come from plain REST calls (urllib) and the rules written out here, never
from the reader.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from pmopulse import pipeline
from pmopulse.config import SourceConfig, load_config, project_home
from pmopulse.contracts import load_contracts
from pmopulse.contracts.coerce import SOURCE_ROW
from pmopulse.errors import ConfigError, SourceError
from pmopulse.kpis import pmo, qa
from pmopulse.kpis.base import KpiInputs
from pmopulse.kpis.catalogue import load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.period import Period
from pmopulse.sources import RawTable, SourceRequest
from pmopulse.sources.http import ApiClient
from pmopulse.sources.mapping import canonical_frame
from pmopulse.sources.redmine import Status, default_values, read
from support import REPO, kpi_result, minimal_config, write_config

pytestmark = pytest.mark.integration

TOOLS = REPO.parent / "shared" / "tools" / "redmine"
START_TIMEOUT = 420
"""Seconds for start_redmine.sh: installing the packages on a new machine took 30-40 s."""
SEED_TIMEOUT = 150
"""Seconds for seed_redmine.py: about 400 REST calls, 16 s here."""
SEEDED = {"apollo-web": 17, "borealis-mobile": 17, "cygnus-data": 16}
"""The seeded projects and their issue counts."""
CONN_ID = "redmine_test"
UTC = ZoneInfo("UTC")
PAGE = 5
"""A page size far below the project sizes, so every list takes several pages."""
REOPEN_NOTE = "Reopened: fails again on staging (pmopulse test)."
CANONICAL_STATUS = {"New": "open", "In Progress": "in_progress", "Feedback": "in_progress",
                    "Resolved": "resolved", "Closed": "closed", "Rejected": "closed"}


@dataclass(frozen=True)
class Redmine:
    url: str
    key: str

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params)

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            f"{self.url}{path}{query}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Redmine-API-Key": self.key, "Accept": "application/json",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
        return json.loads(raw) if raw.strip() else None

    def every(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """All records of a paged list, 100 at a time."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.get(path, **params, limit=100, offset=len(found))
            found += page[key]
            if not page[key] or len(found) >= page["total_count"]:
                return found

    def connection(self, host: str | None = None) -> str:
        """An Airflow connection (AIRFLOW_CONN_... JSON) holding the key: site and password."""
        return json.dumps({"conn_type": "http", "host": host or self.url, "password": self.key})


def _run(command: list[str], timeout: int, what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} did not finish in {timeout} s; output:\n{exc.stdout or ''}\n{exc.stderr or ''}")
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}); output:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def redmine() -> Redmine:
    """A running, seeded Redmine with one issue reopened after it was resolved."""
    if not (TOOLS / "start_redmine.sh").is_file():
        pytest.fail(f"the Redmine scripts are missing: {TOOLS} should hold start_redmine.sh and "
                    "seed_redmine.py")
    out = _run(["bash", str(TOOLS / "start_redmine.sh")], START_TIMEOUT, "start_redmine.sh")
    key = out.strip().splitlines()[-1].strip()
    server = Redmine(f"http://127.0.0.1:{os.environ.get('REDMINE_PORT', '3300')}", key)
    _run([sys.executable, str(TOOLS / "seed_redmine.py"), "--url", server.url, "--key", key],
         SEED_TIMEOUT, "seed_redmine.py")
    _reopen_one_issue(server)
    return server


def _reopen_one_issue(server: Redmine) -> None:
    """The seed reopens nothing; reopen its first resolved issue once, through the API as a
    user would, so the reopened share has a reopen to count (dated the day this first ran)."""
    issues = server.every("/issues.json", "issues", project_id="borealis-mobile", status_id="*", sort="id")
    for issue in issues:
        journals = server.get(f"/issues/{issue['id']}.json", include="journals")["issue"]["journals"]
        if any(j.get("notes") == REOPEN_NOTE for j in journals):
            return
    statuses = {s["name"]: s["id"] for s in server.get("/issue_statuses.json")["issue_statuses"]}
    resolved = next(i for i in issues if i["status"]["name"] == "Resolved")
    server.call("PUT", f"/issues/{resolved['id']}.json",
                body={"issue": {"status_id": statuses["In Progress"], "notes": REOPEN_NOTE}})


@dataclass(frozen=True)
class Expected:
    """What the server holds, read with plain REST calls."""

    projects: list[dict[str, Any]]
    issues: dict[str, list[dict[str, Any]]]              # project identifier -> issues
    journals: dict[int, list[dict[str, Any]]]            # issue id -> journals
    statuses: dict[int, str]
    versions: dict[str, list[dict[str, Any]]]
    time_entries: dict[str, list[dict[str, Any]]]

    def status_changes(self, issue_id: int) -> list[tuple[dt.date, str, str]]:
        """(day, from, to) in canonical statuses, in time order."""
        journals = sorted(self.journals[issue_id], key=lambda j: (j["created_on"], j["id"]))
        return [(_utc_day(j["created_on"]), CANONICAL_STATUS[self.statuses[int(d["old_value"])]],
                 CANONICAL_STATUS[self.statuses[int(d["new_value"])]])
                for j in journals for d in j["details"] if d["name"] == "status_id"]

    @property
    def latest_change(self) -> dt.date:
        return max(day for issue in self.journals for day, _, _ in self.status_changes(issue))

    @property
    def latest_closing(self) -> dt.date:
        return max(_utc_day(i["closed_on"]) for issues in self.issues.values() for i in issues
                   if i["closed_on"])


def _utc_day(stamp: str) -> dt.date:
    return dt.datetime.fromisoformat(stamp).astimezone(dt.UTC).date()


@pytest.fixture(scope="session")
def expected(redmine: Redmine) -> Expected:
    projects = {p["identifier"]: p for status in (1, 5)
                for p in redmine.every("/projects.json", "projects", status=status)}
    issues = {ident: [i for i in redmine.every("/issues.json", "issues", project_id=ident, status_id="*")
                      if i["project"]["id"] == p["id"]]
              for ident, p in projects.items()}
    return Expected(
        projects=sorted(projects.values(), key=lambda p: p["identifier"]),
        issues=issues,
        journals={i["id"]: redmine.get(f"/issues/{i['id']}.json", include="journals")["issue"]["journals"]
                  for found in issues.values() for i in found},
        statuses={s["id"]: s["name"] for s in redmine.get("/issue_statuses.json")["issue_statuses"]},
        versions={ident: [v for v in redmine.get(f"/projects/{ident}/versions.json")["versions"]
                          if v["project"]["id"] == p["id"]] for ident, p in projects.items()},
        time_entries={ident: [e for e in redmine.every("/time_entries.json", "time_entries", project_id=ident)
                              if e["project"]["id"] == p["id"]] for ident, p in projects.items()},
    )


def _config(folder: Path, **source: Any) -> SourceConfig:
    """The source as a user writes it in pmopulse.yaml."""
    spec = {"name": "tracker", "kind": "redmine", "conn_id": CONN_ID, "business_unit": "BU1", **source}
    return load_config(write_config(folder, minimal_config([spec]))).sources[0]


@dataclass(frozen=True)
class Reading:
    raws: dict[str, RawTable]
    tables: dict[str, pd.DataFrame]                 # canonical, typed
    calls: list[tuple[str, dict[str, Any]]]         # every GET the reader made: path, parameters


def _read(redmine: Redmine, source: SourceConfig, period: Period, state: Path,
          host: str | None = None, zone: ZoneInfo = UTC) -> Reading:
    """Read through the real client, recording each request on its way to the server."""
    calls: list[tuple[str, dict[str, Any]]] = []
    get = ApiClient.get

    def recorded(client: ApiClient, path: str, params: Any = None, *, hint: str = "") -> Any:
        calls.append((path, dict(params or {})))
        return get(client, path, params, hint=hint)

    contracts = load_contracts()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ApiClient, "get", recorded)
        patch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", redmine.connection(host))
        raws = {raw.table: raw for raw in read(source, SourceRequest(contracts, period, state, zone=zone))}
    tables = {name: canonical_frame(raw.frame, contracts[name], raw.mapping, raw.origin)
              for name, raw in raws.items()}
    return Reading(raws, tables, calls)


@pytest.fixture(scope="session")
def reading(redmine: Redmine, expected: Expected, tmp_path_factory: pytest.TempPathFactory) -> Reading:
    """Every project the key can see, in pages of five."""
    folder = tmp_path_factory.mktemp("redmine")
    source = _config(folder, options={"page_size": PAGE})
    return _read(redmine, source, Period.containing(expected.latest_closing), folder / "state")


def test_every_project_is_found_with_its_manager(reading: Reading, expected: Expected,
                                                 redmine: Redmine) -> None:
    projects = reading.tables["projects"].set_index("id")
    assert set(SEEDED) <= set(projects.index)
    assert sorted(projects.index) == [p["identifier"] for p in expected.projects]
    for ident in SEEDED:
        members = redmine.get(f"/projects/{ident}/memberships.json")["memberships"]
        manager = next(m["user"]["name"] for m in members if "Manager" in [r["name"] for r in m["roles"]])
        raw = next(p for p in expected.projects if p["identifier"] == ident)
        assert projects.loc[ident, ["name", "business_unit", "status", "manager"]].tolist() == [
            raw["name"], "BU1", "active", manager]
        assert projects.loc[ident, "start"] == pd.Timestamp(_utc_day(raw["created_on"]))


def test_all_issues_closed_ones_included_are_read_over_several_pages(
        reading: Reading, expected: Expected) -> None:
    items = reading.tables["work_items"]
    by_project = items.groupby("project")["key"].count().to_dict()
    assert {p: by_project[p] for p in SEEDED} == SEEDED
    assert sorted(items["key"]) == sorted(f"{ident}#{i['id']}" for ident, found in expected.issues.items()
                                          for i in found)
    closed = sum(i["status"]["name"] in ("Closed", "Rejected") for found in expected.issues.values()
                 for i in found)
    assert closed > 0 and (items["status"] == "closed").sum() == closed
    listings = [params for path, params in reading.calls if path == "/issues.json"]
    assert all(p["status_id"] == "*" and p["limit"] == PAGE for p in listings)
    assert _offsets(listings) == _pages({p["id"]: len(expected.issues[p["identifier"]])
                                         for p in expected.projects})      # 17 issues: 4 pages


def _offsets(listings: list[dict[str, Any]]) -> dict[int, list[int]]:
    """The offsets asked for, per project."""
    asked: dict[int, list[int]] = defaultdict(list)
    for params in listings:
        asked[params["project_id"]].append(params["offset"])
    return dict(asked)


def _pages(sizes: dict[int, int]) -> dict[int, list[int]]:
    """The offsets of pages of PAGE records (one page for an empty list)."""
    return {project: list(range(0, max(size, 1), PAGE)) for project, size in sizes.items()}


def test_raw_tables_hold_only_contract_columns_and_row_numbers(reading: Reading) -> None:
    contracts = load_contracts()
    assert set(reading.raws) == {"projects", "work_items", "work_item_history", "milestones", "timesheets"}
    for name, raw in reading.raws.items():
        assert set(raw.frame.columns) - {SOURCE_ROW} <= set(contracts[name].column_names), name
        assert raw.frame[SOURCE_ROW].tolist() == list(range(1, len(raw.frame) + 1)), name


def test_work_items_keep_redmine_names_raw_and_translate_them(reading: Reading, expected: Expected) -> None:
    raw = reading.raws["work_items"].frame.set_index("key")
    typed = reading.tables["work_items"].set_index("key")
    issue = expected.issues["apollo-web"][0]
    key = f"apollo-web#{issue['id']}"
    assert raw.loc[key, ["type", "priority", "status"]].tolist() == [
        issue["tracker"]["name"], issue["priority"]["name"], issue["status"]["name"]]
    trackers = {"Bug": "bug", "Feature": "requirement", "Task": "task"}
    assert typed.loc[key, "type"] == trackers[issue["tracker"]["name"]]
    assert typed.loc[key, "status"] == CANONICAL_STATUS[issue["status"]["name"]]
    assert typed.loc[key, "created"] == pd.Timestamp(_utc_day(issue["created_on"]))
    assert set(typed["type"]) <= {"bug", "requirement", "task"}
    assert set(typed["priority"]) <= {"low", "medium", "high", "critical"}
    # only closed issues have a resolution date, and it is Redmine's closed_on
    for found in expected.issues.values():
        for i in found:
            resolved = typed.loc[f"{_ident(expected, i)}#{i['id']}", "resolved"]
            if i["status"]["name"] in ("Closed", "Rejected"):
                assert resolved == pd.Timestamp(_utc_day(i["closed_on"]))
            else:
                assert pd.isna(resolved)


def _ident(expected: Expected, issue: dict[str, Any]) -> str:
    return next(p["identifier"] for p in expected.projects if p["id"] == issue["project"]["id"])


def test_status_history_has_one_row_per_status_change(reading: Reading, expected: Expected) -> None:
    history = reading.tables["work_item_history"]
    changes = {f"{_ident(expected, i)}#{i['id']}": expected.status_changes(i["id"])
               for found in expected.issues.values() for i in found}
    assert len(history) == sum(len(c) for c in changes.values()) > 100
    for item, rows in history.sort_values(["item", "seq"]).groupby("item"):
        assert rows["seq"].tolist() == list(range(1, len(rows) + 1))
        assert list(zip(rows["changed"].dt.date, rows["from_status"], rows["to_status"], strict=True)) \
            == changes[str(item)]
    assert set(history["item"]) <= set(reading.tables["work_items"]["key"])
    assert history["author"].notna().all()


def test_versions_are_milestones_reached_when_closed(
        reading: Reading, expected: Expected) -> None:
    milestones = reading.tables["milestones"].set_index(["project", "id"])
    versions = {(ident, str(v["id"])): v for ident, found in expected.versions.items() for v in found
                if v.get("due_date")}
    assert len(versions) >= 9 and set(milestones.index) == set(versions)
    for (ident, vid), version in versions.items():
        due = pd.Timestamp(version["due_date"])
        assert milestones.loc[(ident, vid), ["name", "baseline_date", "forecast_date"]].tolist() == [
            version["name"], due, due]
        reached = _reached(expected, version)
        actual = milestones.loc[(ident, vid), "actual_date"]
        assert (pd.isna(actual) if reached is None else actual == pd.Timestamp(reached)), (ident, vid)
    assert milestones["actual_date"].notna().sum() == 3    # the seed closes version 1.0 of each project


def _reached(expected: Expected, version: dict[str, Any]) -> dt.date | None:
    """A closed version was reached when the last of its closed issues closed (on its due
    date when none is closed); an open or locked one is not reached."""
    if version["status"] != "closed":
        return None
    closed = [_utc_day(i["closed_on"]) for found in expected.issues.values() for i in found
              if (i.get("fixed_version") or {}).get("id") == version["id"] and i["closed_on"]
              and i["status"]["name"] in ("Closed", "Rejected")]
    return max(closed, default=dt.date.fromisoformat(version["due_date"]))


def test_time_entries_are_summed_per_person_project_and_week(reading: Reading, expected: Expected) -> None:
    sheets = reading.tables["timesheets"]
    hours: dict[tuple[str, str, dt.date], float] = defaultdict(float)
    for ident, entries in expected.time_entries.items():
        for entry in entries:
            spent = dt.date.fromisoformat(entry["spent_on"])
            monday = spent - dt.timedelta(days=spent.weekday())
            hours[(entry["user"]["name"], ident, monday)] += entry["hours"]
    assert sum(len(e) for e in expected.time_entries.values()) >= 100
    read_hours = {(r.person, r.project, r.week.date()): r.hours for r in sheets.itertuples()}
    assert read_hours.keys() == hours.keys()
    assert read_hours == pytest.approx(hours)
    assert all(w.weekday() == 0 for w in sheets["week"])
    listings = [params for path, params in reading.calls if path == "/time_entries.json"]
    assert _offsets(listings) == _pages({p["id"]: len(expected.time_entries[p["identifier"]])
                                         for p in expected.projects})


def _expected_reopened(expected: Expected, as_of: dt.date) -> tuple[int, int]:
    """(reopened, first resolved) over the items first resolved in the 90 days to `as_of`."""
    reopened = resolved = 0
    for issue in expected.journals:
        changes = [c for c in expected.status_changes(issue) if c[0] <= as_of]
        first = next((n for n, c in enumerate(changes) if c[2] in ("resolved", "closed")), None)
        if first is None or not as_of - dt.timedelta(days=89) <= changes[first][0]:
            continue
        resolved += 1
        reopened += any(c[2] in ("open", "in_progress") for c in changes[first + 1:])
    return reopened, resolved


def _expected_on_time(expected: Expected, period: Period) -> tuple[int, int]:
    """(on time, due) over the versions due in the period."""
    due = [v for found in expected.versions.values() for v in found
           if v.get("due_date") and period.start <= dt.date.fromisoformat(v["due_date"]) <= period.end]
    on_time = [v for v in due if (r := _reached(expected, v)) is not None
               and r <= dt.date.fromisoformat(v["due_date"])]
    return len(on_time), len(due)


def test_kpis_on_the_extracted_tables_match_the_api(reading: Reading, expected: Expected) -> None:
    catalogue = {k: v for k, v in load_catalogue(project_home() / "assessments" / "kpis.yaml").items()
                 if k in ("reopened_share", "milestone_on_time")}
    # reopened share: the month of the latest status change (the reopen the fixture made)
    period = Period.containing(expected.latest_change)
    reopened, resolved = _expected_reopened(expected, period.end)
    assert reopened >= 1 and resolved > reopened
    report = compute_kpis(reading.tables, catalogue, period, organisation="Org", business_units=["BU1"])
    result = kpi_result(report, "reopened_share")
    assert (result["numerator"], result["denominator"]) == (reopened, resolved)
    # milestone on-time rate: every month a version is due, so late and open ones count too
    months = {Period.containing(dt.date.fromisoformat(v["due_date"]))
              for found in expected.versions.values() for v in found if v.get("due_date")}
    compared = []
    for month in sorted(months):
        records = pmo.milestone_on_time(KpiInputs(reading.tables, month))
        compared.append((int(records["numerator"].sum()), int(records["denominator"].sum())))
        assert compared[-1] == _expected_on_time(expected, month), month
    assert sum(on for on, _ in compared) > 0 and sum(due - on for on, due in compared) > 0
    # and through the engine for the month the closed versions were due
    month = Period.containing(max(dt.date.fromisoformat(v["due_date"]) for found in expected.versions.values()
                                  for v in found if v["status"] == "closed"))
    report = compute_kpis(reading.tables, catalogue, month, organisation="Org", business_units=["BU1"])
    result = kpi_result(report, "milestone_on_time")
    assert (result["numerator"], result["denominator"]) == _expected_on_time(expected, month)


def test_reopened_share_reads_the_history_the_reader_wrote(reading: Reading, expected: Expected) -> None:
    # the same numbers straight from the measure, for the month before too (its own window)
    reopen_month = Period.containing(expected.latest_change)
    for period in (reopen_month, reopen_month.shift(-1)):
        records = qa.reopened_share(KpiInputs(reading.tables, period))
        assert (int(records["numerator"].sum()), len(records)) == _expected_reopened(expected, period.end)


def test_mapped_projects_only_with_the_users_value_maps_winning(
        redmine: Redmine, expected: Expected, tmp_path: Path) -> None:
    # the PMO's register supplies the projects: no business unit needed, no projects table
    source = _config(tmp_path, business_unit=None, projects={"cygnus-data": "CYG"},
                     options={"projects_table": False, "page_size": 100},
                     tables={"work_items": {"values": {"status": {"feedback": "open"}}}})
    reading = _read(redmine, source, Period.containing(expected.latest_closing), tmp_path / "state")
    assert "projects" not in reading.raws
    items = reading.tables["work_items"].set_index("key")
    cygnus = {f"CYG#{i['id']}": i for i in expected.issues["cygnus-data"]}
    assert set(items.index) == set(cygnus) and len(cygnus) == SEEDED["cygnus-data"]
    assert set(reading.tables["timesheets"]["project"]) == set(reading.tables["milestones"]["project"]) \
        == set(reading.tables["work_item_history"]["project"]) == {"CYG"}
    # the config's map wins over the default (Feedback -> in_progress), in the history too
    feedback = [key for key, i in cygnus.items() if i["status"]["name"] == "Feedback"]
    assert feedback and (items.loc[feedback, "status"] == "open").all()
    raw, typed = reading.raws["work_item_history"].frame, reading.tables["work_item_history"]
    into_feedback = (raw["to_status"] == "Feedback").to_numpy()
    assert into_feedback.sum() == sum(new == "Feedback" for i in cygnus.values()
                                      for new in _raw_status_names(expected, i["id"])) > 0
    assert (typed.loc[into_feedback, "to_status"] == "open").all()
    assert (typed.loc[(raw["from_status"] == "Feedback").to_numpy(), "from_status"] == "open").all()
    # nothing was asked about other projects
    cygnus_id = next(p["id"] for p in expected.projects if p["identifier"] == "cygnus-data")
    assert {params["project_id"] for _, params in reading.calls if "project_id" in params} == {cygnus_id}
    assert not [path for path, _ in reading.calls if "memberships" in path]


def _raw_status_names(expected: Expected, issue_id: int) -> list[str]:
    """The statuses an issue was moved into, as Redmine names them."""
    return [expected.statuses[int(d["new_value"])]
            for j in expected.journals[issue_id] for d in j["details"] if d["name"] == "status_id"]


def test_a_closed_project_is_read_as_closed(redmine: Redmine, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    # Redmine 5 lists only active projects unless asked; a closed one must not vanish
    ident = "pmopulse-closed-check"
    # Airflow's logging setup keeps records from the root logger: listen on the module's own
    logger = logging.getLogger("pmopulse.sources.redmine")
    _delete_project(redmine, ident)
    redmine.call("POST", "/projects.json", body={"project": {"name": "Closed check", "identifier": ident}})
    try:
        for version in ({"name": "1.0", "effective_date": "2026-10-15"}, {"name": "someday"}):
            redmine.call("POST", f"/projects/{ident}/versions.json", body={"version": version})
        redmine.call("PUT", f"/projects/{ident}/close.json")
        assert ident not in [p["identifier"] for p in redmine.every("/projects.json", "projects")]
        # `site:` wins over the connection's host (here one where nothing listens)
        source = _config(tmp_path, projects=[ident], site=redmine.url, options={"page_size": 100})
        logger.addHandler(caplog.handler)
        with caplog.at_level(logging.INFO, logger=logger.name):
            reading = _read(redmine, source, Period.parse("2026-10"), tmp_path / "state",
                            host="http://127.0.0.1:9")
    finally:
        logger.removeHandler(caplog.handler)
        _delete_project(redmine, ident)
    assert reading.raws["projects"].frame["status"].tolist() == ["5"]
    assert reading.tables["projects"][["id", "status"]].values.tolist() == [[ident, "closed"]]
    assert reading.tables["work_items"].empty
    # the version without a due date is no milestone, and the log says so
    milestones = reading.tables["milestones"]
    assert milestones["name"].tolist() == ["1.0"] and milestones["actual_date"].isna().all()
    assert f"Redmine project {ident}: 1 version(s) without a due date" in caplog.text


MILESTONE_PROJECTS = ("pmopulse-ms-parent", "pmopulse-ms-sub")


@pytest.fixture
def milestone_site(redmine: Redmine) -> Iterator[dict[str, int]]:
    """A parent project and its subproject with versions Redmine shows as closed, locked and
    open, two of them shared with the subproject; created for the test, deleted after it.

    Returns the projects' Redmine ids, keyed by identifier."""
    parent, sub = MILESTONE_PROJECTS
    for ident in (sub, parent):
        _delete_project(redmine, ident)
    trackers = [t["id"] for t in redmine.get("/trackers.json")["trackers"]]
    statuses = {s["name"]: s["id"] for s in redmine.get("/issue_statuses.json")["issue_statuses"]}
    ids = {parent: redmine.call("POST", "/projects.json", body={"project": {
        "name": "Milestones parent", "identifier": parent, "tracker_ids": trackers}})["project"]["id"]}
    ids[sub] = redmine.call("POST", "/projects.json", body={"project": {
        "name": "Milestones sub", "identifier": sub, "tracker_ids": trackers,
        "parent_id": ids[parent]}})["project"]["id"]
    today = dt.datetime.now(dt.UTC).date()
    # version: (days from today to its due date, sharing, final status, issues as (project, closed))
    plan = {
        "closed, one issue left open": (-20, "none", "closed", [(parent, True), (parent, False)]),
        "closed, shared, issues only in the subproject": (10, "descendants", "closed",
                                                          [(sub, True), (sub, False)]),
        "closed without issues": (-5, "tree", "closed", []),
        "locked, all issues closed": (-3, "none", "locked", [(parent, True)]),
        "open, shared, all issues closed": (3, "descendants", "open", [(sub, True)]),
    }
    try:
        for name, (days, sharing, status, issues) in plan.items():
            version = redmine.call("POST", f"/projects/{parent}/versions.json", body={"version": {
                "name": name, "due_date": (today + dt.timedelta(days=days)).isoformat(),
                "sharing": sharing}})["version"]
            for n, (ident, closed) in enumerate(issues):
                issue = redmine.call("POST", "/issues.json", body={"issue": {
                    "project_id": ids[ident], "tracker_id": trackers[0], "subject": f"{name} {n}",
                    "fixed_version_id": version["id"]}})["issue"]
                if closed:
                    redmine.call("PUT", f"/issues/{issue['id']}.json",
                                 body={"issue": {"status_id": statuses["Closed"]}})
            if status != "open":
                redmine.call("PUT", f"/versions/{version['id']}.json", body={"version": {"status": status}})
        yield ids
    finally:
        for ident in (sub, parent):
            _delete_project(redmine, ident)


def test_a_closed_version_is_reached_and_a_shared_one_counts_every_projects_issues(
        redmine: Redmine, milestone_site: dict[str, int], tmp_path: Path) -> None:
    parent, sub = MILESTONE_PROJECTS
    closed_status = {s["id"] for s in redmine.get("/issue_statuses.json")["issue_statuses"] if s["is_closed"]}
    # straight from the API: the parent's own versions and every issue fixed in each
    versions = [v for v in redmine.get(f"/projects/{parent}/versions.json")["versions"]
                if v["project"]["id"] == milestone_site[parent]]
    issues = {v["id"]: redmine.every("/issues.json", "issues", fixed_version_id=v["id"], status_id="*")
              for v in versions}
    assert {v["status"] for v in versions} == {"open", "locked", "closed"}
    assert {v["sharing"] for v in versions} >= {"none", "descendants"}
    assert any(i["project"]["id"] == milestone_site[sub] for found in issues.values() for i in found)

    def actual(version: dict[str, Any]) -> dt.date | None:
        """A closed version is reached: on its last closed issue's day, else on its due date."""
        if version["status"] != "closed":
            return None
        closed = [_utc_day(i["closed_on"]) for i in issues[version["id"]]
                  if i["status"]["id"] in closed_status]
        return max(closed, default=dt.date.fromisoformat(version["due_date"]))

    left_open = {v["id"]: [i for i in issues[v["id"]] if i["status"]["id"] not in closed_status]
                 for v in versions if v["status"] == "closed"}
    assert sum(bool(found) for found in left_open.values()) == 2

    source = _config(tmp_path, projects=list(MILESTONE_PROJECTS), options={"page_size": 100})
    reading = _read(redmine, source, Period.containing(dt.datetime.now(dt.UTC).date()), tmp_path / "state")

    # one milestone per version, under the project owning it, shared or not
    milestones = reading.tables["milestones"].set_index("id")
    assert sorted(milestones.index) == sorted(str(v["id"]) for v in versions)
    assert set(milestones["project"]) == {parent}
    for version in versions:
        reached = actual(version)
        found = milestones.loc[str(version["id"]), "actual_date"]
        assert (pd.isna(found) if reached is None else found == pd.Timestamp(reached)), version["name"]
    # open issues in a closed version: one warning per version, naming it, its project and the issues
    warnings = reading.raws["milestones"].warnings
    assert len(warnings) == 2
    for vid, left in left_open.items():
        if left:
            [warning] = [w for w in warnings if f"(#{vid})" in w]
            assert f"of project {parent}" in warning
            owner = {milestone_site[sub]: sub, milestone_site[parent]: parent}
            assert all(f"#{i['id']} ({owner[i['project']['id']]})" in warning for i in left)
    # the on-time rate and the median slip, every month a version is due, as the rules give them
    for month in sorted({Period.containing(dt.date.fromisoformat(v["due_date"])) for v in versions}):
        as_of = month.end
        due = [v for v in versions if month.start <= dt.date.fromisoformat(v["due_date"]) <= as_of]
        on_time = sum((r := actual(v)) is not None and r <= dt.date.fromisoformat(v["due_date"]) for v in due)
        slips = sorted(((r if (r := actual(v)) is not None and r <= as_of else as_of)
                        - dt.date.fromisoformat(v["due_date"])).days for v in due)
        inputs = KpiInputs(reading.tables, month)
        records = pmo.milestone_on_time(inputs)
        assert (int(records["numerator"].sum()), int(records["denominator"].sum())) == (on_time, len(due))
        values = pmo.schedule_slip_median(inputs)["value"]
        assert sorted(values.astype(int)) == slips and values.median() == pd.Series(slips).median()
    # and `pmopulse validate` shows the warnings (the last month that is over: the pull reads all)
    (tmp_path / "cli").mkdir()
    config = write_config(tmp_path / "cli", minimal_config([
        {"name": "tracker", "kind": "redmine", "conn_id": CONN_ID, "business_unit": "BU1",
         "projects": list(MILESTONE_PROJECTS)}]))
    done = subprocess.run(
        [sys.executable, "-m", "pmopulse", "validate", "--config", str(config), "--period",
         str(Period.containing(dt.datetime.now(dt.UTC).date()).shift(-1))],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, f"AIRFLOW_CONN_{CONN_ID.upper()}": redmine.connection(),
             "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")])})
    assert done.returncode in (0, 2), done.stderr
    shown = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("warning source")]
    assert shown == [f"warning source tracker: {w}" for w in warnings], done.stdout


def _delete_project(redmine: Redmine, ident: str) -> None:
    try:
        redmine.call("DELETE", f"/projects/{ident}.json")
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise


def test_a_wrong_api_key_names_the_site_and_never_the_key(
        redmine: Redmine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}",
                       json.dumps({"conn_type": "http", "host": redmine.url, "password": wrong}))
    with pytest.raises(SourceError) as error:
        read(_config(tmp_path), SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC))
    message = str(error.value)
    assert redmine.url in message and "HTTP 401" in message and "'tracker'" in message
    assert wrong not in message


def test_an_unknown_project_is_named_with_the_site(redmine: Redmine, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", redmine.connection())
    source = _config(tmp_path, projects=["apollo-web", "apolo-web"])
    with pytest.raises(SourceError, match=r"has no project \['apolo-web'\]") as error:
        read(source, SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC))
    assert redmine.url in str(error.value) and "identifier" in str(error.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param({"options": {"page_size": 500}}, r"page_size must be a whole number from 1 to 100",
                     id="page-too-large"),
        pytest.param({"options": {"page_size": "20"}}, r"page_size .* not '20'", id="page-as-text"),
        pytest.param({"options": {"projects_table": "no"}}, r"projects_table must be true or false",
                     id="projects-table-not-boolean"),
        pytest.param({"options": {"pagesize": 20, "jql": "x"}},
                     r"'.*options\.jql', '.*options\.pagesize' \(did you mean 'page_size'\?\)",
                     id="unknown-options"),
        pytest.param({"business_unit": None}, r"needs `business_unit`.*projects_table: false",
                     id="projects-without-business-unit"),
        pytest.param({"tables": {"risks": {"values": {"status": {"Open": "open"}}}}},
                     r"names \['risks'\], which a redmine source does not fill", id="table-redmine-has-not"),
        pytest.param({"tables": {"work_items": {"columns": {"Status": "status"}}}},
                     r"only `values`", id="column-renames"),
        pytest.param({"options": {"retries": 11}}, r"options.retries must be a whole number from 0 to 10",
                     id="too-many-retries"),
        pytest.param({"options": {"timeout_seconds": 0}}, r"options.timeout_seconds must be a number",
                     id="no-timeout"),
        pytest.param({"options": {"allow_insecure_http": 1}}, r"allow_insecure_http must be true or false",
                     id="insecure-not-boolean"),
    ],
)
def test_bad_settings_are_refused_before_any_call(tmp_path: Path, source: dict[str, Any],
                                                  message: str) -> None:
    # no connection exists and no server is asked: the config is wrong before anything is read
    with pytest.raises(ConfigError, match=message) as error:
        read(_config(tmp_path, **source),
             SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC))
    assert "sources[tracker]" in str(error.value)


def test_extract_and_freeze_a_redmine_source(redmine: Redmine, expected: Expected, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", redmine.connection())
    spec = {"name": "tracker", "kind": "redmine", "conn_id": CONN_ID, "business_unit": "BU1",
            "projects": sorted(SEEDED), "options": {"page_size": 100}}
    config = load_config(write_config(tmp_path, minimal_config([spec])))
    period = Period.containing(expected.latest_closing)

    extracted = pipeline.extract_source(config, period, "tracker")
    snapshot = pipeline.freeze(config, period)

    seeded = [i for ident in SEEDED for i in expected.issues[ident]]
    weeks = {(e["user"]["name"], ident, dt.date.fromisoformat(e["spent_on"]).isocalendar()[:2])
             for ident in SEEDED for e in expected.time_entries[ident]}
    counts = {
        "projects": 3,
        "work_items": 50,
        "work_item_history": sum(len(expected.status_changes(i["id"])) for i in seeded),
        "milestones": sum(1 for ident in SEEDED for v in expected.versions[ident] if v.get("due_date")),
        "timesheets": len(weeks),
    }
    assert snapshot["tables"] == counts
    assert {t: v["rows"] for t, v in extracted["tables"].items()} == counts
    [summary] = snapshot["sources"]
    assert summary["kind"] == "redmine" and summary["freshness"]["stale"] is False
    run = tmp_path / "artifacts" / str(period)
    raw = pd.read_parquet(run / "raw" / "tracker" / "work_items.parquet")
    canonical = pd.read_parquet(run / "canonical" / "work_items.parquet")
    assert Counter(raw["status"]) == Counter(i["status"]["name"] for i in seeded)   # Redmine's own names
    assert Counter(canonical["status"]) == Counter(CANONICAL_STATUS[i["status"]["name"]] for i in seeded)
    assert canonical["source_origin"].str.startswith(f"Redmine {redmine.url}").all()


def test_statuses_the_default_map_does_not_name_follow_redmines_closed_flag(tmp_path: Path) -> None:
    # a site's own statuses (no API creates one, so these are the /issue_statuses.json answer)
    statuses = {1: Status("New", False), 5: Status("Closed", True), 7: Status("Won't fix", True),
                8: Status("In Test", False)}
    source = _config(tmp_path, tables={"work_items": {"values": {"status": {"In Test": "in_progress"}}}})
    values = default_values(source, statuses)
    assert values["work_items"]["status"]["Won't fix"] == "closed"
    assert "In Test" not in values["work_items"]["status"]    # open, unnamed: validation reports it
    assert values["work_item_history"]["to_status"]["In Test"] == "in_progress"  # the config's map


def test_a_connection_without_api_key_says_where_to_put_it(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}",
                       json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9"}))
    with pytest.raises(SourceError, match=r"'redmine_test' has no password; put the Redmine API key"):
        read(_config(tmp_path), SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC))


def test_an_api_key_is_never_sent_over_plain_http_to_another_host(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(
        {"conn_type": "http", "host": "http://redmine.acme.example", "password": "secret-key"}))
    request = SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC)

    with pytest.raises(ConfigError) as refused:   # refused before any request: no network needed
        read(_config(tmp_path, projects=["apollo-web"]), request)

    message = str(refused.value)
    assert "`sources[tracker].options.allow_insecure_http: true`" in message and "https://" in message
    assert "http://redmine.acme.example" in message and "apollo-web" in message
    assert f"Airflow connection {CONN_ID!r}" in message and "secret-key" not in message


def test_an_unreachable_site_fails_naming_the_request_site_project_and_connection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on: refused at once
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}",
                       json.dumps({"conn_type": "http", "host": url, "password": "secret-key"}))
    request = SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path, zone=UTC)

    with pytest.raises(SourceError) as failed:
        read(_config(tmp_path, projects=["apollo-web"], options={"retries": 0}), request)

    message = str(failed.value)
    assert "GET /projects.json" in message and "ConnectionError" in message and "1 attempt(s)" in message
    assert url in message and "apollo-web" in message and f"Airflow connection {CONN_ID!r}" in message
    assert "sources[tracker].options.timeout_seconds" in message


REDMINE_APP = Path("/usr/share/redmine")
"""Where Debian's package (start_redmine.sh) installs Redmine: `rails runner` runs there."""


def _set_timestamps(ruby: str) -> None:
    """Run Ruby against Redmine's database, as seed_redmine.py back-dates its history: the
    REST API cannot set when an issue was created or closed."""
    command = ["ruby", "bin/rails", "runner", ruby]
    if os.geteuid() != 0:
        command = ["sudo", "env", "RAILS_ENV=production", *command]
    done = subprocess.run(command, cwd=REDMINE_APP, env={**os.environ, "RAILS_ENV": "production"},
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"rails runner failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def test_timestamps_are_counted_on_their_day_in_the_organisations_time_zone(
        redmine: Redmine, tmp_path: Path) -> None:
    """Redmine keeps UTC: an issue closed at 2026-03-31T22:30:00Z was closed at 06:30 on
    1 April in Shanghai, and belongs to April there."""
    ident = "pmopulse-zone-check"
    trackers = {t["name"]: t["id"] for t in redmine.get("/trackers.json")["trackers"]}
    statuses = {s["name"]: s["id"] for s in redmine.get("/issue_statuses.json")["issue_statuses"]}
    _delete_project(redmine, ident)
    project = redmine.call("POST", "/projects.json", body={"project": {
        "name": "Zone check", "identifier": ident, "tracker_ids": [trackers["Bug"]],
        "enabled_module_names": ["issue_tracking", "time_tracking"]}})["project"]
    try:
        number = redmine.call("POST", "/issues.json", body={"issue": {
            "project_id": project["id"], "tracker_id": trackers["Bug"],
            "subject": "Closed at the month's end"}})["issue"]["id"]
        redmine.call("PUT", f"/issues/{number}.json", body={"issue": {"status_id": statuses["Closed"]}})
        _set_timestamps(f"""
            at = Time.iso8601("2026-03-31T22:30:00Z")
            Project.where(id: {project["id"]}).update_all(created_on: Time.iso8601("2026-03-31T16:30:00Z"))
            Issue.where(id: {number}).update_all(created_on: Time.iso8601("2026-03-02T01:00:00Z"),
                                                 closed_on: at, updated_on: at)
            Journal.where(journalized_type: "Issue", journalized_id: {number}).update_all(created_on: at)
        """)
        source = _config(tmp_path, projects=[ident])

        def days(zone: str) -> dict[str, str]:
            reading = _read(redmine, source, Period.parse("2026-04"), tmp_path / zone.replace("/", "-"),
                            zone=ZoneInfo(zone))
            item = reading.tables["work_items"].iloc[0]
            (changed,) = reading.tables["work_item_history"]["changed"]
            (start,) = reading.tables["projects"]["start"]
            return {"created": item["created"].date().isoformat(),
                    "resolved": item["resolved"].date().isoformat(),
                    "status changed": changed.date().isoformat(), "project start": start.date().isoformat()}

        shanghai, utc = days("Asia/Shanghai"), days("UTC")
    finally:
        _delete_project(redmine, ident)
    assert shanghai == {"created": "2026-03-02", "resolved": "2026-04-01", "status changed": "2026-04-01",
                        "project start": "2026-04-01"}
    assert utc == {"created": "2026-03-02", "resolved": "2026-03-31", "status changed": "2026-03-31",
                   "project start": "2026-03-31"}


def test_validate_json_is_only_json_while_the_pull_logs_to_standard_error(
        redmine: Redmine, tmp_path: Path) -> None:
    config = write_config(tmp_path, minimal_config([
        {"name": "tracker", "kind": "redmine", "conn_id": CONN_ID, "business_unit": "BU1",
         "projects": ["apollo-web"]}]))

    done = subprocess.run(
        [sys.executable, "-m", "pmopulse", "validate", "--config", str(config), "--period", "2026-10",
         "--json"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, f"AIRFLOW_CONN_{CONN_ID.upper()}": redmine.connection(),
             "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")])})

    assert done.returncode in (0, 2), done.stderr  # 2: the data blocks a report, which is not at issue
    assert json.loads(done.stdout)["tables"]["work_items"]["rows"] == SEEDED["apollo-web"]
    assert "INFO source tracker: reading the host of Airflow connection redmine_test" in done.stderr
    assert f"INFO source tracker: projects (1 rows), work_items ({SEEDED['apollo-web']} rows)" in done.stderr
