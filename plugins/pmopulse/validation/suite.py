"""Contracts → Great Expectations expectations, each tagged with its rule id and severity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from pmopulse.contracts import Column, ColumnType, ConfigList, Contract, Severity

if TYPE_CHECKING:
    import pandas as pd


class Membership(NamedTuple):
    """A foreign key, checked in pandas: `flag` is True where `column` is empty or one of `keys`.

    Great Expectations copies an expectation's value set many times over per run (pydantic
    models), which made a 10,000-id set cost seconds; it checks the flag instead.
    """

    column: str
    flag: str
    keys: pd.Series  # the parent's clean ids, as strings


@dataclass(frozen=True)
class Rule:
    """One checkable statement about a table, and how it maps onto a GX expectation."""

    id: str
    table: str
    column: str
    severity: Severity
    expected: str               # what a good value looks like, in words for the report
    expectation: str            # GX expectation class name
    kwargs: Mapping[str, Any]
    membership: Membership | None = None  # the flag column this rule's expectation reads
    blocks: bool = False        # a failure blocks the report, however few rows fail


def rules_for(contract: Contract, parent_keys: Mapping[str, pd.Series],
              configured: Mapping[ConfigList, Sequence[str]] | None = None) -> Iterator[Rule]:
    """Every rule of a contract. `parent_keys` holds the clean ids of referenced tables;
    `configured` the config's lists (business units) that columns must draw from, when the
    data is checked for a deployment (without it, those columns are not checked)."""
    table = contract.table
    for col in contract.columns:
        yield from _column_rules(table, col)
        if col.allowed_from is not None and configured is not None:
            codes = list(configured[col.allowed_from])
            yield Rule(f"{table}.{col.name}.configured", table, col.name, Severity.ERROR,
                       f"one of {col.allowed_from.value} in the config "
                       f"[{', '.join(codes) or 'none listed'}]",
                       "ExpectColumnValuesToBeInSet", {"column": col.name, "value_set": codes},
                       blocks=True)
    if len(contract.primary_key) == 1:
        (key,) = contract.primary_key
        yield Rule(f"{table}.{key}.unique", table, key, Severity.ERROR,
                   "unique (primary key)", "ExpectColumnValuesToBeUnique", {"column": key})
    elif contract.primary_key:
        keys = list(contract.primary_key)
        yield Rule(f"{table}.{'+'.join(keys)}.unique", table, "+".join(keys), Severity.ERROR,
                   "unique combination (primary key)", "ExpectCompoundColumnsToBeUnique",
                   {"column_list": keys})
    for fk in contract.foreign_keys:
        ref = f"{fk.table}.{fk.target}"
        if ref in parent_keys:
            flag = f"{fk.column} in {ref}"
            yield Rule(f"{table}.{fk.column}.references", table, fk.column, fk.severity,
                       f"an existing {ref}", "ExpectColumnValuesToBeInSet",
                       {"column": flag, "value_set": [True]},
                       Membership(fk.column, flag, parent_keys[ref]))
    for check in contract.checks:
        op = "<=" if check.or_equal else "<"
        yield Rule(f"{table}.{check.smaller}.{op}.{check.larger}", table, check.smaller,
                   check.severity, f"{check.smaller} {op} {check.larger}",
                   "ExpectColumnPairValuesAToBeGreaterThanB",
                   {"column_A": check.larger, "column_B": check.smaller,
                    "or_equal": check.or_equal, "ignore_row_if": "either_value_is_missing"})


def _column_rules(table: str, col: Column) -> Iterator[Rule]:
    name = col.name
    if col.required:
        yield Rule(f"{table}.{name}.required", table, name, col.severity, "a value",
                   "ExpectColumnValuesToNotBeNull", {"column": name})
    if col.allowed is not None:
        yield Rule(f"{table}.{name}.allowed", table, name, col.severity,
                   "one of " + ", ".join(col.allowed), "ExpectColumnValuesToBeInSet",
                   {"column": name, "value_set": list(col.allowed)})
    if col.type in (ColumnType.NUMBER, ColumnType.INTEGER) and (
        col.min is not None or col.max is not None
    ):
        bounds = {k: v for k, v in (("min_value", col.min), ("max_value", col.max)) if v is not None}
        words = " and ".join(
            f"{'≥' if k == 'min_value' else '≤'} {v:g}" for k, v in bounds.items()
        )
        yield Rule(f"{table}.{name}.range", table, name, col.severity, words,
                   "ExpectColumnValuesToBeBetween", {"column": name, **bounds})
