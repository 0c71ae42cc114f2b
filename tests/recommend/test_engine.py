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
        {"kpi": "spi", "level": "organisation", "scope": "Org", "value": 0.85, "rag": spi_rag, "records": 30},
        {"kpi": "cpi", "level": "organisation", "scope": "Org", "value": 1.0, "rag": "green", "records": 30},
    ]}


def _practice(pid: str, level: int, satisfied: bool, contradiction: dict | None = None) -> dict:
    return {"id": pid, "level": level, "satisfied": satisfied, "text": {"en": f"do {pid}", "zh": f"做 {pid}"},
            "characterisation": "fully" if contradiction else "partially",
            "median": 3 if contradiction else 1,
            "contradictions": [contradiction] if contradiction else [],
            "evidence": [{"kpi": "risk_register_currency"}] if contradiction else []}


def _maturity(*practices: dict, level: int = 1, target: int = 3, owner: str = "PMO") -> dict:
    return {"dimensions": [{"id": "risk_change", "name": {"en": "Risk"}, "owner": owner, "level": level,
                            "target": target, "gap": target - level, "practices": list(practices)}]}


CONTRADICTION = {"kpi": "risk_register_currency", "value": 0.6, "min": 0.9, "max": None, "scope": "Org"}


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
    assert actions[0]["reason"] == {"kind": "kpi", "kpi": "spi", "value": 0.85, "rag": "red", "records": 30,
                                    "level": "organisation", "scope": "Org", "organisation_wide": False}


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


# --- a roadmap speaks for its own scope ----------------------------------------------------

def _results(*rows: tuple[str, str, str, float, str]) -> dict:
    return {"results": [{"kpi": k, "level": lv, "scope": s, "value": v, "rag": rag, "records": 12}
                        for k, lv, s, v, rag in rows]}


SCOPED = _results(
    ("cpi", "organisation", "Org", 0.92, "amber"), ("cpi", "business_unit", "NET", 1.03, "green"),
    ("cpi", "business_unit", "CLOUD", 0.85, "red"),
    ("resource_utilisation", "organisation", "Org", 1.2, "red"),   # reported for the organisation only
)


def _library(tmp_path) -> list:  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.yaml"
    path.write_text("""rules:
  - {id: CPI, trigger: {kpi: cpi, rag: [red, amber]}, department: PMO, impact: high, effort: medium,
     action: {en: Review cost baselines, zh: 复核成本基线}}
  - {id: UTIL, trigger: {kpi: resource_utilisation, rag: [red]}, department: PMO, impact: high,
     effort: medium, action: {en: Rebalance, zh: 重新平衡}}
""", encoding="utf-8")
    return load_rules(path)


@pytest.mark.parametrize(("unit", "cpi"), [(None, (0.92, "amber")), ("NET", None), ("CLOUD", (0.85, "red"))])
def test_kpi_triggers_use_the_values_of_the_roadmaps_scope(tmp_path, unit: str | None, cpi) -> None:  # type: ignore[no-untyped-def]
    actions = {a["id"]: a["reason"] for a in recommend(_library(tmp_path), SCOPED, _maturity(),
                                                          business_unit=unit)}
    if cpi is None:
        assert "CPI" not in actions            # NET's own CPI is green: the organisation's amber is not NET's
    else:
        assert (actions["CPI"]["value"], actions["CPI"]["rag"]) == cpi
        assert (actions["CPI"]["scope"], actions["CPI"]["organisation_wide"]) == (unit or "Org", False)
    # Utilisation exists for the organisation only: in a unit's roadmap it is marked as such.
    assert (actions["UTIL"]["scope"], actions["UTIL"]["organisation_wide"]) == ("Org", unit is not None)


def test_no_action_rests_on_absent_answers() -> None:
    unanswered = {**_practice("XX-2.1", 2, False), "median": None, "characterisation": "not_assessed"}
    maturity = _maturity(unanswered, _practice("XX-2.2", 2, False))
    maturity["dimensions"][0].update(level=None, gap=None)
    actions = recommend(RULES, _kpis("green"), maturity)
    assert [a["reason"]["practice"] for a in actions] == ["XX-2.2"]
