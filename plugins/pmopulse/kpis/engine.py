"""Compute the catalogue per project, program, business unit and organisation.

Each KPI function returns records; this module aggregates them per scope as the catalogue
says (ratio of sums, sum, or pooled median), one level at a time for all its scopes at
once, colours each value with the thresholds that apply to its scope, and adds the
previous period's value and a 12-month organisation trend, from the history store where
it holds the month, else recomputed from the frozen data (each figure says which).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, TypedDict

import numpy as np
import pandas as pd

from pmopulse.contracts.coerce import SOURCE_ORIGIN, SOURCE_ROW
from pmopulse.kpis.base import BUSINESS_UNIT, DENOMINATOR, NUMERATOR, PROJECT, VALUE, KpiInputs, Measure
from pmopulse.kpis.catalogue import Aggregate, KpiDefinition, Level, ThresholdOverrides
from pmopulse.period import Period

PROGRAM = "program"
ORGANISATION = Level.ORGANISATION.value
TREND_MONTHS = 12
HISTORY = "history"
RECOMPUTED = "recomputed"

HistoryKey = tuple[str, str, str, str]
"""(period, kpi, level, scope)"""
Figures = tuple[float | None, float | None, float | None, int]
"""(value, numerator, denominator, records) of one scope."""
NO_DATA: Figures = (None, None, None, 0)


class KpiResult(TypedDict):
    """A KPI value for one scope, with everything it was computed from (kpis.json's results)."""

    kpi: str
    level: str                 # organisation | business_unit | program | project
    scope: str                 # organisation name, unit id, program name or project id
    value: float | None
    numerator: float | None    # ratio and sum KPIs
    denominator: float | None  # ratio KPIs
    records: int
    rag: str                   # a Rag value
    previous: float | None
    previous_basis: str        # history | recomputed


class ScopeFigures(NamedTuple):
    """One scope's figures, before they are coloured."""

    level: str
    scope: str
    unit: str | None           # the business unit whose thresholds apply, if any
    value: float | None
    numerator: float | None
    denominator: float | None
    records: int


@dataclass(frozen=True)
class History:
    """Values reported in earlier periods, as read from the history store."""

    values: Mapping[HistoryKey, float | None] = field(default_factory=dict)

    @cached_property
    def periods(self) -> frozenset[str]:
        return frozenset(key[0] for key in self.values)

    def has(self, period: Period) -> bool:
        return str(period) in self.periods

    def value(self, period: Period, kpi: str, level: str, scope: str) -> float | None:
        return self.values.get((str(period), kpi, level, scope))


def _figures(kind: Aggregate, records: int, numerator: float, denominator: float, median: float) -> Figures:
    """A scope's figures from its totals (Σnumerator, Σdenominator, median of value): no
    records is no data, and so is a ratio over a zero denominator."""
    if not records:
        return NO_DATA
    if kind is Aggregate.MEDIAN:
        return median, None, None, records
    if kind is Aggregate.SUM:
        return numerator, numerator, None, records
    return (numerator / denominator if denominator else None), numerator, denominator, records


def aggregate(recs: pd.DataFrame, kind: Aggregate) -> Figures:
    """The figures of one scope holding all of `recs` (the organisation)."""
    if recs.empty:
        return NO_DATA
    median = float(recs[VALUE].median()) if kind is Aggregate.MEDIAN else float("nan")
    numerator = float(recs[NUMERATOR].sum()) if kind is not Aggregate.MEDIAN else float("nan")
    denominator = float(recs[DENOMINATOR].sum()) if kind is Aggregate.RATIO else float("nan")
    return _figures(kind, len(recs), numerator, denominator, median)


def aggregate_by(recs: pd.DataFrame, kind: Aggregate, key: str) -> dict[str, Figures]:
    """The figures of each scope: the records grouped by column `key`, all groups in one pass,
    sorted by scope; records without a `key` are left out.

    pandas adds up each group with compensated summation, so where non-integer amounts are
    added the last bit can differ from `aggregate` over the same records.
    """
    grouped = recs.groupby(key, sort=True)
    counts = grouped.size()
    unused = [math.nan] * len(counts)
    medians = grouped[VALUE].median().tolist() if kind is Aggregate.MEDIAN else unused
    numerators = grouped[NUMERATOR].sum().tolist() if kind is not Aggregate.MEDIAN else unused
    denominators = grouped[DENOMINATOR].sum().tolist() if kind is Aggregate.RATIO else unused
    return {str(scope): _figures(kind, count, numerator, denominator, median)
            for scope, count, numerator, denominator, median in zip(
                counts.index.tolist(), counts.tolist(), numerators, denominators, medians, strict=True)}


def compute_kpis(
    tables: Mapping[str, pd.DataFrame],
    catalogue: Mapping[str, KpiDefinition],
    period: Period,
    *,
    organisation: str,
    business_units: Iterable[str],
    measures: Mapping[str, Measure] | None = None,
    overrides: ThresholdOverrides | None = None,
    history: History | None = None,
) -> dict[str, Any]:
    """All KPI results for `period` plus a 12-month organisation trend, as a JSON-safe dict."""
    from pmopulse.kpis.registry import MEASURES

    measures = measures or MEASURES
    overrides = overrides or ThresholdOverrides()
    history = history or History()
    # Where each record came from is validation's concern; carried through every filter of
    # every month, the provenance columns would cost more than the KPIs' own columns.
    tables = {name: frame.drop(columns=[SOURCE_ROW, SOURCE_ORIGIN], errors="ignore")
              for name, frame in tables.items()}
    inputs = KpiInputs(tables, period, catalogue)
    # One inputs per earlier month, shared by every KPI, so that what several KPIs of a month
    # build on (project health, the month's snapshots) is computed once per month.
    earlier = {p: inputs.at(p) for p in period.trailing(TREND_MONTHS)[:-1]}
    before = period.shift(-1)
    scopes = _Scopes(inputs.projects, organisation, business_units)
    results: list[KpiResult] = []
    trend: dict[str, list[dict[str, Any]]] = {}
    for kpi_id, definition in catalogue.items():
        measure = measures[kpi_id]
        now = scopes.summarise(measure(inputs), definition)
        previous, basis = _previous(definition, measure, earlier[before], scopes, history)
        results += [{
            "kpi": kpi_id, "level": s.level, "scope": s.scope, "value": s.value,
            "numerator": s.numerator, "denominator": s.denominator, "records": s.records,
            "rag": definition.rate(s.value, s.records, overrides.for_scope(kpi_id, s.unit)).value,
            "previous": previous(s.level, s.scope), "previous_basis": basis,
        } for s in now]
        trend[kpi_id] = [
            *(_trend_point(definition, measure, earlier[p], history, organisation)
              for p in earlier if p != before),
            {"period": str(before), "value": previous(ORGANISATION, organisation),
             "basis": basis},
            {"period": str(period), "value": now[0].value, "basis": RECOMPUTED},
        ]
    return {
        "period": str(period),
        "as_of": period.end.isoformat(),
        "catalogue": {k: d.as_dict() for k, d in catalogue.items()},
        "results": results,
        "trend": trend,
    }


class _Scopes:
    """Which business unit and program each project belongs to, and the scopes to report."""

    def __init__(self, projects: pd.DataFrame, organisation: str, business_units: Iterable[str]):
        self.organisation = organisation
        self.placement = projects.set_index("id")[[BUSINESS_UNIT, PROGRAM]]
        unit_of = self.placement[BUSINESS_UNIT]
        self.unit_of = dict(zip(unit_of.index.tolist(),
                                unit_of.astype(object).where(unit_of.notna(), None).tolist(), strict=True))
        self.units = list(dict.fromkeys([*business_units, *sorted(unit_of.dropna().unique())]))

    def attach(self, recs: pd.DataFrame) -> pd.DataFrame:
        """Records with their project's business unit and program (a project's unit wins)."""
        project_ids = recs[PROJECT] if PROJECT in recs else pd.Series(None, index=recs.index, dtype="str")
        placed = self.placement.reindex(project_ids)
        unit = placed[BUSINESS_UNIT].to_numpy()
        if BUSINESS_UNIT in recs:
            unit = np.where(project_ids.notna().to_numpy(), unit, recs[BUSINESS_UNIT].to_numpy())
        return recs.assign(**{BUSINESS_UNIT: unit, PROGRAM: placed[PROGRAM].to_numpy()})

    def summarise(self, recs: pd.DataFrame, definition: KpiDefinition) -> list[ScopeFigures]:
        """The figures of every scope reported, in report order: the organisation first.

        The organisation and every business unit are always reported (no records: no data);
        programs and projects only where they have records.
        """
        kind, levels = definition.aggregate, definition.levels
        scoped = [ScopeFigures(ORGANISATION, self.organisation, None, *aggregate(recs, kind))]
        if levels == (Level.ORGANISATION,):
            return scoped
        recs = self.attach(recs)
        # Each level's name is looked up once: an enum's .value is slow in a loop over 10,000 projects.
        if Level.BUSINESS_UNIT in levels:
            level = Level.BUSINESS_UNIT.value
            by_unit = aggregate_by(recs, kind, BUSINESS_UNIT)
            scoped += [ScopeFigures(level, unit, unit, *by_unit.get(unit, NO_DATA)) for unit in self.units]
        if Level.PROGRAM in levels:
            # A program is rated with its unit's thresholds when all its records have that one unit.
            pairs = recs[[PROGRAM, BUSINESS_UNIT]].dropna().drop_duplicates()
            single = pairs.drop_duplicates(PROGRAM, keep=False)
            unit_of_program = dict(zip(single[PROGRAM].tolist(), single[BUSINESS_UNIT].tolist(), strict=True))
            level = Level.PROGRAM.value
            scoped += [ScopeFigures(level, program, unit_of_program.get(program), *figures)
                       for program, figures in aggregate_by(recs, kind, PROGRAM).items()]
        if Level.PROJECT in levels:
            level = Level.PROJECT.value
            scoped += [ScopeFigures(level, project, self.unit_of.get(project), *figures)
                       for project, figures in aggregate_by(recs, kind, PROJECT).items()]
        return scoped


def _previous(
    definition: KpiDefinition, measure: Measure, month: KpiInputs, scopes: _Scopes, history: History
) -> tuple[Callable[[str, str], float | None], str]:
    """A lookup (level, scope) -> value for the month before, and where its values come from."""
    if history.has(month.period):
        return (lambda level, scope: history.value(month.period, definition.id, level, scope)), HISTORY
    values = {(s.level, s.scope): s.value for s in scopes.summarise(measure(month), definition)}
    return (lambda level, scope: values.get((level, scope))), RECOMPUTED


def _trend_point(definition: KpiDefinition, measure: Measure, inputs: KpiInputs,
                 history: History, organisation: str) -> dict[str, Any]:
    period = inputs.period
    if history.has(period):
        value = history.value(period, definition.id, ORGANISATION, organisation)
        return {"period": str(period), "value": value, "basis": HISTORY}
    value = aggregate(measure(inputs), definition.aggregate)[0]
    return {"period": str(period), "value": value, "basis": RECOMPUTED}
