"""Load benchmark: how long and how much memory reading one large CSV table takes.

Generates a `timesheets.csv` of N rows (deterministic, valid for the contract), then
measures, each in a fresh process:

  floor  pd.read_csv(path, dtype=str, keep_default_na=False): the least any loader pays
  ours   read_table_file(path, TableMapping()) then canonical_frame(...): what a run pays
         to get the typed canonical table

and prints wall time, peak memory above the process's baseline after imports, and each
figure as a multiple of the floor. Results go to benchmarks/results/load-<rows>.json.
Exits 1 when a path does not return exactly N rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from benchutil import MB, Probe, emit, log, machine, run_child, table, write_json

BENCH_DIR = Path(__file__).resolve().parent
TABLE = "timesheets"
WEEKS = 52              # one year of Mondays
PROJECTS_PER_WEEK = 4   # distinct projects each person books hours to in a week
FIRST_MONDAY = np.datetime64("2025-01-06")
PATHS = ("floor", "ours")


def generate(path: Path, rows: int, seed: int) -> None:
    """Write `rows` timesheet lines, sorted by person and week; (person, project, week) is unique.

    Person k books hours on PROJECTS_PER_WEEK distinct projects every week, spread
    evenly around a random first one, so the primary key never repeats. Hours are
    half-hour multiples from 0.5 to 40.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    per_person = WEEKS * PROJECTS_PER_WEEK
    shape = shape_of(rows)
    n_people, n_projects = shape["people"], shape["projects"]
    stride = n_projects // PROJECTS_PER_WEEK

    i = np.arange(rows, dtype=np.int64)
    person, within = np.divmod(i, per_person)
    week, slot = np.divmod(within, PROJECTS_PER_WEEK)
    first = rng.integers(0, n_projects, n_people)
    project = (first[person] + slot * stride) % n_projects
    hours = rng.integers(1, 81, rows) / 2

    def labels(prefix: str, count: int, width: int) -> pa.Array:
        return pa.array([f"{prefix}{k:0{width}d}" for k in range(1, count + 1)])

    week_labels = pa.array((FIRST_MONDAY + 7 * np.arange(WEEKS)).astype(str))
    data = pa.table({
        "person": labels("P", n_people, max(5, len(str(n_people)))).take(pa.array(person)),
        "project": labels("PRJ-", n_projects, 5).take(pa.array(project)),
        "week": week_labels.take(pa.array(week)),
        "hours": pa.array(hours),
    })
    # Plain, unquoted cells as a spreadsheet export writes them (no value needs quotes).
    partial = path.with_suffix(".partial")
    with partial.open("wb") as sink:
        sink.write((",".join(data.column_names) + "\n").encode())
        pacsv.write_csv(data, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    partial.replace(path)


def shape_of(rows: int) -> dict[str, int]:
    """People, projects and weeks of a generated file: about 1 project per 200 rows."""
    return {"people": -(-rows // (WEEKS * PROJECTS_PER_WEEK)),
            "projects": min(10_000, max(100, rows // 200)), "weeks": WEEKS}


def measure(kind: str, path: Path, profile: bool) -> dict[str, Any]:
    """Child process: import, take the baseline, load the file one way, report."""
    import pandas as pd
    from pmopulse.contracts import load_contracts
    from pmopulse.contracts.coerce import SOURCE_ROW
    from pmopulse.sources.files import read_table_file
    from pmopulse.sources.mapping import TableMapping, canonical_frame

    contract = load_contracts()[TABLE]
    mapping = TableMapping()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        raw, origin = read_table_file(path, mapping)
        canonical_frame(raw, contract, mapping, origin)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        return {}

    with Probe() as probe:
        if kind == "floor":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raw, origin = read_table_file(path, mapping)
            frame = canonical_frame(raw, contract, mapping, origin)
    checks: list[str] = []
    if kind == "ours":
        expected = [*contract.column_names, SOURCE_ROW]
        if list(frame.columns) != expected:
            checks.append(f"columns {list(frame.columns)} instead of {expected}")
        for column in contract.column_names:
            if missing := int(frame[column].isna().sum()):
                checks.append(f"{missing} empty cell(s) in {column!r}")
    return probe.result(rows=len(frame), problems=checks)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Progress goes to stderr, the result table to stdout. Exit status 1 means "
        "a path did not load exactly --rows rows (or the typed table was incomplete); "
        "no results file is written then. `make bench` runs this with BENCH_ROWS rows.",
    )
    parser.add_argument("--rows", type=int, default=2_000_000,
                        help="data rows in the generated CSV (default: %(default)s)")
    parser.add_argument("--workdir", type=Path,
                        help="where the CSV is written and kept (default: a temporary "
                        "folder, removed afterwards); an existing CSV for the same rows "
                        "and seed there is reused")
    parser.add_argument("--out", type=Path,
                        help="results JSON (default: benchmarks/results/load-<rows>.json)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measure each path this many times; report the fastest "
                        "time and the largest peak (default: %(default)s)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, run our path once under cProfile and print the "
                        "top 30 functions by cumulative time to stderr")
    parser.add_argument("--measure", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        emit(measure(args.measure, args.file, args.profile))
        return 0

    out = args.out or BENCH_DIR / "results" / f"load-{args.rows}.json"
    with tempfile.TemporaryDirectory(prefix="pmopulse-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / f"{TABLE}-{args.rows}-seed{args.seed}.csv"
        shape = shape_of(args.rows)
        if path.is_file():
            log(f"reusing {path}")
        else:
            log(f"generating {args.rows:,} {TABLE} rows (seed {args.seed}) ...")
            generate(path, args.rows, args.seed)
            log(f"wrote {path} ({shape['people']:,} people, {shape['projects']:,} projects, "
                f"{shape['weeks']} weeks)")
        file_mb = path.stat().st_size / MB
        log(f"file size {file_mb:,.1f} MB")

        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PATHS}
        for attempt in range(1, args.repeat + 1):
            for kind in PATHS:
                log(f"measuring {kind} (run {attempt}/{args.repeat}) in a fresh process ...")
                result = run_child([__file__, "--measure", kind, "--file", str(path)])
                log(f"  {kind}: {result['seconds']:.2f} s, peak {result['peak_mb']:,.0f} MB "
                    f"above baseline, {result['rows']:,} rows")
                runs[kind].append(result)
        if args.profile:
            log("profiling our path under cProfile ...")
            run_child([__file__, "--measure", "ours", "--profile", "--file", str(path)],
                      show_stderr=True)

    best = {kind: {"seconds": min(r["seconds"] for r in runs[kind]),
                   "peak_mb": max(r["peak_mb"] for r in runs[kind]),
                   "rows": runs[kind][0]["rows"]} for kind in PATHS}
    floor = best["floor"]
    ratio = {"seconds": round(best["ours"]["seconds"] / floor["seconds"], 2),
             "peak_mb": round(best["ours"]["peak_mb"] / floor["peak_mb"], 2)
             if floor["peak_mb"] > 0 else None}
    labels = {"floor": "floor: pd.read_csv(dtype=str)",
              "ours": "ours: read_table_file + canonical_frame"}
    print(f"\nload benchmark: {TABLE}.csv, {args.rows:,} rows, {file_mb:,.1f} MB"
          + (f", best of {args.repeat}" if args.repeat > 1 else ""))
    print(table(
        ["path", "rows", "seconds", "peak MB", "time x floor", "memory x floor"],
        [[labels[kind], f"{best[kind]['rows']:,}", f"{best[kind]['seconds']:.3f}",
          f"{best[kind]['peak_mb']:,.0f}",
          "1.00" if kind == "floor" else f"{ratio['seconds']:.2f}",
          "1.00" if kind == "floor" else
          (f"{ratio['peak_mb']:.2f}" if ratio["peak_mb"] is not None else "n/a")]
         for kind in PATHS],
    ))

    failures = [f"{kind} loaded {best[kind]['rows']:,} rows, expected {args.rows:,}"
                for kind in PATHS if best[kind]["rows"] != args.rows]
    failures += [f"ours: {problem}" for r in runs["ours"] for problem in r["problems"]]
    if failures:
        print("\nFAILED: " + "; ".join(failures), file=sys.stderr)
        return 1

    write_json(out, {
        "benchmark": "load",
        "table": TABLE,
        "rows": args.rows,
        "seed": args.seed,
        "file_mb": round(file_mb, 1),
        "shape": shape,
        "repeat": args.repeat,
        "results": best,
        "ratio_to_floor": ratio,
        "runs": runs,
        "peak_mb_means": "peak resident memory above the measuring process's baseline "
                         "after imports (Linux VmHWM, reset at the baseline)",
        "machine": machine(),
    })
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
