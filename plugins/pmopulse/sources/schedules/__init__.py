"""Schedules source: a folder of MS Project and Primavera P6 files, read with MPXJ.

Every `.mpp`, `.xml` (MS Project's MSPDI XML) and `.xer` (P6 export) file in the folder
is a schedule; MPXJ recognises the format from the content. Each schedule gives:

- `milestones`: its milestones with baseline, forecast and actual finish. A milestone
  without a baseline finish cannot meet the contract and no date is invented for it: it
  is left out, counted in the log and the table's origin;
- `evm_snapshots`: one row per project for the period where its schedules carry baseline
  costs (see `earned_value`); a schedule without costs, one nobody statused, or one that
  has not started gives no row, never zeros;
- `schedule_tasks`: one row per task with what the DCMA 14-point checks count; a task
  without baseline dates has no baseline duration (the checks then use its current one).

Besides the tables, each schedule gets a note for the report's schedule-quality section:
its status date (else the date it was saved) and age, whether it is stale or was never
statused, the date its DCMA date checks use, and whether its durations are baseline or
current ones. The source's freshness is the newest of those dates, not the period the run
stamps on its rows. A file that cannot be read is listed with its message and the others
are read; with `options.required: true` the run is held back instead.

Which project a schedule belongs to: `projects` maps the file name or stem (and, for a P6
export holding several projects, `<file name or stem>#<P6 project ID>`) to a project id.
Without a map the stem is the project id, or the P6 project ID in a multi-project export.
A schedule the map does not list is skipped.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmopulse.errors import ConfigError, SourceError
from pmopulse.sources import RawTable, SourceRead, Unread, record_frame
from pmopulse.sources.mapping import TableMapping
from pmopulse.sources.schedules.earned_value import EarnedValue, earned_value
from pmopulse.sources.schedules.model import Schedule

if TYPE_CHECKING:
    from pmopulse.config import SourceConfig
    from pmopulse.period import Period
    from pmopulse.sources import SourceRequest

log = logging.getLogger(__name__)

SUFFIXES = (".mpp", ".xml", ".xer")
"""The formats read (and tested): MS Project files and MSPDI XML, and P6 XER exports."""
MAX_BASELINE = 10


@dataclass(frozen=True)
class ScheduleOptions:
    """`options:` of a schedules source."""

    gates: tuple[str, ...] = ()   # milestone name patterns (shell-style, any case) that are gates
    baseline: int = 0             # 0: the baseline; 1–10: MS Project's Baseline1–Baseline10
    required: bool = False        # a file that cannot be read holds the run back

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> ScheduleOptions:
        if unknown := sorted(set(raw) - {"gates", "baseline", "required"}):
            raise ConfigError(f"{where}.options: unknown key(s) {unknown}; a schedules source "
                              "knows gates, baseline and required")
        gates = raw.get("gates") or ()
        if isinstance(gates, str):
            gates = (gates,)
        if not isinstance(gates, list | tuple) or not all(isinstance(g, str) and g for g in gates):
            raise ConfigError(f"{where}.options.gates must list milestone name patterns, "
                              f"e.g. ['TR*', 'DCP*'], not {gates!r}")
        baseline = raw.get("baseline", 0)
        if not isinstance(baseline, int) or isinstance(baseline, bool) or not 0 <= baseline <= MAX_BASELINE:
            raise ConfigError(f"{where}.options.baseline must be 0 (the baseline) or 1–{MAX_BASELINE} "
                              f"(Baseline1–Baseline10), not {baseline!r}")
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise ConfigError(f"{where}.options.required must be true or false, not {required!r}")
        return cls(tuple(gates), baseline, required)

    def is_gate(self, name: str) -> bool | None:
        """Unknown (None) unless gate patterns are configured."""
        if not self.gates:
            return None
        return any(fnmatch.fnmatchcase(name.casefold(), g.casefold()) for g in self.gates)


def read(source: SourceConfig, request: SourceRequest) -> SourceRead:
    options = ScheduleOptions.parse(source.options, f"sources[{source.name}]")
    plans, unread = _plans(source, options)
    origin = f"schedules in {source.path}"
    mapping = {name: source.tables.get(name) or TableMapping() for name in request.contracts}
    milestones, left_out = _milestones(plans, options)
    earned = {schedule.label: earned_value(schedule, request.period) for _, schedule in plans}
    notes = tuple(_note(project, schedule, earned[schedule.label][1], request.period, source.max_age_days)
                  for project, schedule in plans)
    not_statused = [n["schedule"] for n in notes if not n["statused"]]
    return SourceRead(
        tables=[
            RawTable("milestones", milestones,
                     f"{origin} ({left_out} milestone(s) without a baseline finish left out)" if left_out
                     else origin, mapping["milestones"]),
            RawTable("evm_snapshots", _evm_snapshots(plans, earned, request.period),
                     f"{origin} (not statused, so no earned value: {', '.join(not_statused)})"
                     if not_statused else origin, mapping["evm_snapshots"]),
            RawTable("schedule_tasks", _schedule_tasks(plans, request.period), origin,
                     mapping["schedule_tasks"]),
        ],
        unread=tuple(unread),
        dated={f"{n['schedule']} {'status date' if n['dated_by'] == 'status_date' else 'last saved'}":
               dt.date.fromisoformat(n["dated"]) for n in notes if n["dated"]},
        notes=notes,
    )


def _plans(source: SourceConfig, options: ScheduleOptions) -> tuple[list[tuple[str, Schedule]], list[Unread]]:
    """Every schedule in the folder that the projects map wants, with its project id, and the
    files that could not be read."""
    from pmopulse.sources.schedules.reader import read_schedules

    folder = source.path
    if folder is None or not folder.is_dir():
        raise SourceError(f"source {source.name!r}: folder {folder} does not exist")
    files = _schedule_files(folder)
    if not files:
        raise SourceError(f"source {source.name!r}: {folder} holds no schedule "
                          f"({', '.join(SUFFIXES)} files)")
    plans: list[tuple[str, Schedule]] = []
    unread: list[Unread] = []
    matched: set[str] = set()
    for path in files:
        if not _may_be_listed(path, source.projects):
            log.info("schedule %s is not listed under projects: skipped", path.name)
            continue
        try:
            schedules = read_schedules(path, options.baseline)
        except SourceError as exc:
            unread.append(Unread(path.name, str(exc), blocking=options.required))
            matched |= {key for key in source.projects if key.split("#", 1)[0] in (path.name, path.stem)}
            continue
        for schedule in schedules:
            key, project = _project_of(schedule, source.projects)
            if project is None:
                log.info("schedule %s is not listed under projects: skipped", schedule.label)
                continue
            matched.add(key)
            plans.append((project, schedule))
    if unmatched := sorted(set(source.projects) - matched):
        raise SourceError(f"source {source.name!r}: projects lists {unmatched}, but {folder} has no "
                          f"such schedule; the schedules are {[p.name for p in files]} (a file holding "
                          "several P6 projects is keyed <file>#<P6 project ID>)")
    return plans, unread


def _note(project: str, schedule: Schedule, no_earned_value: str, period: Period,
          max_age_days: int) -> dict[str, Any]:
    """What the schedule-quality section says about one schedule (JSON-safe)."""
    status, saved = _date(schedule.status_date), _date(schedule.last_saved)
    dated = status or saved
    age = None if dated is None else max(0, (period.end - dated).days)
    baselined, tasks = schedule.baselined_tasks, len(schedule.activities)
    return {
        "project": project, "schedule": schedule.label,
        "status_date": _iso(status), "last_saved": _iso(saved),
        "dated": _iso(dated), "dated_by": "status_date" if status else "last_saved" if saved else None,
        "age_days": age, "max_age_days": max_age_days,
        "stale": None if age is None else age > max_age_days,
        "statused": schedule.is_statused,
        # the DCMA date checks: the status date, else the report's as-of date (the period end)
        "checked_as_of": _iso(status or period.end), "checked_as_of_by": "status_date" if status else "as_of",
        "durations": "baseline" if baselined == tasks else "current" if not baselined else "mixed",
        "baselined_tasks": baselined, "tasks": tasks,
        "no_earned_value": no_earned_value or None,
    }


def _schedule_files(folder: Path) -> list[Path]:
    """The schedule files in a folder, leaving out MS Project's lock files (~$plan.mpp)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", ".")))


def _may_be_listed(path: Path, projects: Mapping[str, str]) -> bool:
    """Whether a file needs reading at all: the map is empty or has a key for it."""
    if not projects:
        return True
    names = (path.name, path.stem)
    return any(key in names or key.split("#", 1)[0] in names for key in projects)


def _project_of(schedule: Schedule, projects: Mapping[str, str]) -> tuple[str, str | None]:
    """(the key that matched, the project id), or (key, None) when the map leaves it out."""
    path = schedule.path
    names = (path.name, path.stem)
    keys = names if schedule.p6_project is None else tuple(f"{n}#{schedule.p6_project}" for n in names)
    if not projects:
        return keys[1], schedule.p6_project or path.stem
    for key in keys:
        if key in projects:
            return key, projects[key]
    return keys[1], None


def _milestones(plans: list[tuple[str, Schedule]], options: ScheduleOptions) -> tuple[pd.DataFrame, int]:
    """Milestones with a baseline finish, and how many were left out for lack of one.

    A project planned in several schedules gets its milestone ids prefixed with the
    schedule, so that ids from different files cannot collide."""
    schedules_of: dict[str, int] = {}
    for project, _ in plans:
        schedules_of[project] = schedules_of.get(project, 0) + 1
    records, left_out = [], 0
    for project, schedule in plans:
        milestones = [a for a in schedule.activities if a.is_milestone]
        unbaselined = [a for a in milestones if a.baseline_finish is None]
        if unbaselined:
            left_out += len(unbaselined)
            log.warning("%s: %d of %d milestone(s) have no baseline finish and are left out of "
                        "milestones (set a baseline in the schedule, or choose one with "
                        "options.baseline)", schedule.label, len(unbaselined), len(milestones))
        prefix = f"{schedule.label}/" if schedules_of[project] > 1 else ""
        records += [{
            "project": project, "id": prefix + a.key, "name": a.name,
            "is_gate": options.is_gate(a.name),
            "baseline_date": _date(a.baseline_finish), "forecast_date": _date(a.finish),
            "actual_date": _date(a.actual_finish),
        } for a in milestones if a.baseline_finish is not None]
    columns = ["project", "id", "name", "is_gate", "baseline_date", "forecast_date", "actual_date"]
    return record_frame(records, columns), left_out


def _evm_snapshots(plans: list[tuple[str, Schedule]],
                   earned: Mapping[str, tuple[EarnedValue | None, str]], period: Period) -> pd.DataFrame:
    """One row per project whose every schedule has earned-value figures for the period."""
    by_project: dict[str, list[Schedule]] = {}
    for project, schedule in plans:
        by_project.setdefault(project, []).append(schedule)
    records = []
    for project, schedules in by_project.items():
        figures = []
        for schedule in schedules:
            values, reason = earned[schedule.label]
            if values is None:
                log.info("%s: no earned value for %s: %s", schedule.label, period, reason)
                break
            log.info("%s: earned value from %s", schedule.label, values.basis)
            figures.append(values)
        else:
            records.append({
                "project": project, "period": str(period),
                "planned_value": round(sum(f.planned_value for f in figures), 2),
                "earned_value": round(sum(f.earned_value for f in figures), 2),
                "actual_cost": round(sum(f.actual_cost for f in figures), 2),
            })
    return record_frame(records, ["project", "period", "planned_value", "earned_value", "actual_cost"])


def _schedule_tasks(plans: list[tuple[str, Schedule]], period: Period) -> pd.DataFrame:
    records = [{
        "project": project, "schedule": schedule.label, "period": str(period), "task": a.key,
        "name": a.name, "is_summary": a.is_summary, "is_milestone": a.is_milestone,
        "is_level_of_effort": a.is_level_of_effort, "status_date": _date(schedule.status_date),
        "start": _date(a.start), "finish": _date(a.finish), "baseline_finish": _date(a.baseline_finish),
        "actual_start": _date(a.actual_start), "actual_finish": _date(a.actual_finish),
        "duration_days": _rounded(a.duration_days),
        "baseline_duration_days": _rounded(a.baseline_duration_days),
        "total_float_days": _rounded(a.total_float_days), "percent_complete": a.percent_complete,
        "predecessors": a.predecessors, "successors": a.successors, "leads": a.leads, "lags": a.lags,
        "non_fs_relationships": a.non_finish_to_start, "constraint": a.constraint,
        "hard_constraint": a.hard_constraint, "has_resources": a.has_resources,
    } for project, schedule in plans for a in schedule.activities]
    columns = ["project", "schedule", "period", "task", "name", "is_summary", "is_milestone",
               "is_level_of_effort", "status_date", "start", "finish", "baseline_finish",
               "actual_start", "actual_finish", "duration_days", "baseline_duration_days",
               "total_float_days", "percent_complete", "predecessors", "successors", "leads", "lags",
               "non_fs_relationships", "constraint", "hard_constraint", "has_resources"]
    return record_frame(records, columns)


def _date(value: Any) -> Any:
    return None if value is None else value.date()


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _rounded(days: float | None) -> float | None:
    """Working days to 1/100 day: MPXJ's unit conversions leave binary fractions behind."""
    return None if days is None else round(days, 2)
