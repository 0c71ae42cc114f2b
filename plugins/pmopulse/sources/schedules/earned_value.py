"""A schedule's cumulative earned-value figures (PV, EV, AC) for the period.

Where the tool computed them at its status date (MS Project's BCWS, BCWP, ACWP), those
are taken as they are. Otherwise they are derived from the detail tasks, summary tasks
left out so that nothing counts twice:

- PV: each task's baseline cost spread evenly over calendar time between its baseline
  start and finish, up to the status date (or the end of the period's last day when the
  schedule has none);
- EV: baseline cost × the task's percent complete (the measure the tool earns value with);
- AC: the actual cost.

A schedule without baseline costs has no earned value (no figures, never zeros); nor has
one whose status date lies outside the period: its progress is not this month's; nor one
nobody statused (no status date, no actual date, nothing complete), whose zeros would
read as a project that earned nothing; nor one with nothing planned, earned or spent yet
(a period before the plan starts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pmopulse.period import Period
from pmopulse.sources.schedules.model import Activity, Schedule

NOT_STATUSED = "not statused: no status date, no actual date and nothing complete"


@dataclass(frozen=True)
class EarnedValue:
    planned_value: float
    earned_value: float
    actual_cost: float
    basis: str           # how the figures were made, for the log


def earned_value(schedule: Schedule, period: Period) -> tuple[EarnedValue | None, str]:
    """The figures, or None with the reason there are none."""
    status = schedule.status_date
    if not schedule.is_statused:
        return None, NOT_STATUSED
    if status is not None and not period.start <= status.date() <= period.end:
        return None, (f"its status date {status.date()} is outside {period}, so its progress "
                      "is not this period's")
    tasks = [a for a in schedule.activities if not a.is_summary]
    if status is not None and any(a.bcws for a in tasks):
        values = EarnedValue(
            planned_value=sum(a.bcws or 0.0 for a in tasks),
            earned_value=sum(a.bcwp or 0.0 for a in tasks),
            actual_cost=sum(a.acwp or 0.0 for a in tasks),
            basis=f"BCWS/BCWP/ACWP as the tool computed them at {status.date()}",
        )
        return _something(values)
    priced = [a for a in tasks if a.baseline_cost and a.baseline_start and a.baseline_finish]
    if not priced:
        return None, "no task has a baseline cost"
    as_of = status or dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time())
    return _something(EarnedValue(
        planned_value=sum((a.baseline_cost or 0.0) * _planned_share(a, as_of) for a in priced),
        earned_value=sum((a.baseline_cost or 0.0) * (a.percent_complete or 0.0) / 100 for a in priced),
        actual_cost=sum(a.actual_cost or 0.0 for a in tasks),
        basis=f"baseline costs spread over baseline dates up to {as_of:%Y-%m-%d %H:%M}",
    ))


def _something(values: EarnedValue) -> tuple[EarnedValue | None, str]:
    """All three zero: the plan has not started, and an SPI of 0/0 would say nothing."""
    if not (values.planned_value or values.earned_value or values.actual_cost):
        return None, "nothing is planned, earned or spent yet (the plan has not started)"
    return values, ""


def _planned_share(task: Activity, as_of: dt.datetime) -> float:
    """The share of a task's baseline cost planned by `as_of`: linear in calendar time."""
    start, finish = task.baseline_start, task.baseline_finish
    if start is None or finish is None:
        return 0.0
    if as_of >= finish:
        return 1.0
    if as_of <= start:
        return 0.0
    return (as_of - start) / (finish - start)
