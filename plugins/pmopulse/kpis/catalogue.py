"""The KPI catalogue (assessments/kpis.yaml) as frozen objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    NOT_RATED = "not_rated"    # an informative figure (an amount) the catalogue gives no target


class Aggregate(StrEnum):
    RATIO = "ratio"    # Σnumerator / Σdenominator
    SUM = "sum"        # Σnumerator
    MEDIAN = "median"  # median of the records' values


class Level(StrEnum):
    ORGANISATION = "organisation"
    BUSINESS_UNIT = "business_unit"
    PROGRAM = "program"
    PROJECT = "project"


UNITS = ("ratio", "percent", "days", "count", "hours", "currency")
DIRECTIONS = ("higher", "lower", "target")


GROUPS = ("schedule_quality",)
"""Sets of KPIs a report shows together, apart from their department's main table."""


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
        if self.min is not None:
            return f"≥ {show(self.min)}"
        return f"≤ {show(self.max)}" if self.max is not None else "*"


@dataclass(frozen=True)
class Thresholds:
    """A value inside `green` is green, else inside `amber` is amber, else red."""

    green: Band
    amber: Band

    @classmethod
    def parse(cls, raw: Any, where: str) -> Thresholds:
        try:
            return cls(green=Band(**raw["green"]), amber=Band(**(raw.get("amber") or {})))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where}: thresholds need green: {{min/max}} and amber: {{min/max}} "
                              f"({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class ThresholdOverrides:
    """Thresholds an organisation sets instead of the catalogue's, and per business unit."""

    organisation: Mapping[str, Thresholds] = field(default_factory=dict)
    business_units: Mapping[str, Mapping[str, Thresholds]] = field(default_factory=dict)

    def for_scope(self, kpi: str, business_unit: str | None) -> Thresholds | None:
        unit = self.business_units.get(business_unit or "", {})
        return unit.get(kpi) or self.organisation.get(kpi)

    @classmethod
    def parse(cls, organisation: Any, units: Mapping[str, Any], where: str) -> ThresholdOverrides:
        def parse_map(raw: Any, at: str) -> dict[str, Thresholds]:
            if not isinstance(raw or {}, Mapping):
                raise ConfigError(f"{at} must map KPI ids to thresholds")
            return {str(k): Thresholds.parse(v, f"{at}.{k}") for k, v in (raw or {}).items()}

        return cls(
            organisation=parse_map(organisation, f"{where}kpi_thresholds"),
            business_units={unit: parse_map(raw, f"{where}organisation.business_units[{unit}].kpi_thresholds")
                            for unit, raw in units.items() if raw},
        )

    def check(self, catalogue: Mapping[str, KpiDefinition]) -> None:
        """Refuse overrides for KPIs the catalogue does not have (a typo would silently do nothing)."""
        named = set(self.organisation) | {k for unit in self.business_units.values() for k in unit}
        if unknown := sorted(named - set(catalogue)):
            raise ConfigError(f"kpi_thresholds name unknown KPI(s) {unknown}; "
                              f"the catalogue has {sorted(catalogue)}")


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
    thresholds: Thresholds | None
    min_records: int
    tables: tuple[str, ...]
    aggregate: Aggregate = Aggregate.RATIO
    levels: tuple[Level, ...] = tuple(Level)
    rationale: dict[str, str] | None = None
    group: str | None = None   # one of GROUPS: shown together, e.g. the DCMA schedule checks
    # Whether a past month nothing was reported for may be recomputed from this period's
    # tables: only when the KPI reads dated events or period-stamped rows (see engine.py).
    recomputable: bool = False
    recomputable_why: dict[str, str] = field(default_factory=dict)

    def rate(self, value: float | None, records: int, thresholds: Thresholds | None = None) -> Rag:
        """The colour of a value; `thresholds` overrides the catalogue's (per organisation or unit)."""
        if value is None:
            return Rag.NO_DATA
        bands = thresholds or self.thresholds
        if bands is None:
            return Rag.NOT_RATED
        if records < self.min_records:
            return Rag.TOO_FEW
        if bands.green.contains(value):
            return Rag.GREEN
        return Rag.AMBER if bands.amber.contains(value) else Rag.RED

    def as_dict(self) -> dict[str, Any]:
        bands = self.thresholds
        return {
            "id": self.id, "name": self.name, "department": self.department.value,
            "unit": self.unit, "direction": self.direction, "formula": self.formula,
            "numerator": self.numerator, "denominator": self.denominator,
            "aggregate": self.aggregate.value, "levels": [lv.value for lv in self.levels],
            "green": bands.green.describe(self.unit) if bands else None,
            "amber": bands.amber.describe(self.unit) if bands else None,
            "min_records": self.min_records, "tables": list(self.tables),
            "rationale": self.rationale, "group": self.group,
            "recomputable": self.recomputable, "recomputable_why": self.recomputable_why,
        }


def _recomputable(flag: Any) -> bool:
    if not isinstance(flag, bool):
        raise ValueError(f"recomputable must be true or false, not {flag!r}")
    return flag


def load_catalogue(path: Path) -> dict[str, KpiDefinition]:
    raw = load_yaml(path, "KPI catalogue")
    catalogue: dict[str, KpiDefinition] = {}
    for i, item in enumerate(raw.get("kpis") or []):
        where = f"{path}: kpis[{i}] ({item.get('id', '?') if isinstance(item, dict) else '?'})"
        try:
            kpi = KpiDefinition(
                id=str(item["id"]),
                name=dict(item["name"]),
                department=Department(item["department"]),
                unit=str(item["unit"]),
                direction=str(item["direction"]),
                formula=dict(item["formula"]),
                numerator=dict(item.get("numerator") or {}),
                denominator=dict(item.get("denominator") or {}),
                thresholds=Thresholds.parse(item["thresholds"], where) if item.get("thresholds") else None,
                min_records=int(item.get("min_records", 1)),
                tables=tuple(item["tables"]),
                aggregate=Aggregate(item.get("aggregate", "ratio")),
                levels=tuple(Level(lv) for lv in item.get("levels", [lv.value for lv in Level])),
                rationale=dict(item["rationale"]) if item.get("rationale") else None,
                group=str(item["group"]) if item.get("group") else None,
                recomputable=_recomputable(item["recomputable"]),
                recomputable_why=dict(item["recomputable_why"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            hint = (" (every KPI states recomputable: true|false and recomputable_why: {en: ..., "
                    "zh: ...}: whether a month nothing was reported for may be recomputed from "
                    "dated events or period-stamped rows, and why)"
                    if isinstance(exc, KeyError) and str(exc.args[0]).startswith("recomputable") else "")
            raise ConfigError(f"{where} is malformed: {type(exc).__name__} {exc}{hint}") from None
        if kpi.id in catalogue:
            raise ConfigError(f"{where}: duplicate KPI id {kpi.id!r}")
        if kpi.unit not in UNITS or kpi.direction not in DIRECTIONS:
            raise ConfigError(f"{where}: unit must be one of {UNITS} and direction one of {DIRECTIONS}")
        if kpi.group is not None and kpi.group not in GROUPS:
            raise ConfigError(f"{where}: group {kpi.group!r} is not one of {GROUPS}")
        if Level.ORGANISATION not in kpi.levels:
            raise ConfigError(f"{where}: every KPI is computed for the organisation; add it to levels")
        catalogue[kpi.id] = kpi
    if not catalogue:
        raise ConfigError(f"KPI catalogue {path} defines no KPIs")
    return catalogue
