"""Score questionnaire answers against a maturity model (staged, CMMI appraisal style)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pmopulse.maturity.model import MaturityModel, Practice

# Characterisation scale, from the answers "not / partially / largely / fully implemented".
SCALE = {"not": 0, "partially": 1, "largely": 2, "fully": 3}
CHARACTERISATION = {0: "not", 1: "partially", 2: "largely", 3: "fully"}
SATISFIED = {"largely", "fully"}


def score_answers(model: MaturityModel, answers: pd.DataFrame) -> dict[str, Any]:
    """Characterise every practice from all respondents and derive dimension levels.

    A practice's characterisation is the median answer over all its items and respondents,
    rounded down (a tie between 'largely' and 'partially' is not 'largely'). "Don't know"
    answers are counted but not scored. A practice nobody answered is 'no data' and is
    not satisfied. A dimension reaches level L when every practice of levels 2..L is
    satisfied and level L has at least one practice. The headline is the lowest dimension.
    """
    known = answers[answers["question"].isin(model.question_ids)]
    by_question = {str(q): group["answer"].tolist() for q, group in known.groupby("question")}
    dimensions: list[dict[str, Any]] = []
    for dimension in model.dimensions:
        practices = [_practice(p, by_question) for p in dimension.practices]
        level = 1
        for candidate in range(2, 6):
            at_or_below = [p for p in practices if p["level"] <= candidate]
            if not any(p["level"] == candidate for p in practices):
                break
            if not all(p["satisfied"] for p in at_or_below):
                break
            level = candidate
        rated = [p["median"] for p in practices if p["median"] is not None]
        dimensions.append({
            "id": dimension.id,
            "name": dimension.name,
            "level": level,
            # over answered practices only: an unanswered practice is no data, not 0
            "score": round(100 * sum(rated) / (3 * len(rated)), 1) if rated else None,
            "practices_answered": len(rated),
            "practices": practices,
        })
    return {
        "model": {"id": model.id, "name": model.name,
                  "levels": {str(k): v for k, v in model.levels.items()}},
        "respondents": int(known["respondent"].nunique()),
        "answers": len(known),
        "ignored_answers": len(answers) - len(known),
        "headline_level": min((d["level"] for d in dimensions), default=None),
        "dimensions": dimensions,
    }


def _practice(practice: Practice, by_question: dict[str, list[str]]) -> dict[str, Any]:
    given = [a for q in practice.questions for a in by_question.get(q.id, [])]
    scored = sorted(SCALE[a] for a in given if a in SCALE)
    median = None
    if scored:
        middle = len(scored) // 2
        median = scored[middle] if len(scored) % 2 else min(scored[middle - 1], scored[middle])
    characterisation = CHARACTERISATION[median] if median is not None else "no_data"
    return {
        "id": practice.id,
        "level": practice.level,
        "text": practice.text,
        "characterisation": characterisation,
        "median": median,
        "answers": {name: given.count(name) for name in [*SCALE, "dont_know"]},
        "satisfied": characterisation in SATISFIED,
    }
