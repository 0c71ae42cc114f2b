"""Read one schedule file with MPXJ into `Schedule`s, turning Java failures into SourceErrors.

MPXJ's UniversalProjectReader recognises the format from the file's content, not its
name. Java exceptions never reach the user as a stack trace: the message names the file,
says what MPXJ reported in a few words, and what to do about it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pmopulse.errors import SourceError
from pmopulse.sources.schedules.jvm import start_jvm
from pmopulse.sources.schedules.model import Activity, Schedule

HARD_CONSTRAINTS = frozenset({
    "MUST_START_ON", "MUST_FINISH_ON", "START_NO_LATER_THAN", "FINISH_NO_LATER_THAN",
    "START_ON", "FINISH_ON",  # P6 "Start On" / "Finish On" fix both the early and the late date
})
"""Constraints that stop logic from moving a task (DCMA: MSO, MFO, SNLT, FNLT, and P6's
mandatory constraints, which MPXJ reads as MUST_START_ON / MUST_FINISH_ON)."""
LEVEL_OF_EFFORT = frozenset({"LEVEL_OF_EFFORT", "HAMMOCK"})
_FIX = ("open it in MS Project or Primavera P6 and save or export it again "
        "(.mpp, MSPDI .xml or .xer), or remove it from the folder")


def read_schedules(path: Path, baseline: int = 0) -> list[Schedule]:
    """Every project in one file, compared against baseline `baseline` (0: the baseline,
    1–10: MS Project's Baseline1–Baseline10)."""
    _refuse_unreadable(path)
    start_jvm()
    import jpype
    from org.mpxj.reader import UniversalProjectReader

    try:
        projects = list(UniversalProjectReader().readAll(str(path)))
    except jpype.JException as exc:
        raise SourceError(_explain(path, _java_reason(exc))) from None
    if not projects:
        raise SourceError(_explain(path, _diagnose(path)))
    several = len(projects) > 1
    schedules = []
    for project in projects:
        properties = project.getProjectProperties()
        p6_id = (_text(properties.getProjectID()) or _text(properties.getName())) if several else None
        activities = tuple(_activity(task, properties, baseline) for task in project.getTasks()
                           if _is_schedule_task(task))
        schedules.append(Schedule(
            path=path,
            label=f"{path.name}#{p6_id}" if p6_id else path.name,
            p6_project=p6_id,
            status_date=_datetime(properties.getStatusDate()),
            last_saved=_datetime(properties.getLastSaved()),
            activities=activities,
        ))
    return schedules


def _refuse_unreadable(path: Path) -> None:
    """Cheap checks MPXJ itself does not make, or makes with an unhelpful message."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    if size == 0:
        raise SourceError(f"{path}: the file is empty; {_FIX}")
    if path.suffix.lower() == ".xer":
        # A cut-off XER still parses, silently missing the activities after the cut; P6
        # ends every export with an %E line.
        with path.open("rb") as handle:
            handle.seek(max(size - 64, 0))
            tail = handle.read().rstrip()
        if not tail.endswith(b"%E"):
            raise SourceError(f"{path}: the P6 export is incomplete (it does not end with P6's "
                              f"%E end-of-file line), so activities may be missing; export it again")


def _explain(path: Path, reason: str) -> str:
    lowered = reason.lower()
    if "password" in lowered or "encrypt" in lowered:
        return (f"{path}: the schedule is password-protected, so it cannot be read; save a copy "
                "without the password (MS Project: File > Save As > Tools > General Options) "
                "and put that in the folder instead")
    if "past the end of the file" in lowered or "end of file" in lowered or "must start and end" in lowered:
        return f"{path}: the file ends too early, it is probably truncated ({reason}); {_FIX}"
    return f"{path}: not a schedule MPXJ can read ({reason}); {_FIX}"


def _diagnose(path: Path) -> str:
    """Why the universal reader recognised nothing: ask the reader the suffix implies."""
    if path.suffix.lower() != ".mpp":
        return "no project found in it"
    import jpype
    from org.mpxj.mpp import MPPReader

    try:
        MPPReader().read(str(path))
    except jpype.JException as exc:
        return _java_reason(exc)
    return "no project found in it"


def _java_reason(exc: Any) -> str:
    """The messages of a Java exception and its causes, in a few words, without the trace."""
    parts: list[str] = []
    current = exc
    while current is not None and len(parts) < 3:
        message = _text(current.getMessage()) or str(current.getClass().getSimpleName())
        if message not in parts:
            parts.append(message.strip())
        current = current.getCause()
    return "; ".join(parts)[:300]


def _is_schedule_task(task: Any) -> bool:
    """Leave out MS Project's project summary task (ID 0), blank rows and inactive tasks."""
    if task.getNull() or (task.getActive() is not None and not task.getActive()):
        return False
    return not (task.getID() is not None and int(task.getID()) == 0 and task.getSummary())


def _activity(task: Any, properties: Any, baseline: int) -> Activity:
    predecessors = list(task.getPredecessors())
    lags = [float(r.getLag().getDuration()) for r in predecessors if r.getLag() is not None]
    constraint = _text(task.getConstraintType())
    activity_type = _text(task.getActivityType())
    baseline_start = _datetime(_baseline(task, "Start", baseline))
    baseline_finish = _datetime(_baseline(task, "Finish", baseline))
    baselined = baseline_start is not None or baseline_finish is not None
    return Activity(
        key=_text(task.getActivityID()) or str(task.getUniqueID()),
        name=_text(task.getName()) or "",
        is_summary=bool(task.getSummary()),
        is_milestone=bool(task.getMilestone()),
        is_level_of_effort=activity_type in LEVEL_OF_EFFORT,
        start=_datetime(task.getStart()),
        finish=_datetime(task.getFinish()),
        baseline_start=baseline_start,
        baseline_finish=baseline_finish,
        actual_start=_datetime(task.getActualStart()),
        actual_finish=_datetime(task.getActualFinish()),
        duration_days=_days(task.getDuration(), properties),
        # an .mpp saved without a baseline gives 0 days here: no baseline dates, no baseline
        baseline_duration_days=_days(_baseline(task, "Duration", baseline), properties)
        if baselined else None,
        total_float_days=_days(task.getTotalSlack(), properties),
        percent_complete=_percent_complete(task),
        baseline_cost=_baseline_cost(task, baseline),
        actual_cost=_number(task.getActualCost()),
        bcws=_number(task.getBCWS()),
        bcwp=_number(task.getBCWP()),
        acwp=_number(task.getACWP()),
        constraint=constraint,
        hard_constraint=constraint in HARD_CONSTRAINTS
        or _text(task.getSecondaryConstraintType()) in HARD_CONSTRAINTS,
        predecessors=len(predecessors),
        successors=len(list(task.getSuccessors())),
        leads=sum(lag < 0 for lag in lags),
        lags=sum(lag > 0 for lag in lags),
        non_finish_to_start=sum(_text(r.getType()) != "FS" for r in predecessors),
        has_resources=any(a.getResource() is not None for a in task.getResourceAssignments()),
    )


def _baseline(task: Any, field: str, baseline: int) -> Any:
    getter = getattr(task, f"getBaseline{field}")
    return getter(baseline) if baseline else getter()


def _baseline_cost(task: Any, baseline: int) -> float | None:
    """The baseline cost; for a P6 activity without one, its budgeted (planned) cost, which is
    what P6 measures against when the project has no baseline of its own."""
    cost = _number(_baseline(task, "Cost", baseline))
    if cost is None and not baseline:
        cost = _number(task.getPlannedCost())
    return cost


def _percent_complete(task: Any) -> float | None:
    """The progress measure the tool earns value with: P6's percent complete type, or MS
    Project's earned value method (% complete or physical % complete)."""
    kind = _text(task.getPercentCompleteType())
    if kind == "PHYSICAL" or _text(task.getEarnedValueMethod()) == "PHYSICAL_PERCENT_COMPLETE":
        return _number(task.getPhysicalPercentComplete())
    if kind == "UNITS":
        return _number(task.getPercentageWorkComplete())
    return _number(task.getPercentageComplete())


def _days(duration: Any, properties: Any) -> float | None:
    """A duration in working days, by the project's own minutes per day (and week, month)."""
    if duration is None:
        return None
    from org.mpxj import TimeUnit

    return float(duration.convertUnits(TimeUnit.DAYS, properties).getDuration())


def _datetime(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(str(value))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
