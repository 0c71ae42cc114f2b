"""Every shipped maturity model hangs together with the KPI catalogue and the rule library."""

from __future__ import annotations

from pathlib import Path

import pytest
from pmopulse.config import project_home
from pmopulse.kpis.catalogue import load_catalogue
from pmopulse.maturity.model import MaturityModel, evidence_problems, load_model
from pmopulse.recommend.engine import load_rules

HOME = project_home() / "assessments"
MODELS = sorted((HOME / "models").glob("*.yaml"))
CATALOGUE = load_catalogue(HOME / "kpis.yaml")


def _texts(model: MaturityModel) -> list[tuple[str, dict[str, str]]]:
    texts = [("model", model.name), *((f"level {k}", v) for k, v in model.levels.items())]
    for d in model.dimensions:
        texts.append((d.id, d.name))
        for p in d.practices:
            texts.append((p.id, p.text))
            texts += [(q.id, q.text) for q in p.questions]
    return texts


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_model_is_complete_and_bilingual(path: Path) -> None:
    model = load_model(path)
    assert set(model.levels) == {1, 2, 3, 4, 5}
    ids = [d.id for d in model.dimensions] + [p.id for d in model.dimensions for p in d.practices]
    ids += sorted(model.question_ids)
    assert len(ids) == len(set(ids)), "ids must be unique"
    for dimension in model.dimensions:
        assert {p.level for p in dimension.practices} >= {2, 3}, dimension.id
        for practice in dimension.practices:
            assert practice.questions, f"{practice.id} has no questionnaire item"
            for rule in practice.evidence:
                assert rule.kpi in CATALOGUE, f"{practice.id}: unknown KPI {rule.kpi}"
    for where, text in _texts(model):
        assert set(text) >= {"en", "zh"} and text["en"].strip() and text["zh"].strip(), where


def test_the_default_model_has_the_ten_pmo_dimensions_at_levels_2_to_5() -> None:
    model = load_model(HOME / "models" / "pmo_maturity.yaml")
    assert [d.id for d in model.dimensions] == [
        "governance_strategy", "portfolio_program", "methodology_standards", "performance_monitoring",
        "resource_management", "risk_change", "quality_assurance", "process_improvement",
        "talent_development", "knowledge_management"]
    for dimension in model.dimensions:
        assert {p.level for p in dimension.practices} == {2, 3, 4, 5}, dimension.id
    assert {d.owner for d in model.dimensions} == {"PMO", "QA", "Process"}


def test_models_do_not_share_item_ids() -> None:
    seen: dict[str, str] = {}
    for path in MODELS:
        for question in load_model(path).question_ids:
            assert question not in seen, f"{question} in {path.stem} and {seen[question]}"
            seen[question] = path.stem


def test_recommendation_triggers_name_real_practices_or_kpis() -> None:
    practices = {p.id for path in MODELS for d in load_model(path).dimensions for p in d.practices}
    for rule in load_rules(HOME / "recommendations.yaml"):
        assert rule.target in (CATALOGUE if rule.trigger == "kpi" else practices), rule.id
        assert rule.progress_kpi is None or rule.progress_kpi in CATALOGUE, rule.id
        assert rule.action["en"].strip() and rule.action["zh"].strip(), rule.id


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_every_evidence_rule_can_hold_for_largely_and_rests_on_a_share(path: Path) -> None:
    """Evidence bounds follow the answer scale (the rule the model files state): no bound
    on a count that grows with the organisation, and none a single gap breaks unless it
    disputes only a Fully claim."""
    model = load_model(path, CATALOGUE)
    rules = [(p.id, r) for d in model.dimensions for p in d.practices for r in p.evidence]
    assert rules, "the model has evidence rules to check"
    assert evidence_problems(model, CATALOGUE) == []
    for practice, rule in rules:
        definition = CATALOGUE[rule.kpi]
        assert definition.aggregate.value != "sum", (practice, rule.kpi)
        if rule.claim != "fully" and definition.unit == "percent":
            assert (rule.min is None or rule.min < 1) and (rule.max is None or rule.max > 0), (practice, rule)


def test_a_model_whose_evidence_cannot_hold_for_largely_is_refused(tmp_path: Path) -> None:
    text = (HOME / "models" / "qa_audit.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "model.yaml"
    bad.write_text(text.replace("{kpi: audit_coverage, min: 0.90}", "{kpi: audit_coverage, min: 1.0}")
                   .replace("{kpi: nc_open_age_median, max: 60}", "{kpi: nc_overdue, max: 2}"),
                   encoding="utf-8")
    from pmopulse.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        load_model(bad, CATALOGUE)
    message = str(refused.value)
    assert "QAP-3.1 on audit_coverage: min 1.0 is broken by a single gap" in message
    assert "on nc_overdue: a count that grows with the organisation's size" in message
    fixed = (bad.read_text(encoding="utf-8")
             .replace("{kpi: nc_overdue, max: 2}", "{kpi: nc_open_age_median, max: 60}")
             .replace("{kpi: audit_coverage, min: 1.0}", "{kpi: audit_coverage, min: 1.0, claim: fully}"))
    bad.write_text(fixed, encoding="utf-8")
    assert load_model(bad, CATALOGUE).dimensions
