"""Compute the catalogue per project, program, business unit and organisation.

Each KPI function returns records; this module aggregates them per scope as the catalogue
says (ratio of sums, sum, or pooled median), one level at a time for all its scopes at
once, colours each value with the thresholds that apply to its scope, and adds the
previous period's value and a 12-month organisation trend.

A past month's value is known only from what was reported then (the history store, or that
month's frozen snapshot): the tables of this period hold today's state of things that
change (a risk's last review, a project's status, a process's review date), and a past
month computed from them would be invented. Only KPIs whose catalogue entry is
`recomputable` (their inputs are dated events or period-stamped rows) are recomputed for a
month nothing was reported for; for the others that month is "no data". Each previous
value and trend point says where it comes from (its basis).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
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
"""Basis of a past value: the history store (what the report of that month stated)."""
SNAPSHOT = "snapshot"
"""Computed from that month's own frozen snapshot (the current month; or a past month whose
kpis.json exists but which the history store does not hold)."""
RECOMPUTED = "recomputed"
"""Recomputed from this period's tables: only for `recomputable` KPIs, marked wherever shown."""
MISSING = "missing"
"""Not reported, no snapshot, and the KPI cannot be recomputed: no data."""

HistoryRow = tuple[str, str, str, str, float | None]
"""(period, kpi, level, scope, value) as the history store holds it."""
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
    previous_basis: str        # history | snapshot | recomputed | missing


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
    """Values stated for earlier periods: per (period, KPI), the value of each (level,
    scope), as the history store holds them (basis `history`) or as a month's own frozen
    snapshot gave them (basis `snapshot`, for the months listed in `from_snapshots`)."""

    months: Mapping[tuple[str, str], Mapping[tuple[str, str], float | None]] = field(default_factory=dict)
    from_snapshots: frozenset[str] = frozenset()

    @classmethod
    def from_rows(cls, rows: Iterable[HistoryRow]) -> History:
        months: dict[tuple[str, str], dict[tuple[str, str], float | None]] = defaultdict(dict)
        for period, kpi, level, scope, value in rows:
            months[period, kpi][level, scope] = value
        return cls(dict(months))

    def with_snapshots(self, rows: Iterable[HistoryRow]) -> History:
        """These values added for the months the history does not hold, marked as read from
        those months' own snapshots."""
        added = History.from_rows(row for row in rows if row[0] not in self.periods)
        return History({**self.months, **added.months}, self.from_snapshots | added.periods)

    @cached_property
    def periods(self) -> frozenset[str]:
        return frozenset(period for period, _ in self.months)

    def has(self, period: Period) -> bool:
        return str(period) in self.periods

    def basis(self, period: Period) -> str:
        return SNAPSHOT if str(period) in self.from_snapshots else HISTORY

    def stated(self, period: Period, kpi: str) -> Mapping[tuple[str, str], float | None]:
        """What was reported for one KPI in one period, by (level, scope)."""
        return self.months.get((str(period), kpi), {})


def _figures(kind: Aggregate, records: int, numerator: float, denominator: float, median: float) -> Figures:
    """A scope's figures from its totals (Σnumerator, Σdenominator, median of value): no
    records is no data, and so is a value that is no finite number: a ratio over a zero
    denominator, the median of records none of which has a value, an infinite amount."""
    if not records:
        return NO_DATA
    value: float | None
    parts: tuple[float | None, float | None]  # numerator, denominator
    if kind is Aggregate.MEDIAN:
        value, parts = median, (None, None)
    elif kind is Aggregate.SUM:
        value, parts = numerator, (numerator, None)
    else:
        value, parts = (numerator / denominator if denominator else None), (numerator, denominator)
    return (value if value is not None and math.isfinite(value) else None), *parts, records


def aggregate(recs: pd.DataFrame, kind: Aggregate) -> Figures:
    """The figures of one scope holding all of `recs` (the organisation)."""
    if recs.empty:
        return NO_DATA
    median = float(recs[VALUE].median()) if kind is Aggregate.MEDIAN else float("nan")
    numerator = float(recs[NUMERATOR].sum()) if kind is not Aggregate.MEDIAN else float("nan")
    denominator = float(recs[DENOMINATOR].sum()) if kind is Aggregate.RATIO else float("nan")
    return _figures(kind, len(recs), numerator, denominator, median)


def _grouped(codes: np.ndarray, groups: int, recs: pd.DataFrame, kind: Aggregate) -> list[Figures]:
    """The figures of each group 0..groups-1, records given their group by `codes` (−1: none).

    Sums are numpy's, added in record order; pandas' grouped sums (compensated) can differ
    from them in the last bit. NaN amounts add nothing, as in pandas.
    """
    kept = codes >= 0
    codes = codes[kept]
    counts = np.bincount(codes, minlength=groups).tolist()
    unused = [math.nan] * groups

    def total(column: str) -> list[float]:
        amounts = recs[column].to_numpy(dtype="float64", na_value=np.nan)[kept]
        amounts = np.where(np.isnan(amounts), 0.0, amounts)  # an infinite amount stays infinite
        return np.bincount(codes, weights=amounts, minlength=groups).tolist()

    if kind is Aggregate.MEDIAN:
        values = pd.Series(recs[VALUE].to_numpy(dtype="float64", na_value=np.nan)[kept])
        medians = values.groupby(codes).median().reindex(range(groups)).tolist()
    else:
        medians = unused
    numerators = total(NUMERATOR) if kind is not Aggregate.MEDIAN else unused
    denominators = total(DENOMINATOR) if kind is Aggregate.RATIO else unused
    return [_figures(kind, count, numerator, denominator, median)
            for count, numerator, denominator, median in zip(
                counts, numerators, denominators, medians, strict=True)]


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
    inputs = KpiInputs(tables, period, catalogue, overrides)
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
        # The thresholds of each unit, looked up once rather than once per project.
        thresholds = {unit: overrides.for_scope(kpi_id, unit) for unit in {s.unit for s in now}}
        rate = definition.rate
        results += [{
            "kpi": kpi_id, "level": s.level, "scope": s.scope, "value": s.value,
            "numerator": s.numerator, "denominator": s.denominator, "records": s.records,
            "rag": rate(s.value, s.records, thresholds[s.unit]).value,
            "previous": previous.get((s.level, s.scope)), "previous_basis": basis,
        } for s in now]
        trend[kpi_id] = [
            *(_trend_point(definition, measure, earlier[p], history, organisation)
              for p in earlier if p != before),
            {"period": str(before), "value": previous.get((ORGANISATION, organisation)),
             "basis": basis},
            {"period": str(period), "value": now[0].value, "basis": SNAPSHOT},
        ]
    return {
        "period": str(period),
        "as_of": period.end.isoformat(),
        "catalogue": {k: d.as_dict() for k, d in catalogue.items()},
        "results": results,
        "trend": trend,
    }


class _Scopes:
    """Which business unit and program each project belongs to, and the scopes to report.

    Every KPI is summarised at every level for 13 months, so records are grouped with
    integer codes and numpy rather than one pandas groupby per level: the codes of the
    units and programs are worked out once per project here.
    """

    def __init__(self, projects: pd.DataFrame, organisation: str, business_units: Iterable[str]):
        self.organisation = organisation
        unit_of = projects[BUSINESS_UNIT]
        self.units = list(dict.fromkeys([*business_units, *sorted(unit_of.dropna().unique())]))
        self.programs = sorted(projects[PROGRAM].dropna().unique())
        self.projects = pd.Index(projects["id"].astype("str"))
        self.unit_index = pd.Index(self.units, dtype="str")
        # Per project, the position of its unit in `units` and of its program in `programs`
        # (−1: none), with a trailing −1 for "no such project" (numpy's index −1).
        self.unit_code = np.append(self.unit_index.get_indexer(unit_of.astype("str")), -1)
        self.program_code = np.append(
            pd.Index(self.programs, dtype="str").get_indexer(projects[PROGRAM].astype("str")), -1)
        self.unit_of = dict(zip(self.projects.tolist(),
                                unit_of.astype(object).where(unit_of.notna(), None).tolist(), strict=True))

    def summarise(self, recs: pd.DataFrame, definition: KpiDefinition) -> list[ScopeFigures]:
        """The figures of every scope reported, in report order: the organisation first.

        The organisation and every business unit are always reported (no records: no data);
        programs and projects only where they have records. A record counts for its
        project's unit and program; a record without a project, for the unit it names.
        """
        kind, levels = definition.aggregate, definition.levels
        scoped = [ScopeFigures(ORGANISATION, self.organisation, None, *aggregate(recs, kind))]
        if levels == (Level.ORGANISATION,):
            return scoped
        if PROJECT in recs:
            codes, ids = pd.factorize(recs[PROJECT], sort=True)
        else:
            codes, ids = np.full(len(recs), -1), pd.Index([], dtype="str")
        project_ids = ids.tolist()
        # Per record, the row of its project in the projects table (−1: none or unknown).
        row = np.append(self.projects.get_indexer(ids), -1)[codes]
        unit = self.unit_code[row]
        if BUSINESS_UNIT in recs:
            named = self.unit_index.get_indexer(recs[BUSINESS_UNIT].astype("str"))
            unit = np.where(codes < 0, named, unit)
        # Each level's name is looked up once: an enum's .value is slow in a loop over 10,000 projects.
        if Level.BUSINESS_UNIT in levels:
            level = Level.BUSINESS_UNIT.value
            scoped += [ScopeFigures(level, name, name, *figures) for name, figures in zip(
                self.units, _grouped(unit, len(self.units), recs, kind), strict=True)]
        if Level.PROGRAM in levels:
            program = self.program_code[row]
            level = Level.PROGRAM.value
            scoped += [ScopeFigures(level, name, unit_of_program, *figures)
                       for name, unit_of_program, figures in zip(
                           self.programs, self._program_units(program, unit),
                           _grouped(program, len(self.programs), recs, kind), strict=True)
                       if figures[3]]  # programs without records are not reported
        if Level.PROJECT in levels:
            level = Level.PROJECT.value
            scoped += [ScopeFigures(level, project, self.unit_of.get(project), *figures)
                       for project, figures in zip(
                           project_ids, _grouped(codes, len(project_ids), recs, kind), strict=True)]
        return scoped

    def _program_units(self, program: np.ndarray, unit: np.ndarray) -> list[str | None]:
        """Per program, the unit whose thresholds apply: the one unit of all its records that
        have a unit, if there is exactly one."""
        both = (program >= 0) & (unit >= 0)
        lowest = np.full(len(self.programs), len(self.units))
        highest = np.full(len(self.programs), -1)
        np.minimum.at(lowest, program[both], unit[both])
        np.maximum.at(highest, program[both], unit[both])
        return [self.units[low] if low == high else None
                for low, high in zip(lowest.tolist(), highest.tolist(), strict=True)]


def _previous(
    definition: KpiDefinition, measure: Measure, month: KpiInputs, scopes: _Scopes, history: History
) -> tuple[Mapping[tuple[str, str], float | None], str]:
    """The month before's values by (level, scope), and where they come from."""
    if history.has(month.period):
        return history.stated(month.period, definition.id), history.basis(month.period)
    if not definition.recomputable:
        return {}, MISSING
    return {(s.level, s.scope): s.value for s in scopes.summarise(measure(month), definition)}, RECOMPUTED


def _trend_point(definition: KpiDefinition, measure: Measure, inputs: KpiInputs,
                 history: History, organisation: str) -> dict[str, Any]:
    period = inputs.period
    if history.has(period):
        value = history.stated(period, definition.id).get((ORGANISATION, organisation))
        return {"period": str(period), "value": value, "basis": history.basis(period)}
    if not definition.recomputable:
        return {"period": str(period), "value": None, "basis": MISSING}
    value = aggregate(measure(inputs), definition.aggregate)[0]
    return {"period": str(period), "value": value, "basis": RECOMPUTED}
