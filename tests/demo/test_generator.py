"""Tests for the deterministic demo organisation generator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pmopulse
import pytest
import yaml
from pmopulse.demo import DemoManifest, generate_demo
from pmopulse.demo.generator import DEFAULT_MODEL_PATH, TABLES

CONTRACTS_DIR = Path(pmopulse.__file__).resolve().parent / "contracts"
REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-10"

# Event dates that must fall inside the reporting window. Plan dates (baseline, forecast,
# due) may lie outside it, and process reviews are reference data going back years.
EVENT_DATES: dict[str, tuple[str, ...]] = {
    "projects": ("actual_finish",),
    "milestones": ("actual_date",),
    "changes": ("raised", "decided"),
    "risks": ("raised", "last_reviewed"),
    "work_items": ("created", "resolved"),
    "qa_audits": ("date",),
    "nonconformances": ("raised", "closed"),
    "gate_reviews": ("date",),
    "timesheets": ("week",),
    "capacity": ("week",),
    "improvements": ("raised", "implemented"),
    "lessons_learned": ("date",),
    "training": ("date",),
    "assessment_responses": ("submitted",),
}


NOT_IN_DEMO = {"work_item_history", "schedule_tasks"}
"""Tables the demo's CSV exports do not hold, because only other kinds of source fill them:
status history comes from trackers (Jira, Redmine), schedule tasks from MS Project / P6 files."""


def _contracts() -> dict[str, dict[str, Any]]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(CONTRACTS_DIR.glob("*.yaml"))
        if path.stem not in NOT_IN_DEMO
    }


def _read(out_dir: Path, table: str) -> pd.DataFrame:
    """The CSV exactly as written: every cell a string, missing values as ""."""
    return pd.read_csv(
        out_dir / "data" / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8"
    )


def _frames(out_dir: Path) -> dict[str, pd.DataFrame]:
    return {table: _read(out_dir, table) for table in TABLES}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    out = tmp_path_factory.mktemp("demo40")
    return out, generate_demo(out)


@pytest.fixture(scope="module")
def frames(demo: tuple[Path, DemoManifest]) -> dict[str, pd.DataFrame]:
    return _frames(demo[0])


def _defect_rows(frame: pd.DataFrame, key: dict[str, str]) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in key.items():
        mask &= (frame[column] == value).to_numpy()
    return frame[mask]


def _contract_violations(
    frames: dict[str, pd.DataFrame], contracts: dict[str, dict[str, Any]]
) -> set[tuple[str, tuple[tuple[str, str], ...], str]]:
    """Row-level, foreign-key and the qa_audits cross-column findings, as (table, key, column).

    Structural problems (bad formats, non-numeric numbers, duplicate keys) fail the test at
    once: the generator must never produce them.
    """
    found: set[tuple[str, tuple[tuple[str, str], ...], str]] = set()
    for table, spec in contracts.items():
        df = frames[table]
        pk = [str(c) for c in spec.get("primary_key") or []]
        if pk:
            assert not df.duplicated(pk).any(), f"{table}: duplicate primary keys"

        def record(mask: pd.Series, column: str, *, table: str = table, df: pd.DataFrame = df,
                   pk: list[str] = pk) -> None:
            for i in df.index[mask.to_numpy()]:
                found.add((table, tuple((c, str(df.at[i, c])) for c in pk), column))

        for column, rule in spec["columns"].items():
            values = df[column]
            present = values != ""
            if rule.get("required"):
                record(~present, column)
            kind = rule["type"]
            if kind in ("number", "integer"):
                number = pd.to_numeric(values.where(present), errors="coerce")
                assert not (present & number.isna()).any(), f"{table}.{column} not numeric"
                if kind == "integer":
                    assert (number.dropna() % 1 == 0).all(), f"{table}.{column} not integer"
                if "min" in rule:
                    record(present & (number < rule["min"]), column)
                if "max" in rule:
                    record(present & (number > rule["max"]), column)
            elif kind == "date":
                assert values[present].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), column
                pd.to_datetime(values[present], format="%Y-%m-%d")  # real calendar dates
            elif kind == "month":
                assert values[present].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all(), column
            elif kind == "boolean":
                assert values[present].isin(["true", "false"]).all(), f"{table}.{column}"
            if "allowed" in rule:
                record(present & ~values.isin([str(v) for v in rule["allowed"]]), column)
        for fk in spec.get("foreign_keys") or []:
            ref_table, ref_column = str(fk["references"]).split(".")
            values = df[fk["column"]]
            record((values != "") & ~values.isin(frames[ref_table][ref_column]), fk["column"])

    audits = frames["qa_audits"]
    over = audits["items_compliant"].astype(int) > audits["items_checked"].astype(int)
    for i in audits.index[over.to_numpy()]:
        found.add(("qa_audits", (("id", str(audits.at[i, "id"])),), "items_compliant"))
    return found


# --------------------------------------------------------------------------------------


def test_writes_every_table_with_the_contract_columns_in_order(
    demo: tuple[Path, DemoManifest],
) -> None:
    out, manifest = demo
    contracts = _contracts()
    assert set(contracts) == set(TABLES)
    assert manifest.files == tuple(f"data/{t}.csv" for t in TABLES)
    for table, spec in contracts.items():
        path = out / "data" / f"{table}.csv"
        assert path.is_file(), table
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == list(spec["columns"]), table
        assert manifest.row_counts[table] == len(_read(out, table)), table
    raw = (out / "data" / "demo_manifest.json").read_text(encoding="utf-8")
    assert raw == manifest.to_json()
    assert DemoManifest.from_json(raw) == manifest


def test_csv_conventions(demo: tuple[Path, DemoManifest]) -> None:
    out, _ = demo
    text = (out / "data" / "projects.csv").read_bytes()
    assert b"\r\n" not in text
    assert not text.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    projects = _read(out, "projects")
    assert projects["name"].str.contains(r"[\u4e00-\u9fff]").any()  # Chinese names survive
    evm = _read(out, "evm_snapshots")
    for column in ("planned_value", "earned_value", "actual_cost"):
        decimals = evm[column].str.partition(".")[2]
        assert (decimals.str.len() <= 2).all(), column


def test_manifest_describes_the_run(demo: tuple[Path, DemoManifest]) -> None:
    _, manifest = demo
    assert (manifest.seed, manifest.projects, manifest.months) == (7, 40, 12)
    assert manifest.as_of_month == AS_OF  # fixed default, not today
    assert manifest.first_month == "2025-11"
    assert manifest.business_units == (
        {"id": "BU-NET", "name": "Network Products"},
        {"id": "BU-CLOUD", "name": "Cloud Services"},
        {"id": "BU-DEVICE", "name": "Devices"},
    )
    assert {d["table"] for d in manifest.defects} == {
        "evm_snapshots", "milestones", "risks", "projects", "qa_audits"
    }
    for defect in manifest.defects:
        assert set(defect) >= {"table", "key", "column", "problem"}
    json.loads(manifest.to_json())


def test_same_seed_same_bytes_other_seed_differs(
    demo: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    out, _ = demo
    generate_demo(tmp_path / "again")
    generate_demo(tmp_path / "other", seed=8)
    names = [f"{t}.csv" for t in TABLES] + ["demo_manifest.json"]
    for name in names:
        assert (out / "data" / name).read_bytes() == (
            tmp_path / "again" / "data" / name
        ).read_bytes(), name
    differs = [
        name for name in names
        if (out / "data" / name).read_bytes()
        != (tmp_path / "other" / "data" / name).read_bytes()
    ]
    assert {"projects.csv", "evm_snapshots.csv", "work_items.csv"} <= set(differs)


def test_row_counts_scale_with_projects(
    demo: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    _, small = demo
    big = generate_demo(tmp_path, projects=200)
    ratio = big.row_counts["work_items"] / small.row_counts["work_items"]
    assert 4.0 <= ratio <= 6.0
    assert big.row_counts["projects"] == 200
    assert big.row_counts["processes"] == small.row_counts["processes"] == 40  # not scaled
    assert big.row_counts["assessment_responses"] == small.row_counts["assessment_responses"]
    assert 25 <= small.row_counts["work_items"] / 40 <= 35


def test_portfolio_mix(frames: dict[str, pd.DataFrame]) -> None:
    projects = frames["projects"]
    assert projects["id"].iloc[0] == "PRJ-0001"
    shares = projects["status"].value_counts(normalize=True)
    assert shares["active"] == pytest.approx(0.70, abs=0.05)
    assert {"closed", "on_hold", "proposed", "cancelled"} <= set(shares.index)
    bac = projects["budget_at_completion"].astype(float)
    assert bac.between(50_000, 5_000_000).all()
    managed = projects.loc[projects["manager"] != "", "manager"].value_counts()
    assert managed.between(1, 3).all()
    closed = projects[projects["status"] == "closed"]
    assert (closed["actual_finish"] != "").all()
    assert (projects.loc[projects["status"] != "closed", "actual_finish"] == "").all()


def test_evm_is_cumulative_and_bounded(
    demo: tuple[Path, DemoManifest], frames: dict[str, pd.DataFrame]
) -> None:
    _, manifest = demo
    evm = frames["evm_snapshots"]
    (defect,) = [d for d in manifest.defects if d["table"] == "evm_snapshots"]
    bad = _defect_rows(evm, defect["key"])
    assert len(bad) == 1
    clean = evm.drop(index=bad.index)
    same_project = clean[clean["project"] == defect["key"]["project"]]
    assert len(same_project) >= 2 and (same_project["actual_cost"].astype(float) >= 0).all()

    values = clean[["planned_value", "earned_value", "actual_cost"]].astype(float)
    steps = values.groupby(clean["project"]).diff().dropna()
    assert (steps >= 0).all().all()
    bac = frames["projects"].set_index("id")["budget_at_completion"].astype(float)
    assert (clean["earned_value"].astype(float) <= clean["project"].map(bac) + 0.005).all()
    assert (clean["planned_value"].astype(float) <= clean["project"].map(bac) + 0.005).all()
    # Only running or closed projects report earned value.
    statuses = frames["projects"].set_index("id")["status"]
    assert set(evm["project"].map(statuses)) <= {"active", "on_hold", "closed"}
    active = set(statuses[statuses == "active"].index)
    assert active <= set(evm.loc[evm["period"] == AS_OF, "project"])


@pytest.fixture(scope="module")
def org_1000(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """A mid-sized organisation, big enough for org-wide rates to be stable."""
    out = tmp_path_factory.mktemp("demo1000")
    generate_demo(out, projects=1000)
    return _frames(out)


def _spi_now(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    evm = frames["evm_snapshots"]
    now = evm[evm["period"] == AS_OF].copy()
    for column in ("planned_value", "earned_value", "actual_cost"):
        now[column] = now[column].astype(float)
    now["status"] = now["project"].map(frames["projects"].set_index("id")["status"])
    return now


def test_org_spi_is_slightly_behind_plan(
    frames: dict[str, pd.DataFrame], org_1000: dict[str, pd.DataFrame]
) -> None:
    for org in (frames, org_1000):
        now = _spi_now(org)
        assert 0.85 <= now["earned_value"].sum() / now["planned_value"].sum() <= 1.0
        spi = now["earned_value"] / now["planned_value"]
        assert (spi < 0.9).any() and (spi > 1.0).any()

    now = _spi_now(org_1000)
    active = now[(now["status"] == "active") & (now["actual_cost"] > 0)]
    spi = active["earned_value"] / active["planned_value"]
    cpi = active["earned_value"] / active["actual_cost"]
    assert 0.93 <= active["earned_value"].sum() / active["actual_cost"].sum() <= 0.99
    assert 0.2 <= ((spi < 0.9) | (cpi < 0.9)).mean() <= 0.4
    for index in (spi, cpi):
        assert index.quantile(0.02) >= 0.7 and index.quantile(0.98) <= 1.2


def test_milestones_follow_the_schedule(org_1000: dict[str, pd.DataFrame]) -> None:
    milestones = org_1000["milestones"]
    projects = org_1000["projects"].set_index("id")
    milestones = milestones[milestones["project"].isin(projects.index)]
    assert milestones.groupby("project").size().max() <= 8
    achieved = milestones["actual_date"] != ""
    # Exactly one of forecast (still to come) and actual (achieved) is filled in.
    assert ((milestones["forecast_date"] != "") ^ achieved).all()
    assert (milestones["is_gate"] == "true").eq(
        milestones["name"].str.match(r"^(TR|DCP)\d")
    ).all()
    dates = milestones.loc[achieved, ["project", "actual_date"]]
    assert dates.groupby("project")["actual_date"].apply(
        lambda s: s.is_monotonic_increasing
    ).all()

    closure = milestones[milestones["name"] == "Project closure"].merge(
        projects[["status", "actual_finish", "forecast_finish"]],
        left_on="project", right_index=True,
    )
    finished = closure[closure["status"] == "closed"]
    assert (finished["actual_date"] == finished["actual_finish"]).all()
    running = closure[closure["status"].isin(["active", "on_hold"])]
    assert (running["forecast_date"] == running["forecast_finish"]).all()
    assert len(finished) and len(running)

    # Roughly 75-85% of the milestones due in the window were achieved on time.
    due = milestones[milestones["baseline_date"].between("2025-11-01", "2026-10-31")]
    on_time = (due["actual_date"] != "") & (due["actual_date"] <= due["baseline_date"])
    assert 0.7 <= on_time.mean() <= 0.9

    reviews = org_1000["gate_reviews"]
    first = reviews[reviews["attempt"] == "1"]
    assert 0.65 <= (first["outcome"] == "pass").mean() <= 0.85
    retried = reviews[reviews["attempt"] == "2"].set_index(["project", "gate"])
    assert (first.set_index(["project", "gate"]).loc[retried.index, "outcome"] != "pass").all()


def test_quality_and_risk_signals(org_1000: dict[str, pd.DataFrame]) -> None:
    projects = org_1000["projects"]
    active = projects.loc[projects["status"] == "active", "id"]
    audits = org_1000["qa_audits"]
    assert 0.7 <= active.isin(audits["project"]).mean() <= 0.9  # audit coverage
    bugs = org_1000["work_items"].query("type == 'bug'")
    assert 0.05 <= (bugs["found_after_release"] == "true").mean() <= 0.1
    ncs = org_1000["nonconformances"]
    assert (ncs["due"] > ncs["raised"]).all()
    assert ((ncs["closed"] == "") | (ncs["closed"] >= ncs["raised"])).all()
    risks = org_1000["risks"]
    reviewed = pd.to_datetime(risks["last_reviewed"].replace("", None), format="%Y-%m-%d")
    age = (pd.Timestamp("2026-10-31") - reviewed).dt.days
    assert 0.6 <= (age <= 30).mean() <= 0.9
    assert (age > 60).any() and reviewed.isna().any()
    assert risks.groupby("project").size().between(3, 12).all()


def test_injected_defects_are_in_the_csv_exactly_as_recorded(
    demo: tuple[Path, DemoManifest], frames: dict[str, pd.DataFrame]
) -> None:
    _, manifest = demo
    problems = {d["table"]: d for d in manifest.defects}
    assert problems["qa_audits"]["problem"] == "items_compliant exceeds items_checked"
    assert problems["milestones"]["key"]["project"] not in set(frames["projects"]["id"])
    for defect in manifest.defects:
        rows = _defect_rows(frames[defect["table"]], defect["key"])
        assert len(rows) == 1, defect
        cell = rows[defect["column"]].iloc[0]
        value = defect["value"]
        if isinstance(value, str):
            assert cell == value, defect
        else:
            assert float(cell) == pytest.approx(value), defect
    assert float(_defect_rows(frames["evm_snapshots"], problems["evm_snapshots"]["key"])
                 ["actual_cost"].iloc[0]) < 0
    assert float(_defect_rows(frames["risks"], problems["risks"]["key"])
                 ["probability"].iloc[0]) == 1.7
    audit = _defect_rows(frames["qa_audits"], problems["qa_audits"]["key"]).iloc[0]
    assert int(audit["items_compliant"]) > int(audit["items_checked"])


def test_only_the_injected_defects_break_the_contracts(
    demo: tuple[Path, DemoManifest], frames: dict[str, pd.DataFrame]
) -> None:
    _, manifest = demo
    expected = {
        (d["table"], tuple((k, str(v)) for k, v in d["key"].items()), d["column"])
        for d in manifest.defects
    }
    assert _contract_violations(frames, _contracts()) == expected


def test_assessment_answers_cover_the_model(frames: dict[str, pd.DataFrame]) -> None:
    model = yaml.safe_load(
        (REPO_ROOT / "assessments" / "models" / "pmo_maturity.yaml").read_text(encoding="utf-8")
    )
    questions = [q["id"] for d in model["dimensions"] for p in d["practices"]
                 for q in p["questions"]]
    answers = frames["assessment_responses"]
    assert DEFAULT_MODEL_PATH.resolve() == (
        REPO_ROOT / "assessments" / "models" / "pmo_maturity.yaml"
    ).resolve()
    assert set(answers["question"]) == set(questions)
    assert answers["respondent"].nunique() == 12
    assert (answers.groupby("respondent")["question"].nunique() == len(questions)).all()
    assert set(answers["business_unit"]) == {"BU-NET", "BU-CLOUD", "BU-DEVICE"}
    # Respondents disagree on at least some questions.
    assert (answers.groupby("question")["answer"].nunique() > 1).any()


def test_custom_model_path(tmp_path: Path) -> None:
    text = {"en": "t", "zh": "t"}
    model = {
        "id": "qa_only", "name": text, "levels": {n: text for n in range(1, 6)},
        "dimensions": [
            {"id": "x", "name": text, "practices": [
                {"id": "X-2.1", "level": 2, "text": text,
                 "questions": [{"id": "X-2.1-Q1", "text": text}, {"id": "X-2.1-Q2", "text": text}]},
                {"id": "X-3.1", "level": 3, "text": text, "questions": [{"id": "X-3.1-Q1", "text": text}]},
            ]}
        ]
    }
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    manifest = generate_demo(tmp_path / "out", projects=5, model_path=path)
    answers = _read(tmp_path / "out", "assessment_responses")
    assert set(answers["question"]) == {"X-2.1-Q1", "X-2.1-Q2", "X-3.1-Q1"}
    assert manifest.row_counts["assessment_responses"] == 12 * 3


def test_event_dates_fall_inside_the_window(frames: dict[str, pd.DataFrame]) -> None:
    first, last = pd.Timestamp("2025-11-01"), pd.Timestamp("2026-10-31")
    for table, columns in EVENT_DATES.items():
        for column in columns:
            values = frames[table][column]
            dates = pd.to_datetime(values[values != ""], format="%Y-%m-%d")
            assert dates.between(first, last).all(), f"{table}.{column}"
    periods = sorted(set(frames["evm_snapshots"]["period"]))
    assert periods == [str(p) for p in pd.period_range("2025-11", AS_OF, freq="M")]
    weeks = pd.to_datetime(frames["capacity"]["week"], format="%Y-%m-%d")
    assert (weeks.dt.day_of_week == 0).all()
    submitted = pd.to_datetime(frames["assessment_responses"]["submitted"], format="%Y-%m-%d")
    assert submitted.between(pd.Timestamp("2026-10-25"), last).all()


def test_timesheets_look_like_a_real_organisation(frames: dict[str, pd.DataFrame]) -> None:
    booked = frames["timesheets"].assign(hours=lambda f: f["hours"].astype(float))
    capacity = frames["capacity"].assign(hours=lambda f: f["hours"].astype(float))
    assert set(capacity["hours"]) <= {32.0, 40.0}
    weekly = booked.groupby(["person", "week"])["hours"].sum()
    available = capacity.set_index(["person", "week"])["hours"].reindex(weekly.index)
    per_person = weekly.groupby(level="person").sum() / available.groupby(level="person").sum()
    assert 0.7 <= per_person.median() <= 0.95
    assert booked.groupby("person")["project"].nunique().max() <= 3
    assert set(booked["person"]) <= set(capacity["person"])


def test_progress_reports_each_table(tmp_path: Path) -> None:
    messages: list[str] = []
    manifest = generate_demo(tmp_path, projects=10, progress=messages.append)
    for table in TABLES:
        count = manifest.row_counts[table]
        assert f"writing {table}.csv ({count:,} rows)" in messages


def test_tiny_and_unusual_configurations(tmp_path: Path) -> None:
    tiny = generate_demo(tmp_path / "tiny", projects=1, months=1)
    assert all((tmp_path / "tiny" / f).is_file() for f in tiny.files)
    wide = generate_demo(tmp_path / "wide", projects=30, business_units=5, as_of_month="2024-02")
    assert [bu["id"] for bu in wide.business_units] == [
        "BU-NET", "BU-CLOUD", "BU-DEVICE", "BU-04", "BU-05"
    ]
    assert wide.business_units[3]["name"] == "Business Unit 04"
    assert _read(tmp_path / "wide", "evm_snapshots")["period"].max() == "2024-02"
    with pytest.raises(ValueError, match="YYYY-MM"):
        generate_demo(tmp_path / "bad", as_of_month="2026-1")


def test_ten_thousand_projects_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = generate_demo(tmp_path, projects=10_000)
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"took {elapsed:.1f}s"
    assert manifest.row_counts["work_items"] >= 250_000
    assert manifest.row_counts["timesheets"] <= 1_200_000
    assert manifest.row_counts["projects"] == 10_000
    assert _read(tmp_path, "projects")["id"].iloc[-1] == "PRJ-10000"
    assert len(manifest.defects) == 5
