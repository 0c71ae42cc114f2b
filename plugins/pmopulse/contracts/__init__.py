"""The canonical data model: one YAML contract per table, loaded into frozen objects.

A contract is the single source for loading (types), validation (the Great Expectations
suite), and the data dictionary in the report appendix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.yamlfile import load_yaml

CONTRACTS_DIR = Path(__file__).parent


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    MONTH = "month"
    BOOLEAN = "boolean"


class ConfigList(StrEnum):
    """A list of codes the deployment config defines, which a column's values must come from."""

    BUSINESS_UNITS = "organisation.business_units"


class Severity(StrEnum):
    ERROR = "error"      # row is quarantined; a table-level error blocks mailing
    WARNING = "warning"  # reported, row kept


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    severity: Severity = Severity.ERROR
    allowed: tuple[str, ...] | None = None
    allowed_from: ConfigList | None = None  # values must be listed there; a stranger blocks the report
    min: float | None = None
    max: float | None = None
    description: str = ""


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    target: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class PairCheck:
    """Row-level rule `smaller <= larger` (or `<` when or_equal is false)."""

    smaller: str
    larger: str
    or_equal: bool = True
    severity: Severity = Severity.ERROR
    description: str = ""


@dataclass(frozen=True)
class Cumulative:
    """Cross-row rule: each of `columns` is a running total, so per `per` (a project) it never
    goes down from one `over` (month) to the next; monthly increments break it."""

    per: tuple[str, ...]
    over: str
    columns: tuple[str, ...]
    severity: Severity = Severity.WARNING
    description: str = ""


@dataclass(frozen=True)
class Contract:
    table: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[PairCheck, ...] = ()
    required_table: bool = False
    freshness: tuple[str, ...] = ()   # date columns whose newest value shows how current a source is
    cumulative: Cumulative | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.table} has no column {name!r}")


def _load(path: Path) -> Contract:
    where = f"contract {path.name}"
    raw: dict[str, Any] = load_yaml(path, "contract")
    try:
        columns = tuple(
            Column(
                name=name,
                type=ColumnType(spec["type"]),
                required=bool(spec.get("required", False)),
                severity=Severity(spec.get("severity", "error")),
                allowed=tuple(spec["allowed"]) if "allowed" in spec else None,
                allowed_from=ConfigList(spec["allowed_from"]) if "allowed_from" in spec else None,
                min=spec.get("min"),
                max=spec.get("max"),
                description=str(spec.get("description", "")),
            )
            for name, spec in raw["columns"].items()
        )
        contract = Contract(
            table=str(raw["table"]),
            description=str(raw.get("description", "")),
            columns=columns,
            primary_key=tuple(raw.get("primary_key") or ()),
            foreign_keys=tuple(
                ForeignKey(
                    column=fk["column"],
                    table=fk["references"].split(".")[0],
                    target=fk["references"].split(".")[1],
                    severity=Severity(fk.get("severity", "error")),
                )
                for fk in raw.get("foreign_keys") or ()
            ),
            checks=tuple(
                PairCheck(
                    smaller=c["smaller"],
                    larger=c["larger"],
                    or_equal=bool(c.get("or_equal", True)),
                    severity=Severity(c.get("severity", "error")),
                    description=str(c.get("description", "")),
                )
                for c in raw.get("checks") or ()
            ),
            required_table=bool(raw.get("required_table", False)),
            freshness=tuple(raw.get("freshness") or ()),
            cumulative=Cumulative(
                per=tuple(raw["cumulative"]["per"]),
                over=str(raw["cumulative"]["over"]),
                columns=tuple(raw["cumulative"]["columns"]),
                severity=Severity(raw["cumulative"].get("severity", "warning")),
                description=str(raw["cumulative"].get("description", "")),
            ) if "cumulative" in raw else None,
        )
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ConfigError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None
    if contract.table != path.stem:
        raise ConfigError(f"{where}: 'table' is {contract.table!r}, expected {path.stem!r}")
    names = set(contract.column_names)
    referenced = {*contract.primary_key, *(fk.column for fk in contract.foreign_keys)}
    referenced |= {name for c in contract.checks for name in (c.smaller, c.larger)}
    if contract.cumulative is not None:
        referenced |= {*contract.cumulative.per, contract.cumulative.over, *contract.cumulative.columns}
    if unknown := referenced - names:
        raise ConfigError(f"{where}: refers to unknown columns {sorted(unknown)}")
    dated = {c.name for c in contract.columns if c.type in (ColumnType.DATE, ColumnType.MONTH)}
    if undated := set(contract.freshness) - dated:
        raise ConfigError(f"{where}: freshness needs date or month columns, not {sorted(undated)}")
    if contract.cumulative is not None:
        if contract.cumulative.over not in dated:
            raise ConfigError(f"{where}: cumulative.over needs a date or month column, "
                              f"not {contract.cumulative.over!r}")
        numeric = {c.name for c in contract.columns if c.type in (ColumnType.NUMBER, ColumnType.INTEGER)}
        if not_numbers := set(contract.cumulative.columns) - numeric:
            raise ConfigError(f"{where}: cumulative.columns must be numbers, not {sorted(not_numbers)}")
    return contract


@cache
def load_contracts() -> dict[str, Contract]:
    """All contracts by table name, parents before children (foreign keys resolve in order)."""
    contracts = {p.stem: _load(p) for p in sorted(CONTRACTS_DIR.glob("*.yaml"))}
    ordered: dict[str, Contract] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in trail:
            raise ConfigError(f"contracts: foreign keys form a cycle: {' -> '.join(trail)}")
        if name not in contracts:
            raise ConfigError(f"contracts: {trail[-1]} references unknown table {name!r}")
        for fk in contracts[name].foreign_keys:
            if fk.table != name:
                visit(fk.table, (*trail, name))
        ordered[name] = contracts[name]

    for name in contracts:
        visit(name, ())
    return ordered


def data_dictionary(contracts: dict[str, Contract]) -> list[dict[str, Any]]:
    """The contracts as the report appendix prints them (JSON-safe)."""
    entries = []
    for contract in contracts.values():
        references = {fk.column: f"{fk.table}.{fk.target}" for fk in contract.foreign_keys}
        columns = []
        for col in contract.columns:
            rule = []
            if col.allowed is not None:
                rule.append(" | ".join(col.allowed))
            if col.allowed_from is not None:
                rule.append(f"one of {col.allowed_from.value} (config)")
            if col.min is not None or col.max is not None:
                rule.append(f"{'' if col.min is None else f'{col.min:g}'} … "
                            f"{'' if col.max is None else f'{col.max:g}'}".strip())
            if col.name in references:
                rule.append(f"→ {references[col.name]}")
            columns.append({
                "name": col.name, "type": col.type.value, "required": col.required,
                "severity": col.severity.value, "rule": "; ".join(rule),
                "description": col.description,
            })
        entries.append({
            "table": contract.table, "description": contract.description,
            "primary_key": list(contract.primary_key), "columns": columns,
            "checks": [c.description or f"{c.smaller} <= {c.larger}" for c in contract.checks]
            + ([contract.cumulative.description] if contract.cumulative else []),
        })
    return entries
