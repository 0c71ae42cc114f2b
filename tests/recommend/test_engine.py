"""Recommendation rules: they reference what exists, trigger on evidence, rank sensibly."""

from __future__ import annotations

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
        assert rule.kpi is None or rule.kpi in kpis, rule.id
        assert rule.practice is None or rule.practice in practices, rule.id
        assert rule.progress_kpi is None or rule.progress_kpi in kpis, rule.id
        assert set(rule.action) == {"en", "zh"}, rule.id
    assert len({r.id for r in RULES}) == len(RULES)


def _kpis(spi_rag: str) -> dict:
    return {"results": [
        {"kpi": "spi", "level": "organisation", "value": 0.85, "rag": spi_rag, "records": 30},
        {"kpi": "cpi", "level": "organisation", "value": 1.0, "rag": "green", "records": 30},
    ]}


def _maturity(risk_level: int, rc31_satisfied: bool) -> dict:
    practice = {"id": "RC-3.1", "level": 3, "satisfied": rc31_satisfied, "text": {"en": "x"},
                "characterisation": "partially"}
    return {"dimensions": [{"id": "risk_change", "name": {"en": "Risk"}, "level": risk_level,
                            "practices": [practice]}]}


def test_red_kpi_and_next_level_gap_trigger_with_reasons() -> None:
    actions = recommend(RULES, _kpis("red"), _maturity(2, False))
    ids = [a["id"] for a in actions]
    assert ids == ["REC-RISK-CADENCE", "REC-SPI-RECOVERY"]  # high impact + low effort first
    assert actions[1]["reason"] == {"kind": "kpi", "kpi": "spi", "value": 0.85, "rag": "red",
                                    "records": 30}


def test_green_kpis_and_practices_beyond_next_level_trigger_nothing() -> None:
    # RC-3.1 is two levels above level 1: not the next step yet
    assert recommend(RULES, _kpis("green"), _maturity(1, False)) == []
    assert recommend(RULES, _kpis("no_data"), _maturity(2, True)) == []
