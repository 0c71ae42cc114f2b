"""Deterministic demo organisation for PMO Pulse.

``generate_demo`` writes one CSV per canonical table (see ``pmopulse/contracts``) into
``out_dir/data/`` and a ``demo_manifest.json`` describing what was written, including a
handful of deliberately injected data-quality defects that validation must catch.

Everything is drawn from one ``numpy.random.default_rng(seed)`` stream in a fixed order and
generated with vectorised numpy, so the same arguments give byte-identical files and
10,000 projects take seconds. Dates are handled internally as int64 day numbers
(days since 1970-01-01) and months as int64 month numbers (months since 1970-01).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pmopulse.contracts import load_contracts
from pmopulse.maturity.model import load_model
from pmopulse.spreadsheet import write_frame_csv

__all__ = ["DEFAULT_AS_OF_MONTH", "TABLES", "DemoManifest", "generate_demo"]

DEFAULT_AS_OF_MONTH = "2026-10"
"""Reporting month used when none is given; fixed so that demo data never depends on today."""

TABLES: tuple[str, ...] = (
    "projects",
    "milestones",
    "evm_snapshots",
    "changes",
    "risks",
    "work_items",
    "qa_audits",
    "nonconformances",
    "gate_reviews",
    "timesheets",
    "capacity",
    "processes",
    "improvements",
    "lessons_learned",
    "training",
    "assessment_responses",
)

DEFAULT_MODEL_PATH = (
    Path(__file__).resolve().parents[3] / "assessments" / "models" / "pmo_maturity.yaml"
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[Any]  # object arrays of str

DAYS_PER_MONTH = 30.4375
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# Status codes, in the order of the contract's allowed values that matter here.
PROPOSED, ACTIVE, ON_HOLD, CLOSED, CANCELLED = range(5)
_STATUS_NAMES = np.array(["proposed", "active", "on_hold", "closed", "cancelled"], dtype=object)
# proposed / active / on_hold / closed / cancelled, as a PMO portfolio typically looks.
_STATUS_MIX = (0.05, 0.70, 0.05, 0.15, 0.05)
# Months over which a project's efficiency drifts from "on plan" towards its hidden target.
_DRIFT_MONTHS = 2.0


# --------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoManifest:
    """What ``generate_demo`` wrote. Paths in ``files`` are relative to ``out_dir``."""

    seed: int
    projects: int
    months: int
    as_of_month: str
    first_month: str
    business_units: tuple[dict[str, str], ...]
    row_counts: dict[str, int]
    defects: tuple[dict[str, Any], ...]
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "projects": self.projects,
            "months": self.months,
            "as_of_month": self.as_of_month,
            "first_month": self.first_month,
            "business_units": [dict(bu) for bu in self.business_units],
            "row_counts": dict(self.row_counts),
            "defects": [dict(d) for d in self.defects],
            "files": list(self.files),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DemoManifest:
        raw = json.loads(text)
        return cls(
            seed=int(raw["seed"]),
            projects=int(raw["projects"]),
            months=int(raw["months"]),
            as_of_month=str(raw["as_of_month"]),
            first_month=str(raw["first_month"]),
            business_units=tuple(dict(bu) for bu in raw["business_units"]),
            row_counts={str(k): int(v) for k, v in raw["row_counts"].items()},
            defects=tuple(dict(d) for d in raw["defects"]),
            files=tuple(str(f) for f in raw["files"]),
        )


# --------------------------------------------------------------------------------------
# Calendar helpers (int64 day / month numbers)
# --------------------------------------------------------------------------------------


def _parse_month(month: str) -> int:
    match = _MONTH_RE.match(month)
    if match is None:
        raise ValueError(f"as_of_month must look like YYYY-MM, got {month!r}")
    return (int(match.group(1)) - 1970) * 12 + int(match.group(2)) - 1


def _month_start(month: IntArray) -> IntArray:
    return np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype(
        "datetime64[D]"
    ).astype(np.int64)


def _month_end(month: IntArray) -> IntArray:
    return _month_start(np.asarray(month, dtype=np.int64) + 1) - 1


def _month_of(day: IntArray) -> IntArray:
    return np.asarray(day, dtype=np.int64).astype("datetime64[D]").astype(
        "datetime64[M]"
    ).astype(np.int64)


def _iso_dates(day: IntArray, present: BoolArray | None = None) -> StrArray:
    """ISO ``YYYY-MM-DD`` strings; empty where ``present`` is false."""
    out = np.datetime_as_string(np.asarray(day, dtype=np.int64).astype("datetime64[D]"))
    out = out.astype(object)
    if present is not None:
        out[~present] = ""
    return out


def _iso_months(month: IntArray) -> StrArray:
    return np.datetime_as_string(np.asarray(month, dtype=np.int64).astype("datetime64[M]")).astype(
        object
    )


def _bools(flag: BoolArray, present: BoolArray | None = None) -> StrArray:
    out = np.where(flag, "true", "false").astype(object)
    if present is not None:
        out[~present] = ""
    return out


def _ids(prefix: str, numbers: IntArray, width: int) -> StrArray:
    """Zero-padded ids; each distinct number is formatted once (risk ids repeat a lot)."""
    distinct, inverse = np.unique(np.asarray(numbers, dtype=np.int64), return_inverse=True)
    labels = np.array([f"{prefix}{int(i):0{width}d}" for i in distinct], dtype=object)
    return labels[inverse.reshape(-1)] if distinct.size else np.zeros(0, dtype=object)


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(max(count, 1))))


@dataclass(frozen=True)
class _Calendar:
    as_of_month: int
    first_month: int
    window_start: int  # first day of the first month
    as_of_end: int  # last day of the as-of month
    weeks: IntArray  # Mondays inside the window

    @classmethod
    def build(cls, as_of_month: str, months: int) -> _Calendar:
        last = _parse_month(as_of_month)
        first = last - months + 1
        start = int(_month_start(np.array([first]))[0])
        end = int(_month_end(np.array([last]))[0])
        first_monday = start + (4 - start) % 7  # day 0 (1970-01-01) was a Thursday
        weeks = np.arange(first_monday, end + 1, 7, dtype=np.int64)
        return cls(last, first, start, end, weeks)


def _uniform_days(rng: np.random.Generator, low: IntArray, high: IntArray) -> IntArray:
    """A uniformly drawn day in [low, high] (inclusive) per element."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 0) + 1
    return np.asarray(low, dtype=np.int64) + np.floor(rng.random(span.shape) * span).astype(
        np.int64
    )


def _quota(rng: np.random.Generator, n: int, shares: Sequence[float]) -> IntArray:
    """Category labels in exactly these shares (largest remainder), randomly ordered.

    Used instead of independent draws where a small demo (40 projects) must still show
    every category in about the intended proportion.
    """
    exact = np.asarray(shares, dtype=np.float64) / float(np.sum(shares)) * n
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    counts[np.argsort(-remainder, kind="stable")[: n - int(counts.sum())]] += 1
    return rng.permutation(np.repeat(np.arange(counts.size, dtype=np.int64), counts))


def _counts_to_index(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For per-group counts, the group index and 0-based position of every expanded row."""
    counts = np.asarray(counts, dtype=np.int64)
    group = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    position = np.arange(group.size, dtype=np.int64) - np.repeat(offsets, counts)
    return group, position


def _group_cumsum(values: FloatArray, counts: IntArray) -> FloatArray:
    total = np.cumsum(values)
    ends = np.cumsum(counts) - 1
    before = np.concatenate(([0.0], total[ends[:-1]])) if counts.size else np.zeros(0)
    return total - np.repeat(before, counts)


def _s_curve(x: FloatArray) -> FloatArray:
    """Cumulative share of budget spent at time share x: S-shaped but not flat at the start."""
    x = np.clip(x, 0.0, 1.0)
    return 0.4 * x + 0.6 * (3 * x**2 - 2 * x**3)


# --------------------------------------------------------------------------------------
# Reference vocabularies
# --------------------------------------------------------------------------------------

_BU_CATALOGUE = (
    ("BU-NET", "Network Products"),
    ("BU-CLOUD", "Cloud Services"),
    ("BU-DEVICE", "Devices"),
)

# (English objects, English actions, Chinese objects, Chinese actions) per BU; index 3 is
# used for business units beyond the three named ones.
_NAME_WORDS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (
        ("5G RAN", "Core router", "Optical transport", "SD-WAN", "Wi-Fi 7 access point",
         "Microwave backhaul", "IP/MPLS backbone", "Network management system"),
        ("software upgrade", "feature release", "platform migration", "performance tuning",
         "cost-down redesign", "security hardening"),
        ("5G 基站", "核心路由器", "光传输", "园区网络", "网管系统"),
        ("软件升级", "版本开发", "平台迁移", "性能优化"),
    ),
    (
        ("Billing platform", "Customer portal", "Data lake", "Kubernetes platform", "CRM",
         "Identity service", "Payment gateway", "Observability stack"),
        ("migration", "modernisation", "rollout", "v2 release", "consolidation",
         "cloud migration"),
        ("计费平台", "数据中台", "客户门户", "容器云平台", "统一身份认证"),
        ("迁移", "升级改造", "上线", "重构"),
    ),
    (
        ("Smartphone", "Smartwatch", "Wireless earbuds", "Tablet", "Smart home hub",
         "Camera module", "Laptop"),
        ("NPI", "firmware update", "next-gen development", "cost reduction",
         "battery life improvement"),
        ("智能手表", "旗舰手机", "平板电脑", "智能家居网关", "无线耳机"),
        ("新品开发", "固件升级", "降本项目", "续航优化"),
    ),
    (
        ("ERP", "Supply chain system", "Finance system", "HR system", "Data warehouse",
         "Document management"),
        ("rollout", "upgrade", "replacement", "integration"),
        ("供应链系统", "财务系统", "人力资源系统", "数据仓库"),
        ("升级", "上线", "替换", "集成"),
    ),
)
_EN_SUFFIXES = (" Phase 2", " Phase 3", " R2", " (pilot)")
_ZH_SUFFIXES = ("二期", "三期", "（试点）")

_PROGRAMS = (
    ("5G RAN Program", "Transport Network Program", "Enterprise Networking Program"),
    ("Digital BSS Program", "Cloud Platform Program", "Data & AI Program"),
    ("Flagship Phone Program", "Wearables Program", "Smart Home Program"),
)
_SPONSORS = (
    "Zhang Wei", "Liu Yang", "Li Na", "Sarah Miller", "Wang Fang", "Chen Jie",
    "David Brown", "Zhao Lei", "Huang Min", "Anna Schmidt", "Sun Tao", "Wu Xia",
)

# Milestone templates in life-cycle order: (name, share of planned duration, gate name).
_MILESTONES: tuple[tuple[str, float, str], ...] = (
    ("Project kick-off", 0.02, ""),
    ("DCP1 charter decision", 0.05, "DCP1"),
    ("Requirements baseline", 0.15, ""),
    ("TR2 requirements review", 0.22, "TR2"),
    ("DCP2 plan decision", 0.30, "DCP2"),
    ("TR4 design review", 0.45, "TR4"),
    ("Integration test complete", 0.65, ""),
    ("TR5 system test review", 0.78, "TR5"),
    ("DCP3 launch decision", 0.90, "DCP3"),
    ("Project closure", 1.00, ""),
)

_PROCESS_AREAS = np.array(
    [
        "project planning", "project monitoring and control", "requirements management",
        "configuration management", "verification", "risk management",
        "supplier management", "measurement and analysis",
    ],
    dtype=object,
)

# The process architecture: (name, level, category). Fixed size by design.
_PROCESSES: tuple[tuple[str, str, str], ...] = (
    ("Develop Strategy to Execute (DSTE)", "L1", "strategic"),
    ("Integrated Product Development (IPD)", "L1", "core"),
    ("Lead to Cash (LTC)", "L1", "core"),
    ("Issue to Resolution (ITR)", "L1", "core"),
    ("Manage Finance", "L1", "support"),
    ("Manage Human Resources", "L1", "support"),
    ("Manage Quality and Operations", "L1", "support"),
    ("Portfolio management", "L2", "strategic"),
    ("Program management", "L2", "strategic"),
    ("Project management", "L2", "core"),
    ("Requirements management", "L2", "core"),
    ("Product development", "L2", "core"),
    ("Verification and validation", "L2", "core"),
    ("Configuration management", "L2", "core"),
    ("Supplier management", "L2", "support"),
    ("Process quality assurance", "L2", "support"),
    ("Measurement and analysis", "L2", "support"),
    ("Budget and cost control", "L2", "support"),
    ("Competency development", "L2", "support"),
    ("Project initiation and charter", "L3", "core"),
    ("Project planning", "L3", "core"),
    ("Project monitoring and control", "L3", "core"),
    ("Risk management", "L3", "core"),
    ("Change control", "L3", "core"),
    ("Project closure", "L3", "core"),
    ("Requirements elicitation", "L3", "core"),
    ("Technical reviews (TR)", "L3", "core"),
    ("Decision checkpoints (DCP)", "L3", "strategic"),
    ("Defect management", "L3", "core"),
    ("Release management", "L3", "core"),
    ("Process tailoring", "L3", "support"),
    ("Lessons learned management", "L3", "support"),
    ("Earned value reporting", "L4", "core"),
    ("Risk register maintenance", "L4", "core"),
    ("Change control board operation", "L4", "core"),
    ("Milestone tracking", "L4", "core"),
    ("Timesheet approval", "L4", "support"),
    ("PQA audit execution", "L4", "support"),
    ("Non-conformance follow-up", "L4", "support"),
    ("WBS-based estimation", "L4", "core"),
)

_LESSON_CATEGORIES = np.array(
    [
        "requirements", "estimation", "supplier management", "testing",
        "stakeholder communication", "risk management", "configuration management",
        "需求变更控制",
    ],
    dtype=object,
)

# (course, hours, certification it can lead to, share of attendees certified)
_COURSES: tuple[tuple[str, float, str, float], ...] = (
    ("PMP exam prep", 35.0, "PMP", 0.55),
    ("Risk management workshop", 8.0, "", 0.0),
    ("IPD process training", 16.0, "", 0.0),
    ("敏捷项目管理", 12.0, "", 0.0),
    ("Earned value management basics", 6.0, "", 0.0),
    ("Scrum Master certification", 16.0, "CSM", 0.8),
    ("CMMI process awareness", 4.0, "", 0.0),
    ("Leading cross-functional teams", 24.0, "", 0.0),
)
_TEAM_ROLES = np.array(
    ["developer", "test_engineer", "business_analyst", "architect", "developer"], dtype=object
)

_RESPONDENT_ROLES = (
    "pmo_lead", "executive", "project_manager", "project_manager", "qa_engineer",
    "process_owner", "project_manager", "project_manager", "qa_engineer", "process_owner",
    "executive", "project_manager",
)
# Executives tend to see the process through rose-tinted glasses, PQA engineers do not.
_ROLE_BIAS = {
    "pmo_lead": 0.0, "executive": 0.35, "project_manager": 0.1, "qa_engineer": -0.35,
    "process_owner": 0.2,
}
_ANSWERS = np.array(["not", "partially", "largely", "fully"], dtype=object)


# --------------------------------------------------------------------------------------
# Portfolio model: projects, health and earned value
# --------------------------------------------------------------------------------------


@dataclass
class _Portfolio:
    ids: StrArray
    bu: IntArray
    status: IntArray
    start: IntArray
    duration: FloatArray  # planned duration in months
    baseline_finish: IntArray
    actual_finish: IntArray  # meaningful for closed projects only
    hold_from: IntArray  # first day on hold (on_hold projects only)
    bac: FloatArray
    manager: IntArray  # person index
    se_target: FloatArray  # hidden schedule efficiency the project drifts towards
    ce_target: FloatArray  # hidden cost efficiency
    n_managers: int
    # filled in by the earned-value simulation
    earned_months: FloatArray  # "tau": planned months of work earned so far
    elapsed_months: FloatArray
    se_recent: FloatArray
    forecast_finish: IntArray

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def reporting_end(self, cal: _Calendar) -> IntArray:
        """Last day a project books work: finish, start of hold, or the as-of date."""
        end = np.full(self.n, cal.as_of_end, dtype=np.int64)
        end = np.where(self.status == CLOSED, self.actual_finish, end)
        return np.where(self.status == ON_HOLD, self.hold_from - 1, end)

    def staffed(self) -> BoolArray:
        return np.isin(self.status, (ACTIVE, ON_HOLD, CLOSED))


def _mean_efficiency(target: FloatArray, elapsed: FloatArray) -> FloatArray:
    """Average efficiency over ``elapsed`` months when it decays from 1 towards ``target``."""
    e = np.maximum(elapsed, 1.0)
    return target + (1 - target) * _DRIFT_MONTHS / e * (1 - np.exp(-e / _DRIFT_MONTHS))


def _plan_portfolio(rng: np.random.Generator, n: int, n_bu: int, cal: _Calendar) -> _Portfolio:
    width = _width(n, 4)
    ids = _ids("PRJ-", np.arange(1, n + 1), width)
    bu_weights = np.linspace(1.3, 0.8, n_bu)
    bu = rng.choice(n_bu, size=n, p=bu_weights / bu_weights.sum()).astype(np.int64)
    status = _quota(rng, n, _STATUS_MIX)
    duration = np.clip(np.round(rng.lognormal(np.log(13.0), 0.4, n)), 4, 36).astype(np.float64)
    bac = np.round(np.clip(rng.lognormal(np.log(600_000), 0.9, n), 50_000, 5_000_000), -3).astype(
        np.float64
    )

    # Health: ~30% of projects are troubled on schedule, cost or both; healthy ones hover
    # around plan. This gives an organisation SPI/CPI in the mid 0.9s.
    health = _quota(rng, n, (0.62, 0.15, 0.10, 0.13))  # fine / late / over budget / both
    schedule_trouble = np.isin(health, (1, 3))
    cost_trouble = np.isin(health, (2, 3))
    se_target = np.where(
        schedule_trouble,
        rng.uniform(0.74, 0.89, n),
        np.clip(rng.normal(1.01, 0.05, n), 0.9, 1.15),
    )
    ce_target = np.where(
        cost_trouble,
        rng.uniform(0.74, 0.89, n),
        np.clip(rng.normal(1.01, 0.045, n), 0.9, 1.15),
    )
    start = np.zeros(n, dtype=np.int64)
    actual_finish = np.zeros(n, dtype=np.int64)
    hold_from = np.zeros(n, dtype=np.int64)
    day_span = cal.as_of_end - cal.window_start

    # Active: somewhere between just started and nearly done (by earned progress).
    progress = rng.uniform(0.02, 0.93, n)
    guess = progress * duration / se_target
    elapsed = progress * duration / _mean_efficiency(se_target, guess)
    active_start = cal.as_of_end - np.round(elapsed * DAYS_PER_MONTH).astype(np.int64) + 1
    start = np.where(status == ACTIVE, active_start, start)

    # On hold: stalled one to three months ago, part-way through.
    hold_months = rng.integers(1, 4, n)
    hold_progress = rng.uniform(0.15, 0.7, n)
    hold_elapsed = hold_progress * duration / se_target
    hold_from = _month_start(cal.as_of_month - hold_months + 1)
    hold_start = hold_from - np.round(hold_elapsed * DAYS_PER_MONTH).astype(np.int64)
    start = np.where(status == ON_HOLD, hold_start, start)

    # Closed: finished inside the window.
    finish = cal.window_start + np.floor(rng.random(n) * (day_span + 1)).astype(np.int64)
    total = duration / _mean_efficiency(se_target, duration / se_target)
    closed_start = finish - np.round(total * DAYS_PER_MONTH).astype(np.int64) + 1
    start = np.where(status == CLOSED, closed_start, start)
    actual_finish = np.where(status == CLOSED, finish, actual_finish)

    # Cancelled ones started some time ago; proposed ones are planned to start soon.
    cancelled_start = cal.as_of_end - rng.integers(60, 500, n)
    proposed_start = cal.as_of_end + rng.integers(15, 120, n)
    start = np.where(status == CANCELLED, cancelled_start, start)
    start = np.where(status == PROPOSED, proposed_start, start)

    baseline_finish = start + np.round(duration * DAYS_PER_MONTH).astype(np.int64) - 1

    # Project managers run one to three projects, mostly within one business unit.
    per_manager = rng.choice(np.array([1, 2, 3]), size=n, p=(0.45, 0.35, 0.20))
    cumulative = np.cumsum(per_manager)
    n_managers = int(np.searchsorted(cumulative, n)) + 1
    load = per_manager[:n_managers].copy()
    load[-1] -= int(cumulative[n_managers - 1]) - n
    slots = np.repeat(np.arange(n_managers, dtype=np.int64), load)
    order = np.lexsort((rng.random(n), bu))
    manager = np.empty(n, dtype=np.int64)
    manager[order] = slots

    zeros = np.zeros(n)
    return _Portfolio(
        ids=ids, bu=bu, status=status, start=start, duration=duration,
        baseline_finish=baseline_finish, actual_finish=actual_finish, hold_from=hold_from,
        bac=bac, manager=manager, se_target=se_target, ce_target=ce_target,
        n_managers=n_managers, earned_months=zeros.copy(),
        elapsed_months=zeros.copy(), se_recent=np.ones(n),
        forecast_finish=baseline_finish.copy(),
    )


def _evm_snapshots(rng: np.random.Generator, pf: _Portfolio, cal: _Calendar) -> pd.DataFrame:
    """Cumulative PV/EV/AC per month, simulated from each project's start.

    Work is earned at a monthly schedule efficiency that starts near 1 and drifts smoothly
    towards the project's hidden target with a slow wobble, so SPI/CPI move gradually.
    EV = BAC * S(earned months / planned months) is therefore non-decreasing by construction.
    """
    idx = np.flatnonzero(pf.staffed())
    end = pf.reporting_end(cal)[idx]
    end = np.where(pf.status[idx] == ON_HOLD, cal.as_of_end, end)  # on-hold still reports
    start = pf.start[idx]
    first = _month_of(start)
    length = _month_of(end) - first + 1
    group, k = _counts_to_index(length)
    month = first[group] + k
    day = np.minimum(_month_end(month), end[group])
    elapsed = (day - start[group] + 1) / DAYS_PER_MONTH
    step = elapsed - np.concatenate(([0.0], elapsed[:-1]))
    step[k == 0] = elapsed[k == 0]

    m = idx.size
    amp_s, amp_c = rng.uniform(0.01, 0.04, m), rng.uniform(0.01, 0.04, m)
    period_s, period_c = rng.uniform(6, 12, m), rng.uniform(6, 12, m)
    phase_s, phase_c = rng.uniform(0, 2 * np.pi, m), rng.uniform(0, 2 * np.pi, m)
    se_t, ce_t = pf.se_target[idx][group], pf.ce_target[idx][group]
    decay = np.exp(-k / _DRIFT_MONTHS)
    se = se_t + (1 - se_t) * decay + amp_s[group] * np.sin(2 * np.pi * k / period_s[group]
                                                           + phase_s[group])
    ce = ce_t + (1 - ce_t) * decay + amp_c[group] * np.sin(2 * np.pi * k / period_c[group]
                                                           + phase_c[group])
    on_hold = (pf.status[idx] == ON_HOLD)[group] & (day >= pf.hold_from[idx][group])
    se = np.where(on_hold, 0.0, se)

    earned = _group_cumsum(se * step, length)
    last = np.cumsum(length) - 1
    duration = pf.duration[idx]
    closed = pf.status[idx] == CLOSED
    # Closed projects earn exactly their plan at finish; running ones stay short of it.
    scale = np.where(
        closed, duration / earned[last], np.minimum(1.0, 0.97 * duration / earned[last])
    )
    earned = earned * scale[group]

    bac = pf.bac[idx][group]
    planned_value = bac * _s_curve(elapsed / duration[group])
    earned_value = bac * _s_curve(earned / duration[group])
    # Spend never goes backwards, even when efficiency recovers.
    actual_cost = (
        pd.Series(earned_value / ce).groupby(group).cummax().to_numpy(dtype=np.float64)
    )

    pf.earned_months[idx] = earned[last]
    pf.elapsed_months[idx] = elapsed[last]
    recent = np.where(on_hold[last], se_t[last], se[last] * scale)
    pf.se_recent[idx] = np.maximum(recent, 0.5)
    _forecast_finish(pf, cal)

    keep = month >= cal.first_month
    return pd.DataFrame(
        {
            "project": pf.ids[idx][group][keep],
            "period": _iso_months(month[keep]),
            "planned_value": np.round(planned_value[keep], 2),
            "earned_value": np.round(earned_value[keep], 2),
            "actual_cost": np.round(actual_cost[keep], 2),
        }
    )


def _forecast_finish(pf: _Portfolio, cal: _Calendar) -> None:
    """Forecast = today + remaining planned work at the recent pace (+2 months if on hold)."""
    running = np.isin(pf.status, (ACTIVE, ON_HOLD))
    remaining = np.maximum(pf.duration - pf.earned_months, 0.0) / pf.se_recent
    forecast = cal.as_of_end + np.ceil(remaining * DAYS_PER_MONTH).astype(np.int64)
    forecast = np.where(pf.status == ON_HOLD, forecast + 60, forecast)  # restart pending
    forecast = np.where(running, forecast, pf.baseline_finish)
    pf.forecast_finish = np.where(pf.status == CLOSED, pf.actual_finish, forecast)


def _projects(rng: np.random.Generator, pf: _Portfolio, cal: _Calendar,
              bus: Sequence[tuple[str, str]], person_ids: StrArray) -> pd.DataFrame:
    n = pf.n
    names = _project_names(rng, pf.bu)
    bu_ids = np.array([b[0] for b in bus], dtype=object)
    bu_names = [b[1] for b in bus]
    program_pick = rng.integers(0, 3, n)
    programs = np.empty(n, dtype=object)
    for b, (bu_id, _) in enumerate(bus):
        mask = pf.bu == b
        catalogue = _PROGRAMS[b] if b < len(_PROGRAMS) else tuple(
            f"{bu_id} Program {letter}" for letter in "ABC"
        )
        programs[mask] = np.array(catalogue, dtype=object)[program_pick[mask]]
    programs[rng.random(n) < 0.12] = ""  # stand-alone projects
    portfolio = np.array([f"{name} Portfolio" for name in bu_names], dtype=object)[pf.bu]
    sponsor_pool = np.array(_SPONSORS, dtype=object)
    sponsor = sponsor_pool[(2 * pf.bu + rng.integers(0, 2, n)) % sponsor_pool.size]

    x = np.divide(pf.earned_months, pf.duration)
    phase = np.full(n, "execution", dtype=object)
    phase[(pf.status == ACTIVE) & (x < 0.15)] = "planning"
    phase[(pf.status == ACTIVE) & (x < 0.05)] = "initiation"
    phase[(pf.status == ACTIVE) & (x >= 0.9)] = "closing"
    phase[(pf.status == ON_HOLD) & (x < 0.15)] = "planning"
    phase[pf.status == CLOSED] = "closing"
    phase[pf.status == PROPOSED] = "initiation"
    cancelled = pf.status == CANCELLED
    phase[cancelled] = np.array(["initiation", "planning", "execution"], dtype=object)[
        rng.integers(0, 3, n)
    ][cancelled]

    return pd.DataFrame(
        {
            "id": pf.ids,
            "name": names,
            "business_unit": bu_ids[pf.bu],
            "program": programs,
            "portfolio": portfolio,
            "manager": person_ids[pf.manager],
            "sponsor": sponsor,
            "phase": phase,
            "status": _STATUS_NAMES[pf.status],
            "priority": np.array(["high", "medium", "low"], dtype=object)[
                rng.choice(3, size=n, p=(0.25, 0.5, 0.25))
            ],
            "methodology": np.array(["predictive", "agile", "hybrid"], dtype=object)[
                rng.choice(3, size=n, p=(0.45, 0.25, 0.30))
            ],
            "start": _iso_dates(pf.start),
            "baseline_finish": _iso_dates(pf.baseline_finish),
            "forecast_finish": _iso_dates(pf.forecast_finish, ~cancelled),
            "actual_finish": _iso_dates(pf.actual_finish, pf.status == CLOSED),
            "budget_at_completion": pf.bac,
            "currency": np.where(rng.random(n) < 0.85, "CNY", "USD").astype(object),
            "tailoring_approved": _bools(rng.random(n) < 0.70),
        }
    )


def _project_names(rng: np.random.Generator, bu: IntArray) -> StrArray:
    """Names like "Billing platform migration" or "5G 基站软件升级", built from word lists."""
    n = bu.size
    chinese = rng.random(n) < 0.2
    u_object, u_action = rng.random(n), rng.random(n)
    suffixed = rng.random(n) < 0.2
    u_suffix = rng.random(n)
    vocab = np.minimum(bu, len(_NAME_WORDS) - 1)
    names = np.empty(n, dtype=object)
    for v, (en_obj, en_act, zh_obj, zh_act) in enumerate(_NAME_WORDS):
        for is_zh, objects, actions, suffixes, sep in (
            (False, en_obj, en_act, _EN_SUFFIXES, " "),
            (True, zh_obj, zh_act, _ZH_SUFFIXES, ""),
        ):
            mask = (vocab == v) & (chinese == is_zh)
            if not mask.any():
                continue
            obj = np.array(objects, dtype=object)[(u_object[mask] * len(objects)).astype(int)]
            act = np.array(actions, dtype=object)[(u_action[mask] * len(actions)).astype(int)]
            suffix = np.array(suffixes, dtype=object)[(u_suffix[mask] * len(suffixes)).astype(int)]
            suffix[~suffixed[mask]] = ""
            names[mask] = obj + sep + act + suffix
    return names


# --------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    ids: StrArray
    role: StrArray
    n_managers: int
    weekly_capacity: FloatArray
    utilisation: FloatArray
    # person-project assignments, sorted by person then project
    person: IntArray
    project: IntArray
    weight: FloatArray


def _staff(rng: np.random.Generator, pf: _Portfolio) -> _Staff:
    """Managers first (P0001...), then team members: about 1.5 people per project."""
    n_managers = pf.n_managers
    n_people = max(n_managers + 1, round(1.5 * pf.n))
    width = _width(n_people, 4)
    ids = _ids("P", np.arange(1, n_people + 1), width)
    n_members = n_people - n_managers
    role = np.concatenate(
        (
            np.full(n_managers, "project_manager", dtype=object),
            _TEAM_ROLES[rng.integers(0, _TEAM_ROLES.size, n_members)],
        )
    )
    weekly_capacity = np.where(rng.random(n_people) < 0.1, 32.0, 40.0)
    utilisation = np.clip(rng.normal(0.84, 0.07, n_people), 0.6, 0.98)
    over = rng.random(n_people) < 0.05
    utilisation = np.where(over, rng.uniform(1.05, 1.3, n_people), utilisation)

    # Managers book on every staffed project they run.
    staffed = np.flatnonzero(pf.staffed())
    mgr_person, mgr_project = pf.manager[staffed], staffed
    mgr_weight = np.ones(staffed.size)

    # Team members: a primary project (bigger budgets get bigger teams), 35% a second one.
    running = np.flatnonzero(np.isin(pf.status, (ACTIVE, ON_HOLD)))
    primary_pool = running if running.size else staffed
    members = np.arange(n_managers, n_people, dtype=np.int64)
    if primary_pool.size and members.size:
        w = np.sqrt(pf.bac[primary_pool])
        primary = primary_pool[rng.choice(primary_pool.size, size=members.size, p=w / w.sum())]
        second = staffed[rng.integers(0, staffed.size, members.size)]
        has_second = (rng.random(members.size) < 0.35) & (second != primary)
        mem_person = np.concatenate((members, members[has_second]))
        mem_project = np.concatenate((primary, second[has_second]))
        mem_weight = np.concatenate((np.full(members.size, 0.7), np.full(has_second.sum(), 0.3)))
    else:
        mem_person = mem_project = np.zeros(0, dtype=np.int64)
        mem_weight = np.zeros(0)

    person = np.concatenate((mgr_person, mem_person))
    project = np.concatenate((mgr_project, mem_project))
    weight = np.concatenate((mgr_weight, mem_weight))
    order = np.lexsort((project, person))
    return _Staff(
        ids=ids, role=role, n_managers=n_managers, weekly_capacity=weekly_capacity,
        utilisation=utilisation, person=person[order], project=project[order],
        weight=weight[order],
    )


def _team_picker(staff: _Staff, n_projects: int) -> Callable[[IntArray, FloatArray], IntArray]:
    """Returns f(project, u) -> a team member of that project (or -1 if it has none)."""
    members = staff.person >= staff.n_managers
    order = np.lexsort((staff.person[members], staff.project[members]))
    team = staff.person[members][order]
    counts = np.bincount(staff.project[members], minlength=n_projects).astype(np.int64)
    offsets = np.cumsum(counts) - counts

    def pick(project: IntArray, u: FloatArray) -> IntArray:
        if team.size == 0:
            return np.full(project.size, -1, dtype=np.int64)
        c = counts[project]
        within = np.minimum(np.floor(u * c).astype(np.int64), np.maximum(c - 1, 0))
        chosen = np.minimum(offsets[project] + within, team.size - 1)
        return np.where(c > 0, team[chosen], -1)

    return pick


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _milestones(
    rng: np.random.Generator, pf: _Portfolio, cal: _Calendar
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Milestones and the gate reviews of the achieved decision gates."""
    idx = np.flatnonzero(np.isin(pf.status, (PROPOSED, ACTIVE, ON_HOLD, CLOSED)))
    m, t = idx.size, len(_MILESTONES)
    # Choose 4-8 of the templates per project, always including the closure milestone.
    keys = rng.random((m, t))
    keys[:, -1] = -1.0
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    chosen = rank < rng.integers(4, 9, m)[:, None]
    row, template = np.nonzero(chosen)
    number = np.cumsum(chosen, axis=1)[row, template].astype(np.int64)
    p = idx[row]
    share = np.array([x for _, x, _ in _MILESTONES])[template]
    names = np.array([name for name, _, _ in _MILESTONES], dtype=object)[template]
    gates = np.array([g for _, _, g in _MILESTONES], dtype=object)[template]
    is_gate = gates != ""

    start, duration = pf.start[p], pf.duration[p]
    baseline = start + np.round(share * duration * DAYS_PER_MONTH).astype(np.int64)
    baseline = np.minimum(baseline, pf.baseline_finish[p])
    status = pf.status[p]
    closed = status == CLOSED
    span = np.where(closed, (pf.actual_finish[p] - start + 1) / DAYS_PER_MONTH, 0.0)
    rate = np.where(
        closed,
        duration / np.maximum(span, 1e-9),
        pf.earned_months[p] / np.maximum(pf.elapsed_months[p], 1e-9),
    )
    rate = np.clip(rate, 0.5, 1.5)
    natural = start + np.round(share * duration / rate * DAYS_PER_MONTH).astype(np.int64)
    # Teams plan milestones with some float: small slips are absorbed, big ones are not.
    slack = rng.integers(0, 32, p.size)
    delay = np.maximum(natural - baseline - slack, 0)
    early = np.where(delay == 0, rng.integers(0, 5, p.size), 0)
    actual = baseline + delay - early
    actual = np.where(closed, np.minimum(actual, pf.actual_finish[p]), actual)
    actual = np.where(closed & (share >= 1.0), pf.actual_finish[p], actual)
    actual = np.maximum(actual, start)
    # Milestones are reached in sequence.
    actual = np.asarray(pd.Series(actual).groupby(p).cummax(), dtype=np.int64)

    achieved = np.where(
        closed,
        True,
        (actual <= cal.as_of_end) & (share < 1.0) & np.isin(status, (ACTIVE, ON_HOLD)),
    )
    achieved &= ~((status == ON_HOLD) & (actual >= pf.hold_from[p]))
    # Overdue milestones are re-forecast a few weeks out, never beyond the project finish.
    replan = cal.as_of_end + rng.integers(7, 45, m)[row]
    forecast = np.maximum(actual, replan)
    forecast = np.where(status == ON_HOLD, forecast + 60, forecast)
    project_forecast = pf.forecast_finish[p]
    forecast = np.where(share >= 1.0, project_forecast, np.minimum(forecast, project_forecast))
    forecast = np.where(status == PROPOSED, baseline, forecast)
    # Only what matters in the window: achieved in it, or still to come.
    keep = ~achieved | (actual >= cal.window_start)

    milestones = pd.DataFrame(
        {
            "project": pf.ids[p],
            "id": _ids("M", number, 2),
            "name": names,
            "is_gate": _bools(is_gate),
            "baseline_date": _iso_dates(baseline),
            "forecast_date": _iso_dates(forecast, ~achieved),
            "actual_date": _iso_dates(actual, achieved),
        }
    )[keep]

    # Gate reviews: ~75% pass first time; the rest are reviewed twice.
    g = np.flatnonzero(keep & achieved & is_gate)
    retry_gap = rng.integers(10, 31, g.size)
    retried = (rng.random(g.size) < 0.25) & (actual[g] - retry_gap >= cal.window_start)
    first_outcome = np.where(
        retried,
        np.where(rng.random(g.size) < 0.6, "conditional", "fail"),
        "pass",
    ).astype(object)
    second_outcome = np.where(rng.random(g.size) < 0.85, "pass", "conditional").astype(object)
    r = g[retried]
    reviews = pd.DataFrame(
        {
            "project": np.concatenate((pf.ids[p[g]], pf.ids[p[r]])),
            "gate": np.concatenate((gates[g], gates[r])),
            "date": _iso_dates(np.concatenate((actual[g] - np.where(retried, retry_gap, 0),
                                               actual[r]))),
            "outcome": np.concatenate((first_outcome, second_outcome[retried])),
            "attempt": np.concatenate((np.ones(g.size, np.int64), np.full(r.size, 2, np.int64))),
        }
    )
    return milestones, reviews


def _risks(
    rng: np.random.Generator,
    pf: _Portfolio,
    cal: _Calendar,
    person_ids: StrArray,
    team_member: Callable[[IntArray, FloatArray], IntArray],
) -> pd.DataFrame:
    idx = np.flatnonzero(np.isin(pf.status, (ACTIVE, ON_HOLD)))
    counts = rng.integers(3, 13, idx.size)
    group, position = _counts_to_index(counts)
    p = idx[group]
    size = p.size
    probability = np.round(0.05 + 0.85 * rng.beta(2.0, 3.0, size), 2)
    impact = rng.choice(np.arange(1, 6), size=size, p=(0.1, 0.25, 0.3, 0.22, 0.13))
    raised = _uniform_days(rng, np.maximum(pf.start[p], cal.window_start),
                           np.full(size, cal.as_of_end))

    # Register hygiene is a property of the project: most review monthly, some let it rot.
    hygiene = rng.choice(3, size=idx.size, p=(0.7, 0.2, 0.1))[group]  # good / stale / mixed
    lag = np.select(
        [hygiene == 0, hygiene == 1],
        [rng.integers(0, 31, size), rng.integers(61, 151, size)],
        rng.integers(0, 91, size),
    )
    reviewed = np.clip(cal.as_of_end - lag, raised, cal.as_of_end)
    never_reviewed = rng.random(size) < np.where(hygiene == 1, 0.12, 0.03)

    high = (probability * impact >= 1.8) | ((impact >= 4) & (probability >= 0.4))
    has_plan = rng.random(size) < np.where(high, 0.8, 0.55)
    materialised = rng.random(size) < np.where(high, 0.08, 0.03)
    member = team_member(p, rng.random(size))
    owner_idx = np.where((rng.random(size) < 0.5) | (member < 0), pf.manager[p], member)

    return pd.DataFrame(
        {
            "project": pf.ids[p],
            "id": _ids("R", position + 1, 2),
            "probability": probability,
            "impact": impact.astype(np.int64),
            "status": np.where(rng.random(size) < 0.25, "closed", "open").astype(object),
            "owner": person_ids[owner_idx],
            "raised": _iso_dates(raised),
            "last_reviewed": _iso_dates(reviewed, ~never_reviewed),
            "has_response_plan": _bools(has_plan),
            "materialised": _bools(materialised),
        }
    )


def _work_items(rng: np.random.Generator, pf: _Portfolio, cal: _Calendar) -> pd.DataFrame:
    """~30 tracker items per project, in proportion to the months each ran in the window."""
    idx = np.flatnonzero(pf.staffed())
    end = pf.reporting_end(cal)[idx]
    begin = np.maximum(pf.start[idx], cal.window_start)
    active_months = np.maximum(end - begin + 1, 1) / DAYS_PER_MONTH
    size_factor = rng.gamma(4.0, 0.25, idx.size) * (pf.bac[idx] / 600_000) ** 0.2
    exposure = active_months * size_factor
    rate = 30.0 * pf.n / max(float(exposure.sum()), 1e-9)
    counts = rng.poisson(rate * exposure).astype(np.int64)
    group, position = _counts_to_index(counts)
    p = idx[group]
    size = p.size

    kind = rng.choice(4, size=size, p=(0.2, 0.45, 0.3, 0.05))  # requirement/task/bug/incident
    defect = kind >= 2
    severity = rng.choice(4, size=size, p=(0.05, 0.25, 0.5, 0.2))
    created = _uniform_days(rng, begin[group], end[group])
    mean_days = np.array([45.0, 20.0, 18.0, 4.0])[kind]
    resolved = created + np.ceil(rng.exponential(mean_days)).astype(np.int64)
    closed_project = pf.status[p] == CLOSED
    # Items still open at closure are closed out (or transferred) with the project.
    resolved = np.where(closed_project, np.minimum(resolved, end[group]), resolved)
    done = resolved <= np.minimum(end[group], cal.as_of_end)
    status = np.where(
        done,
        np.where(rng.random(size) < 0.65, "closed", "resolved"),
        np.where(rng.random(size) < 0.6, "in_progress", "open"),
    ).astype(object)
    due_days = np.where(
        defect,
        np.array([3, 10, 30, 60])[severity],
        rng.integers(14, 91, size),
    )
    has_due = rng.random(size) >= 0.15
    # Bugs escape to the field once there is a release: late in the project or after it.
    released = (pf.status[p] == CLOSED) | (pf.earned_months[p] >= 0.6 * pf.duration[p])
    escape_rate = np.where(released, 0.12, 0.02)
    keys = pd.Series(pf.ids[p], dtype="str").str.cat(
        pd.Series(position + 1).astype("str"), sep="-"
    )

    return pd.DataFrame(
        {
            "project": pf.ids[p],
            "key": keys.to_numpy(dtype=object),
            "type": np.array(["requirement", "task", "bug", "incident"], dtype=object)[kind],
            "priority": np.array(["critical", "high", "medium", "low"], dtype=object)[
                rng.choice(4, size=size, p=(0.05, 0.2, 0.5, 0.25))
            ],
            "severity": np.where(
                defect, np.array(["critical", "major", "minor", "trivial"])[severity], ""
            ).astype(object),
            "status": status,
            "created": _iso_dates(created),
            "resolved": _iso_dates(resolved, done),
            "due": _iso_dates(created + due_days, has_due),
            "found_after_release": _bools(rng.random(size) < escape_rate, kind == 2),
        }
    )


def _qa_audits(
    rng: np.random.Generator, pf: _Portfolio, cal: _Calendar
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PQA audits of active projects and the non-conformances they raised."""
    idx = np.flatnonzero(pf.status == ACTIVE)
    counts = rng.choice(4, size=idx.size, p=(0.2, 0.35, 0.3, 0.15)).astype(np.int64)
    group, _ = _counts_to_index(counts)
    p = idx[group]
    size = p.size
    date = _uniform_days(rng, np.maximum(pf.start[p], cal.window_start),
                         np.full(size, cal.as_of_end))
    order = np.lexsort((date, p))
    p, date = p[order], date[order]
    checked = rng.integers(10, 41, size)
    poor = rng.random(size) < 0.08
    rate = np.where(poor, rng.uniform(0.4, 0.7, size), 1.0 - rng.beta(1.5, 14.0, size))
    compliant = np.minimum(np.round(checked * rate).astype(np.int64), checked)
    n_auditors = max(3, -(-pf.n // 40))
    auditor = rng.integers(1, n_auditors + 1, size)
    audit_ids = _ids("QA-", np.arange(1, size + 1), _width(size, 5))
    audits = pd.DataFrame(
        {
            "id": audit_ids,
            "project": pf.ids[p],
            "date": _iso_dates(date),
            "process_area": _PROCESS_AREAS[rng.integers(0, _PROCESS_AREAS.size, size)],
            "items_checked": checked.astype(np.int64),
            "items_compliant": compliant,
            "auditor": _ids("QA", auditor, _width(n_auditors, 2)),
        }
    )

    # About one NC per 2-3 non-compliant checklist items.
    gap = checked - compliant
    nc_counts = np.floor(gap / rng.uniform(2.0, 3.0, size) + rng.random(size)).astype(np.int64)
    nc_counts = np.where(gap > 0, np.maximum(nc_counts, 1), 0)
    a, _ = _counts_to_index(nc_counts)
    nsize = a.size
    raised = np.minimum(date[a] + rng.integers(0, 4, nsize), cal.as_of_end)
    due = raised + rng.integers(14, 46, nsize)
    fate = rng.choice(3, size=nsize, p=(0.7, 0.15, 0.15))  # on time / late / still open
    on_time = raised + np.floor(rng.random(nsize) * (due - raised + 1)).astype(np.int64)
    late = due + rng.integers(1, 31, nsize)
    closed = np.where(fate == 0, on_time, late)
    is_closed = (fate != 2) & (closed <= cal.as_of_end)
    ncs = pd.DataFrame(
        {
            "id": _ids("NC-", np.arange(1, nsize + 1), _width(nsize, 5)),
            "audit": audit_ids[a],
            "project": pf.ids[p[a]],
            "severity": np.array(["major", "minor", "observation"], dtype=object)[
                rng.choice(3, size=nsize, p=(0.2, 0.6, 0.2))
            ],
            "raised": _iso_dates(raised),
            "due": _iso_dates(due),
            "closed": _iso_dates(closed, is_closed),
        }
    )
    return audits, ncs


def _changes(rng: np.random.Generator, pf: _Portfolio, cal: _Calendar) -> pd.DataFrame:
    idx = np.flatnonzero(pf.staffed())
    counts = np.minimum(rng.poisson(1.8, idx.size), 6).astype(np.int64)
    group, position = _counts_to_index(counts)
    p = idx[group]
    size = p.size
    end = pf.reporting_end(cal)[p]
    raised = _uniform_days(rng, np.maximum(pf.start[p], cal.window_start), end)
    order = np.lexsort((raised, p))
    raised = raised[order]
    kind = rng.choice(3, size=size, p=(0.45, 0.30, 0.25))  # scope / schedule / cost
    decided = raised + rng.integers(3, 31, size)
    is_decided = (decided <= cal.as_of_end) & (rng.random(size) >= 0.05)
    approved = rng.random(size) < 0.8
    bac = pf.bac[p]
    impact_days = np.select(
        [kind == 0, kind == 1], [rng.integers(0, 31, size), rng.integers(5, 61, size)], 0
    )
    impact_share = np.select(
        [kind == 0, kind == 1], [rng.uniform(0.0, 0.05, size), rng.uniform(0.0, 0.02, size)],
        rng.uniform(0.01, 0.08, size),
    )
    return pd.DataFrame(
        {
            "project": pf.ids[p],
            "id": _ids("CR-", position + 1, 2),
            "kind": np.array(["scope", "schedule", "cost"], dtype=object)[kind],
            "raised": _iso_dates(raised),
            "decided": _iso_dates(decided, is_decided),
            "approved": _bools(approved, is_decided),
            "via_change_board": _bools(rng.random(size) < 0.85),
            "impact_days": impact_days.astype(np.int64),
            "impact_cost": np.round(bac * impact_share, -2),
        }
    )


def _timesheets_and_capacity(
    rng: np.random.Generator, pf: _Portfolio, cal: _Calendar, staff: _Staff
) -> tuple[pd.DataFrame, pd.DataFrame]:
    weeks = cal.weeks
    n_weeks, n_people = weeks.size, staff.ids.size
    week_labels = _iso_dates(weeks)

    capacity = pd.DataFrame(
        {
            "person": np.repeat(staff.ids, n_weeks),
            "week": np.tile(week_labels, n_people),
            "hours": np.repeat(staff.weekly_capacity, n_weeks),
        }
    )

    # Each assignment books every week its project runs; a person's hours are split
    # across the projects running that week in proportion to the assignment weights.
    end = pf.reporting_end(cal)[staff.project]
    first = np.searchsorted(weeks, pf.start[staff.project] - 6)  # week containing start
    last = np.searchsorted(weeks, end, side="right") - 1
    counts = np.maximum(last - first + 1, 0).astype(np.int64)
    a, k = _counts_to_index(counts)
    week = first[a] + k
    person = staff.person[a]
    cell = person * n_weeks + week
    share = staff.weight[a] / np.bincount(cell, weights=staff.weight[a],
                                          minlength=n_people * n_weeks)[cell]
    noise = rng.normal(1.0, 0.06, n_people * n_weeks)[cell]
    hours = staff.weekly_capacity[person] * staff.utilisation[person] * noise * share
    hours = np.maximum(np.round(hours * 2) / 2, 0.5)  # people book in half hours
    timesheets = pd.DataFrame(
        {
            "person": staff.ids[person],
            "project": pf.ids[staff.project[a]],
            "week": week_labels[week],
            "hours": hours,
        }
    )
    return timesheets, capacity


def _processes_and_improvements(
    rng: np.random.Generator, cal: _Calendar, staff: _Staff
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(_PROCESSES)
    ids = _ids("PROC-", np.arange(1, n + 1), 2)
    owner = staff.ids[rng.integers(0, staff.n_managers, n)]
    owner[rng.random(n) < 0.15] = ""
    reviewed = cal.as_of_end - np.where(
        rng.random(n) < 0.2, rng.integers(366, 800, n), rng.integers(10, 330, n)
    )
    never = rng.random(n) < 0.05
    processes = pd.DataFrame(
        {
            "id": ids,
            "name": np.array([name for name, _, _ in _PROCESSES], dtype=object),
            "level": np.array([level for _, level, _ in _PROCESSES], dtype=object),
            "category": np.array([cat for _, _, cat in _PROCESSES], dtype=object),
            "owner": owner,
            "documented": _bools(rng.random(n) < 0.85),
            "last_reviewed": _iso_dates(reviewed, ~never),
            "has_kpi": _bools(rng.random(n) < 0.75),
        }
    )

    counts = rng.poisson(2.0, n).astype(np.int64)
    proc, _ = _counts_to_index(counts)
    size = proc.size
    raised = np.sort(_uniform_days(rng, np.full(size, cal.window_start),
                                   np.full(size, cal.as_of_end)))
    status = rng.choice(5, size=size, p=(0.2, 0.15, 0.2, 0.35, 0.1))
    implemented = raised + rng.integers(20, 121, size)
    # An improvement cannot be implemented in the future: it is still in progress then.
    status = np.where((status == 3) & (implemented > cal.as_of_end), 2, status)
    improvements = pd.DataFrame(
        {
            "id": _ids("IMP-", np.arange(1, size + 1), _width(size, 3)),
            "process": ids[proc[np.argsort(rng.random(size), kind="stable")]],
            "raised": _iso_dates(raised),
            "status": np.array(
                ["proposed", "approved", "in_progress", "implemented", "rejected"], dtype=object
            )[status],
            "implemented": _iso_dates(implemented, status == 3),
        }
    )
    return processes, improvements


def _lessons_learned(rng: np.random.Generator, pf: _Portfolio, cal: _Calendar) -> pd.DataFrame:
    idx = np.flatnonzero(pf.status == CLOSED)
    counts = np.where(rng.random(idx.size) < 0.8, rng.integers(1, 4, idx.size), 0)
    group, position = _counts_to_index(counts.astype(np.int64))
    p = idx[group]
    size = p.size
    # Distinct categories per project: a random permutation per project, first k taken.
    perm = np.argsort(rng.random((idx.size, _LESSON_CATEGORIES.size)), axis=1)
    category = _LESSON_CATEGORIES[perm[group, position]] if size else np.zeros(0, dtype=object)
    date = np.clip(pf.actual_finish[p] + rng.integers(-10, 21, size), cal.window_start,
                   cal.as_of_end)
    return pd.DataFrame(
        {
            "project": pf.ids[p],
            "date": _iso_dates(date),
            "category": category,
            "shared": _bools(rng.random(size) < 0.8),
        }
    )


def _training(rng: np.random.Generator, cal: _Calendar, staff: _Staff) -> pd.DataFrame:
    n_people = staff.ids.size
    is_manager = np.arange(n_people) < staff.n_managers
    counts = np.where(
        is_manager,
        np.where(rng.random(n_people) < 0.85, rng.integers(1, 4, n_people), 0),
        np.where(rng.random(n_people) < 0.25, 1, 0),
    ).astype(np.int64)
    person, position = _counts_to_index(counts)
    size = person.size
    n_courses = len(_COURSES)
    perm = np.argsort(rng.random((n_people, n_courses)), axis=1)
    course = perm[person, position] if size else np.zeros(0, dtype=np.int64)
    hours = np.array([h for _, h, _, _ in _COURSES])[course]
    cert_rate = np.array([r for _, _, _, r in _COURSES])[course]
    certification = np.array([c for _, _, c, _ in _COURSES], dtype=object)[course]
    certification[rng.random(size) >= cert_rate] = ""
    return pd.DataFrame(
        {
            "person": staff.ids[person],
            "role": staff.role[person],
            "course": np.array([c for c, _, _, _ in _COURSES], dtype=object)[course],
            "hours": hours,
            "date": _iso_dates(_uniform_days(rng, np.full(size, cal.window_start),
                                             np.full(size, cal.as_of_end))),
            "certification": certification,
        }
    )


def _assessment_responses(
    rng: np.random.Generator, cal: _Calendar, bus: Sequence[tuple[str, str]], model_path: Path
) -> pd.DataFrame:
    model = load_model(model_path)
    pairs = [(q.id, p.level) for d in model.dimensions for p in d.practices for q in p.questions]
    questions = [question for question, _ in pairs]
    levels = [level for _, level in pairs]
    n_resp, n_q = len(_RESPONDENT_ROLES), len(questions)
    roles = np.array(_RESPONDENT_ROLES, dtype=object)
    level_mean = np.select([np.array(levels) <= 2, np.array(levels) == 3], [2.3, 1.4], 0.9)

    # Latent agreement: practice level + item difficulty + respondent and role bias + noise;
    # the spread between respondents is what makes the answers disagree.
    bias = np.array([_ROLE_BIAS.get(str(r), 0.0) for r in roles]) + rng.normal(0, 0.3, n_resp)
    item = rng.normal(0.0, 0.3, n_q)
    latent = level_mean[None, :] + item[None, :] + bias[:, None] + rng.normal(0, 0.6,
                                                                              (n_resp, n_q))
    answer = _ANSWERS[np.clip(np.round(latent), 0, 3).astype(np.int64)]
    dont_know_rate = np.where(roles == "executive", 0.12, 0.04)
    answer[rng.random((n_resp, n_q)) < dont_know_rate[:, None]] = "dont_know"
    submitted = cal.as_of_end - rng.integers(0, 7, n_resp)
    bu_ids = np.array([b[0] for b in bus], dtype=object)
    return pd.DataFrame(
        {
            "respondent": np.repeat(_ids("R", np.arange(1, n_resp + 1), 2), n_q),
            "role": np.repeat(roles, n_q),
            "business_unit": np.repeat(bu_ids[np.arange(n_resp) % bu_ids.size], n_q),
            "question": np.tile(np.array(questions, dtype=object), n_resp),
            "answer": answer.reshape(-1),
            "submitted": np.repeat(_iso_dates(submitted), n_q),
        }
    )


# --------------------------------------------------------------------------------------
# Defects, contracts and output
# --------------------------------------------------------------------------------------


def _defect(table: str, frame: pd.DataFrame, row: int, pk: list[str], column: str,
            value: Any, problem: str) -> dict[str, Any]:
    frame.loc[frame.index[row], column] = value
    return {
        "table": table,
        "key": {c: _plain(frame.iloc[row][c]) for c in pk},
        "column": column,
        "value": _plain(value),
        "problem": problem,
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _inject_defects(
    rng: np.random.Generator, frames: dict[str, pd.DataFrame], pks: Mapping[str, list[str]],
    project_id_width: int
) -> list[dict[str, Any]]:
    """The five deliberate data-quality defects validation must catch."""
    defects: list[dict[str, Any]] = []
    min_rows = 3

    evm = frames["evm_snapshots"]
    if len(evm) >= min_rows:
        # A middle month of a project with at least three months, so its neighbours are fine.
        sizes = evm.groupby("project", sort=True)["period"].transform("size").to_numpy()
        first = ~evm["project"].duplicated().to_numpy()
        candidates = np.flatnonzero((sizes >= 3) & first)
        if candidates.size:
            row = int(candidates[rng.integers(candidates.size)]) + 1
            value = -float(evm["actual_cost"].iloc[row]) or -1250.0
            defects.append(_defect("evm_snapshots", evm, row, pks["evm_snapshots"],
                                   "actual_cost", value, "negative actual_cost"))

    milestones = frames["milestones"]
    if len(milestones) >= min_rows:
        candidates = np.flatnonzero((milestones["is_gate"] == "false").to_numpy())
        if candidates.size:
            row = int(candidates[rng.integers(candidates.size)])
            orphan = "PRJ-" + "9" * project_id_width + "X"
            defects.append(_defect("milestones", milestones, row, pks["milestones"], "project",
                                   orphan, "project not found in projects"))

    risks = frames["risks"]
    if len(risks) >= min_rows:
        row = int(rng.integers(len(risks)))
        defects.append(_defect("risks", risks, row, pks["risks"], "probability", 1.7,
                               "probability outside 0-1"))

    projects = frames["projects"]
    if len(projects) >= min_rows:
        candidates = np.flatnonzero((projects["status"] == "active").to_numpy())
        pool = candidates if candidates.size else np.arange(len(projects))
        row = int(pool[rng.integers(pool.size)])
        defects.append(_defect("projects", projects, row, pks["projects"], "manager", "",
                               "missing manager"))

    audits = frames["qa_audits"]
    if len(audits) >= min_rows:
        row = int(rng.integers(len(audits)))
        checked = int(audits["items_checked"].iloc[row])
        defects.append(_defect("qa_audits", audits, row, pks["qa_audits"], "items_compliant",
                               checked + int(rng.integers(1, 4)),
                               "items_compliant exceeds items_checked"))
    return defects


def _conform(table: str, frame: pd.DataFrame, columns: list[str], pk: list[str]) -> pd.DataFrame:
    """Contract column order and deterministic row order."""
    if list(frame.columns) != columns:
        difference = set(columns) ^ set(frame.columns)
        if difference:
            raise RuntimeError(f"{table}: generated columns differ from contract: {difference}")
        frame = frame[columns]
    # Sorted by primary key (all columns for tables without one); ids are zero-padded so
    # text order is numeric order. Tracker keys keep their natural order instead
    # (PRJ-0001-2 before PRJ-0001-10), which is how they were generated.
    if table == "work_items":
        return frame.reset_index(drop=True)
    by = pk or columns
    return frame.sort_values(by, kind="stable").reset_index(drop=True)


def generate_demo(
    out_dir: Path,
    *,
    projects: int = 40,
    months: int = 12,
    seed: int = 7,
    as_of_month: str | None = None,
    business_units: int = 3,
    progress: Callable[[str], None] | None = None,
    model_path: Path | None = None,
) -> DemoManifest:
    """Write a deterministic demo organisation as CSVs into ``out_dir/data/``.

    One CSV per table in ``TABLES``, with exactly the columns of its contract, plus
    ``demo_manifest.json``. ``as_of_month`` (YYYY-MM) is the last month of data; it defaults
    to ``DEFAULT_AS_OF_MONTH`` rather than today so the output never depends on the clock.
    The window is the ``months`` months ending there. ``model_path`` is the maturity model
    whose questions the assessment respondents answer. The same arguments always give
    byte-identical files. Five data-quality defects are injected on purpose (tables too small
    to host one are skipped) and listed in ``DemoManifest.defects``.
    """
    if projects < 1:
        raise ValueError("projects must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    if business_units < 1:
        raise ValueError("business_units must be at least 1")
    as_of = as_of_month or DEFAULT_AS_OF_MONTH
    cal = _Calendar.build(as_of, months)
    report = progress or (lambda _message: None)
    rng = np.random.default_rng(seed)
    bus = _business_unit_catalogue(business_units)

    report(f"generating portfolio ({projects:,} projects, {months} months to {as_of})")
    pf = _plan_portfolio(rng, projects, business_units, cal)
    frames: dict[str, pd.DataFrame] = {}
    frames["evm_snapshots"] = _evm_snapshots(rng, pf, cal)
    staff = _staff(rng, pf)
    frames["projects"] = _projects(rng, pf, cal, bus, staff.ids)
    frames["milestones"], frames["gate_reviews"] = _milestones(rng, pf, cal)
    frames["changes"] = _changes(rng, pf, cal)
    frames["risks"] = _risks(rng, pf, cal, staff.ids, _team_picker(staff, pf.n))
    frames["work_items"] = _work_items(rng, pf, cal)
    frames["qa_audits"], frames["nonconformances"] = _qa_audits(rng, pf, cal)
    frames["timesheets"], frames["capacity"] = _timesheets_and_capacity(rng, pf, cal, staff)
    frames["processes"], frames["improvements"] = _processes_and_improvements(rng, cal, staff)
    frames["lessons_learned"] = _lessons_learned(rng, pf, cal)
    frames["training"] = _training(rng, cal, staff)
    frames["assessment_responses"] = _assessment_responses(
        rng, cal, bus, model_path or DEFAULT_MODEL_PATH
    )

    contracts = {table: (c.column_names, list(c.primary_key))
                 for table, c in load_contracts().items() if table in TABLES}
    pks = {table: pk for table, (_, pk) in contracts.items()}
    defects = _inject_defects(rng, frames, pks, _width(projects, 4))

    data_dir = Path(out_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    row_counts: dict[str, int] = {}
    files: list[str] = []
    for table in TABLES:
        columns, pk = contracts[table]
        frame = _conform(table, frames[table], columns, pk)
        report(f"writing {table}.csv ({len(frame):,} rows)")
        write_frame_csv(frame, data_dir / f"{table}.csv", encoding="utf-8", lineterminator="\n")
        row_counts[table] = len(frame)
        files.append(f"data/{table}.csv")

    manifest = DemoManifest(
        seed=seed,
        projects=projects,
        months=months,
        as_of_month=as_of,
        first_month=str(_iso_months(np.array([cal.first_month]))[0]),
        business_units=tuple({"id": bu_id, "name": name} for bu_id, name in bus),
        row_counts=row_counts,
        defects=tuple(defects),
        files=tuple(files),
    )
    (data_dir / "demo_manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    report(f"wrote {len(files)} tables to {data_dir}")
    return manifest


def _business_unit_catalogue(count: int) -> list[tuple[str, str]]:
    bus = list(_BU_CATALOGUE[:count])
    bus += [(f"BU-{i:02d}", f"Business Unit {i:02d}") for i in range(len(bus) + 1, count + 1)]
    return bus
