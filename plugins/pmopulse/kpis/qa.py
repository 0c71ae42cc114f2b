"""QA KPIs: process compliance, audits, non-conformances, gates, defects, reopened work.

Process quality assurance (PQA) audits each active project about once a quarter, and a
project passes a TR or DCP gate every few months. A calendar month therefore sees only a
third of the projects audited and a handful of gate reviews per business unit: a monthly
rate would jump with whichever projects happened to be audited, and most projects would
have no value two months out of three. The flow KPIs built on audits, their findings and
gates (process compliance, audit coverage, non-conformances closed on time, gate first
pass) therefore all use one audit cycle, the 90 days ending on the as-of date
(as_of − 89 days .. as_of). Using the same window for each means the compliance rate is
measured on exactly the audits the coverage counts. The value still moves every month
(a rolling window), and the trend shows it.

The reopened share follows the same rule for the same reason: a month resolves too few
items per project to rate, so it looks at the items first resolved in the 90 days ending
on the as-of date, and at whether they came back by then.

The non-conformance (NC) backlog (median age, overdue count) is a state at the as-of
date. Defect removal efficiency pools a rolling year of bugs, because escapes are rare
(a few in a hundred) and a month's DRE would rest on a handful of them; escaped defects
are counted in the period itself, as the month's new field failures.

Nothing dated after the as-of date is counted; an NC closed after it was still open then.
"""

from __future__ import annotations

import pandas as pd

from pmopulse.frames import isin
from pmopulse.kpis.base import KpiInputs, Measure, records

AUDIT_CYCLE_DAYS = 90
"""Compliance, coverage, NC closure and gate first pass use the 90 days ending on the as-of date."""
DRE_DAYS = 365
"""Defect removal efficiency pools the bugs created in the 365 days ending on the as-of date."""
PASS = "pass"
BUG = "bug"
DONE = ("resolved", "closed")
REOPENED = ("open", "in_progress")


def _in_audit_cycle(dates: pd.Series, inputs: KpiInputs) -> pd.Series:
    return dates.between(inputs.days_before(AUDIT_CYCLE_DAYS), inputs.as_of)


def process_compliance(inputs: KpiInputs) -> pd.DataFrame:
    """Σ items compliant / Σ items checked over the PQA audits dated in the 90 days ending
    on the as-of date, one record per audit (numerator items compliant, denominator items
    checked). Audits of any project count, whatever its status now: the audit happened.
    An audit that checked no items says nothing about compliance and is left out."""
    audits = inputs.table("qa_audits")
    audits = audits[_in_audit_cycle(audits["date"], inputs)
                    & (audits["items_checked"] > 0).fillna(False).astype("bool")]
    return records(audits["project"], numerator=audits["items_compliant"],
                   denominator=audits["items_checked"])


def audit_coverage(inputs: KpiInputs) -> pd.DataFrame:
    """One record per project active on the as-of date (`KpiInputs.active_projects`);
    numerator 1 when it had at least one PQA audit dated in the 90 days ending on the as-of
    date.

    Without any audit dated on or before the as-of date (no audit source, or a month before
    the audit records begin) there is no evidence that audits are recorded at all, and so
    no records: the coverage is unknown, not 0 %.
    """
    audits = inputs.table("qa_audits")
    audits_recorded = bool((audits["date"] <= inputs.as_of).any())
    active = inputs.active_projects if audits_recorded else inputs.active_projects.iloc[0:0]
    audited = audits.loc[_in_audit_cycle(audits["date"], inputs), "project"]
    return records(active["id"], numerator=isin(active["id"], audited).astype("float64"),
                   denominator=1.0)


def nc_closed_on_time(inputs: KpiInputs) -> pd.DataFrame:
    """One record per non-conformance closed in the 90 days ending on the as-of date that
    has an agreed due date; numerator 1 when it was closed on or before that date.
    NCs without a due date cannot be on time or late and are left out."""
    ncs = inputs.table("nonconformances")
    closed = ncs[_in_audit_cycle(ncs["closed"], inputs) & ncs["due"].notna()]
    return records(closed["project"], numerator=(closed["closed"] <= closed["due"]).astype("float64"),
                   denominator=1.0)


def _open_ncs(inputs: KpiInputs) -> pd.DataFrame:
    """NCs open at the as-of date: raised on or before it and not closed by then."""
    ncs = inputs.table("nonconformances")
    still_open = ncs["closed"].isna() | (ncs["closed"] > inputs.as_of)
    return ncs[(ncs["raised"] <= inputs.as_of) & still_open]


def nc_open_age_median(inputs: KpiInputs) -> pd.DataFrame:
    """One record per NC open at the as-of date (raised ≤ as_of, closed empty or after
    as_of); value its age in days at the as-of date (as_of − raised). The engine takes the
    pooled median."""
    open_ncs = inputs.shared(_open_ncs)
    return records(open_ncs["project"],
                   value=(inputs.as_of - open_ncs["raised"]).dt.days.astype("float64"))


def nc_overdue(inputs: KpiInputs) -> pd.DataFrame:
    """One record per NC open at the as-of date; numerator 1 when its due date is before
    the as-of date (an NC due on the as-of date is not yet overdue; one without a due date
    cannot be). A scope with no open NC has no records and so no data."""
    open_ncs = inputs.shared(_open_ncs)
    overdue = open_ncs["due"].notna() & (open_ncs["due"] < inputs.as_of)
    return records(open_ncs["project"], numerator=overdue.astype("float64"))


def gate_first_pass_rate(inputs: KpiInputs) -> pd.DataFrame:
    """One record per first review of a gate (attempt 1) dated in the 90 days ending on the
    as-of date; numerator 1 when its outcome is pass.

    A conditional pass is not a first-pass success: the gate was let through with actions
    still to close, i.e. the deliverables were not ready at the first review (IPD and CMMI
    practice). Later attempts (re-reviews) are not counted at all.
    """
    gates = inputs.table("gate_reviews")
    first = gates[(gates["attempt"] == 1).fillna(False).astype("bool")
                  & _in_audit_cycle(gates["date"], inputs)]
    return records(first["project"], numerator=(first["outcome"] == PASS).astype("float64"),
                   denominator=1.0)


def _bugs(inputs: KpiInputs, since: pd.Timestamp) -> pd.DataFrame:
    """Bugs created in since..as_of whose found_after_release flag is known (an empty flag
    cannot be told apart from a bug found in test, so it is left out)."""
    items = inputs.table("work_items")
    bugs = ((items["type"] == BUG) & items["created"].between(since, inputs.as_of)
            & items["found_after_release"].notna())
    return items.loc[bugs, ["project", "found_after_release"]]


def defect_removal_efficiency(inputs: KpiInputs) -> pd.DataFrame:
    """One record per bug (work item of type bug) created in the 365 days ending on the
    as-of date with a known found_after_release flag; numerator 1 when found before release
    (found_after_release false). DRE = bugs found before release / all bugs."""
    bugs = _bugs(inputs, inputs.days_before(DRE_DAYS))
    before = ~bugs["found_after_release"].astype("bool")
    return records(bugs["project"], numerator=before.astype("float64"), denominator=1.0)


def escaped_defects(inputs: KpiInputs) -> pd.DataFrame:
    """One record per bug created in the period (start..as_of) with a known
    found_after_release flag; numerator 1 when it was found after release (escaped).
    A period with bugs but none escaped is 0; a period without bugs has no data."""
    bugs = _bugs(inputs, inputs.start)
    return records(bugs["project"],
                   numerator=bugs["found_after_release"].astype("bool").astype("float64"))


def reopened_share(inputs: KpiInputs) -> pd.DataFrame:
    """One record per work item whose status history first reaches resolved or closed on a
    day in the 90 days ending on the as-of date; numerator 1 when a later change, dated on or
    before the as-of date, takes it back to open or in_progress. An item reopened several
    times counts once; an item first resolved before the window is not counted again when
    it is resolved anew. Without a status history there are no records (no data)."""
    history = inputs.table("work_item_history")
    history = history[history["changed"] <= inputs.as_of].sort_values(["item", "seq"])
    first = history[history["to_status"].isin(DONE)].drop_duplicates("item")
    first = first[_in_audit_cycle(first["changed"], inputs)]
    resolved_at = history["item"].map(first.set_index("item")["seq"])
    reopened = history.loc[(history["seq"] > resolved_at).fillna(False).astype("bool")
                           & history["to_status"].isin(REOPENED), "item"]
    return records(first["project"], numerator=isin(first["item"], reopened).astype("float64"),
                   denominator=1.0)


MEASURES: dict[str, Measure] = {
    "process_compliance": process_compliance,
    "audit_coverage": audit_coverage,
    "nc_closed_on_time": nc_closed_on_time,
    "nc_open_age_median": nc_open_age_median,
    "nc_overdue": nc_overdue,
    "gate_first_pass_rate": gate_first_pass_rate,
    "defect_removal_efficiency": defect_removal_efficiency,
    "escaped_defects": escaped_defects,
    "reopened_share": reopened_share,
}
