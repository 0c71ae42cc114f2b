"""Maturity models (assessments/models/*.yaml) as frozen objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.kpis.catalogue import Aggregate, KpiDefinition
from pmopulse.yamlfile import load_yaml


@dataclass(frozen=True)
class Question:
    id: str
    text: dict[str, str]


CLAIMS = ("largely", "fully")


@dataclass(frozen=True)
class EvidenceRule:
    """The data supports a practice when the KPI is at least `min` / at most `max`.

    `claim` is the answer the bound tests. "largely" (the default): a value outside the
    bound contradicts a Largely or Fully claim, so the bound must leave room for the small
    gaps Largely admits. "fully": only a Fully claim is contradicted, for bounds a single
    gap breaks (a share of 100 %, a count of 0).
    """

    kpi: str
    min: float | None = None
    max: float | None = None
    claim: str = "largely"

    def disputes(self, characterisation: str) -> bool:
        """Whether a value outside the bound contradicts this characterisation."""
        return characterisation == "fully" if self.claim == "fully" else characterisation in CLAIMS


@dataclass(frozen=True)
class Practice:
    id: str
    level: int
    text: dict[str, str]
    questions: tuple[Question, ...]
    evidence: tuple[EvidenceRule, ...] = ()


@dataclass(frozen=True)
class Dimension:
    id: str
    name: dict[str, str]
    practices: tuple[Practice, ...]
    owner: str = "PMO"   # department that owns improving it: PMO, QA or Process


@dataclass(frozen=True)
class MaturityModel:
    id: str
    name: dict[str, str]
    levels: dict[int, dict[str, str]]
    dimensions: tuple[Dimension, ...]

    @property
    def question_ids(self) -> set[str]:
        return {q.id for d in self.dimensions for p in d.practices for q in p.questions}


def _evidence(raw: dict[str, Any]) -> EvidenceRule:
    rule = EvidenceRule(kpi=str(raw["kpi"]), min=raw.get("min"), max=raw.get("max"),
                        claim=str(raw.get("claim", "largely")))
    if (rule.min is None) == (rule.max is None):
        raise ValueError(f"evidence on {rule.kpi!r} needs exactly one of min and max")
    if rule.claim not in CLAIMS:
        raise ValueError(f"evidence on {rule.kpi!r}: claim must be one of {list(CLAIMS)}, not {rule.claim!r}")
    return rule


def load_model(path: Path, catalogue: Mapping[str, KpiDefinition] | None = None) -> MaturityModel:
    """The model at `path`; with the KPI catalogue, its evidence rules checked against it
    (`check_evidence`)."""
    raw: dict[str, Any] = load_yaml(path, "maturity model")
    try:
        model = MaturityModel(
            id=str(raw["id"]),
            name=dict(raw["name"]),
            levels={int(k): dict(v) for k, v in raw["levels"].items()},
            dimensions=tuple(
                Dimension(
                    id=str(d["id"]),
                    name=dict(d["name"]),
                    practices=tuple(
                        Practice(
                            id=str(p["id"]),
                            level=int(p["level"]),
                            text=dict(p["text"]),
                            questions=tuple(
                                Question(id=str(q["id"]), text=dict(q["text"]))
                                for q in p["questions"]
                            ),
                            evidence=tuple(_evidence(e) for e in p.get("evidence") or ()),
                        )
                        for p in d["practices"]
                    ),
                    owner=str(d.get("owner", "PMO")),
                )
                for d in raw["dimensions"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"maturity model {path} is malformed: {type(exc).__name__} {exc}") from None
    ids = [p.id for d in model.dimensions for p in d.practices]
    questions = [q.id for d in model.dimensions for p in d.practices for q in p.questions]
    for kind, values in (("practice", ids), ("question", questions)):
        if duplicates := sorted({v for v in values if values.count(v) > 1}):
            raise ConfigError(f"maturity model {path}: duplicate {kind} ids {duplicates}")
    if bad := [p.id for d in model.dimensions for p in d.practices if not 2 <= p.level <= 5]:
        raise ConfigError(f"maturity model {path}: practices {bad} need a level from 2 to 5")
    if bad := [d.id for d in model.dimensions if d.owner not in OWNERS]:
        raise ConfigError(f"maturity model {path}: dimensions {bad} need an owner in {OWNERS}")
    if catalogue is not None and (problems := evidence_problems(model, catalogue)):
        raise ConfigError(f"maturity model {path}: evidence rules that cannot speak fairly: "
                          + "; ".join(problems))
    return model


def evidence_problems(model: MaturityModel, catalogue: Mapping[str, KpiDefinition]) -> list[str]:
    """The evidence rules that break the rule of the answer scale, one line each.

    A bound must be able to hold for a practice "Largely implemented" (small gaps remain)
    unless it is marked `claim: fully`: a share of 100 % or a value of at most 0 is broken by
    a single gap. And no bound may rest on a count that grows with the organisation (a KPI
    aggregated as a sum): the same practice would be contradicted in a large organisation
    and supported in a small one. Use a share.
    """
    problems = []
    for dimension in model.dimensions:
        for practice in dimension.practices:
            for rule in practice.evidence:
                where = f"{practice.id} on {rule.kpi}"
                definition = catalogue.get(rule.kpi)
                if definition is None:
                    problems.append(f"{where}: the KPI catalogue has no such KPI")
                    continue
                if definition.aggregate is Aggregate.SUM:
                    problems.append(f"{where}: a count that grows with the organisation's size; "
                                    "use a share KPI")
                breaks_on_one_gap = ((rule.max is not None and rule.max <= 0)
                                     or (definition.unit == "percent" and rule.min is not None
                                         and rule.min >= 1))
                if breaks_on_one_gap and rule.claim != "fully":
                    bound = f"min {rule.min}" if rule.min is not None else f"max {rule.max}"
                    problems.append(f"{where}: {bound} is broken by a single gap, which "
                                    "'Largely implemented' admits; loosen it or add claim: fully")
    return problems


OWNERS = ("PMO", "QA", "Process")
