"""Staged maturity scoring from answers, checked against KPI evidence (CMMI appraisal style)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from pmopulse.maturity.model import MaturityModel, load_model
from pmopulse.maturity.scoring import Evidence, assess

# A dimension with two practices at level 2 and one at level 3, one of them with evidence.
MODEL_YAML = {
    "id": "test", "name": {"en": "Test", "zh": "测试"},
    "levels": {i: {"en": f"L{i}", "zh": f"{i}级"} for i in range(1, 6)},
    "dimensions": [
        {"id": "risk", "name": {"en": "Risk", "zh": "风险"}, "owner": "PMO", "practices": [
            {"id": "R-2.1", "level": 2, "text": {"en": "Registers", "zh": "登记册"},
             "questions": [{"id": "R-2.1-Q1", "text": {"en": "q", "zh": "问"}}],
             "evidence": [{"kpi": "risk_register_currency", "min": 0.9}]},
            {"id": "R-2.2", "level": 2, "text": {"en": "Owners", "zh": "责任人"},
             "questions": [{"id": "R-2.2-Q1", "text": {"en": "q", "zh": "问"}},
                           {"id": "R-2.2-Q2", "text": {"en": "q", "zh": "问"}}]},
            {"id": "R-3.1", "level": 3, "text": {"en": "Cadence", "zh": "节奏"},
             "questions": [{"id": "R-3.1-Q1", "text": {"en": "q", "zh": "问"}}]},
        ]},
        {"id": "qa", "name": {"en": "QA", "zh": "质量"}, "owner": "QA", "practices": [
            {"id": "Q-2.1", "level": 2, "text": {"en": "Audits", "zh": "审计"},
             "questions": [{"id": "Q-2.1-Q1", "text": {"en": "q", "zh": "问"}}]},
        ]},
    ],
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> MaturityModel:
    path = tmp_path_factory.mktemp("model") / "test.yaml"
    path.write_text(yaml.safe_dump(MODEL_YAML, allow_unicode=True), encoding="utf-8")
    return load_model(path)


def _answers(rows: dict[str, list[str]], *, role: str = "PM", unit: str = "NET",
             prefix: str = "R") -> pd.DataFrame:
    """question -> one answer per respondent (respondent i answers the i-th value)."""
    records = [{"respondent": f"{prefix}{i}", "role": role, "business_unit": unit, "question": q,
                "answer": answer} for q, answers in rows.items() for i, answer in enumerate(answers)]
    return pd.DataFrame(records)


ALL_FULLY = {"R-2.1-Q1": ["fully"], "R-2.2-Q1": ["fully"], "R-2.2-Q2": ["largely"],
             "R-3.1-Q1": ["fully"], "Q-2.1-Q1": ["largely"]}


def _evidence(currency: float | None) -> Evidence:
    return Evidence({("risk_register_currency", "organisation", "Org"): currency}, "Org")


def _dim(result: dict, dimension: str) -> dict:
    return next(d for d in result["dimensions"] if d["id"] == dimension)


def _practice(result: dict, practice: str) -> dict:
    return next(p for d in result["dimensions"] for p in d["practices"] if p["id"] == practice)


@pytest.mark.parametrize(("currency", "claimed", "evidenced", "contradicted"), [
    # Everything claimed at levels 2 and 3, but the data says only 62 % of active projects
    # reviewed a risk in the last 30 days: is contradicted, so risk is level 1 evidenced.
    (0.62, 3, 1, ["R-2.1"]),
    (0.95, 3, 3, []),        # evidence supports the claim
    (None, 3, 3, []),        # no data neither confirms nor contradicts
])
def test_evidence_contradicting_a_level_2_claim(
    model: MaturityModel, currency: float | None, claimed: int, evidenced: int, contradicted: list[str]
) -> None:
    result = assess(model, _answers(ALL_FULLY), evidence=_evidence(currency))
    risk = _dim(result, "risk")
    assert (risk["claimed_level"], risk["level"]) == (claimed, evidenced)
    assert [c["practice"] for c in result["contradictions"]] == contradicted
    if contradicted:
        (c,) = result["contradictions"]
        assert (c["kpi"], c["value"], c["min"], c["characterisation"]) == (
            "risk_register_currency", 0.62, 0.9, "fully")
        # The contradicted practice counts as at most partially implemented in the score:
        # answers fully (3), R-2.2 largely (2), R-3.1 fully (3) → claimed 8/9;
        # evidenced 1 + 2 + 3 = 6/9.
        assert (risk["score_claimed"], risk["score"]) == (88.9, 66.7)
    assert result["headline_level"] == min(evidenced, 2)  # qa has level-2 practices only
    assert result["headline_claimed_level"] == 2


@pytest.mark.parametrize(("answers", "characterisation", "respondents"), [
    (["fully", "dont_know", "dont_know"], "fully", 1),          # don't know is not "not"
    (["dont_know", "dont_know"], "not_assessed", 0),             # only don't know: not assessed
    (["not", "dont_know", "dont_know", "dont_know"], "not", 1),
    (["largely", "partially"], "partially", 2),                  # a tie rounds down
    (["fully", "largely", "partially"], "largely", 3),
])
def test_dont_know_answers_are_not_scored(model: MaturityModel, answers: list[str],
                                          characterisation: str, respondents: int) -> None:
    result = assess(model, _answers({**ALL_FULLY, "Q-2.1-Q1": answers}))
    practice = _practice(result, "Q-2.1")
    assert (practice["characterisation"], practice["respondents"]) == (characterisation, respondents)
    assert practice["answers"]["dont_know"] == answers.count("dont_know")
    assert practice["satisfied"] is (characterisation in {"largely", "fully"})


def test_a_single_respondent_and_twenty_agreeing_give_the_same_levels(model: MaturityModel) -> None:
    one = assess(model, _answers(ALL_FULLY))
    twenty = assess(model, _answers({q: a * 20 for q, a in ALL_FULLY.items()}))
    assert (one["respondents"], twenty["respondents"]) == (1, 20)
    assert [d["level"] for d in one["dimensions"]] == [d["level"] for d in twenty["dimensions"]] == [3, 2]
    assert _practice(one, "R-2.1")["spread"] == 0 and _practice(twenty, "R-2.1")["spread"] == 0


def test_twenty_respondents_split_show_their_spread(model: MaturityModel) -> None:
    split = {**ALL_FULLY, "R-3.1-Q1": ["fully"] * 10 + ["not"] * 10}
    practice = _practice(assess(model, _answers(split)), "R-3.1")
    # Median of ten 3s and ten 0s, rounded down: 0 → not implemented; quartiles 3 and 0.
    assert (practice["characterisation"], practice["spread"], practice["strong_disagreement"]) == (
        "not", 3, True)


def test_a_respondent_answering_two_items_weighs_once(model: MaturityModel) -> None:
    # R0 answers both items of R-2.2 (fully, fully); R1 and R2 answer one each (not).
    answers = _answers({**ALL_FULLY, "R-2.2-Q1": ["fully", "not", "not"], "R-2.2-Q2": ["fully"]})
    assert _practice(assess(model, answers), "R-2.2")["characterisation"] == "not"


def test_one_respondent_id_in_two_business_units_is_two_people(model: MaturityModel) -> None:
    # R0 of NET and R0 of SW say fully, R1 of NET says not: three votes (fully, fully, not) give
    # fully; taken for one person, R0's two answers would be one vote and the tie read as not.
    answers = pd.concat([_answers({"R-2.1-Q1": ["fully", "not"]}, unit="NET"),
                         _answers({"R-2.1-Q1": ["fully"]}, unit="SW", role="QA")], ignore_index=True)
    result = assess(model, answers)
    assert result["respondents"] == 3
    assert {u: s["respondents"] for u, s in result["business_units"].items()} == {"NET": 2, "SW": 1}
    practice = _practice(result, "R-2.1")
    assert (practice["respondents"], practice["characterisation"]) == (3, "fully")


def test_two_groups_that_disagree_are_a_finding(model: MaturityModel) -> None:
    pmo = _answers({**ALL_FULLY, "R-3.1-Q1": ["fully", "fully"]}, role="PMO", prefix="P")
    pms = _answers({**ALL_FULLY, "R-3.1-Q1": ["partially", "not", "not"]}, role="PM", prefix="M")
    result = assess(model, pd.concat([pmo, pms], ignore_index=True))
    assert result["groups"]["groups"] == ["PM", "PMO"]
    (finding,) = result["groups"]["findings"]
    assert finding["practice"] == "R-3.1"
    assert finding["groups"] == {"PM": "not", "PMO": "fully"} and finding["difference"] == 3


def test_business_units_are_scored_on_their_own_answers_and_evidence(model: MaturityModel) -> None:
    net = _answers(ALL_FULLY, unit="NET", prefix="N")
    cloud = _answers({**ALL_FULLY, "Q-2.1-Q1": ["partially"]}, unit="CLOUD", prefix="C")
    evidence = Evidence({("risk_register_currency", "organisation", "Org"): 0.95,
                         ("risk_register_currency", "business_unit", "NET"): 0.5,
                         ("risk_register_currency", "business_unit", "CLOUD"): 0.97}, "Org")
    result = assess(model, pd.concat([net, cloud], ignore_index=True), evidence=evidence,
                    business_units=["NET", "CLOUD", "EMPTY"])
    units = result["business_units"]
    assert _dim(units["NET"], "risk")["level"] == 1          # NET's own currency contradicts
    assert _dim(units["CLOUD"], "risk")["level"] == 3
    assert _dim(units["CLOUD"], "qa")["level"] == 1          # CLOUD says audits are partial
    assert units["EMPTY"]["respondents"] == 0 and _dim(units["EMPTY"], "risk")["score"] is None
    assert _dim(result, "risk")["level"] == 3                 # organisation evidence 0.95


def test_targets_give_the_gap(model: MaturityModel) -> None:
    result = assess(model, _answers(ALL_FULLY), evidence=_evidence(0.62), targets={"risk": 4})
    assert (_dim(result, "risk")["target"], _dim(result, "risk")["gap"]) == (4, 3)
    assert (_dim(result, "qa")["target"], _dim(result, "qa")["gap"]) == (3, 1)


def test_no_answers_at_all_is_not_assessed_never_level_1(model: MaturityModel) -> None:
    empty = pd.DataFrame(columns=["respondent", "role", "business_unit", "question", "answer"])
    result = assess(model, empty)
    assert (result["headline_level"], result["headline_claimed_level"]) == (None, None)
    assert (result["respondents"], result["dimensions_assessed"], result["practices_answered"]) == (0, 0, 0)
    for d in result["dimensions"]:
        assert (d["level"], d["claimed_level"], d["gap"], d["score"]) == (None, None, None, None)
        assert {p["characterisation"] for p in d["practices"]} == {"not_assessed"}
        assert not any(p["claimed"] or p["satisfied"] for p in d["practices"])


def test_answers_to_unknown_items_are_counted_as_ignored(model: MaturityModel, tmp_path: Path) -> None:
    answers = pd.concat([_answers(ALL_FULLY), _answers({"XX-9-Q1": ["fully"]})], ignore_index=True)
    assert assess(model, answers)["ignored_answers"] == 1


# --- absent answers are "not assessed" ---------------------------------------------------

@pytest.mark.parametrize(("rows", "risk", "headline", "assessed"), [
    # Only QA answered: risk is not assessed (not Level 1), and the headline rests on QA alone.
    ({"Q-2.1-Q1": ["fully"]}, None, 2, 1),
    # One level-2 risk practice answered and met, the other unanswered: level 2 cannot be
    # stated, nor can "below 2" — not assessed.
    ({"R-2.1-Q1": ["fully"], "Q-2.1-Q1": ["fully"]}, None, 2, 1),
    # An answered level-2 practice that is not in place: level 1 is known, whatever the rest.
    ({"R-2.1-Q1": ["not"], "Q-2.1-Q1": ["fully"]}, 1, 1, 2),
    # Level 2 met and level 3 unanswered: the climb stops at what was asked, level 2.
    ({"R-2.1-Q1": ["fully"], "R-2.2-Q1": ["largely"], "Q-2.1-Q1": ["fully"]}, 2, 2, 2),
])
def test_unanswered_practices_neither_lower_nor_raise_a_level(
    model: MaturityModel, rows: dict, risk: int | None, headline: int, assessed: int
) -> None:
    result = assess(model, _answers(rows))
    dimension = _dim(result, "risk")
    assert (dimension["level"], dimension["claimed_level"]) == (risk, risk)
    assert (result["headline_level"], result["dimensions_assessed"]) == (headline, assessed)
    unanswered = [p for p in dimension["practices"] if p["median"] is None]
    assert all(p["characterisation"] == "not_assessed" and not p["claimed"] for p in unanswered)
    assert dimension["practices_answered"] == 3 - len(unanswered)


def test_a_business_unit_without_answers_is_not_assessed(model: MaturityModel) -> None:
    result = assess(model, _answers(ALL_FULLY, unit="NET"), business_units=["NET", "CLOUD"])
    assert result["business_units"]["NET"]["headline_level"] == 2
    cloud = result["business_units"]["CLOUD"]
    assert (cloud["headline_level"], cloud["headline_claimed_level"], cloud["respondents"]) == (None, None, 0)
    assert all(d["level"] is None for d in cloud["dimensions"])


def test_respondent_groups_are_found_within_each_business_unit(model: MaturityModel) -> None:
    """NET's PMO and PMs disagree on R-2.1; CLOUD's agree. CLOUD's view shows no finding
    that belongs to NET."""
    answers = pd.concat([
        _answers({"R-2.1-Q1": ["fully", "fully"]}, role="PMO", unit="NET", prefix="N-PMO"),
        _answers({"R-2.1-Q1": ["not", "not"]}, role="PM", unit="NET", prefix="N-PM"),
        _answers({"R-2.1-Q1": ["largely", "largely"]}, role="PMO", unit="CLOUD", prefix="C-PMO"),
        _answers({"R-2.1-Q1": ["largely", "largely"]}, role="PM", unit="CLOUD", prefix="C-PM"),
    ], ignore_index=True)
    result = assess(model, answers)
    assert [f["practice"] for f in result["business_units"]["NET"]["groups"]["findings"]] == ["R-2.1"]
    assert result["business_units"]["CLOUD"]["groups"]["findings"] == []


# --- evidence speaks before it contradicts ------------------------------------------------

def test_a_value_on_too_few_records_is_insufficient_evidence_never_a_contradiction(
    model: MaturityModel,
) -> None:
    key = ("risk_register_currency", "organisation", "Org")
    evidence = Evidence({key: 0.5}, "Org", {key: "too_few"})
    result = assess(model, _answers(ALL_FULLY), evidence=evidence)
    assert result["contradictions"] == []
    (check,) = _practice(result, "R-2.1")["evidence"]
    assert (check["result"], check["value"]) == ("insufficient", 0.5)
    assert _dim(result, "risk")["level"] == 3
    coloured = Evidence({key: 0.5}, "Org", {key: "red"})
    contradicted = assess(model, _answers(ALL_FULLY), evidence=coloured)["contradictions"]
    assert [c["practice"] for c in contradicted] == ["R-2.1"]


@pytest.mark.parametrize(("answer", "contradicted"), [("fully", True), ("largely", False)])
def test_a_bound_marked_claim_fully_disputes_only_a_fully_claim(
    tmp_path: Path, answer: str, contradicted: bool
) -> None:
    """Lessons captured for 95 % of closed projects: one gap, which "Largely" admits."""
    raw = yaml.safe_load(yaml.safe_dump(MODEL_YAML))
    raw["dimensions"][0]["practices"][0]["evidence"] = [{"kpi": "lessons_learned_capture", "min": 1.0,
                                                         "claim": "fully"}]
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    key = ("lessons_learned_capture", "organisation", "Org")
    evidence = Evidence({key: 0.95}, "Org", {key: "red"})
    result = assess(load_model(path), _answers({**ALL_FULLY, "R-2.1-Q1": [answer]}), evidence=evidence)
    assert bool(result["contradictions"]) is contradicted
    assert _practice(result, "R-2.1")["evidence"][0]["result"] == ("contradicts" if contradicted
                                                                   else "short_of_fully")


def test_a_units_evidence_is_its_own_value_else_marked_organisation_wide(model: MaturityModel) -> None:
    org = ("risk_register_currency", "organisation", "Org")
    net = ("risk_register_currency", "business_unit", "NET")
    answers = _answers(ALL_FULLY, unit="NET")
    own = assess(model, answers, evidence=Evidence({org: 0.5, net: 0.95}, "Org", {org: "red", net: "green"}))
    (check,) = _practice(own["business_units"]["NET"], "R-2.1")["evidence"]
    seen = (check["value"], check["scope"], check["organisation_wide"], check["result"])
    assert seen == (0.95, "NET", False, "supports")
    shared = assess(model, answers, evidence=Evidence({org: 0.5}, "Org", {org: "red"}))
    (contradiction,) = shared["business_units"]["NET"]["contradictions"]
    assert (contradiction["scope"], contradiction["organisation_wide"]) == ("Org", True)
