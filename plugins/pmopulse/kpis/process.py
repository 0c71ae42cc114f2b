"""Process KPIs: the process architecture's coverage, improvement flow, tailoring.

The architecture (`processes`) and the improvement proposals (`improvements`) belong to
no project and carry no business unit, so their KPIs are reported for the organisation
only. Every process in the architecture counts once, whatever its level (L1–L4): the
architecture is the list of processes the organisation itself declared, and each of them
needs an owner, a description, a yearly review and a way to be measured. Weighting the
levels would make the figure unverifiable (no weights are given) and hide the plain count
the report shows beside it.

Both tables are current snapshots: a past month (previous value, trend) is computed from
today's architecture and today's proposal statuses, with only the dates reaching back.
"""

from __future__ import annotations

import pandas as pd

from pmopulse.kpis.base import KpiInputs, Measure, records

REVIEW_DAYS = 365
"""A process review is current when dated within the 365 days ending on the as-of date."""
CYCLE_TIME_DAYS = 365
"""Cycle time pools the proposals implemented in the 365 days ending on the as-of date."""
OPEN = ("proposed", "approved", "in_progress")
REJECTED = "rejected"


def _known_share(flags: pd.Series) -> pd.DataFrame:
    """One organisation record per process whose flag is known: 1 when true, else 0.

    An empty cell says nothing about the process (the contract does not define it as
    false); a source that omits the column entirely therefore gives no data, not 0 %.
    """
    known = flags[flags.notna()]
    return records(numerator=known.astype("bool").astype("float64"), denominator=1.0)


def process_owner_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per process in the architecture (every level, L1–L4, counts once);
    numerator 1 when it names an owner. An empty owner means "none" (as the contract says)."""
    owner = inputs.table("processes")["owner"]
    named = owner.notna() & (owner.astype("str").str.strip() != "")
    return records(numerator=named.astype("float64"), denominator=1.0)


def process_documented_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per process whose `documented` flag is known; numerator 1 when documented."""
    return _known_share(inputs.table("processes")["documented"])


def process_review_currency(inputs: KpiInputs) -> pd.DataFrame:
    """One record per process; numerator 1 when its latest review lies within the 365 days
    ending on the as-of date (as_of − 364 days .. as_of).

    A process without a review date has never been reviewed as far as the data shows: it
    counts, with numerator 0. A process whose latest review is dated after the as-of date
    is left out: that review was not known on the as-of date and it overwrote the date of
    the review before it, so whether the process was current then cannot be told.
    """
    reviewed = inputs.table("processes")["last_reviewed"]
    known = reviewed[reviewed.isna() | (reviewed <= inputs.as_of)]
    current = known.notna() & (known >= inputs.days_before(REVIEW_DAYS))
    return records(numerator=current.astype("float64"), denominator=1.0)


def process_kpi_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per process whose `has_kpi` flag is known; numerator 1 when it has a KPI."""
    return _known_share(inputs.table("processes")["has_kpi"])


def _not_rejected(improvements: pd.DataFrame) -> pd.DataFrame:
    """Proposals that were not rejected. A rejected proposal was never implemented, whatever
    date its `implemented` column carries (a planned date left behind, a data error)."""
    return improvements[improvements["status"] != REJECTED]


def improvement_throughput(inputs: KpiInputs) -> pd.DataFrame:
    """Improvement proposals implemented in the period (implemented date in start..as_of).

    One record per proposal that was in the pipeline during the period: raised on or before
    the as-of date and either implemented on or after the period's first day, or still open
    (no implemented date, status proposed, approved or in_progress). Its numerator is 1 when
    it was implemented in the period. So a month in which proposals were waiting but none
    was implemented is a real 0, while an organisation without proposals has no data.

    Rejected proposals never count, whatever dates they carry, and proposals marked
    implemented without a date cannot be placed in time; both are left out. The implemented
    date, not today's status, decides otherwise: a proposal implemented after the as-of date
    was open then and counts 0, and one implemented in the period counts 1 even if its raised
    date is inconsistent (that only spoils its cycle time).
    """
    imp = _not_rejected(inputs.table("improvements"))
    done = imp["implemented"]
    still_open = done.isna() & imp["status"].isin(OPEN)
    pipeline = imp[(imp["raised"] <= inputs.as_of) & (still_open | (done >= inputs.start))]
    in_period = pipeline["implemented"].between(inputs.start, inputs.as_of)
    return records(numerator=in_period.astype("float64"))


def improvement_cycle_time_median(inputs: KpiInputs) -> pd.DataFrame:
    """Days from raised to implemented, one record per proposal implemented in the 365 days
    ending on the as-of date; the engine takes the pooled median.

    A year rather than the month: a month sees a handful of implementations, too few for a
    steady median, and a rolling year smooths that while still moving every month.
    Rejected proposals were never implemented and are left out, as are proposals dated
    implemented before they were raised (data errors).
    """
    imp = _not_rejected(inputs.table("improvements"))
    done = imp[imp["implemented"].between(inputs.days_before(CYCLE_TIME_DAYS), inputs.as_of)
               & (imp["raised"] <= imp["implemented"])]
    return records(value=(done["implemented"] - done["raised"]).dt.days.astype("float64"))


def tailoring_approved_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per project active on the as-of date (`KpiInputs.active_projects`) whose
    `tailoring_approved` flag is known; numerator 1 when its tailoring was approved.

    An empty flag is unknown, not "not approved", and leaves the project out (a source
    without the column gives no data rather than 0 %).
    """
    active = inputs.active_projects
    active = active[active["tailoring_approved"].notna()]
    approved = active["tailoring_approved"].astype("bool")
    return records(active["id"], numerator=approved.astype("float64"), denominator=1.0)


MEASURES: dict[str, Measure] = {
    "process_owner_share": process_owner_share,
    "process_documented_share": process_documented_share,
    "process_review_currency": process_review_currency,
    "process_kpi_share": process_kpi_share,
    "improvement_throughput": improvement_throughput,
    "improvement_cycle_time_median": improvement_cycle_time_median,
    "tailoring_approved_share": tailoring_approved_share,
}
