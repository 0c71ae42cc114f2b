"""Schedule quality: the DCMA 14-point assessment over the `schedule_tasks` table.

Each check returns one record per task (numerator and denominator), so a project's value
pools its schedules and a business unit's or the organisation's pools every task it
holds: a ratio of sums, never an average of schedule percentages.

What is counted, as in the DCMA's guideline:
- the checks run on *activities*: tasks and milestones, not summary tasks (or P6 WBS
  nodes) and not level-of-effort activities;
- most count the *incomplete* ones (no actual finish): what can still move;
- relationship checks (leads, lags, FS share) count each relationship once, at its
  successor, among the relationships of incomplete activities;
- the status date is the schedule's own; a schedule that has none is checked as of the
  period's as-of date (its last day);
- "44 working days" is two months of working time, in the schedule's own hours per day.

The table is a snapshot of the schedules as read for one period: a past month is not
recomputed from it (its values come from the history store), so every check gives no
data for any other period. Implemented: 1 logic, 2 leads, 3 lags, 4 relationship types,
5 hard constraints, 6 high float, 7 negative float, 8 high duration, 9 invalid dates,
10 resources, 11 missed tasks, 14 BEI. Not implemented: 12 the critical path test (it
needs the schedule recalculated with a delay inserted) and 13 CPLI (it needs the
critical path's length in working time, which the files do not state).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pmopulse.kpis.base import KpiInputs, Measure, records

HIGH_DAYS = 44
"""DCMA's limit for high float and high duration: more than 44 working days."""

Check = Callable[[pd.DataFrame], pd.DataFrame]


def _activities(inputs: KpiInputs) -> pd.DataFrame | None:
    """This period's activities (no summaries, no level of effort), each with the status date
    it is checked at (the schedule's own, else the as-of date); None when no schedules were
    read for the period. Shared by the twelve checks."""
    tasks = inputs.tables.get("schedule_tasks")
    if tasks is not None:
        tasks = tasks[tasks["period"] == str(inputs.period)]
    if tasks is None or tasks.empty:
        return None
    tasks = tasks[~tasks["is_summary"].fillna(False).astype(bool)
                  & ~tasks["is_level_of_effort"].fillna(False).astype(bool)]
    return tasks.assign(checked_at=tasks["status_date"].fillna(inputs.as_of).astype("datetime64[us]"))


def _check(check: Check) -> Measure:
    """A DCMA check as a KPI measure over this period's activities. No schedules read for
    the period: no records, so no data."""
    def measure(inputs: KpiInputs) -> pd.DataFrame:
        tasks = inputs.shared(_activities)
        if tasks is None:
            return records(numerator=pd.Series(dtype="float64"), denominator=1.0)
        return check(tasks)

    measure.__doc__ = check.__doc__
    return measure


def _incomplete(tasks: pd.DataFrame) -> pd.DataFrame:
    return tasks[tasks["actual_finish"].isna()]


def _share(tasks: pd.DataFrame, hit: pd.Series) -> pd.DataFrame:
    """One record per task: numerator 1 when it fails the check."""
    return records(tasks["project"], numerator=hit.fillna(False).astype("float64"), denominator=1.0)


def missing_logic(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities without a predecessor or without a successor."""
    t = _incomplete(tasks)
    return _share(t, (t["predecessors"] == 0) | (t["successors"] == 0))


def _relationships(tasks: pd.DataFrame, counted: pd.Series | str) -> pd.DataFrame:
    """One record per incomplete activity with predecessors: numerator its relationships of
    the kind counted, denominator all its predecessor relationships."""
    t = _incomplete(tasks)
    t = t[t["predecessors"] > 0]
    numerator = t[counted] if isinstance(counted, str) else counted.loc[t.index]
    return records(t["project"], numerator=numerator, denominator=t["predecessors"])


def leads(tasks: pd.DataFrame) -> pd.DataFrame:
    """Relationships with a negative lag."""
    return _relationships(tasks, "leads")


def lags(tasks: pd.DataFrame) -> pd.DataFrame:
    """Relationships with a positive lag."""
    return _relationships(tasks, "lags")


def fs_relationships(tasks: pd.DataFrame) -> pd.DataFrame:
    """Finish-to-start relationships."""
    return _relationships(tasks, tasks["predecessors"] - tasks["non_fs_relationships"])


def hard_constraints(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities with a hard constraint (must start / finish on, start / finish no
    later than, P6's start / finish on and mandatory constraints)."""
    t = _incomplete(tasks)
    return _share(t, t["hard_constraint"])


def _with_float(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities whose total float the file states (a P6 export that was not
    scheduled before export has none: no data rather than a guess)."""
    t = _incomplete(tasks)
    return t[t["total_float_days"].notna()]


def high_float(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities with more than 44 working days of total float."""
    t = _with_float(tasks)
    return _share(t, t["total_float_days"] > HIGH_DAYS)


def negative_float(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities with negative total float."""
    t = _with_float(tasks)
    return _share(t, t["total_float_days"] < 0)


def _tasks_with_duration(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete activities that are not milestones: the baseline duration where there is one
    (as the DCMA measures it), else the current duration."""
    t = _incomplete(tasks)
    t = t[~t["is_milestone"].fillna(False).astype(bool)]
    return t.assign(days=t["baseline_duration_days"].fillna(t["duration_days"]))


def high_duration(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete tasks whose duration is more than 44 working days."""
    t = _tasks_with_duration(tasks)
    t = t[t["days"].notna()]
    return _share(t, t["days"] > HIGH_DAYS)


def invalid_dates(tasks: pd.DataFrame) -> pd.DataFrame:
    """Activities with a date on the wrong side of the status date: an actual start or finish
    after it, or, not yet started / finished, a forecast start / finish before it."""
    day = tasks["checked_at"]
    actual_late = (tasks["actual_start"] > day) | (tasks["actual_finish"] > day)
    forecast_early = ((tasks["actual_start"].isna() & (tasks["start"] < day))
                      | (tasks["actual_finish"].isna() & (tasks["finish"] < day)))
    return _share(tasks, actual_late | forecast_early)


def missing_resources(tasks: pd.DataFrame) -> pd.DataFrame:
    """Incomplete tasks with a duration but no resource, in resource-loaded schedules only
    (a schedule where no task has a resource is not resource-loaded: the check does not apply)."""
    loaded = tasks.groupby(["project", "schedule"])["has_resources"].any()
    t = _tasks_with_duration(tasks)
    t = t[t["duration_days"] > 0]
    t = t[loaded.reindex(pd.MultiIndex.from_frame(t[["project", "schedule"]])).fillna(False).to_numpy()]
    return _share(t, ~t["has_resources"].fillna(False).astype(bool))


def missed_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """Activities whose baseline finish is on or before the status date that finished after
    their baseline finish, or not yet."""
    t = tasks[tasks["baseline_finish"] <= tasks["checked_at"]]
    return _share(t, t["actual_finish"].isna() | (t["actual_finish"] > t["baseline_finish"]))


def baseline_execution_index(tasks: pd.DataFrame) -> pd.DataFrame:
    """BEI = activities completed / activities due by their baseline, both up to the status date.
    One record per activity that is either (numerator completed, denominator due)."""
    completed = tasks["actual_finish"].notna() & (tasks["actual_finish"] <= tasks["checked_at"])
    due = tasks["baseline_finish"] <= tasks["checked_at"]
    counted = completed | due
    t = tasks[counted]
    return records(t["project"], numerator=completed[counted].astype("float64"),
                   denominator=due[counted].astype("float64"))


MEASURES: dict[str, Measure] = {kpi: _check(check) for kpi, check in {
    "dcma_missing_logic": missing_logic,
    "dcma_leads": leads,
    "dcma_lags": lags,
    "dcma_fs_relationships": fs_relationships,
    "dcma_hard_constraints": hard_constraints,
    "dcma_high_float": high_float,
    "dcma_negative_float": negative_float,
    "dcma_high_duration": high_duration,
    "dcma_invalid_dates": invalid_dates,
    "dcma_missing_resources": missing_resources,
    "dcma_missed_tasks": missed_tasks,
    "dcma_bei": baseline_execution_index,
}.items()}
