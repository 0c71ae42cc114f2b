"""Recommendation rules (assessments/recommendations.yaml) → a ranked 90-day / 6-month /
12-month roadmap.

A roadmap speaks for one scope: the organisation, or one business unit (its own answers
and its own KPI values). A rule fires on one of three triggers:
- `kpi` + `rag`: the scope's value of the KPI has one of the colours. A KPI reported for
  the organisation only is taken from the organisation, and the action is marked
  organisation-wide in a unit's roadmap;
- `practice`: the practice was answered and is not satisfied while its level is on the way
  to its dimension's target (level ≤ target). A practice nobody answered is not assessed:
  no action rests on absent answers;
- `contradicted`: answers claim the practice, but KPI evidence contradicts the claim.

Every unsatisfied practice on the way to the target, and every contradicted claim, gets an
action even without a rule: one is made from the model (the practice's own text, owned by
the dimension's department), so the roadmap never silently skips a gap. Rules give
better-worded actions and their effort, impact and progress KPI.

Ranking: lower practice levels first within the gap (staged levels are climbed in order),
then a larger gap to target, then impact over effort, then id. Horizons are filled in
order, at most `max_per_horizon` each; the rest is the backlog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.kpis.catalogue import Department
from pmopulse.yamlfile import load_yaml

WEIGHT = {"low": 1, "medium": 2, "high": 3}
HORIZONS = ("90d", "6m", "12m")
BACKLOG = "backlog"
TRIGGERS = ("kpi", "practice", "contradicted")
DEFAULT_MAX_PER_HORIZON = 5


@dataclass(frozen=True)
class RecommendationRule:
    id: str
    trigger: str               # kpi | practice | contradicted
    target: str                # the KPI id or practice id it watches
    rag: tuple[str, ...]
    department: Department
    impact: str
    effort: str
    progress_kpi: str | None
    action: dict[str, str]

    @property
    def priority(self) -> float:
        return WEIGHT[self.impact] / WEIGHT[self.effort]


def load_rules(path: Path) -> list[RecommendationRule]:
    raw = load_yaml(path, "recommendation library")
    rules = []
    for i, item in enumerate(raw.get("rules") or []):
        where = f"{path}: rules[{i}] ({item.get('id', '?') if isinstance(item, dict) else '?'})"
        try:
            trigger = dict(item["trigger"])
            kinds = [k for k in TRIGGERS if k in trigger]
            if len(kinds) != 1:
                raise ConfigError(f"{where}: trigger needs exactly one of {list(TRIGGERS)}")
            rule = RecommendationRule(
                id=str(item["id"]),
                trigger=kinds[0],
                target=str(trigger[kinds[0]]),
                rag=tuple(trigger.get("rag") or ()),
                department=Department(item["department"]),
                impact=str(item["impact"]),
                effort=str(item["effort"]),
                progress_kpi=item.get("progress_kpi"),
                action=dict(item["action"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{where} is malformed: {type(exc).__name__} {exc}") from None
        if rule.impact not in WEIGHT or rule.effort not in WEIGHT:
            raise ConfigError(f"{where}: impact and effort must be one of {list(WEIGHT)}")
        if rule.trigger == "kpi" and not rule.rag:
            raise ConfigError(f"{where}: a kpi trigger needs the colours it fires on (rag: [red])")
        rules.append(rule)
    if len({r.id for r in rules}) != len(rules):
        raise ConfigError(f"{path}: rule ids must be unique")
    return rules


def recommend(
    rules: list[RecommendationRule],
    kpis: Mapping[str, Any],
    maturity: Mapping[str, Any],
    *,
    business_unit: str | None = None,
    max_per_horizon: int = DEFAULT_MAX_PER_HORIZON,
) -> list[dict[str, Any]]:
    """The triggered actions in roadmap order, each with its horizon and why it fired, for
    the organisation or, with `business_unit`, for that unit (`maturity` is then the unit's
    view of the assessment)."""
    kpi_values = _scope_kpis(kpis, business_unit)
    gaps: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    contradicted: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for dimension in maturity["dimensions"]:
        for practice in dimension["practices"]:
            answered = practice["median"] is not None
            if answered and not practice["satisfied"] and practice["level"] <= dimension["target"]:
                gaps[practice["id"]] = (dimension, practice)
            if practice["contradictions"]:
                contradicted[practice["id"]] = (dimension, practice)

    actions: list[dict[str, Any]] = []
    covered: set[tuple[str, str]] = set()
    for rule in rules:
        result = kpi_values.get(rule.target) if rule.trigger == "kpi" else None
        if result is not None and result["rag"] in rule.rag:
            actions.append(_action(rule, {"kind": "kpi", "kpi": rule.target, "value": result["value"],
                                          "rag": result["rag"], "records": result["records"],
                                          "level": result["level"], "scope": result["scope"],
                                          "organisation_wide": result["level"] != _level(business_unit)},
                                   0, 0))
        elif rule.trigger == "practice" and rule.target in gaps:
            actions.append(_action(rule, *_gap_reason(*gaps[rule.target])))
            covered.add(("practice", rule.target))
        elif rule.trigger == "contradicted" and rule.target in contradicted:
            actions.append(_action(rule, *_contradiction_reason(*contradicted[rule.target], business_unit)))
            covered.add(("contradicted", rule.target))
    for practice_id, (dimension, practice) in gaps.items():
        # A contradicted claim is answered by checking it first (below), not by a second action.
        if ("practice", practice_id) not in covered and practice_id not in contradicted:
            actions.append(_model_action(dimension, practice, *_gap_reason(dimension, practice)))
    for practice_id, (dimension, practice) in contradicted.items():
        if ("contradicted", practice_id) not in covered:
            actions.append(_verify_action(dimension, practice,
                                          *_contradiction_reason(dimension, practice, business_unit)))

    actions.sort(key=lambda a: (a["_order"], -a["_gap"], -WEIGHT[a["impact"]] / WEIGHT[a["effort"]], a["id"]))
    for rank, action in enumerate(actions):
        slot = rank // max_per_horizon
        action["horizon"] = HORIZONS[slot] if slot < len(HORIZONS) else BACKLOG
        action["rank"] = rank + 1
        del action["_order"], action["_gap"]
    return actions


def _level(business_unit: str | None) -> str:
    return "organisation" if business_unit is None else "business_unit"


def _scope_kpis(kpis: Mapping[str, Any], business_unit: str | None) -> dict[str, dict[str, Any]]:
    """Per KPI, the result a roadmap for this scope is triggered by: the unit's own, else
    (a KPI reported for the organisation only) the organisation's."""
    results = kpis["results"]
    org = {r["kpi"]: r for r in results if r["level"] == "organisation"}
    if business_unit is None:
        return org
    own = {r["kpi"]: r for r in results if r["level"] == "business_unit" and r["scope"] == business_unit}
    reported_per_unit = {r["kpi"] for r in results if r["level"] == "business_unit"}
    return {**{k: r for k, r in org.items() if k not in reported_per_unit}, **own}


def _gap_reason(
    dimension: dict[str, Any], practice: dict[str, Any]
) -> tuple[dict[str, Any], int, int]:
    reason = {"kind": "practice", "practice": practice["id"], "practice_text": practice["text"],
              "dimension": dimension["id"], "dimension_name": dimension["name"],
              "characterisation": practice["characterisation"], "level": practice["level"],
              "current_level": dimension["level"], "target_level": dimension["target"]}
    return reason, practice["level"], dimension["gap"] or 0


def _contradiction_reason(
    dimension: dict[str, Any], practice: dict[str, Any], business_unit: str | None
) -> tuple[dict[str, Any], int, int]:
    first = practice["contradictions"][0]
    reason = {"kind": "contradicted", "practice": practice["id"], "practice_text": practice["text"],
              "dimension": dimension["id"], "dimension_name": dimension["name"],
              "characterisation": practice["characterisation"], "kpi": first["kpi"],
              "value": first["value"], "min": first["min"], "max": first["max"],
              "scope": first["scope"],
              "organisation_wide": business_unit is not None and first["scope"] != business_unit}
    # A contradicted claim is the most urgent kind of gap: people believe it is done.
    return reason, practice["level"] - 1, dimension["gap"] or 0


def _action(rule: RecommendationRule, reason: dict[str, Any], order: int, gap: int) -> dict[str, Any]:
    return {"id": rule.id, "source": "rule", "department": rule.department.value,
            "impact": rule.impact, "effort": rule.effort, "progress_kpi": rule.progress_kpi,
            "action": rule.action, "reason": reason, "_order": order, "_gap": gap}


_LEVEL_EFFORT = {2: "low", 3: "medium", 4: "high", 5: "high"}


def _model_action(dimension: dict[str, Any], practice: dict[str, Any], reason: dict[str, Any],
                  order: int, gap: int) -> dict[str, Any]:
    text = practice["text"]
    return {"id": f"PRACTICE-{practice['id']}", "source": "model",
            "department": dimension["owner"], "impact": "high" if practice["level"] <= 3 else "medium",
            "effort": _LEVEL_EFFORT[practice["level"]], "progress_kpi": _first_kpi(practice),
            "action": {"en": f"Put the practice in place: {text['en']}",
                       "zh": f"落实该实践：{text['zh']}"},
            "reason": reason, "_order": order, "_gap": gap}


def _verify_action(dimension: dict[str, Any], practice: dict[str, Any], reason: dict[str, Any],
                   order: int, gap: int) -> dict[str, Any]:
    text = practice["text"]
    return {"id": f"VERIFY-{practice['id']}", "source": "model", "department": "QA",
            "impact": "high", "effort": "low", "progress_kpi": reason["kpi"],
            "action": {"en": f"Audit the claim that this practice is in place, since the data "
                             f"contradicts it: {text['en']}",
                       "zh": f"数据与自评结论不符，请审计该实践是否真正落实：{text['zh']}"},
            "reason": reason, "_order": order, "_gap": gap}


def _first_kpi(practice: dict[str, Any]) -> str | None:
    return practice["evidence"][0]["kpi"] if practice.get("evidence") else None
