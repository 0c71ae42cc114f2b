"""The load benchmark runs end to end on a small file and reports what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_render_benchmark_reports_pages_and_times_for_both_languages(tmp_path: Path) -> None:
    out = tmp_path / "render.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_render.py"), "--projects", "12",
         "--repeat", "1", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["results"]) == {"en", "zh", "render_report"}
    for language in ("en", "zh"):
        timing = result["results"][language]
        assert timing["pages"] >= 10 and 0 < timing["best_seconds"] <= timing["median_seconds"]
    assert "render_report" in done.stdout
