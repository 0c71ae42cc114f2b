"""Build the report context: one JSON document per report that templates only format."""

from __future__ import annotations

from typing import Any

import pandas as pd

HEADLINE_KPIS = ("spi", "cpi", "milestone_on_time")
RAG_ORDER = {"red": 0, "amber": 1, "green": 2, "too_few": 3, "no_data": 4}
WORST_PROJECTS = 10


def organisation_context(
    *,
    organisation: str,
    business_units: list[dict[str, str]],
    period: str,
    as_of: str,
    language: str,
    projects: pd.DataFrame,
    validation: dict[str, Any],
    kpis: dict[str, Any],
    maturity: dict[str, Any],
    recommendations: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    data_dictionary: list[dict[str, Any]],
) -> dict[str, Any]:
    """Everything the organisation (executive) report shows, traceable to its inputs."""
    catalogue = kpis["catalogue"]
    org_results = {r["kpi"]: r for r in kpis["results"] if r["level"] == "organisation"}
    unit_results: dict[str, dict[str, Any]] = {}
    for r in kpis["results"]:
        if r["level"] == "business_unit":
            unit_results.setdefault(r["scope"], {})[r["kpi"]] = r
    names = dict(zip(projects["id"], projects["name"], strict=True))
    managers = dict(zip(projects["id"], projects["manager"].fillna(""), strict=True))
    unit_names = {bu["id"]: bu["name"] for bu in business_units}
    at_risk = _projects_at_risk(kpis["results"], names, managers)
    return {
        "report": "organisation",
        "language": language,
        "organisation": organisation,
        "period": period,
        "as_of": as_of,
        "headline": {
            "maturity_level": maturity["headline_level"],
            "maturity_level_name": maturity["model"]["levels"].get(str(maturity["headline_level"])),
            "kpis": [_with_definition(org_results[k], catalogue) for k in HEADLINE_KPIS
                     if k in org_results],
            "data_quality": _data_quality_badge(validation),
            "top_actions": recommendations[:3],
            "projects_at_risk": at_risk[:3],
        },
        "kpis_by_department": {
            department: [_with_definition(org_results[k], catalogue) for k, d in catalogue.items()
                         if d["department"] == department and k in org_results]
            for department in sorted({d["department"] for d in catalogue.values()})
        },
        "business_units": [
            {"id": unit, "name": unit_names.get(unit, unit),
             "kpis": {k: unit_results.get(unit, {}).get(k) for k in catalogue}}
            for unit in unit_results
        ],
        "worst_projects": at_risk[:WORST_PROJECTS],
        "trend": kpis["trend"],
        "maturity": maturity,
        "recommendations": recommendations,
        "data_quality": {**validation, "tables": _table_quality(validation)},
        "catalogue": catalogue,
        "sources": sources,
        "data_dictionary": data_dictionary,
    }


def _table_quality(validation: dict[str, Any]) -> dict[str, Any]:
    """Per table: rows in, quarantined by reason, rules passed of checked, warnings."""
    tables = {}
    for name, table in validation["tables"].items():
        failed = [r for r in table["rules"] if not r["success"]]
        tables[name] = {
            "rows": table["rows"],
            "quarantined": table["quarantined"],
            "rules": len(table["rules"]),
            "rules_passed": len(table["rules"]) - len(failed),
            "quarantine_reasons": [
                {"column": r["column"], "expected": r["expected"], "rows": r["unexpected"]}
                for r in failed if r["severity"] == "error"],
            "warnings": [
                {"column": r["column"], "expected": r["expected"], "rows": r["unexpected"]}
                for r in failed if r["severity"] == "warning"],
        }
    return tables


def _with_definition(result: dict[str, Any], catalogue: dict[str, Any]) -> dict[str, Any]:
    return {**result, "definition": catalogue[result["kpi"]]}


def _data_quality_badge(validation: dict[str, Any]) -> dict[str, Any]:
    totals = validation["totals"]
    if validation["blocking"]:
        state = "blocked"
    elif totals["failed_errors"] or totals["failed_warnings"] or validation["missing_tables"]:
        state = "warn"
    else:
        state = "ok"
    return {"state": state, "rows": totals["rows"], "quarantined": totals["quarantined"],
            "failed_rules": totals["failed_errors"] + totals["failed_warnings"]}


def _projects_at_risk(
    results: list[dict[str, Any]], names: dict[str, str], managers: dict[str, str]
) -> list[dict[str, Any]]:
    """Projects whose health (the worse of their SPI and CPI colours) is red or amber."""
    by_project: dict[str, dict[str, Any]] = {}
    for r in results:
        if r["level"] == "project" and r["kpi"] in ("spi", "cpi"):
            by_project.setdefault(r["scope"], {})[r["kpi"]] = r
    rows = []
    for project, kpis in by_project.items():
        rated = [r for r in kpis.values() if r["rag"] in ("red", "amber")]
        if not rated:
            continue
        worst = min(rated, key=lambda r: (RAG_ORDER[r["rag"]], r["value"]))
        rows.append({
            "id": project,
            "name": names.get(project, project),
            "manager": managers.get(project, ""),
            "health": worst["rag"],
            "spi": kpis.get("spi", {}).get("value"),
            "cpi": kpis.get("cpi", {}).get("value"),
            "reasons": [{"kpi": r["kpi"], "value": r["value"], "rag": r["rag"]}
                        for r in sorted(rated, key=lambda r: r["kpi"])],
        })
    rows.sort(key=lambda row: (RAG_ORDER[row["health"]],
                               min(v for v in (row["spi"], row["cpi"]) if v is not None),
                               row["id"]))
    return rows
