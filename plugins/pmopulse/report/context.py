"""Build the report context: one JSON document per report that templates only format."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pmopulse.maturity.scoring import unit_view

HEADLINE_KPIS = ("spi", "cpi", "milestone_on_time", "risk_register_currency", "resource_utilisation",
                 "process_compliance", "nc_closed_on_time", "process_review_currency")
"""The executive summary's tiles: PMO delivery and control, then QA, then process."""
HEATMAP_KPIS = ("spi", "cpi", "milestone_on_time", "risk_register_currency")
HEATMAP_ROWS = 30
RAG_ORDER = {"red": 0, "amber": 1, "green": 2, "too_few": 3, "no_data": 4, "not_rated": 5}
WORST_PROJECTS = 10
DEPARTMENTS = ("PMO", "QA", "Process")
SCHEDULE_QUALITY = "schedule_quality"
"""The catalogue group of the DCMA schedule checks: one table of its own in the PMO section."""
SCHEDULE_ROWS = 30


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
    previous_maturity: dict[str, Any] | None = None,
    business_unit: str | None = None,
) -> dict[str, Any]:
    """Everything a governance report shows, traceable to its inputs.

    Without `business_unit` it is the organisation (executive) report; with one, the same
    report for that unit: its KPIs, projects, maturity view and roadmap.
    """
    catalogue = kpis["catalogue"]
    unit_names = {bu["id"]: bu["name"] for bu in business_units}
    level, scope = ("business_unit", business_unit) if business_unit else ("organisation", organisation)
    scoped = {r["kpi"]: r for r in kpis["results"] if r["level"] == level and r["scope"] == scope}
    unit_results: dict[str, dict[str, Any]] = {}
    for r in kpis["results"]:
        if r["level"] == "business_unit":
            unit_results.setdefault(r["scope"], {})[r["kpi"]] = r
    if business_unit:
        projects = projects[projects["business_unit"] == business_unit]
        maturity = unit_view(maturity, business_unit)
    in_scope = set(projects["id"])
    project_results = [r for r in kpis["results"] if r["level"] == "project" and r["scope"] in in_scope]
    names = dict(zip(projects["id"], projects["name"], strict=True))
    managers = dict(zip(projects["id"], projects["manager"].fillna(""), strict=True))
    at_risk = _projects_at_risk(project_results, names, managers)
    trend = kpis["trend"] if not business_unit else {}
    return {
        "report": "business_unit" if business_unit else "organisation",
        "language": language,
        "organisation": organisation,
        "scope": {"id": business_unit, "name": unit_names.get(business_unit, business_unit)}
        if business_unit else None,
        "period": period,
        "as_of": as_of,
        "headline": {
            "maturity": _maturity_headline(maturity, previous_maturity, business_unit),
            "kpis": [{**_with_definition(scoped[k], catalogue), "trend": trend.get(k, [])}
                     for k in HEADLINE_KPIS if k in scoped],
            "data_quality": _data_quality_badge(validation),
            "top_actions": recommendations[:3],
            "projects_at_risk": at_risk[:3],
        },
        "kpis_by_department": {
            department: [_with_definition(scoped[k], catalogue) for k, d in catalogue.items()
                         if d["department"] == department and k in scoped and not d.get("group")]
            for department in DEPARTMENTS
        },
        "schedule_quality": schedule_quality(catalogue, scoped, project_results, names,
                                             schedule_notes(sources, in_scope)),
        "business_units": [
            {"id": unit, "name": unit_names.get(unit, unit),
             "kpis": {k: unit_results.get(unit, {}).get(k) for k in catalogue}}
            for unit in unit_results
        ] if not business_unit else [],
        "heatmap": _heatmap(project_results, names),
        "worst_projects": at_risk[:WORST_PROJECTS],
        "trend": trend,
        "maturity": maturity,
        "recommendations": recommendations,
        "roadmap": _roadmap(recommendations),
        "data_quality": {**validation, "tables": _table_quality(validation)},
        "catalogue": catalogue,
        "sources": sources,
        "data_dictionary": data_dictionary,
    }


def _maturity_headline(maturity: dict[str, Any], previous: dict[str, Any] | None,
                       business_unit: str | None) -> dict[str, Any]:
    """The headline level, claimed beside it, and the level the previous report stated."""
    before = None
    if previous is not None:
        view = previous["business_units"].get(business_unit, {}) if business_unit else previous
        before = view.get("headline_level")
    level = maturity["headline_level"]
    return {"level": level, "claimed_level": maturity["headline_claimed_level"],
            "name": maturity["model"]["levels"].get(str(level)) if level is not None else None,
            "previous_level": before, "dimensions_assessed": maturity.get("dimensions_assessed", 0),
            "dimensions": len(maturity["dimensions"])}


def _heatmap(results: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """Projects × health KPIs as colours, worst first; the full set only fits a unit's report."""
    cells: dict[str, dict[str, Any]] = {}
    for r in results:
        if r["kpi"] in HEATMAP_KPIS:
            cells.setdefault(r["scope"], {})[r["kpi"]] = {"rag": r["rag"], "value": r["value"]}
    rows = [{"id": p, "name": names.get(p, p), "cells": {k: kpis.get(k) for k in HEATMAP_KPIS}}
            for p, kpis in cells.items()]

    def badness(row: dict[str, Any]) -> tuple[int, int, str]:
        colours = [c["rag"] for c in row["cells"].values() if c]
        return (-colours.count("red"), -colours.count("amber"), row["id"])

    rows.sort(key=badness)
    return {"kpis": list(HEATMAP_KPIS), "rows": rows[:HEATMAP_ROWS],
            "not_shown": max(0, len(rows) - HEATMAP_ROWS)}


def schedule_notes(sources: list[dict[str, Any]], projects: set[str]) -> list[dict[str, Any]]:
    """What the schedules sources say about each schedule of a project in scope: its status
    date and age, stale or never statused, the date its DCMA date checks used, and whether
    its durations are baseline or current ones."""
    return [note for source in sources if source.get("kind") == "schedules"
            for note in source.get("notes", []) if note["project"] in projects]


def schedule_quality(catalogue: dict[str, Any], scoped: dict[str, dict[str, Any]],
                     project_results: list[dict[str, Any]], names: dict[str, str],
                     schedules: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The DCMA checks per project with schedules (worst first) below the scope's own values,
    and the schedules they were counted on (see `schedule_notes`); None when no project in
    scope has a schedule."""
    checks = [k for k, d in catalogue.items() if d.get("group") == SCHEDULE_QUALITY]
    cells: dict[str, dict[str, Any]] = {}
    for r in project_results:
        if r["kpi"] in checks and r["value"] is not None:
            cells.setdefault(r["scope"], {})[r["kpi"]] = {"rag": r["rag"], "value": r["value"]}
    if not cells:
        return None
    failed = {p: sum(c["rag"] == "red" for c in found.values()) for p, found in cells.items()}
    rows = [{"id": p, "name": names.get(p, p), "cells": {k: cells[p].get(k) for k in checks}}
            for p in sorted(cells, key=lambda p: (-failed[p], p))]
    total = {"id": None, "name": None,
             "cells": {k: {"rag": scoped[k]["rag"], "value": scoped[k]["value"]}
                       if k in scoped and scoped[k]["value"] is not None else None for k in checks}}
    return {"kpis": checks, "total": total, "rows": rows[:SCHEDULE_ROWS],
            "not_shown": max(0, len(rows) - SCHEDULE_ROWS), "schedules": schedules or []}


def _roadmap(recommendations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions by horizon, and inside each horizon by owner department."""
    horizons: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for action in recommendations:
        horizons.setdefault(action["horizon"], {}).setdefault(action["department"], []).append(action)
    return [{"horizon": h, "departments": [{"department": d, "actions": horizons[h][d]}
                                           for d in DEPARTMENTS if d in horizons[h]]}
            for h in horizons]


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
                {"column": r["column"], "expected": r["expected"], "rows": r["unexpected"],
                 "findings": r.get("findings", [])}
                for r in failed if r["severity"] == "warning"],
        }
    return tables


def _with_definition(result: dict[str, Any], catalogue: dict[str, Any]) -> dict[str, Any]:
    return {**result, "definition": catalogue[result["kpi"]]}


def _data_quality_badge(validation: dict[str, Any]) -> dict[str, Any]:
    totals = validation["totals"]
    if validation["blocking"]:
        state = "blocked"
    elif (totals["failed_errors"] or totals["failed_warnings"] or validation["missing_tables"]
          or validation.get("source_warnings")):
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
