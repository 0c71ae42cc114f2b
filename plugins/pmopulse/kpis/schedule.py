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

import pandas as pd

from pmopulse.kpis.base import KpiInputs, Measure, records

HIGH_DAYS = 44
"""DCMA's limit for high float and high duration: more than 44 working days."""


def _activities(inputs: KpiInputs) -> pd.DataFrame:
    """This period's activities (no summaries, no level of effort), each with the status date
    its checks use: the schedule's own, else the as-of date."""
    tasks = inputs.table("schedule_tasks")
    tasks = tasks[(tasks["period"] == str(inputs.period))
                  & ~tasks["is_summary"].fillna(False).astype(bool)
                  & ~tasks["is_level_of_effort"].fillna(False).astype(bool)]
    return tasks.assign(checked_at=tasks["status_date"].fillna(inputs.as_of).astype("datetime64[us]"))


def _incomplete(inputs: KpiInputs) -> pd.DataFrame:
    tasks = _activities(inputs)
    return tasks[tasks["actual_finish"].isna()]


def _share(tasks: pd.DataFrame, hit: pd.Series) -> pd.DataFrame:
    """One record per task: numerator 1 when it fails the check."""
    return records(tasks["project"], numerator=hit.fillna(False).astype("float64"), denominator=1.0)


def missing_logic(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities without a predecessor or without a successor."""
    t = _incomplete(inputs)
    return _share(t, (t["predecessors"] == 0) | (t["successors"] == 0))


def _relationships(inputs: KpiInputs, counted: str) -> pd.DataFrame:
    """One record per incomplete activity with predecessors: numerator its relationships of
    the kind counted, denominator all its predecessor relationships."""
    t = _incomplete(inputs)
    t = t[t["predecessors"] > 0]
    return records(t["project"], numerator=t[counted], denominator=t["predecessors"])


def leads(inputs: KpiInputs) -> pd.DataFrame:
    """Relationships with a negative lag."""
    return _relationships(inputs, "leads")


def lags(inputs: KpiInputs) -> pd.DataFrame:
    """Relationships with a positive lag."""
    return _relationships(inputs, "lags")


def fs_relationships(inputs: KpiInputs) -> pd.DataFrame:
    """Finish-to-start relationships."""
    t = _incomplete(inputs)
    t = t[t["predecessors"] > 0]
    return records(t["project"], numerator=t["predecessors"] - t["non_fs_relationships"],
                   denominator=t["predecessors"])


def hard_constraints(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities with a hard constraint (must start / finish on, start / finish no
    later than, P6's start / finish on and mandatory constraints)."""
    t = _incomplete(inputs)
    return _share(t, t["hard_constraint"])


def _with_float(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities whose total float the file states (a P6 export that was not
    scheduled before export has none: no data rather than a guess)."""
    t = _incomplete(inputs)
    return t[t["total_float_days"].notna()]


def high_float(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities with more than 44 working days of total float."""
    t = _with_float(inputs)
    return _share(t, t["total_float_days"] > HIGH_DAYS)


def negative_float(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities with negative total float."""
    t = _with_float(inputs)
    return _share(t, t["total_float_days"] < 0)


def _tasks_with_duration(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete activities that are not milestones: the baseline duration where there is one
    (as the DCMA measures it), else the current duration."""
    t = _incomplete(inputs)
    t = t[~t["is_milestone"].fillna(False).astype(bool)]
    return t.assign(days=t["baseline_duration_days"].fillna(t["duration_days"]))


def high_duration(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete tasks whose duration is more than 44 working days."""
    t = _tasks_with_duration(inputs)
    t = t[t["days"].notna()]
    return _share(t, t["days"] > HIGH_DAYS)


def invalid_dates(inputs: KpiInputs) -> pd.DataFrame:
    """Activities with a date on the wrong side of the status date: an actual start or finish
    after it, or, not yet started / finished, a forecast start / finish before it."""
    t = _activities(inputs)
    day = t["checked_at"]
    actual_late = (t["actual_start"] > day) | (t["actual_finish"] > day)
    forecast_early = ((t["actual_start"].isna() & (t["start"] < day))
                      | (t["actual_finish"].isna() & (t["finish"] < day)))
    return _share(t, actual_late | forecast_early)


def missing_resources(inputs: KpiInputs) -> pd.DataFrame:
    """Incomplete tasks with a duration but no resource, in resource-loaded schedules only
    (a schedule where no task has a resource is not resource-loaded: the check does not apply)."""
    t = _tasks_with_duration(inputs)
    t = t[t["duration_days"] > 0]
    loaded = _activities(inputs).groupby(["project", "schedule"])["has_resources"].any()
    t = t[loaded.reindex(pd.MultiIndex.from_frame(t[["project", "schedule"]])).fillna(False).to_numpy()]
    return _share(t, ~t["has_resources"].fillna(False).astype(bool))


def _baselined_by_status(inputs: KpiInputs) -> pd.DataFrame:
    """Activities whose baseline finish is on or before the status date."""
    t = _activities(inputs)
    return t[t["baseline_finish"] <= t["checked_at"]]


def missed_tasks(inputs: KpiInputs) -> pd.DataFrame:
    """Activities due by their baseline that finished after their baseline finish or not yet."""
    t = _baselined_by_status(inputs)
    return _share(t, t["actual_finish"].isna() | (t["actual_finish"] > t["baseline_finish"]))


def baseline_execution_index(inputs: KpiInputs) -> pd.DataFrame:
    """BEI = activities completed / activities due by their baseline, both up to the status date.
    One record per activity that is either (numerator completed, denominator due)."""
    t = _activities(inputs)
    completed = t["actual_finish"].notna() & (t["actual_finish"] <= t["checked_at"])
    due = t["baseline_finish"] <= t["checked_at"]
    counted = completed | due.fillna(False)
    t = t[counted]
    return records(t["project"], numerator=completed[counted].astype("float64"),
                   denominator=due[counted].fillna(False).astype("float64"))


MEASURES: dict[str, Measure] = {
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
}
