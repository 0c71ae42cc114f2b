"""PMO KPIs beyond earned value: schedule, change, risk, resources, portfolio, learning.

Time windows are relative to the as-of date (the period's last day) and nothing dated
after it is counted. "In the period" is the calendar month (start..as_of); "the trailing
N months" is the period and the N − 1 calendar months before it.

"Active projects" are the projects active on the as-of date (`KpiInputs.active_projects`):
started by then and not proposed, closed or cancelled. Several tables are current snapshots
(a project's status, a risk's status and latest review, a milestone's forecast): the KPIs
that read them are not recomputed for a past month (their catalogue entries say
`recomputable: false`).
"""

from __future__ import annotations

import math

import pandas as pd

from pmopulse.frames import isin
from pmopulse.kpis import evm
from pmopulse.kpis.base import DENOMINATOR, NUMERATOR, PROJECT, KpiInputs, Measure, records
from pmopulse.kpis.catalogue import Rag

CHANGE_BOARD_MONTHS = 3
"""The change-board share pools the decisions of the period and the two months before it."""
RISK_REVIEW_DAYS = 30
"""A risk register is current when a risk was reviewed in the 30 days ending on the as-of date."""
HIGH_EXPOSURE = 1.8
"""A risk is high when probability × impact ≥ 1.8, or impact ≥ 4 with probability ≥ 0.4."""
HIGH_IMPACT, HIGH_IMPACT_PROBABILITY = 4, 0.4
YEAR_MONTHS = 12
"""Lessons-learned capture and training hours look at the trailing 12 months."""
_RANK = {Rag.GREEN: 0, Rag.AMBER: 1, Rag.RED: 2}


def _provided(inputs: KpiInputs, *names: str) -> bool:
    """Whether some source provided each of these tables (even with no rows).

    `inputs.table` hands an absent table over as an empty one; a KPI that counts the absence
    of rows per project (no changes, no review, no training) must not read "no source" as
    "nothing happened", or a missing feed would show as 0 changes (green) or 0 % (red).
    """
    return all(name in inputs.tables for name in names)


def _nothing() -> pd.DataFrame:
    """No records (no data), with the columns a ratio KPI's records have."""
    return records(numerator=pd.Series(dtype="float64"), denominator=1.0)


def _trailing_start(inputs: KpiInputs, months: int) -> pd.Timestamp:
    """First day of the period `months − 1` calendar months before this one."""
    return pd.Timestamp(inputs.period.shift(-(months - 1)).start)


def milestone_on_time(inputs: KpiInputs) -> pd.DataFrame:
    """Milestones due in the period, each counting 1 when achieved on or before its baseline."""
    milestones = inputs.table("milestones")
    due = milestones[milestones["baseline_date"].between(inputs.start, inputs.as_of)]
    on_time = due["actual_date"].notna() & (due["actual_date"] <= due["baseline_date"])
    return records(due["project"], numerator=on_time.astype("float64"), denominator=1.0)


def schedule_slip_median(inputs: KpiInputs) -> pd.DataFrame:
    """One value per milestone due in the period (baseline date in start..as_of, the same
    milestones as the on-time rate): its slip in calendar days against the baseline date.

    Achieved on or before the as-of date: actual date − baseline date (negative when early).
    Not achieved by then: the forecast date − baseline date, but never less than
    as_of − baseline date, because a milestone still open on the as-of date has slipped at
    least that far whatever a stale forecast says; without a forecast, as_of − baseline date.
    """
    milestones = inputs.table("milestones")
    due = milestones[milestones["baseline_date"].between(inputs.start, inputs.as_of)]
    achieved = due["actual_date"].notna() & (due["actual_date"] <= inputs.as_of)
    outlook = due["forecast_date"].where(due["forecast_date"] > inputs.as_of, inputs.as_of)
    finish = due["actual_date"].where(achieved, outlook)
    slip = (finish - due["baseline_date"]).dt.days.astype("float64")
    return records(due["project"], value=slip)


def baseline_change_rate(inputs: KpiInputs) -> pd.DataFrame:
    """One record per active project (denominator 1); numerator = its changes approved with a
    decision date in the period (start..as_of). Rejected and undecided changes do not count.
    Without a `changes` table there is no data (not 0 changes per project)."""
    if not _provided(inputs, "changes"):
        return _nothing()
    changes = inputs.table("changes")
    approved = changes[changes["decided"].between(inputs.start, inputs.as_of)
                       & changes["approved"].fillna(False).astype("bool")]
    active = inputs.active_projects["id"]
    count = active.map(approved["project"].value_counts()).fillna(0.0)
    return records(active, numerator=count, denominator=1.0)


def change_board_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per change decided (approved or rejected) in the trailing three months
    (decision date from the first day of the month two months before the period to as_of)
    whose `via_change_board` flag is known; numerator 1 when the CCB decided it.

    An empty flag says nothing about the decision, so the change is left out; a source that
    does not provide the flag at all gives no data rather than 0 %.
    """
    changes = inputs.table("changes")
    decided = changes[changes["decided"].between(_trailing_start(inputs, CHANGE_BOARD_MONTHS), inputs.as_of)
                      & changes["via_change_board"].notna()]
    return records(decided["project"], numerator=decided["via_change_board"].astype("float64"),
                   denominator=1.0)


def risk_register_currency(inputs: KpiInputs) -> pd.DataFrame:
    """One record per active project (denominator 1); numerator 1 when at least one of its
    risks was last reviewed in the 30 days ending on the as-of date (as_of − 29 .. as_of).

    Only risks raised on or before the as-of date are looked at. An active project with no
    risks, or none ever reviewed, counts with numerator 0. A project with no review in the
    window but one dated after the as-of date is left out: that later review overwrote the
    date of the one before it, so whether the register was current on the as-of date cannot
    be told (this only happens when a past month is recomputed).
    Without a `risks` table there is no data (not 0 %).
    """
    if not _provided(inputs, "risks"):
        return _nothing()
    risks = inputs.table("risks")
    risks = risks[risks["raised"] <= inputs.as_of]
    active = inputs.active_projects["id"]
    reviewed = risks["last_reviewed"]
    in_window = reviewed.between(inputs.days_before(RISK_REVIEW_DAYS), inputs.as_of)
    current = isin(active, risks.loc[in_window, "project"])
    later = isin(active, risks.loc[reviewed > inputs.as_of, "project"])
    known = current | ~later
    return records(active[known], numerator=current[known].astype("float64"), denominator=1.0)


def _is_high(risks: pd.DataFrame) -> pd.Series:
    """High exposure: probability × impact ≥ 1.8, or impact ≥ 4 with probability ≥ 0.4 (the demo
    generator's rule). The product is rounded to 1e-9 so that 0.6 × 3 counts as the 1.8 it is,
    not as binary floating point's 1.7999… (the generator itself misses that edge)."""
    probability, impact = risks["probability"], risks["impact"].astype("float64")
    return (((probability * impact).round(9) >= HIGH_EXPOSURE)
            | ((impact >= HIGH_IMPACT) & (probability >= HIGH_IMPACT_PROBABILITY))).fillna(False)


def _open_risks(inputs: KpiInputs) -> pd.DataFrame:
    """Open risks raised on or before the as-of date in the registers of active projects."""
    risks = inputs.table("risks")
    return risks[(risks["status"] == "open") & (risks["raised"] <= inputs.as_of)
                 & isin(risks["project"], inputs.active_projects["id"])]


def open_high_risks_without_plan(inputs: KpiInputs) -> pd.DataFrame:
    """One record per open risk raised on or before the as-of date in the register of a project
    active on the as-of date (`KpiInputs.active_projects`); numerator 1 when it is high
    (probability × impact ≥ 1.8, or impact ≥ 4 and probability ≥ 0.4) and `has_response_plan`
    is not true (false or empty: a plan nobody recorded cannot be relied on).

    So a scope whose open risks are all low or all planned shows a real 0, resting on the
    open risks examined; a scope with no open risk at all has no data.
    """
    live = _open_risks(inputs)
    planned = live["has_response_plan"].fillna(False).astype("bool")
    gap = _is_high(live) & ~planned
    return records(live["project"], numerator=gap.astype("float64"))


def high_risks_unplanned_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per open high risk of the records of `open_high_risks_without_plan` (the
    same risks, the same rule for "high" and for an unrecorded plan); numerator 1 when it has
    no recorded response plan. A scope without an open high risk has no data."""
    live = _open_risks(inputs)
    high = live[_is_high(live).to_numpy()]
    planned = high["has_response_plan"].fillna(False).astype("bool")
    return records(high["project"], numerator=(~planned).astype("float64"), denominator=1.0)


def _person_weeks(inputs: KpiInputs) -> pd.DataFrame:
    """Capacity and booked hours per person and week, for the weeks whose Monday lies in the
    period and for which the person has a capacity entry (bookings in weeks without one
    cannot be compared with anything and are left out). Without both a `capacity` and a
    `timesheets` table there are none (a missing timesheet feed is not 0 hours booked)."""
    keys = ["person", "week"]
    capacity = inputs.table("capacity")
    timesheets = inputs.table("timesheets")
    if not _provided(inputs, "capacity", "timesheets"):
        capacity = capacity.iloc[0:0]
    capacity = capacity[capacity["week"].between(inputs.start, inputs.as_of)]
    timesheets = timesheets.loc[timesheets["week"].between(inputs.start, inputs.as_of), [*keys, "hours"]]
    available = capacity.groupby(keys)["hours"].sum().rename("capacity")
    booked = timesheets.groupby(keys)["hours"].sum().reindex(available.index).fillna(0.0)
    return pd.DataFrame({"capacity": available, "booked": booked}).reset_index()


def resource_utilisation(inputs: KpiInputs) -> pd.DataFrame:
    """One organisation record per person with capacity in a week of the period (weeks whose
    Monday is in start..as_of): numerator = hours booked in those weeks, denominator =
    capacity hours in those weeks."""
    weeks = inputs.shared(_person_weeks)
    person = weeks.groupby("person")[["booked", "capacity"]].sum()
    return records(numerator=person["booked"], denominator=person["capacity"])


def overallocated_people(inputs: KpiInputs) -> pd.DataFrame:
    """One organisation record per person with capacity in a week of the period; numerator 1
    when, in at least one of those weeks, the hours booked exceed the capacity of that week."""
    weeks = inputs.shared(_person_weeks)
    over = (weeks["booked"] > weeks["capacity"]).groupby(weeks["person"]).any()
    return records(numerator=over.astype("float64"))


def overallocated_share(inputs: KpiInputs) -> pd.DataFrame:
    """The records of `overallocated_people` as a share: denominator 1 per person with
    capacity in a week of the period."""
    return overallocated_people(inputs).assign(**{DENOMINATOR: 1.0})


def _index_rank(inputs: KpiInputs, kpi: str, measure: Measure) -> pd.Series:
    """Per project, the colour rank (0 green, 1 amber, 2 red) of its SPI or CPI this period,
    coloured exactly as that project's own row of the KPI is: with the bands that apply to it
    (its business unit's, else the organisation's configured ones, else the catalogue's) and
    its record count. Projects it cannot colour (no data, too few records) are absent."""
    definition = inputs.catalogue.get(kpi)
    if definition is None:
        return pd.Series(dtype="float64")
    recs = measure(inputs)
    parts = recs.groupby(PROJECT).agg(numerator=(NUMERATOR, "sum"), denominator=(DENOMINATOR, "sum"),
                                      records=(NUMERATOR, "size"))
    parts = parts[parts["denominator"] != 0]
    value = parts["numerator"] / parts["denominator"]
    unit = inputs.projects.drop_duplicates("id").set_index("id")["business_unit"]
    unit = unit.reindex(parts.index).astype(object).where(lambda u: u.notna(), None)
    overrides = inputs.overrides
    bands = {u: overrides.for_scope(kpi, u) if overrides else None for u in set(unit)}
    colour = [definition.rate(float(v) if math.isfinite(v) else None, int(n), bands[u])
              for v, n, u in zip(value.tolist(), parts["records"].tolist(), unit.tolist(), strict=True)]
    return pd.Series(colour, index=parts.index, dtype=object).map(_RANK).dropna()


def _project_health(inputs: KpiInputs) -> pd.DataFrame:
    """Active projects with an SPI or CPI colour this period and their health rank: the worse
    of the two colours (a project with only one of them takes that one)."""
    ranks = pd.concat([_index_rank(inputs, "spi", evm.spi), _index_rank(inputs, "cpi", evm.cpi)])
    worst = ranks.groupby(level=0).max()
    worst = worst[isin(worst.index.to_series(), inputs.active_projects["id"]).to_numpy()]
    return pd.DataFrame({PROJECT: worst.index.astype("str"), "rank": worst.to_numpy()})


def _health_share(inputs: KpiInputs, colour: Rag) -> pd.DataFrame:
    health = inputs.shared(_project_health)
    return records(health[PROJECT], numerator=(health["rank"] == _RANK[colour]).astype("float64"),
                   denominator=1.0)


def portfolio_green_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per active project whose SPI or CPI for the period can be coloured;
    numerator 1 when its health (the worse of its SPI and CPI colours) is green."""
    return _health_share(inputs, Rag.GREEN)


def portfolio_amber_share(inputs: KpiInputs) -> pd.DataFrame:
    """As `portfolio_green_share`, numerator 1 when the project's health is amber."""
    return _health_share(inputs, Rag.AMBER)


def portfolio_red_share(inputs: KpiInputs) -> pd.DataFrame:
    """As `portfolio_green_share`, numerator 1 when the project's health is red."""
    return _health_share(inputs, Rag.RED)


def lessons_learned_capture(inputs: KpiInputs) -> pd.DataFrame:
    """One record per project with status closed and an actual finish in the trailing 12 months
    (first day of the month 11 months before the period .. as_of); numerator 1 when it has at
    least one lessons-learned record dated on or before the as-of date. Without a
    `lessons_learned` table there is no data (not 0 %)."""
    if not _provided(inputs, "lessons_learned"):
        return _nothing()
    projects = inputs.projects
    closed = projects[(projects["status"] == "closed")
                      & projects["actual_finish"].between(_trailing_start(inputs, YEAR_MONTHS), inputs.as_of)]
    lessons = inputs.table("lessons_learned")
    recorded = lessons.loc[lessons["date"] <= inputs.as_of, "project"]
    return records(closed["id"], numerator=isin(closed["id"], recorded).astype("float64"),
                   denominator=1.0)


def training_hours_per_pm(inputs: KpiInputs) -> pd.DataFrame:
    """One organisation record per person who manages at least one active project (the
    `manager` of the project); numerator = that person's training hours dated in the trailing
    12 months (first day of the month 11 months before the period .. as_of), whatever the
    course or the role recorded with it; denominator 1. A manager without training counts 0;
    without a `training` table there is no data (not 0 hours)."""
    if not _provided(inputs, "training"):
        return _nothing()
    manager = inputs.active_projects["manager"]
    managers = pd.Series(manager[manager.notna() & (manager.str.strip() != "")].unique(), dtype="str")
    training = inputs.table("training")
    recent = training[training["date"].between(_trailing_start(inputs, YEAR_MONTHS), inputs.as_of)]
    hours = managers.map(recent.groupby("person")["hours"].sum()).fillna(0.0)
    return records(numerator=hours, denominator=1.0, index=managers.index)


MEASURES: dict[str, Measure] = {
    "milestone_on_time": milestone_on_time,
    "schedule_slip_median": schedule_slip_median,
    "baseline_change_rate": baseline_change_rate,
    "change_board_share": change_board_share,
    "risk_register_currency": risk_register_currency,
    "open_high_risks_without_plan": open_high_risks_without_plan,
    "resource_utilisation": resource_utilisation,
    "overallocated_people": overallocated_people,
    "overallocated_share": overallocated_share,
    "high_risks_unplanned_share": high_risks_unplanned_share,
    "portfolio_green_share": portfolio_green_share,
    "portfolio_amber_share": portfolio_amber_share,
    "portfolio_red_share": portfolio_red_share,
    "lessons_learned_capture": lessons_learned_capture,
    "training_hours_per_pm": training_hours_per_pm,
}
