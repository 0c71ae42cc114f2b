"""Cross-row check that running totals never go down (contract key `cumulative`).

Great Expectations checks rows one at a time; whether a project's earned value fell from one
month to the next needs the rows side by side, so this is checked in pandas and summarised
in the same shape as the contract rules (plus `findings`, one sentence per fall).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pmopulse.contracts.coerce import SOURCE_ORIGIN, SOURCE_ROW

if TYPE_CHECKING:
    import pandas as pd

    from pmopulse.contracts import Contract

MAX_FINDINGS = 20
"""Falls a rule names one by one before it says how many more there are."""


def cumulative_rules(contract: Contract, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One rule summary per cumulative column of the contract: which rows fall below the
    same project's previous month, and in words, which project, months and figures."""
    spec = contract.cumulative
    if spec is None:
        return []
    keys = [*spec.per, spec.over]
    summaries = []
    for column in spec.columns:
        ordered = frame.dropna(subset=[*keys, column]).sort_values(keys, kind="stable")
        groups = ordered.groupby(list(spec.per), sort=False)
        previous, previous_over = groups[column].shift(), groups[spec.over].shift()
        falls = ordered.index[(ordered[column] < previous).to_numpy()]
        findings = [
            f"{contract.table}: {' / '.join(str(_cell(ordered, i, k)) for k in spec.per)}: {column} "
            f"falls from {_cell(previous.to_frame(), i, column):,.2f} in "
            f"{_cell(previous_over.to_frame(), i, spec.over)} to {_cell(ordered, i, column):,.2f} in "
            f"{_cell(ordered, i, spec.over)}{_where(frame, i)}; the figures must be cumulative "
            "(project start to the end of the month), not monthly increments"
            for i in falls[:MAX_FINDINGS]]
        if len(falls) > MAX_FINDINGS:
            findings.append(f"{contract.table}.{column}: and {len(falls) - MAX_FINDINGS} more falls")
        summaries.append({
            "rule": f"{contract.table}.{column}.cumulative",
            "column": column,
            "severity": spec.severity.value,
            "expected": f"cumulative: never below the same {'/'.join(spec.per)}'s previous {spec.over}",
            "success": not len(falls),
            "unexpected": len(falls),
            "examples": [{"row": _row(frame, i), "origin": _origin(frame, i),
                          "value": _cell(frame, i, column)} for i in falls[:5]],
            "findings": findings,
        })
    return summaries


def _cell(frame: pd.DataFrame, index: Any, column: str) -> Any:
    """A cell as a plain Python value (JSON-safe)."""
    value: Any = frame.at[index, column]
    return value.item() if hasattr(value, "item") else value


def _row(frame: pd.DataFrame, index: Any) -> Any:
    return _cell(frame, index, SOURCE_ROW) if SOURCE_ROW in frame.columns else None


def _origin(frame: pd.DataFrame, index: Any) -> Any:
    return frame.at[index, SOURCE_ORIGIN] if SOURCE_ORIGIN in frame.columns else None


def _where(frame: pd.DataFrame, index: Any) -> str:
    row, origin = _row(frame, index), _origin(frame, index)
    if row is None:
        return ""
    return f" (row {row}{f' of {origin}' if origin else ''})"
