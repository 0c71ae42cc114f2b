"""Maturity models (assessments/models/*.yaml) as frozen objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.yamlfile import load_yaml


@dataclass(frozen=True)
class Question:
    id: str
    text: dict[str, str]


@dataclass(frozen=True)
class EvidenceRule:
    """The data supports a practice when the KPI is at least `min` / at most `max`."""

    kpi: str
    min: float | None = None
    max: float | None = None


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
    rule = EvidenceRule(kpi=str(raw["kpi"]), min=raw.get("min"), max=raw.get("max"))
    if (rule.min is None) == (rule.max is None):
        raise ValueError(f"evidence on {rule.kpi!r} needs exactly one of min and max")
    return rule


def load_model(path: Path) -> MaturityModel:
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
    return model


OWNERS = ("PMO", "QA", "Process")
