"""A schedule as plain Python values, copied out of MPXJ's Java objects once.

Everything after reading (tables, earned value) works on these, so it is ordinary,
testable Python that never touches the JVM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Activity:
    """One task (MS Project) or activity (P6), with what the canonical tables need."""

    key: str                             # P6 activity ID, else MS Project's unique ID
    name: str
    is_summary: bool                     # summary task / P6 WBS node
    is_milestone: bool
    is_level_of_effort: bool             # P6 level of effort or hammock (MS Project has none)
    start: dt.datetime | None            # current (forecast) start; the actual start once started
    finish: dt.datetime | None
    baseline_start: dt.datetime | None
    baseline_finish: dt.datetime | None
    actual_start: dt.datetime | None
    actual_finish: dt.datetime | None
    duration_days: float | None          # working days, by the project's hours per day
    baseline_duration_days: float | None # None where the task has no baseline start or finish
    total_float_days: float | None
    percent_complete: float | None       # 0–100, the measure earned value uses for this task
    baseline_cost: float | None
    actual_cost: float | None
    bcws: float | None                   # the tool's own earned-value figures, where it computed them
    bcwp: float | None
    acwp: float | None
    constraint: str | None               # MPXJ's constraint type, e.g. MUST_START_ON
    hard_constraint: bool
    predecessors: int                    # relationships where this activity is the successor
    successors: int
    leads: int                           # of the predecessor relationships: negative lag
    lags: int                            # positive lag
    non_finish_to_start: int             # SS, FF or SF
    has_resources: bool


@dataclass(frozen=True)
class Schedule:
    """One project plan: a whole file, or one project of a P6 export that holds several."""

    path: Path
    label: str                           # "plan.mpp", or "portfolio.xer#EC00640" in a multi-project file
    p6_project: str | None               # the P6 project ID when the file holds several projects
    status_date: dt.datetime | None      # status date (MS Project) / data date (P6), if set
    last_saved: dt.datetime | None       # when the file was last saved, from its project properties
    activities: tuple[Activity, ...]

    @property
    def is_statused(self) -> bool:
        """Whether anyone ever statused the plan: a status date, an actual date or progress."""
        return self.status_date is not None or any(
            a.actual_start or a.actual_finish or a.percent_complete for a in self.activities)

    @property
    def baselined_tasks(self) -> int:
        """Activities with a baseline start or finish (MPXJ gives a baseline duration of 0
        days for every task of an .mpp saved without a baseline: that is no baseline)."""
        return sum(a.baseline_start is not None or a.baseline_finish is not None
                   for a in self.activities)
