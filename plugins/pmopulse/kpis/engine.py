"""Compute the catalogue per project, business unit and organisation, with history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from pmopulse.kpis.catalogue import KpiDefinition, Rag
from pmopulse.kpis.measures import MEASURES, PARTS, Tables
from pmopulse.period import Period

ORGANISATION = "organisation"
BUSINESS_UNIT = "business_unit"
PROJECT = "project"
TREND_MONTHS = 12


@dataclass(frozen=True)
class KpiResult:
    """A KPI value for one scope, with everything it was computed from."""

    kpi: str
    level: str          # organisation | business_unit | project
    scope: str          # organisation name, business-unit id or project id
    value: float | None
    numerator: float
    denominator: float
    records: int
    rag: Rag
    previous: float | None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rag": self.rag.value}


def ratio(numerator: float, denominator: float, records: int) -> float | None:
    """The value of summed parts; None (no data) when nothing or a zero denominator backs it."""
    if records == 0 or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def compute_kpis(
    tables: Tables,
    catalogue: Mapping[str, KpiDefinition],
    period: Period,
    *,
    organisation: str,
    business_units: Iterable[str],
) -> dict[str, Any]:
    """All KPI results for `period` plus a 12-month organisation trend, as a JSON-safe dict."""
    projects = tables["projects"][["id", "business_unit"]].rename(columns={"id": PROJECT})
    unit_ids = list(dict.fromkeys([*business_units, *sorted(projects["business_unit"].unique())]))
    results: list[KpiResult] = []
    trend: dict[str, list[dict[str, Any]]] = {}
    for kpi_id, definition in catalogue.items():
        measure = MEASURES[kpi_id]
        now = _with_units(measure(tables, period), projects)
        before = _with_units(measure(tables, period.shift(-1)), projects)
        results += _scope_results(definition, now, before, ORGANISATION, organisation, None)
        for unit in unit_ids:
            results += _scope_results(definition, now, before, BUSINESS_UNIT, unit, unit)
        earlier = before.reindex(now.index)[PARTS].fillna(0)
        for project_id, current, prior in zip(
            now.index, now[PARTS].to_numpy(), earlier.to_numpy(), strict=True
        ):
            parts = dict(zip(PARTS, current, strict=True))
            results.append(_result(definition, PROJECT, str(project_id), parts,
                                   dict(zip(PARTS, prior, strict=True))))
        trend[kpi_id] = [
            {"period": str(p), "value": ratio(**_total(_with_units(measure(tables, p), projects)))}
            for p in period.trailing(TREND_MONTHS)
        ]
    return {
        "period": str(period),
        "as_of": period.end.isoformat(),
        "catalogue": {k: d.as_dict() for k, d in catalogue.items()},
        "results": [r.as_dict() for r in results],
        "trend": trend,
    }


def _with_units(parts: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    parts = parts.reindex(columns=PARTS).fillna(0)
    units = projects.set_index(PROJECT)["business_unit"]
    return parts.assign(business_unit=units.reindex(parts.index).to_numpy())


def _total(parts: pd.DataFrame) -> dict[str, Any]:
    return {
        "numerator": float(parts["numerator"].sum()),
        "denominator": float(parts["denominator"].sum()),
        "records": int(parts["records"].sum()),
    }


def _scope_results(
    definition: KpiDefinition, now: pd.DataFrame, before: pd.DataFrame,
    level: str, scope: str, unit: str | None,
) -> list[KpiResult]:
    if unit is not None:
        now = now[now["business_unit"] == unit]
        before = before[before["business_unit"] == unit]
    return [_result(definition, level, scope, _total(now), _total(before))]


def _result(
    definition: KpiDefinition, level: str, scope: str,
    parts: Mapping[str, Any], previous: Mapping[str, Any],
) -> KpiResult:
    records = int(parts["records"])
    value = ratio(float(parts["numerator"]), float(parts["denominator"]), records)
    return KpiResult(
        kpi=definition.id,
        level=level,
        scope=scope,
        value=value,
        numerator=float(parts["numerator"]),
        denominator=float(parts["denominator"]),
        records=records,
        rag=definition.rate(value, records),
        previous=ratio(**previous),
    )
