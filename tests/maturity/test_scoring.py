"""Staged maturity scoring from questionnaire answers."""

from __future__ import annotations

import pandas as pd
import pytest
from pmopulse.config import project_home
from pmopulse.maturity.model import load_model
from pmopulse.maturity.scoring import score_answers

MODEL = load_model(project_home() / "assessments" / "models" / "pmo_maturity.yaml")


def _answers(default: str, **overrides: list[str]) -> pd.DataFrame:
    rows = []
    for question in sorted(MODEL.question_ids):
        for i, answer in enumerate(overrides.get(question.replace("-", "_").replace(".", "_"),
                                                 [default, default])):
            rows.append({"respondent": f"R{i}", "question": question, "answer": answer})
    return pd.DataFrame(rows)


def _dimension(result: dict, dim: str) -> dict:
    return next(d for d in result["dimensions"] if d["id"] == dim)


def test_all_fully_reaches_the_highest_level_the_model_defines() -> None:
    result = score_answers(MODEL, _answers("fully"))
    assert {d["level"] for d in result["dimensions"]} == {3}
    assert result["headline_level"] == 3 and result["respondents"] == 2


def test_headline_is_the_lowest_dimension_and_staging_needs_lower_levels() -> None:
    # risk level 2 practice only partially done: risk stays at level 1 although its
    # level-3 practices are fully implemented
    result = score_answers(MODEL, _answers("fully", RC_2_1_Q1=["partially", "partially"]))
    assert _dimension(result, "risk_change")["level"] == 1
    assert result["headline_level"] == 1


@pytest.mark.parametrize(
    ("answers", "characterisation"),
    [
        pytest.param(["fully", "largely", "partially"], "largely", id="median"),
        pytest.param(["largely", "partially"], "partially", id="tie-rounds-down"),
        pytest.param(["fully", "dont_know"], "fully", id="dont-know-not-scored"),
        pytest.param(["dont_know"], "no_data", id="only-dont-know-is-no-data"),
    ],
)
def test_practice_characterisation(answers: list[str], characterisation: str) -> None:
    result = score_answers(MODEL, _answers("fully", KM_2_1_Q1=answers))
    practice = next(p for p in _dimension(result, "knowledge_management")["practices"]
                    if p["id"] == "KM-2.1")
    assert practice["characterisation"] == characterisation
    assert practice["satisfied"] is (characterisation in {"largely", "fully"})


def test_no_answers_at_all_is_no_data_not_level_zero() -> None:
    result = score_answers(MODEL, pd.DataFrame(columns=["respondent", "question", "answer"]))
    assert result["headline_level"] == 1
    assert all(d["score"] is None for d in result["dimensions"])
    assert result["respondents"] == 0


def test_unknown_questions_are_counted_as_ignored() -> None:
    answers = pd.concat([_answers("fully"), pd.DataFrame(
        [{"respondent": "R9", "question": "NOPE-1", "answer": "fully"}])])
    assert score_answers(MODEL, answers)["ignored_answers"] == 1


def test_unanswered_practice_does_not_pull_the_score_down() -> None:
    answers = _answers("fully")
    answers = answers[answers["question"] != "KM-3.1-Q1"]
    km = _dimension(score_answers(MODEL, answers), "knowledge_management")
    assert km["score"] == 100.0 and km["practices_answered"] == 1
    assert km["level"] == 2  # the unanswered level-3 practice is not satisfied
