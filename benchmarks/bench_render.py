"""Render benchmark: how long the organisation report (about 20 pages) takes to render.

Generates the demo organisation (deterministic), runs the stages before rendering once,
then measures, `--repeat` times each: rendering the organisation report's PDF from its
context in English and in Chinese (charts with matplotlib, HTML with Jinja2, PDF with
WeasyPrint), and the whole `render_report` stage (context and both PDFs), as a run with an
English and a Chinese recipient list pays it. Prints best and median wall time and pages.
Results go to benchmarks/results/render-<projects>.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchutil import log, machine, table, write_json

BENCH_DIR = Path(__file__).resolve().parent
PERIOD = "2026-10"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=40, help="demo projects (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="renders per language (default 3)")
    parser.add_argument("--workdir", type=Path, help="where the demo org goes (default: a temp dir)")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/render-N.json)")
    args = parser.parse_args()

    import yaml
    from pmopulse import pipeline
    from pmopulse.config import load_config
    from pmopulse.demo.config import build_demo_organisation
    from pmopulse.period import Period

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pmopulse-bench-render-"))
    log(f"generating the demo organisation ({args.projects} projects) in {work}")
    _, config_path = build_demo_organisation(work, projects=args.projects, months=12, seed=7,
                                             as_of_month=PERIOD)
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["delivery"]["recipients"]["organisation"] = [
        {"to": raw["delivery"]["recipients"]["organisation"]},
        {"language": "zh", "to": [raw["delivery"]["pmo_contact"]]}]
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config, period = load_config(config_path), Period.parse(PERIOD)
    log("running extract, validate, KPIs, maturity and recommendations once")
    for stage in (pipeline.extract, pipeline.validate, pipeline.compute_kpis,
                  pipeline.assess_maturity, pipeline.recommend):
        stage(config, period)

    import json

    from pmopulse.report.render import render_pdf

    rendered = pipeline.render_report(config, period)  # warm-up: imports, fonts, caches
    results = {}
    for language, files in rendered["languages"].items():
        context = json.loads(Path(files["context"]).read_text(encoding="utf-8"))
        pdf = work / f"bench.{language}.pdf"
        times = []
        for i in range(args.repeat):
            log(f"rendering the organisation report in {language} ({i + 1}/{args.repeat})")
            start = time.perf_counter()
            render_pdf(context, config.templates_dir, "organisation.html.j2", pdf)
            times.append(time.perf_counter() - start)
        results[language] = {"pages": _pages(pdf), "best_seconds": min(times),
                             "median_seconds": statistics.median(times), "runs": len(times)}
    times = []
    for i in range(args.repeat):
        log(f"whole render_report: context and both languages ({i + 1}/{args.repeat})")
        start = time.perf_counter()
        pipeline.render_report(config, period)
        times.append(time.perf_counter() - start)
    results["render_report"] = {"pages": None, "best_seconds": min(times),
                                "median_seconds": statistics.median(times), "runs": len(times)}
    print(table(["organisation report", "pages", "best s", "median s"],
                [[name, r["pages"] or "en + zh", f"{r['best_seconds']:.2f}", f"{r['median_seconds']:.2f}"]
                 for name, r in results.items()]))
    out = args.out or BENCH_DIR / "results" / f"render-{args.projects}.json"
    write_json(out, {"projects": args.projects, "period": PERIOD, "results": results,
                     "machine": machine()})
    log(f"results: {out}")
    return 0


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


if __name__ == "__main__":
    raise SystemExit(main())
