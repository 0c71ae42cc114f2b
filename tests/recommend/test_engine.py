"""Recommendation rules: they reference what exists, trigger on evidence, rank into horizons."""

from __future__ import annotations

import pytest
from pmopulse.config import project_home
from pmopulse.kpis.catalogue import load_catalogue
from pmopulse.maturity.model import load_model
from pmopulse.recommend.engine import load_rules, recommend

HOME = project_home() / "assessments"
RULES = load_rules(HOME / "recommendations.yaml")


def test_rules_reference_existing_kpis_and_practices() -> None:
    kpis = set(load_catalogue(HOME / "kpis.yaml"))
    model = load_model(HOME / "models" / "pmo_maturity.yaml")
    practices = {p.id for d in model.dimensions for p in d.practices}
    for rule in RULES:
        assert rule.target in (kpis if rule.trigger == "kpi" else practices), rule.id
        assert rule.progress_kpi is None or rule.progress_kpi in kpis, rule.id
        assert set(rule.action) == {"en", "zh"} and all(rule.action.values()), rule.id


def _kpis(spi_rag: str) -> dict:
    return {"results": [
        {"kpi": "spi", "level": "organisation", "value": 0.85, "rag": spi_rag, "records": 30},
        {"kpi": "cpi", "level": "organisation", "value": 1.0, "rag": "green", "records": 30},
    ]}


def _practice(pid: str, level: int, satisfied: bool, contradiction: dict | None = None) -> dict:
    return {"id": pid, "level": level, "satisfied": satisfied, "text": {"en": f"do {pid}", "zh": f"做 {pid}"},
            "characterisation": "fully" if contradiction else "partially",
            "contradictions": [contradiction] if contradiction else [],
            "evidence": [{"kpi": "risk_register_currency"}] if contradiction else []}


def _maturity(*practices: dict, level: int = 1, target: int = 3, owner: str = "PMO") -> dict:
    return {"dimensions": [{"id": "risk_change", "name": {"en": "Risk"}, "owner": owner, "level": level,
                            "target": target, "gap": target - level, "practices": list(practices)}]}


CONTRADICTION = {"kpi": "risk_register_currency", "value": 0.6, "min": 0.9, "max": None}


def test_kpi_alerts_contradictions_and_gaps_each_trigger_with_their_reason() -> None:
    maturity = _maturity(_practice("RC-2.1", 2, False, CONTRADICTION), _practice("RC-3.1", 3, False),
                         _practice("RC-4.1", 4, False))
    actions = recommend(RULES, _kpis("red"), maturity)
    assert [(a["id"], a["reason"]["kind"]) for a in actions] == [
        ("REC-SPI-RECOVERY", "kpi"),
        ("VERIFY-RC-2.1", "contradicted"),      # no rule for it: made from the model, owned by QA
        ("REC-RISK-CADENCE", "practice"),       # the library's rule for RC-3.1
    ]                                           # RC-4.1 is above the target of 3: not yet
    verify = actions[1]
    assert verify["department"] == "QA" and verify["progress_kpi"] == "risk_register_currency"
    assert verify["reason"]["value"] == 0.6 and "do RC-2.1" in verify["action"]["en"]
    assert actions[0]["reason"] == {"kind": "kpi", "kpi": "spi", "value": 0.85, "rag": "red", "records": 30}


def test_a_gap_without_a_rule_gets_an_action_from_the_model_owned_by_its_department() -> None:
    (action,) = recommend(RULES, _kpis("green"), _maturity(_practice("XX-2.9", 2, False), owner="Process"))
    assert (action["id"], action["source"], action["department"]) == ("PRACTICE-XX-2.9", "model", "Process")
    assert action["action"] == {"en": "Put the practice in place: do XX-2.9", "zh": "落实该实践：做 XX-2.9"}


@pytest.mark.parametrize(("per_horizon", "horizons"), [
    (1, ["90d", "6m", "12m", "backlog"]),
    (2, ["90d", "90d", "6m", "6m"]),
    (5, ["90d"] * 4),
])
def test_actions_fill_the_horizons_in_rank_order(per_horizon: int, horizons: list[str]) -> None:
    maturity = _maturity(*(_practice(f"XX-{level}.1", level, False) for level in (2, 3, 4, 5)), target=5)
    actions = recommend(RULES, _kpis("green"), maturity, max_per_horizon=per_horizon)
    assert [a["reason"]["practice"] for a in actions] == ["XX-2.1", "XX-3.1", "XX-4.1", "XX-5.1"]
    assert [a["horizon"] for a in actions] == horizons
    assert [a["rank"] for a in actions] == [1, 2, 3, 4]


def test_satisfied_practices_and_green_kpis_trigger_nothing() -> None:
    assert recommend(RULES, _kpis("green"), _maturity(_practice("RC-3.1", 3, True), level=3)) == []
