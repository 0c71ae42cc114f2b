"""The `pmopulse` command: run any stage of the monthly governance run by hand."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pmopulse.errors import PmoPulseError
from pmopulse.period import Period
from pmopulse.store.locks import LockBusy

if TYPE_CHECKING:
    from pmopulse.config import Config

EXIT_USER_ERROR = 2
EXIT_HELD_BACK = 3
EXIT_BUSY = 4
"""`run`: another run of the same period holds its lock (see pmopulse.store.locks)."""
REACHES_AIRFLOW = ("run", "validate", "kpis")
"""Commands that may read an Airflow connection (a source's, the SMTP one, a store's)."""


def _version() -> str:
    """The installed package's version (pyproject.toml), as pip and Airflow report it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pmopulse")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e . in the checkout)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmopulse",
        description="PMO Pulse: monthly PMO governance reporting. Extracts project data, "
        "validates it, scores KPIs and maturity, writes recommendations and mails PDF reports.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo-data", help="generate a realistic demo organisation (CSV/XLSX tables + pmopulse.yaml)",
        description="Write a deterministic demo organisation to DIR: one CSV per canonical "
        "table under DIR/data/ (questionnaire answers included), the risk register as an XLSX "
        "with Chinese headers under DIR/data/risk_register/ (mapped by the config, as a real "
        "export would be), and DIR/pmopulse.yaml pointing at them. The same arguments always "
        "give the same files.",
    )
    demo.add_argument("dir", type=Path, help="output folder (created if missing)")
    demo.add_argument("--projects", type=int, default=40, help="number of projects (default 40)")
    demo.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--business-units", type=int, default=3,
                      help="number of business units (default 3)")
    demo.add_argument("--as-of", metavar="YYYY-MM", default=None,
                      help="last month of data (default: the last complete month)")

    run = commands.add_parser(
        "run", help="run the whole monthly governance run for one period, without Airflow",
        description="Extract → validate → KPIs → maturity → recommendations → PDF → delivery, "
        "for one period. Mails go through the Airflow SMTP connection named in the config "
        "when it exists (e.g. AIRFLOW_CONN_SMTP_DEFAULT), otherwise to the period's outbox/. "
        "Each mail goes out once: the delivery ledger (in the history database) skips what was sent. "
        f"One run per period: a second run exits with code {EXIT_BUSY}, naming the first, unless --wait.",
    )
    run.add_argument("--config", type=Path, required=True, help="path to pmopulse.yaml")
    run.add_argument("--period", required=True, metavar="YYYY-MM", help="month to report")
    run.add_argument("--refresh", action="store_true",
                     help="pull the sources again instead of reusing the period's frozen snapshot")
    run.add_argument("--resend", action="store_true",
                     help="mail every report again; by default a re-run mails only recipients the "
                     "delivery ledger has not recorded as sent or as unknown (claimed by a run "
                     "that never confirmed sending)")
    run.add_argument("--wait", action="store_true",
                     help="when another run of the period is under way, wait for it to end "
                     f"instead of exiting with code {EXIT_BUSY}")
    check = commands.add_parser(
        "validate", help="extract and validate one period; print the data-quality summary",
        description="Extract (or reuse the frozen snapshot of) one period and check it against "
        "the data contracts. Exit 0 when nothing blocks the report, 2 when something does.",
    )
    check.add_argument("--config", type=Path, required=True, help="path to pmopulse.yaml")
    check.add_argument("--period", required=True, metavar="YYYY-MM", help="month to check")
    check.add_argument("--refresh", action="store_true", help="pull the sources again")
    check.add_argument("--json", action="store_true", help="print the full summary as JSON")

    assess = commands.add_parser(
        "assess", help="score questionnaire answers against a maturity model and KPI evidence",
        description="Read a filled-in questionnaire (CSV or XLSX, as written by `pmopulse "
        "questionnaire` or exported from a web form), score it against the model, check every "
        "claim against the KPIs in --evidence (a period's kpis.json), and print claimed and "
        "evidenced levels per dimension, the contradictions, where respondent groups disagree, "
        "and the roadmap. Answers with unknown items, values off the scale or duplicates are "
        "listed and left out, never guessed; a `submitted` date that cannot be read is listed "
        "and its answer kept. Exit 2 when no answer could be used.",
    )
    assess.add_argument("--model", type=Path, required=True, help="maturity model YAML")
    assess.add_argument("--responses", type=Path, required=True, help="answers, CSV or XLSX")
    assess.add_argument("--evidence", type=Path, help="kpis.json of a period (default: answers only)")
    assess.add_argument("--target", action="append", default=[], metavar="DIMENSION=LEVEL",
                        help="target level of a dimension (default 3 for every dimension); repeatable")
    assess.add_argument("--per-horizon", type=_at_least_one, default=5, metavar="N",
                        help="actions at most per roadmap horizon, 1 or more (default 5)")
    assess.add_argument("--encoding", default=None, metavar="ENCODING",
                        help="encoding of a CSV answers file, e.g. gb18030 (default: UTF-8 with or "
                        "without BOM, else GB18030, whichever reads the file)")
    assess.add_argument("--json", action="store_true", help="print the whole result as JSON")

    kpis = commands.add_parser(
        "kpis", help="compute the KPI catalogue for one period and print the results",
        description="Extract and validate (or reuse the frozen snapshot of) one period, then "
        "compute every KPI of the catalogue per project, program, business unit and "
        "organisation. Prints the organisation scorecard by department, or with --json one "
        "object per KPI and scope: value, numerator, denominator, records, rag, previous. "
        "Does not write to the history store (a monthly run does).",
    )
    kpis.add_argument("--config", type=Path, required=True, help="path to pmopulse.yaml")
    kpis.add_argument("--period", required=True, metavar="YYYY-MM", help="month to compute")
    kpis.add_argument("--refresh", action="store_true", help="pull the sources again")
    kpis.add_argument("--json", action="store_true", help="print every result as JSON")

    form = commands.add_parser(
        "questionnaire", help="write a maturity model's questionnaire as an XLSX or CSV form, or YAML",
        description="Write the self-assessment questionnaire of a maturity model. xlsx: a form "
        "to fill in (sheet Questionnaire with a drop-down list of answers, sheet Instructions "
        "explaining the scale); csv: the same form as UTF-8 CSV (with BOM, so Excel shows "
        "Chinese). A form has one row per question; a second respondent copies the rows below "
        "and fills them in under their own name, so a filled-in form is one row per respondent "
        "and question, as the assessment_responses table is. yaml: scale and items in English "
        "and Chinese, for building a web form (the checked-in assessments/questionnaires/ files "
        "are made this way).",
    )
    form.add_argument("--model", type=Path, required=True, metavar="FILE",
                      help="maturity model, e.g. assessments/models/pmo_maturity.yaml")
    form.add_argument("--format", required=True, choices=["xlsx", "csv", "yaml"],
                      help="xlsx or csv: a blank form; yaml: the questionnaire in both languages")
    form.add_argument("--language", choices=["en", "zh"], default="en",
                      help="language of the form's headers, questions and answers (default en; "
                      "yaml always has both)")
    form.add_argument("--out", type=Path, default=None, metavar="PATH",
                      help="file to write (default: <model id>-questionnaire.<format> here)")
    return parser


def _at_least_one(text: str) -> int:
    """A count of 1 or more, refused by argparse (usage, exit 2) otherwise."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return number


def main(argv: Sequence[str] | None = None, *, now: dt.datetime | None = None) -> int:
    """Run one command. `now` is the clock a period is checked against (default: the
    system's), so that tests do not depend on today's date."""
    args = _parser().parse_args(argv)
    clock = now or dt.datetime.now(dt.UTC)
    if args.command in REACHES_AIRFLOW:
        # Airflow points the root logger at standard output when it is first imported; it
        # is imported before our own set-up so that logs go to standard error and standard
        # output carries only the command's result (with --json, only the JSON).
        import airflow  # noqa: F401
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr,
        force=True,
    )
    try:
        if args.command == "demo-data":
            return _demo_data(args, clock)
        if args.command == "validate":
            return _validate(args, clock)
        if args.command == "kpis":
            return _kpis(args, clock)
        if args.command == "assess":
            return _assess(args)
        if args.command == "questionnaire":
            return _questionnaire(args)
        return _run(args, clock)
    except LockBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except PmoPulseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _demo_data(args: argparse.Namespace, now: dt.datetime) -> int:
    from pmopulse.demo.config import build_demo_organisation

    as_of = Period.parse(args.as_of) if args.as_of else Period.before(now.date())
    args.dir.mkdir(parents=True, exist_ok=True)
    _, config = build_demo_organisation(
        args.dir, projects=args.projects, months=args.months, seed=args.seed,
        as_of_month=str(as_of), business_units=args.business_units,
        progress=lambda message: print(f"  {message}", file=sys.stderr),
    )
    print(f"demo organisation written: {args.dir / 'data'} (data through {as_of})")
    print(f"config: {config}")
    return 0


def _checked_period(args: argparse.Namespace, now: dt.datetime) -> tuple[Config, Period, dict]:
    """Extract (or reuse the frozen snapshot of) the period and validate it."""
    from pmopulse import pipeline
    from pmopulse.config import load_config
    from pmopulse.runspec import reportable_period

    config = load_config(args.config)
    period = reportable_period(config, args.period, now=now)
    pipeline.extract(config, period, refresh=args.refresh)
    return config, period, pipeline.validate(config, period)


def _validate(args: argparse.Namespace, now: dt.datetime) -> int:
    from pmopulse.jsonfile import dumps, read_json

    _, _, result = _checked_period(args, now)
    summary = read_json(Path(result["validation"]))
    if args.json:
        print(dumps(summary).decode())
    else:
        _print_summary(summary)
    return EXIT_USER_ERROR if summary["blocking"] else 0


def _print_summary(summary: dict) -> None:
    totals = summary["totals"]
    print(f"period {summary['period']}: {totals['rows']:,} rows in {totals['tables']} tables, "
          f"{totals['quarantined']:,} quarantined, {totals['failed_errors']} error rule(s) and "
          f"{totals['failed_warnings']} warning rule(s) failed")
    for name, table in summary["tables"].items():
        for rule in table["rules"]:
            if not rule["success"]:
                examples = rule["examples"]
                rows = ", ".join(str(e["row"]) for e in examples)
                where = f" of {examples[0]['origin']}" if examples and examples[0].get("origin") else ""
                print(f"  {rule['severity']:7} {name}.{rule['column']}: expected {rule['expected']}; "
                      f"{rule['unexpected']} row(s) differ (e.g. rows {rows}{where})")
                for finding in rule.get("findings", []):
                    print(f"          {finding}")
    if summary["missing_tables"]:
        print("  tables not provided: " + ", ".join(summary["missing_tables"]))
    for source in summary.get("freshness", []):
        if source["newest"] is None:
            state = "no dated records (freshness: no data)"
        else:
            state = (f"newest record {source['newest']} ({source['basis']}), {source['age_days']} days "
                     f"before the period end; {'STALE' if source['stale'] else 'fresh'} "
                     f"(limit {source['max_age_days']} days)")
        print(f"  source {source['source']}: {state}")
    for found in summary.get("source_warnings", []):
        print(f"  warning source {found['source']}: {found['warning']}")
    for unread in summary.get("unread", []):
        print(f"  source {unread['source']}: {unread['item']} left out, it could not be read: "
              f"{unread['message']}")
    for reason in summary["blocking_reasons"]:
        print(f"  BLOCKING: {reason}")
    if summary.get("data_docs"):
        print(f"details: {summary['data_docs']} (Great Expectations Data Docs)")
    print("verdict: " + ("BLOCKED, reports will not be mailed" if summary["blocking"] else "ok"))


def _assess(args: argparse.Namespace) -> int:
    from pmopulse.assessment import Scoring, read_evidence
    from pmopulse.config import project_home
    from pmopulse.errors import ConfigError
    from pmopulse.jsonfile import dumps
    from pmopulse.kpis.catalogue import load_catalogue
    from pmopulse.maturity.model import load_model
    from pmopulse.maturity.questionnaire import check_encoding, read_answers
    from pmopulse.recommend.engine import load_rules

    if args.encoding:
        check_encoding(args.encoding, "--encoding")
    model = load_model(args.model, load_catalogue(project_home() / "assessments" / "kpis.yaml"))
    imported = read_answers(args.responses, model, encoding=args.encoding)
    for problem in imported.problems:
        print(f"left out: {problem}", file=sys.stderr)
    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)
    if imported.answers.empty:
        print(f"{args.responses}: no usable answer ({len(imported.problems)} problem(s), "
              f"{imported.unanswered} unanswered)", file=sys.stderr)
        return EXIT_USER_ERROR
    kpis = read_evidence(args.evidence, name=f"--evidence {args.evidence}") if args.evidence else None
    targets: dict[str, int] = {}
    for item in args.target:
        dimension, _, level = item.partition("=")
        if not level.isdigit() or not 1 <= int(level) <= 5:
            raise ConfigError(f"--target {item!r}: expected DIMENSION=LEVEL with a level 1–5")
        targets[dimension] = int(level)
    if unknown := sorted(set(targets) - {d.id for d in model.dimensions}):
        raise ConfigError(f"--target names unknown dimension(s) {unknown}")
    scoring = Scoring(model, load_rules(project_home() / "assessments" / "recommendations.yaml"),
                      targets, args.per_horizon)
    result = scoring.evaluate(imported.answers, kpis)
    result["import"] = {"file": imported.file, "problems": [str(p) for p in imported.problems],
                        "notes": [str(n) for n in imported.notes], "unanswered": imported.unanswered,
                        "encoding": imported.encoding}
    if args.json:
        print(dumps(result).decode())
        return 0
    print(f"{model.name['en']}: {result['respondents']} respondents, {result['answers']} answers"
          f"{'' if kpis else ' (no KPI evidence given: claims are not checked)'}")
    print(f"headline level {_level(result['headline_level'])} evidenced, "
          f"{_level(result['headline_claimed_level'])} claimed "
          f"({result['dimensions_assessed']} of {len(result['dimensions'])} dimensions assessed)")
    for d in result["dimensions"]:
        score = "no data" if d["score"] is None else f"{d['score']:.0f}/100"
        print(f"  {d['name']['en']:<40} claimed {_level(d['claimed_level'])}  "
              f"evidenced {_level(d['level'])}  target {d['target']}  score {score} "
              f"({d['practices_answered']} of {len(d['practices'])} practices answered)")
    for c in result["contradictions"]:
        bound = f">= {c['min']:g}" if c["min"] is not None else f"<= {c['max']:g}"
        print(f"  CONTRADICTED {c['practice']} ({c['characterisation']}): {c['kpi']} = {c['value']:.3g}, "
              f"needs {bound}")
    for f in result["groups"]["findings"]:
        print(f"  DISAGREEMENT {f['practice']}: " + ", ".join(f"{g} {c}" for g, c in f["groups"].items()))
    for a in result["recommendations"]:
        print(f"  [{a['horizon']:>7}] {a['department']:<7} {a['action']['en']}")
    return 0


def _level(level: int | None) -> str:
    """A maturity level as printed: nothing answered is "not assessed", never a level."""
    return "not assessed" if level is None else str(level)


def _kpis(args: argparse.Namespace, now: dt.datetime) -> int:
    from pmopulse import pipeline
    from pmopulse.jsonfile import dumps, read_json
    from pmopulse.report.i18n import locale_for

    config, period, _ = _checked_period(args, now)
    locale = locale_for(config.templates_dir, "en")
    report = read_json(Path(pipeline.compute_kpis(config, period)["kpis"]))
    if args.json:
        print(dumps(report["results"]).decode())
        return 0
    catalogue = report["catalogue"]
    print(f"period {report['period']} (as of {report['as_of']}), organisation {config.organisation.name}")
    for department in ("PMO", "QA", "Process"):
        print(f"\n{department}")
        for result in report["results"]:
            definition = catalogue[result["kpi"]]
            if result["level"] != "organisation" or definition["department"] != department:
                continue
            value = locale.kpi_value(result["value"], definition["unit"])
            before = "–" if result["previous"] is None else locale.kpi_value(result["previous"],
                                                                             definition["unit"])
            if result["previous"] is not None and result["previous_basis"] == "recomputed":
                before += " (recomputed)"
            print(f"  {definition['name']['en']:<52} {value:>12}  {result['rag']:<9} "
                  f"previous {before:>10}  ({result['records']} records)")
    return 0


def _questionnaire(args: argparse.Namespace) -> int:
    from pmopulse.maturity.model import load_model
    from pmopulse.maturity.questionnaire import scale_labels, write_form, write_questionnaire_yaml

    model = load_model(args.model)
    out = args.out or Path(f"{model.id}-questionnaire.{args.format}")
    if args.format == "yaml":
        write_questionnaire_yaml(model, out)
    else:
        write_form(model, out, args.format, args.language)
    items = sum(len(p.questions) for d in model.dimensions for p in d.practices)
    print(f"questionnaire of {model.id} written: {out} ({items} items, format {args.format})")
    if args.format != "yaml":
        print("answers: " + " | ".join(scale_labels(args.language)))
    return 0


def _run(args: argparse.Namespace, now: dt.datetime) -> int:
    from pmopulse import pipeline
    from pmopulse.artifacts import period_parts, synced
    from pmopulse.config import load_config
    from pmopulse.runspec import reportable_period
    from pmopulse.store.locks import period_lock

    config = load_config(args.config)
    period = reportable_period(config, args.period, now=now)
    with period_lock(config.history_db.resolve("run lock"), period, wait=args.wait), \
            synced(config, period_parts(period)):
        steps = pipeline.run_period(config, period, refresh=args.refresh, resend=args.resend)
    where = f" (cache of {config.artifacts_url})" if config.artifacts_url else ""
    print(f"period {period}: artifacts in {pipeline.paths(config, period).root}{where}")
    for report in steps["reports"].values():
        for rendered in report["languages"].values():
            print(f"report: {rendered['pdf']}")
    delivered = steps["deliver"]
    for record in delivered["sent"]:
        print(f"mail to {record['to']}: {record['status']} ({record['via']})")
    if unknown := [r for r in delivered["sent"] if r["status"] == "unknown"]:
        print(f"UNKNOWN whether {len(unknown)} mail(s) arrived (not sent again; the PMO contact "
              "was told; --resend sends every report again):",
              *(f"{r['to']} ({r['report']}): {r['error']}" for r in unknown), sep="\n  ", file=sys.stderr)
    if delivered["held_back"]:
        print("reports HELD BACK by data quality:", *delivered["reasons"], sep="\n  ",
              file=sys.stderr)
        return EXIT_HELD_BACK
    return 0


if __name__ == "__main__":
    sys.exit(main())
