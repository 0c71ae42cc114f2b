"""The load benchmark runs end to end on a small file and reports what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO


def test_load_benchmark_writes_results_for_exactly_the_rows_asked(tmp_path: Path) -> None:
    out = tmp_path / "results" / "load.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_load.py"), "--rows", "2000",
         "--repeat", "1", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "floor" in done.stdout and "ours" in done.stdout
    assert (tmp_path / "work" / "timesheets-2000-seed7.csv").is_file()
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["rows"] == 2000
    for path in ("floor", "ours"):
        assert result["results"][path]["rows"] == 2000
        assert result["results"][path]["seconds"] > 0
        assert result["results"][path]["peak_mb"] >= 0
    assert result["ratio_to_floor"]["seconds"] > 0


def test_load_benchmark_fails_when_fewer_rows_load_than_asked(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # A file the benchmark takes as its own 3-row file, but holding only 2 rows.
    (work / "timesheets-3-seed7.csv").write_text(
        "person,project,week,hours\nP00001,PRJ-00001,2025-01-06,8\n"
        "P00001,PRJ-00002,2025-01-06,4\n", encoding="utf-8")
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_load.py"), "--rows", "3",
         "--repeat", "1", "--workdir", str(work), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1
    assert "loaded 2 rows, expected 3" in done.stderr
    assert not out.exists()


def test_pipeline_benchmark_measures_every_stage_beside_a_floor_that_did_the_same_work(
        tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_pipeline.py"), "--sizes", "12",
         "--workdir", str(tmp_path / "work"), "--out-dir", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "pipeline-12.json").read_text(encoding="utf-8"))
    demo = json.loads((tmp_path / "work" / "projects-12" / "data" / "demo_manifest.json")
                      .read_text(encoding="utf-8"))
    assert result["projects"] == 12 and result["input_rows"] == demo["row_counts"]
    stages = result["stages"]
    assert list(stages) == ["extract", "validate", "kpis", "kpis_monthly", "maturity", "reports"]
    assert all(s["seconds"] > 0 and s["peak_mb"] >= 0 for s in stages.values())
    first_run = [s for name, s in stages.items() if name != "kpis_monthly"]
    assert result["run_seconds"] >= sum(s["seconds"] for s in first_run)
    # The floors did the stage's work: the same rows in, the same rows set aside, the same pages.
    rows = sum(demo["row_counts"].values())
    assert stages["extract"]["rows"] == stages["extract"]["floor"]["rows"] == rows
    validate = stages["validate"]
    assert validate["rows"] == validate["floor"]["rows"] > 0
    # The demo's four error-level defects; its missing manager is only a warning.
    assert validate["quarantined"] == validate["floor"]["quarantined"] == 4
    orphans = (tmp_path / "work" / "projects-12" / "artifacts" / "2026-10" / "quarantine"
               / "milestones.csv").read_text(encoding="utf-8")
    assert "PRJ-9999X" in orphans and "project: expected an existing projects.id" in orphans
    # The monthly run read the earlier months from the history store the benchmark filled;
    # the first run recomputed them, with the same results.
    assert stages["kpis"]["results"] == stages["kpis_monthly"]["results"] > 0
    kpis = json.loads((tmp_path / "work" / "projects-12" / "artifacts" / "2026-10" / "kpis.json")
                      .read_text(encoding="utf-8"))
    assert {r["previous_basis"] for r in kpis["results"]} == {"history"}
    assert [p["basis"] for p in kpis["trend"]["spi"]] == ["history"] * 11 + ["snapshot"]
    reports = stages["reports"]
    assert reports["reports"] == 1 + len(demo["business_units"])  # organisation + every unit
    assert sorted(reports["pdfs"]) == sorted(reports["floor"]["pdfs"])
    assert all(pages >= 10 for _, pages in reports["pdfs"])
    for stage in ("extract", "validate", "kpis", "kpis_monthly", "reports"):
        floor = stages[stage]["floor"]["seconds"]
        assert stages[stage]["ratio"] == round(stages[stage]["seconds"] / floor, 2)
    # A ratio with a target compares the fastest of three runs on each side.
    for measured in (stages["validate"], stages["validate"]["floor"], stages["kpis_monthly"],
                     stages["kpis_monthly"]["floor"]):
        assert len(measured["runs_seconds"]) == 3
        assert measured["seconds"] == min(measured["runs_seconds"])
    assert "runs_seconds" not in stages["reports"]
    assert set(result["dag_parse"]) == {"pmo_monthly_governance.py", "pmo_maturity_assessment.py"}
    assert result["dag_parse"]["pmo_monthly_governance.py"]["dags"] == ["pmo_monthly_governance"]
    # Every target this size can check is printed with its verdict.
    targets = {t["target"]: t for t in result["targets"]}
    assert set(targets) == {"12 projects: validate / floor", "12 projects: kpis, monthly run / floor",
                            "parse pmo_maturity_assessment.py", "parse pmo_monthly_governance.py"}
    for name, target in targets.items():
        assert f"{name}" in done.stdout
        assert target["met"] == (target["figure"] <= target["limit"])
    assert "whole run" in done.stdout


def test_pipeline_benchmark_refuses_a_floor_that_quarantined_other_rows() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_pipeline
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    stage = {"rows": 100, "quarantined": 3, "floor": {"rows": 100, "quarantined": 2}}
    with pytest.raises(RuntimeError, match="quarantined 2; the stage 100 and 3"):
        bench_pipeline._check("validate", stage)
    bench_pipeline._check("validate", {**stage, "floor": {"rows": 100, "quarantined": 3}})
