"""The KPI catalogue (assessments/kpis.yaml) as frozen objects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.yamlfile import load_yaml


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_DATA = "no_data"        # nothing to compute from: never shown as 0 or green
    TOO_FEW = "too_few"        # a value exists but rests on fewer records than min_records


class Department(StrEnum):
    PMO = "PMO"
    QA = "QA"
    PROCESS = "Process"


@dataclass(frozen=True)
class Band:
    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self, unit: str) -> str:
        def show(v: float) -> str:
            return f"{v * 100:g}%" if unit == "percent" else f"{v:g}"

        if self.min is not None and self.max is not None:
            return f"{show(self.min)}–{show(self.max)}"
        return f"≥ {show(self.min)}" if self.min is not None else f"≤ {show(self.max)}"  # type: ignore[arg-type]


@dataclass(frozen=True)
class KpiDefinition:
    id: str
    name: dict[str, str]
    department: Department
    unit: str
    direction: str
    formula: dict[str, str]
    numerator: dict[str, str]
    denominator: dict[str, str]
    green: Band
    amber: Band
    min_records: int
    tables: tuple[str, ...]

    def rate(self, value: float | None, records: int) -> Rag:
        if value is None:
            return Rag.NO_DATA
        if records < self.min_records:
            return Rag.TOO_FEW
        if self.green.contains(value):
            return Rag.GREEN
        return Rag.AMBER if self.amber.contains(value) else Rag.RED

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "department": self.department.value,
            "unit": self.unit, "direction": self.direction, "formula": self.formula,
            "numerator": self.numerator, "denominator": self.denominator,
            "green": self.green.describe(self.unit), "amber": self.amber.describe(self.unit),
            "min_records": self.min_records, "tables": list(self.tables),
        }


def load_catalogue(path: Path) -> dict[str, KpiDefinition]:
    raw = load_yaml(path, "KPI catalogue")
    catalogue: dict[str, KpiDefinition] = {}
    for i, item in enumerate(raw.get("kpis") or []):
        where = f"{path}: kpis[{i}]"
        try:
            kpi = KpiDefinition(
                id=str(item["id"]),
                name=dict(item["name"]),
                department=Department(item["department"]),
                unit=str(item["unit"]),
                direction=str(item["direction"]),
                formula=dict(item["formula"]),
                numerator=dict(item["numerator"]),
                denominator=dict(item["denominator"]),
                green=Band(**item["thresholds"]["green"]),
                amber=Band(**item["thresholds"]["amber"]),
                min_records=int(item.get("min_records", 1)),
                tables=tuple(item["tables"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} is malformed: {type(exc).__name__} {exc}") from None
        if kpi.id in catalogue:
            raise ConfigError(f"{where}: duplicate KPI id {kpi.id!r}")
        catalogue[kpi.id] = kpi
    if not catalogue:
        raise ConfigError(f"KPI catalogue {path} defines no KPIs")
    return catalogue
