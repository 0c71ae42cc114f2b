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
    baseline_duration_days: float | None
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
    activities: tuple[Activity, ...]
