"""Recommendation rules (assessments/recommendations.yaml) → a ranked roadmap."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.kpis.catalogue import Department
from pmopulse.yamlfile import load_yaml

WEIGHT = {"low": 1, "medium": 2, "high": 3}
HORIZONS = ("90d", "6m", "12m")


@dataclass(frozen=True)
class RecommendationRule:
    id: str
    kpi: str | None
    rag: tuple[str, ...]
    practice: str | None
    department: Department
    impact: str
    effort: str
    horizon: str
    progress_kpi: str | None
    action: dict[str, str]

    @property
    def priority(self) -> float:
        return WEIGHT[self.impact] / WEIGHT[self.effort]


def load_rules(path: Path) -> list[RecommendationRule]:
    raw = load_yaml(path, "recommendation library")
    rules = []
    for i, item in enumerate(raw.get("rules") or []):
        where = f"{path}: rules[{i}]"
        try:
            trigger = item["trigger"]
            rule = RecommendationRule(
                id=str(item["id"]),
                kpi=trigger.get("kpi"),
                rag=tuple(trigger.get("rag") or ()),
                practice=trigger.get("practice"),
                department=Department(item["department"]),
                impact=str(item["impact"]),
                effort=str(item["effort"]),
                horizon=str(item["horizon"]),
                progress_kpi=item.get("progress_kpi"),
                action=dict(item["action"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{where} is malformed: {type(exc).__name__} {exc}") from None
        if (rule.kpi is None) == (rule.practice is None):
            raise ConfigError(f"{where}: trigger needs exactly one of 'kpi' or 'practice'")
        if rule.impact not in WEIGHT or rule.effort not in WEIGHT:
            raise ConfigError(f"{where}: impact and effort must be one of {list(WEIGHT)}")
        if rule.horizon not in HORIZONS:
            raise ConfigError(f"{where}: horizon must be one of {list(HORIZONS)}")
        rules.append(rule)
    return rules


def recommend(
    rules: list[RecommendationRule], kpis: dict[str, Any], maturity: dict[str, Any]
) -> list[dict[str, Any]]:
    """The triggered actions, highest priority first, each saying why it was triggered."""
    org = {r["kpi"]: r for r in kpis["results"] if r["level"] == "organisation"}
    next_level_gaps = {
        p["id"]: (dimension, p)
        for dimension in maturity["dimensions"]
        for p in dimension["practices"]
        if not p["satisfied"] and p["level"] == dimension["level"] + 1
    }
    triggered = []
    for rule in rules:
        reason: dict[str, Any] | None = None
        if rule.kpi is not None and rule.kpi in org and org[rule.kpi]["rag"] in rule.rag:
            result = org[rule.kpi]
            reason = {"kind": "kpi", "kpi": rule.kpi, "value": result["value"],
                      "rag": result["rag"], "records": result["records"]}
        elif rule.practice is not None and rule.practice in next_level_gaps:
            dimension, practice = next_level_gaps[rule.practice]
            reason = {"kind": "practice", "practice": practice["id"],
                      "practice_text": practice["text"], "dimension": dimension["name"],
                      "characterisation": practice["characterisation"],
                      "target_level": practice["level"]}
        if reason is not None:
            triggered.append((rule, reason))
    triggered.sort(key=lambda pair: (-pair[0].priority, HORIZONS.index(pair[0].horizon), pair[0].id))
    return [
        {"id": rule.id, "department": rule.department.value, "impact": rule.impact,
         "effort": rule.effort, "horizon": rule.horizon, "progress_kpi": rule.progress_kpi,
         "action": rule.action, "reason": reason}
        for rule, reason in triggered
    ]
