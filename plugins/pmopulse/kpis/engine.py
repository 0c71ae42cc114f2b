"""Compute the catalogue per project, program, business unit and organisation.

Each KPI function returns records; this module groups them by scope and aggregates them
as the catalogue says (ratio of sums, sum, or pooled median), colours each value with the
thresholds that apply to its scope, and adds the previous period's value and a 12-month
organisation trend, from the history store where it holds the month, else recomputed
from the frozen data (each figure says which).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from pmopulse.kpis.base import BUSINESS_UNIT, DENOMINATOR, NUMERATOR, PROJECT, VALUE, KpiInputs, Measure
from pmopulse.kpis.catalogue import Aggregate, KpiDefinition, Level, Rag, ThresholdOverrides
from pmopulse.period import Period

PROGRAM = "program"
TREND_MONTHS = 12
HISTORY = "history"
RECOMPUTED = "recomputed"

HistoryKey = tuple[str, str, str, str]
"""(period, kpi, level, scope)"""


@dataclass(frozen=True)
class KpiResult:
    """A KPI value for one scope, with everything it was computed from."""

    kpi: str
    level: str                 # organisation | business_unit | program | project
    scope: str                 # organisation name, unit id, program name or project id
    value: float | None
    numerator: float | None    # ratio and sum KPIs
    denominator: float | None  # ratio KPIs
    records: int
    rag: Rag
    previous: float | None
    previous_basis: str        # history | recomputed

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rag": self.rag.value}


@dataclass(frozen=True)
class History:
    """Values reported in earlier periods, as read from the history store."""

    values: Mapping[HistoryKey, float | None] = field(default_factory=dict)

    def has(self, period: Period) -> bool:
        return any(key[0] == str(period) for key in self.values)

    def value(self, period: Period, kpi: str, level: str, scope: str) -> float | None:
        return self.values.get((str(period), kpi, level, scope))


def aggregate(frame: pd.DataFrame, kind: Aggregate) -> tuple[float | None, float | None, float | None, int]:
    """(value, numerator, denominator, records) of a set of records; no records is no data."""
    count = len(frame)
    if kind is Aggregate.MEDIAN:
        return (float(frame[VALUE].median()) if count else None), None, None, count
    numerator = float(frame[NUMERATOR].sum()) if count else None
    if kind is Aggregate.SUM:
        return numerator, numerator, None, count
    denominator = float(frame[DENOMINATOR].sum()) if count else None
    if not count or not denominator:
        return None, numerator, denominator, count
    return float(numerator) / denominator, numerator, denominator, count  # type: ignore[arg-type]


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
    inputs = KpiInputs(tables, period, catalogue)
    projects = inputs.projects
    scopes = _Scopes(projects, organisation, business_units)
    results: list[KpiResult] = []
    trend: dict[str, list[dict[str, Any]]] = {}
    for kpi_id, definition in catalogue.items():
        measure = measures[kpi_id]
        now = scopes.attach(measure(inputs))
        previous = _previous(definition, measure, inputs, scopes, history)
        for level, scope, unit, group in scopes.groups(now, definition.levels):
            value, numerator, denominator, count = aggregate(group, definition.aggregate)
            before, basis = previous(level, scope)
            results.append(KpiResult(
                kpi=kpi_id, level=level.value, scope=scope, value=value, numerator=numerator,
                denominator=denominator, records=count,
                rag=definition.rate(value, count, overrides.for_scope(kpi_id, unit)),
                previous=before, previous_basis=basis,
            ))
        current = next(r.value for r in reversed(results)
                       if r.kpi == kpi_id and r.level == Level.ORGANISATION.value)
        trend[kpi_id] = [
            _trend_point(definition, measure, inputs.at(p), history, organisation)
            for p in period.trailing(TREND_MONTHS)[:-1]
        ] + [{"period": str(period), "value": current, "basis": RECOMPUTED}]
    return {
        "period": str(period),
        "as_of": period.end.isoformat(),
        "catalogue": {k: d.as_dict() for k, d in catalogue.items()},
        "results": [r.as_dict() for r in results],
        "trend": trend,
    }


class _Scopes:
    """Which business unit and program each project belongs to, and the scopes to report."""

    def __init__(self, projects: pd.DataFrame, organisation: str, business_units: Iterable[str]):
        self.organisation = organisation
        self.unit_of = projects.set_index("id")["business_unit"]
        self.program_of = projects.set_index("id")["program"]
        self.units = list(dict.fromkeys([*business_units, *sorted(self.unit_of.dropna().unique())]))

    def attach(self, recs: pd.DataFrame) -> pd.DataFrame:
        """Records with their project's business unit and program (a project's unit wins)."""
        recs = recs.copy()
        has_project = recs[PROJECT].notna() if PROJECT in recs else pd.Series(False, index=recs.index)
        own_unit = recs[BUSINESS_UNIT] if BUSINESS_UNIT in recs else pd.Series(None, index=recs.index,
                                                                               dtype="str")
        project_ids = recs[PROJECT] if PROJECT in recs else pd.Series(None, index=recs.index, dtype="str")
        recs[BUSINESS_UNIT] = self.unit_of.reindex(project_ids).to_numpy()
        recs[BUSINESS_UNIT] = recs[BUSINESS_UNIT].where(has_project, own_unit)
        recs[PROGRAM] = self.program_of.reindex(project_ids).to_numpy()
        return recs

    def groups(
        self, recs: pd.DataFrame, levels: tuple[Level, ...]
    ) -> Iterator[tuple[Level, str, str | None, pd.DataFrame]]:
        """(level, scope, business unit for thresholds, records) for every scope reported.

        The organisation and every business unit are always reported (no records: no data);
        programs and projects only where they have records.
        """
        if Level.ORGANISATION in levels:
            yield Level.ORGANISATION, self.organisation, None, recs
        if Level.BUSINESS_UNIT in levels:
            by_unit = dict(tuple(recs.groupby(BUSINESS_UNIT, sort=True)))
            for unit in self.units:
                yield Level.BUSINESS_UNIT, unit, unit, by_unit.get(unit, recs.iloc[0:0])
        if Level.PROGRAM in levels:
            for program, group in recs.dropna(subset=[PROGRAM]).groupby(PROGRAM, sort=True):
                units = group[BUSINESS_UNIT].dropna().unique()
                yield Level.PROGRAM, str(program), (str(units[0]) if len(units) == 1 else None), group
        if Level.PROJECT in levels:
            for project, group in recs.dropna(subset=[PROJECT]).groupby(PROJECT, sort=True):
                yield Level.PROJECT, str(project), self.unit_of.get(project), group


def _previous(
    definition: KpiDefinition, measure: Measure, inputs: KpiInputs, scopes: _Scopes, history: History
) -> Callable[[Level, str], tuple[float | None, str]]:
    """A lookup (level, scope) -> (previous value, basis) for the month before."""
    before = inputs.period.shift(-1)
    if history.has(before):
        return lambda level, scope: (history.value(before, definition.id, level.value, scope), HISTORY)
    recs = scopes.attach(measure(inputs.at(before)))
    values = {(level, scope): aggregate(group, definition.aggregate)[0]
              for level, scope, _, group in scopes.groups(recs, definition.levels)}
    return lambda level, scope: (values.get((level, scope)), RECOMPUTED)


def _trend_point(definition: KpiDefinition, measure: Measure, inputs: KpiInputs,
                 history: History, organisation: str) -> dict[str, Any]:
    period = inputs.period
    if history.has(period):
        value = history.value(period, definition.id, Level.ORGANISATION.value, organisation)
        return {"period": str(period), "value": value, "basis": HISTORY}
    value = aggregate(measure(inputs), definition.aggregate)[0]
    return {"period": str(period), "value": value, "basis": RECOMPUTED}
