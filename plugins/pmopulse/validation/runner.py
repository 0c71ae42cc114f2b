"""Run the contract rules with Great Expectations; summarise, quarantine, decide if blocking."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pmopulse.contracts import ConfigList, Contract, Severity
from pmopulse.contracts.coerce import SOURCE_ORIGIN, SOURCE_ROW
from pmopulse.frames import isin
from pmopulse.validation.cumulative import cumulative_rules
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.validation.suite import Rule, rules_for

QUARANTINE_REASON = "quarantine_reason"
DOCS_SITE = "pmopulse"
MAX_EXAMPLES = 5
MAX_ROWS_NAMED = 20
"""Rows a blocking reason lists by number before it says how many more there are."""


@dataclass
class TableResult:
    clean: pd.DataFrame
    quarantine: pd.DataFrame
    rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ValidationResult:
    tables: dict[str, TableResult]
    missing_tables: list[str]
    blocking_reasons: list[str]

    @property
    def blocking(self) -> bool:
        return bool(self.blocking_reasons)

    def summary(self) -> dict[str, Any]:
        """JSON-safe summary: what was checked, what failed, what was set aside and why."""
        failed = [r for t in self.tables.values() for r in t.rules if not r["success"]]
        return {
            "blocking": self.blocking,
            "blocking_reasons": self.blocking_reasons,
            "missing_tables": self.missing_tables,
            "totals": {
                "tables": len(self.tables),
                "rules": sum(len(t.rules) for t in self.tables.values()),
                "failed_errors": sum(r["severity"] == "error" for r in failed),
                "failed_warnings": sum(r["severity"] == "warning" for r in failed),
                "rows": sum(len(t.clean) + len(t.quarantine) for t in self.tables.values()),
                "quarantined": sum(len(t.quarantine) for t in self.tables.values()),
            },
            "tables": {
                name: {
                    "rows": len(t.clean) + len(t.quarantine),
                    "quarantined": len(t.quarantine),
                    "rules": t.rules,
                }
                for name, t in self.tables.items()
            },
        }


def validate_tables(
    tables: dict[str, pd.DataFrame],
    contracts: dict[str, Contract],
    *,
    quarantine_limit: QuarantineLimit,
    docs_dir: Path | None = None,
    run_name: str = "pmopulse",
    run_time: dt.datetime | None = None,
    configured: Mapping[ConfigList, Sequence[str]] | None = None,
) -> ValidationResult:
    """Validate typed tables against their contracts (contracts ordered parents first).

    `quarantine_limit` says how many quarantined rows hold the reports back.
    `configured` holds the config's lists (business units) that some columns must draw
    from; a value not listed there blocks the report (the rows are quarantined as well).

    With `docs_dir`, Great Expectations Data Docs (a static HTML site: every suite and
    every table's result) are written there. `run_time` names the results in the docs;
    pass the period end so that re-runs file under the same date.
    """
    # GX logs its plugin registration at INFO, hundreds of lines per run; one of its
    # modules pins its own logger to INFO.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # heavy (~2-4 s): import only when validating
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        shutil.rmtree(docs_dir, ignore_errors=True)
        # GX's TypedDict for this lists only some of SiteBuilder's keys ("may be incomplete").
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={  # type: ignore[typeddict-unknown-key]
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # Each table's validation page lists every rule with its outcome; the suite
            # pages would list the same rules again without one (a fifth of the docs' time).
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        })
    asset = context.data_sources.add_pandas("pmopulse").add_dataframe_asset(name="tables")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
    run_id = RunIdentifier(run_name=run_name, run_time=run_time)

    results: dict[str, TableResult] = {}
    parent_keys: dict[str, pd.Series] = {}
    missing: list[str] = []
    blocking: list[str] = []
    for name, contract in contracts.items():
        if name not in tables:
            missing.append(name)
            if contract.required_table:
                blocking.append(f"required table {name!r} was not provided by any source")
            continue
        frame = tables[name].reset_index(drop=True)
        rules = list(rules_for(contract, parent_keys, configured))
        # The whole suite at once: adding expectations one by one re-serialises it each time.
        suite = context.suites.add(gx.ExpectationSuite(name=f"{name}_contract", expectations=[
            getattr(gx.expectations, rule.expectation)(**rule.kwargs, meta={"rule": rule.id})
            for rule in rules]))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
        # COMPLETE lists the failing rows; the pandas query text that also lists them is
        # not used and cost a second per run at 10k projects.
        outcome = definition.run(batch_parameters={"dataframe": _with_flags(frame, rules)},
                                 run_id=run_id,
                                 result_format={"result_format": "COMPLETE",
                                                "return_unexpected_index_query": False})
        by_rule = {r.expectation_config.meta["rule"]: r for r in outcome.results
                   if r.expectation_config is not None}
        result = _table_result(frame, rules, by_rule)
        # Cross-row rules read the rows that stay: a quarantined month is no month at all.
        result.rules += cumulative_rules(contract, result.clean)
        results[name] = result
        for rule in rules:
            if rule.blocks:
                blocking += _refused_values(frame, rule, by_rule[rule.id])
        if len(contract.primary_key) == 1:  # children reference single-column keys only
            (key,) = contract.primary_key
            parent_keys[f"{name}.{key}"] = result.clean[key].dropna().astype("str")
        if reason := quarantine_limit.exceeded(name, len(result.quarantine), len(frame)):
            blocking.append(reason)
    if docs_dir is not None:
        context.build_data_docs(site_names=[DOCS_SITE])
    return ValidationResult(results, missing, blocking)


def _refused_values(frame: pd.DataFrame, rule: Rule, outcome: Any) -> list[str]:
    """A blocking reason for each value a blocking rule refused, with the rows and file it
    is on, e.g. a business unit the config does not list."""
    found: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
    has_origin = SOURCE_ORIGIN in frame.columns
    for index in (int(i) for i in outcome.result.get("unexpected_index_list") or []):
        origin = frame.at[index, SOURCE_ORIGIN] if has_origin else None
        found[(_json_value(frame.at[index, rule.column]), origin)].append(
            _json_value(frame.at[index, SOURCE_ROW]))
    reasons = []
    for (value, origin), rows in found.items():
        named = ", ".join(str(row) for row in rows[:MAX_ROWS_NAMED])
        if len(rows) > MAX_ROWS_NAMED:
            named += f" and {len(rows) - MAX_ROWS_NAMED} more"
        where = f" of {origin}" if origin else ""
        reasons.append(f"{rule.table}.{rule.column}: {value!r} in row(s) {named}{where} is not "
                       f"{rule.expected}; list it there or correct the rows")
    return reasons


def _with_flags(frame: pd.DataFrame, rules: list[Rule]) -> pd.DataFrame:
    """The table as GX checks it: with each foreign key's membership flag beside it."""
    flags = {m.flag: frame[m.column].isna() | isin(frame[m.column], m.keys)
             for m in (rule.membership for rule in rules) if m is not None}
    return frame.assign(**flags) if flags else frame


def _table_result(frame: pd.DataFrame, rules: list[Rule], by_rule: dict[str, Any]) -> TableResult:
    reasons: dict[int, list[str]] = defaultdict(list)
    summaries = []
    has_origin = SOURCE_ORIGIN in frame.columns
    for rule in rules:
        outcome = by_rule[rule.id]
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"Great Expectations could not evaluate rule {rule.id}: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        bad_rows = [int(i) for i in outcome.result.get("unexpected_index_list") or []]
        if rule.severity is Severity.ERROR:
            for index in bad_rows:
                reasons[index].append(f"{rule.column}: expected {rule.expected}")
        summaries.append({
            "rule": rule.id,
            "column": rule.column,
            "severity": rule.severity.value,
            "expected": rule.expected,
            "success": bool(outcome.success),
            "unexpected": len(bad_rows),
            "examples": [
                {"row": _json_value(frame.at[i, SOURCE_ROW]),
                 "origin": frame.at[i, SOURCE_ORIGIN] if has_origin else None,
                 "value": _json_value(frame.at[i, rule.column])
                 if rule.column in frame.columns else None}
                for i in bad_rows[:MAX_EXAMPLES]
            ],
        })
    quarantined = sorted(reasons)
    quarantine = frame.loc[quarantined].copy()
    quarantine[QUARANTINE_REASON] = ["; ".join(reasons[i]) for i in quarantined]
    # Most tables have nothing to set aside; copying them anyway cost a second at 10k projects.
    clean = frame.drop(index=quarantined).reset_index(drop=True) if quarantined else frame
    return TableResult(clean=clean, quarantine=quarantine, rules=summaries)


def _json_value(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
