"""Score questionnaire answers against a maturity model, checked against KPI evidence.

CMMI appraisal practice, as in DESIGN.md:
- each practice is characterised not / partially / largely / fully implemented from the
  answers of all respondents, with their spread (disagreement stays visible);
- a practice nobody answered is *not assessed*: neither claimed nor a gap;
- a practice is *claimed* when Fully or Largely implemented, and *satisfied* when claimed
  and no evidence rule contradicts it (a KPI outside the rule's bound, with enough records
  to be coloured; a rule marked `claim: fully` only contradicts a Fully claim);
- a dimension is at level L when every practice of levels 2..L is satisfied (staged);
  the claimed level uses the answers only, the evidenced level answers and evidence. The
  climb stops at the first level with a practice that is answered and not met, or with a
  practice nobody answered: what was not asked is not counted for or against. A dimension
  whose level-2 practices were not all answered is not assessed (None), never level 1;
- the headline level is the lowest assessed dimension (None when none is assessed), with
  how many dimensions it rests on; a dimension's 0–100 score is the mean of its answered
  practices as a share of Fully, with how many were answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pmopulse.maturity.model import Dimension, EvidenceRule, MaturityModel, Practice

SCALE = {"not": 0, "partially": 1, "largely": 2, "fully": 3}
CHARACTERISATION = {0: "not", 1: "partially", 2: "largely", 3: "fully"}
CLAIMED = {"largely", "fully"}
NOT_ASSESSED = "not_assessed"
"""The characterisation of a practice nobody answered (with a scored answer)."""
DONT_KNOW = "dont_know"
STRONG_DISAGREEMENT = 2
"""Spread (upper minus lower quartile, on the 0–3 scale) from which answers disagree strongly."""
DEFAULT_TARGET = 3
MIN_GROUP_RESPONDENTS = 2
"""A group of one is one person's view: group comparisons need at least two respondents."""


@dataclass(frozen=True)
class Evidence:
    """KPI values that can confirm or contradict practices: (kpi, level, scope) -> value, and
    the colour each was given (a value on too few records cannot contradict anything)."""

    values: Mapping[tuple[str, str, str], float | None]
    organisation: str
    colours: Mapping[tuple[str, str, str], str] = field(default_factory=dict)

    @classmethod
    def from_kpis(cls, kpis: Mapping[str, Any] | None, organisation: str | None = None) -> Evidence:
        """From a KPI report (kpis.json); the organisation is the one the report is about."""
        if not kpis:
            return cls({}, organisation or "")
        results = kpis["results"]
        name = organisation or next((r["scope"] for r in results if r["level"] == "organisation"), "")
        return cls({(r["kpi"], r["level"], r["scope"]): r["value"] for r in results}, name,
                   {(r["kpi"], r["level"], r["scope"]): r["rag"] for r in results if "rag" in r})

    def value(self, kpi: str, business_unit: str | None) -> tuple[float | None, str, str | None]:
        """The unit's value where the KPI is reported per unit, else the organisation's; with
        the scope it belongs to and its colour."""
        key = (kpi, "business_unit", business_unit or "")
        if business_unit is None or key not in self.values:
            key = (kpi, "organisation", self.organisation)
        return self.values.get(key), key[2], self.colours.get(key)


def unit_view(result: Mapping[str, Any], business_unit: str) -> dict[str, Any]:
    """The assessment as one business unit sees it: its levels, practices and contradictions
    (checked against its own KPIs) in place of the organisation's; the rest is shared."""
    return {**result, **result["business_units"].get(business_unit, {}), "business_units": {}}


def respondent_keys(answers: pd.DataFrame) -> pd.Series:
    """Who gave each answer: (business unit, respondent id), so the same id in two business
    units is two people."""
    return pd.Series([(unit if pd.notna(unit) else None, respondent) for unit, respondent
                      in zip(answers["business_unit"], answers["respondent"], strict=True)],
                     index=answers.index, dtype=object)


def median_down(scores: list[int]) -> int | None:
    """The median on the 0–3 scale, rounded down: a tie between largely and partially is
    partially, so a split vote never claims more than half the people said."""
    if not scores:
        return None
    ordered = sorted(scores)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else min(ordered[middle - 1], ordered[middle])


def assess(
    model: MaturityModel,
    answers: pd.DataFrame,
    *,
    evidence: Evidence | None = None,
    targets: Mapping[str, int] | None = None,
    business_units: Iterable[str] = (),
    group_by: str = "role",
) -> dict[str, Any]:
    """The whole assessment: the organisation, each business unit, and respondent groups."""
    evidence = evidence or Evidence({}, "")
    targets = {d.id: int((targets or {}).get(d.id, DEFAULT_TARGET)) for d in model.dimensions}
    known = answers[answers["question"].isin(model.question_ids)]
    known = known.assign(respondent=respondent_keys(known))
    organisation = _scope(model, known, evidence, targets, None, group_by)
    units = list(dict.fromkeys([*business_units, *sorted(known["business_unit"].dropna().unique())]))
    return {
        "model": {"id": model.id, "name": model.name,
                  "levels": {str(k): v for k, v in model.levels.items()}},
        "respondents": int(known["respondent"].nunique()),
        "answers": len(known),
        "ignored_answers": len(answers) - len(known),
        "targets": targets,
        "evidence_available": bool(evidence.values),
        **organisation,
        "business_units": {
            unit: _scope(model, known[known["business_unit"] == unit], evidence, targets, unit, group_by)
            for unit in units
        },
    }


def _scope(model: MaturityModel, answers: pd.DataFrame, evidence: Evidence,
           targets: Mapping[str, int], business_unit: str | None, group_by: str) -> dict[str, Any]:
    """Levels, contradictions and respondent-group findings from this scope's answers only."""
    per_respondent = _respondent_scores(answers)
    dimensions = [_dimension(d, answers, per_respondent, evidence, targets[d.id], business_unit)
                  for d in model.dimensions]
    assessed = [d for d in dimensions if d["level"] is not None]
    return {
        "respondents": int(answers["respondent"].nunique()),
        # The lowest level among the dimensions that could be assessed, and how many those
        # are: a dimension nobody answered for says nothing, so it neither lowers nor is Level 1.
        "headline_level": min((d["level"] for d in assessed), default=None),
        "headline_claimed_level": min((d["claimed_level"] for d in dimensions
                                       if d["claimed_level"] is not None), default=None),
        "dimensions_assessed": len(assessed),
        "practices_answered": sum(d["practices_answered"] for d in dimensions),
        "practices_total": sum(len(d["practices"]) for d in dimensions),
        "dimensions": dimensions,
        "contradictions": [c for d in dimensions for p in d["practices"] for c in p["contradictions"]],
        "groups": _groups(model, answers, group_by),
    }


def _respondent_scores(answers: pd.DataFrame) -> dict[str, dict[str, list[int]]]:
    """question -> respondent -> scored answers ("don't know" is not a score)."""
    scored = answers[answers["answer"].isin(list(SCALE))]
    table: dict[str, dict[str, list[int]]] = {}
    for question, respondent, answer in zip(scored["question"], scored["respondent"], scored["answer"],
                                            strict=True):
        table.setdefault(str(question), {}).setdefault(str(respondent), []).append(SCALE[answer])
    return table


def _dimension(dimension: Dimension, answers: pd.DataFrame, scores: dict[str, dict[str, list[int]]],
               evidence: Evidence, target: int, business_unit: str | None) -> dict[str, Any]:
    practices = [_practice(p, answers, scores, evidence, business_unit) for p in dimension.practices]
    claimed = _staged(practices, "claimed")
    level = _staged(practices, "satisfied")
    rated = [p for p in practices if p["median"] is not None]
    return {
        "id": dimension.id,
        "name": dimension.name,
        "owner": dimension.owner,
        "target": target,
        "claimed_level": claimed,
        "level": level,
        "gap": None if level is None else max(target - level, 0),
        # Over answered practices only (an unanswered practice is no data, not 0); a
        # practice the evidence contradicts counts as at most partially implemented.
        "score": round(100 * sum(p["evidenced_median"] for p in rated) / (3 * len(rated)), 1)
        if rated else None,
        "score_claimed": round(100 * sum(p["median"] for p in rated) / (3 * len(rated)), 1)
        if rated else None,
        "practices_answered": len(rated),
        "practices": practices,
    }


def _staged(practices: list[dict[str, Any]], key: str) -> int | None:
    """The highest level whose practices, and all below, are met (`key`: claimed or
    satisfied). A level with a practice nobody answered ends the climb below it, and at
    level 2 leaves the dimension not assessed (None): unanswered is not "not in place"."""
    if all(p["median"] is None for p in practices):
        return None
    level = 1
    for candidate in range(2, 6):
        at = [p for p in practices if p["level"] == candidate]
        if not at:
            break
        if not all(p[key] for p in at):
            answered_unmet = any(p["median"] is not None and not p[key] for p in at)
            return None if candidate == 2 and not answered_unmet else level
        level = candidate
    return level


def _practice(practice: Practice, answers: pd.DataFrame, scores: dict[str, dict[str, list[int]]],
              evidence: Evidence, business_unit: str | None) -> dict[str, Any]:
    question_ids = [q.id for q in practice.questions]
    people = _people(practice, scores)
    median = median_down(people)
    given = answers[answers["question"].isin(question_ids)]["answer"]
    characterisation = CHARACTERISATION[median] if median is not None else NOT_ASSESSED
    claimed = characterisation in CLAIMED
    checks = [_check(rule, evidence, business_unit, characterisation) for rule in practice.evidence]
    contradicted = [c for c in checks if c["result"] == "contradicts"]
    spread = _spread(people)
    return {
        "id": practice.id,
        "level": practice.level,
        "text": practice.text,
        "characterisation": characterisation,
        "median": median,
        "evidenced_median": min(median, 1) if median is not None and contradicted else median,
        "answers": {name: int((given == name).sum()) for name in [*SCALE, DONT_KNOW]},
        "respondents": len(people),
        "spread": spread,
        "strong_disagreement": spread is not None and spread >= STRONG_DISAGREEMENT,
        "claimed": claimed,
        "evidence": checks,
        "satisfied": claimed and not contradicted,
        "contradictions": [
            {"practice": practice.id, "level": practice.level, "text": practice.text,
             "characterisation": characterisation, **c}
            for c in contradicted if claimed
        ],
    }


def _people(practice: Practice, scores: dict[str, dict[str, list[int]]]) -> list[int]:
    """One score per respondent (the median of their items), so a respondent answering two
    items of a practice does not weigh twice against one who answered one."""
    respondents: dict[str, list[int]] = {}
    for question in practice.questions:
        for respondent, values in scores.get(question.id, {}).items():
            respondents.setdefault(respondent, []).extend(values)
    return sorted(s for s in (median_down(v) for v in respondents.values()) if s is not None)


def _spread(people: list[int]) -> int | None:
    """Upper minus lower quartile of the respondents' scores (0 = agreement, 3 = opposites)."""
    if len(people) < 2:
        return None if not people else 0
    series = pd.Series(people, dtype="float64")
    return int(series.quantile(0.75, interpolation="higher") - series.quantile(0.25, interpolation="lower"))


def _check(rule: EvidenceRule, evidence: Evidence, business_unit: str | None,
           characterisation: str) -> dict[str, Any]:
    """What one evidence rule says of a practice: no_data; insufficient (a value on too few
    records, which speaks for nothing); supports; short_of_fully (outside a `claim: fully`
    bound, so it disputes only a Fully claim, and the practice is not claimed Fully); or
    contradicts."""
    value, scope, colour = evidence.value(rule.kpi, business_unit)
    if value is None:
        result = "no_data"
    elif colour == "too_few":
        result = "insufficient"
    elif (rule.min is not None and value < rule.min) or (rule.max is not None and value > rule.max):
        result = "contradicts" if rule.disputes(characterisation) else "short_of_fully"
    else:
        result = "supports"
    return {"kpi": rule.kpi, "min": rule.min, "max": rule.max, "claim": rule.claim, "value": value,
            "scope": scope, "organisation_wide": business_unit is not None and scope != business_unit,
            "result": result}


def _groups(model: MaturityModel, answers: pd.DataFrame, group_by: str) -> dict[str, Any]:
    """Practices on which respondent groups (e.g. PMO staff and project managers) disagree:
    group characterisations two or more scale points apart are a finding of their own."""
    if group_by not in answers.columns:
        return {"by": group_by, "groups": [], "findings": []}
    sizes = answers.groupby(group_by)["respondent"].nunique()
    groups = sorted(str(g) for g, n in sizes.items() if n >= MIN_GROUP_RESPONDENTS)
    scores = {g: _respondent_scores(answers[answers[group_by] == g]) for g in groups}
    findings = []
    for dimension in model.dimensions:
        for practice in dimension.practices:
            medians = {g: m for g in groups
                       if (m := median_down(_people(practice, scores[g]))) is not None}
            if len(medians) >= 2 and max(medians.values()) - min(medians.values()) >= STRONG_DISAGREEMENT:
                findings.append({
                    "practice": practice.id, "dimension": dimension.id, "text": practice.text,
                    "groups": {g: CHARACTERISATION[m] for g, m in medians.items()},
                    "difference": max(medians.values()) - min(medians.values()),
                })
    return {"by": group_by, "groups": groups, "findings": findings}
