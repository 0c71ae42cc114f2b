"""The monthly governance run as plain stage functions over the period's artifact folder.

Each stage reads what earlier stages wrote under `{artifacts_root}/{period}/` and returns a
small JSON-safe dict (paths and counts), which is what Airflow passes between tasks. The
CLI (`pmopulse run`) and the DAG call exactly these functions.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pmopulse.artifacts import within
from pmopulse.config import Config
from pmopulse.errors import ConfigError, SourceError
from pmopulse.jsonfile import read_json, write_json
from pmopulse.period import Period
from pmopulse.spreadsheet import write_frame_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPaths:
    """Where a period's artifacts live."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def staged(self) -> Path:
        """Each source's typed tables, before `freeze` joins them into `canonical`."""
        return self.root / "staged"

    @property
    def canonical(self) -> Path:
        return self.root / "canonical"

    @property
    def clean(self) -> Path:
        return self.root / "clean"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def validation(self) -> Path:
        return self.root / "validation.json"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def kpis(self) -> Path:
        return self.root / "kpis.json"

    @property
    def maturity(self) -> Path:
        return self.root / "maturity.json"

    @property
    def recommendations(self) -> Path:
        return self.root / "recommendations.json"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"


def paths(config: Config, period: Period) -> RunPaths:
    return RunPaths(config.period_dir(period))


def _read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.parquet"):
        stale.unlink()
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


@contextmanager
def _replacing(folder: Path) -> Iterator[Path]:
    """A new, empty folder to fill; when the block ends it takes the place of `folder` by
    rename, so that a reader sees the old folder or the new one, never half of one (for a
    moment, when one is replaced, none). A block that fails leaves `folder` as it was."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        yield fresh
        for _ in range(5):
            try:
                fresh.rename(folder)
                return
            except OSError as exc:  # the folder exists (and a directory is not replaced by rename)
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            with suppress(FileNotFoundError):  # another run moved it away first
                folder.rename(old / folder.name)
            shutil.rmtree(old)
        raise SourceError(f"{folder}: could not be replaced, other runs kept writing it; "
                          "run the period once at a time")
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def extract(config: Config, period: Period, *, refresh: bool = False) -> dict[str, Any]:
    """Pull every source one after another, then freeze the period's snapshot.

    The DAG runs `extract_source` for each source in parallel and then `freeze`; this is
    the same for one process (the CLI). A re-run of a period reads the frozen snapshot
    unless `refresh` is set, so the same period always rebuilds the same report.
    """
    if not refresh and (frozen := _frozen(config, period)) is not None:
        return frozen
    for source in config.sources:
        extract_source(config, period, source.name, refresh=refresh)
    return freeze(config, period, refresh=refresh)


def _frozen(config: Config, period: Period) -> dict[str, Any] | None:
    marker = paths(config, period).canonical / "_snapshot.json"
    if not marker.exists():
        return None
    log.info("period %s: using frozen snapshot %s (pass refresh to pull again)", period, marker)
    return {**read_json(marker), "reused": True}


def source_state_dir(config: Config, source: str) -> Path:
    """Where a source keeps what must outlive a run (an incremental pull's mirror)."""
    return within(config.artifacts_root / "sources", source)


def extract_source(config: Config, period: Period, name: str, *,
                   refresh: bool = False) -> dict[str, Any]:
    """Pull one source: freeze its raw text, and stage its typed tables for `freeze`."""
    from pmopulse.contracts import load_contracts
    from pmopulse.contracts.coerce import SOURCE_ORIGIN
    from pmopulse.sources import SourceRequest, read_source
    from pmopulse.sources.mapping import canonical_frame
    from pmopulse.validation.freshness import dated_freshness, source_freshness

    run = paths(config, period)
    if not refresh and (run.canonical / "_snapshot.json").exists():
        return {"source": name, "reused": True}
    source = next((s for s in config.sources if s.name == name), None)
    if source is None:
        raise ConfigError(f"{config.path}: no source named {name!r}; "
                          f"the sources are {[s.name for s in config.sources]}")
    contracts = load_contracts()
    log.info("source %s: reading %s", source.name, source.location)
    request = SourceRequest(contracts, period, source_state_dir(config, name), refresh,
                            zone=config.organisation.zone, limits=config.limits)
    read = read_source(source, request)
    raws = read.tables
    with _replacing(within(run.raw, name)) as folder:
        _write_tables(folder, {raw.table: raw.frame for raw in raws})
    typed: dict[str, pd.DataFrame] = {}
    for raw in raws:
        frame = canonical_frame(raw.frame, contracts[raw.table], raw.mapping, raw.origin)
        frame[SOURCE_ORIGIN] = raw.origin
        typed[raw.table] = frame
    with _replacing(within(run.staged, name)) as folder:
        _write_tables(folder, typed)
    freshness = (source_freshness(typed, contracts, period.end, source.max_age_days)
                 if read.dated is None else dated_freshness(read.dated, period.end, source.max_age_days))
    summary = {
        "name": name, "kind": source.kind, "location": source.location,
        "tables": {raw.table: {"rows": len(raw.frame), "origin": raw.origin} for raw in raws},
        "freshness": freshness,
        "warnings": [warning for raw in raws for warning in raw.warnings],
        "unread": [{"item": u.item, "message": u.message, "blocking": u.blocking} for u in read.unread],
        "notes": [dict(note) for note in read.notes],
    }
    for unread in read.unread:
        log.error("source %s: %s left out: %s", name, unread.item, unread.message)
    write_json(within(run.staged, f"{name}.json"), summary)
    for warning in summary["warnings"]:
        log.warning("source %s: %s", name, warning)
    log.info("source %s: %s; newest record %s", name,
             ", ".join(f"{raw.table} ({len(raw.frame)} rows)" for raw in raws) or "no tables",
             freshness["newest"] or "none")
    return {"source": name, "reused": False, "tables": summary["tables"]}


def freeze(config: Config, period: Period, *, refresh: bool = False) -> dict[str, Any]:
    """Join the sources' staged tables into the period's canonical snapshot."""
    if not refresh and (frozen := _frozen(config, period)) is not None:
        return frozen
    run = paths(config, period)
    typed: dict[str, list[pd.DataFrame]] = {}
    sources = []
    for source in config.sources:
        summary_file = within(run.staged, f"{source.name}.json")
        if not summary_file.exists():
            raise SourceError(f"period {period}: source {source.name!r} has not been extracted "
                              f"(no {summary_file}); run its extract task first")
        sources.append(read_json(summary_file))
        for name, frame in _read_tables(within(run.staged, source.name)).items():
            typed.setdefault(name, []).append(frame)
    # A source dropped from the config leaves nothing behind in the snapshot.
    names = {s.name for s in config.sources}
    for folder in (run.raw, run.staged):
        for stale in folder.iterdir() if folder.is_dir() else ():
            if stale.is_dir() and stale.name not in names and not stale.name.startswith("."):
                shutil.rmtree(stale)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in typed.items()}
    snapshot = {
        "period": str(period),
        "canonical": str(run.canonical),
        "raw": str(run.raw),
        "tables": {name: len(frame) for name, frame in tables.items()},
        "sources": sources,
    }
    # The tables and their marker appear together: a reader finds all of the snapshot or none.
    with _replacing(run.canonical) as folder:
        _write_tables(folder, tables)
        write_json(folder / "_snapshot.json", snapshot)
    return {**snapshot, "reused": False}


def validate(config: Config, period: Period) -> dict[str, Any]:
    """Check the canonical tables against their contracts; quarantine bad rows."""
    from pmopulse.contracts import ConfigList, load_contracts
    from pmopulse.validation.runner import validate_tables

    run = paths(config, period)
    result = validate_tables(
        _read_tables(run.canonical), load_contracts(),
        quarantine_limit=config.quarantine_limit,
        docs_dir=run.data_docs, run_name=f"pmopulse-{period}",
        run_time=dt.datetime.combine(period.end, dt.time(), tzinfo=dt.UTC),
        configured={ConfigList.BUSINESS_UNITS: [bu.id for bu in config.organisation.business_units]},
    )
    _write_tables(run.clean, {name: t.clean for name, t in result.tables.items() if len(t.quarantine)})
    for name, table in result.tables.items():
        if not len(table.quarantine):  # clean as it came: the file, not a re-encoding of it
            shutil.copyfile(run.canonical / f"{name}.parquet", run.clean / f"{name}.parquet")
    run.quarantine.mkdir(parents=True, exist_ok=True)
    for stale in [*run.quarantine.glob("*.csv"), *run.quarantine.glob("*.json")]:
        stale.unlink()
    for name, table in result.tables.items():
        if len(table.quarantine):
            # The CSV is for people (Excel), with formula-like text neutralised; the JSON
            # keeps every value exactly as the source gave it.
            write_frame_csv(table.quarantine, within(run.quarantine, f"{name}.csv"))
            rows = table.quarantine.astype(object)
            write_json(within(run.quarantine, f"{name}.json"),
                       rows.where(rows.notna(), None).to_dict("records"))
    snapshot = read_json(run.canonical / "_snapshot.json")
    summary = {
        "period": str(period),
        **result.summary(),
        "freshness": [{"source": s["name"], **s["freshness"]} for s in snapshot["sources"]],
        "source_warnings": [{"source": s["name"], "warning": w}
                            for s in snapshot["sources"] for w in s.get("warnings", [])],
        "unread": [{"source": s["name"], **u} for s in snapshot["sources"] for u in s.get("unread", [])],
        "data_docs": str(run.data_docs / "index.html"),
    }
    if required := [u for u in summary["unread"] if u["blocking"]]:
        summary["blocking"] = True
        summary["blocking_reasons"] = [
            *summary["blocking_reasons"],
            *(f"source {u['source']!r} is required and {u['item']} could not be read: {u['message']}"
              for u in required)]
    write_json(run.validation, summary)
    for reason in summary["blocking_reasons"]:
        log.error("blocking data-quality problem: %s", reason)
    for source in summary["freshness"]:
        if source["stale"]:
            log.warning("source %s is stale: newest record %s is %d days old (limit %d)",
                        source["source"], source["newest"], source["age_days"],
                        source["max_age_days"])
    return {"validation": str(run.validation), "blocking": summary["blocking"],
            "totals": summary["totals"]}


def compute_kpis(config: Config, period: Period) -> dict[str, Any]:
    """KPIs per project, program, business unit and organisation from the clean tables.

    Month-over-month change and trends use what earlier reports stated (the history store),
    else what an earlier month's own frozen snapshot gave (its kpis.json); a month neither
    holds is recomputed from this period's data only for KPIs the catalogue marks
    recomputable, and is "no data" for the others.
    """
    from pmopulse.kpis.catalogue import load_catalogue
    from pmopulse.kpis.engine import TREND_MONTHS
    from pmopulse.kpis.engine import compute_kpis as compute
    from pmopulse.store.history import HistoryStore

    run = paths(config, period)
    catalogue = load_catalogue(config.assessments_dir / "kpis.yaml")
    config.kpi_thresholds.check(catalogue)
    store = HistoryStore(config.history_db.resolve("history store"))
    try:
        history = store.trend_history(period, TREND_MONTHS)
    finally:
        store.close()
    history = history.with_snapshots(_snapshot_values(config, period, TREND_MONTHS, history.periods))
    result = compute(
        _read_tables(run.clean), catalogue, period,
        organisation=config.organisation.name,
        business_units=[bu.id for bu in config.organisation.business_units],
        overrides=config.kpi_thresholds,
        history=history,
    )
    write_json(run.kpis, result, readable=False)  # a result per KPI and scope: 100,000 at 10,000 projects
    org = [r for r in result["results"] if r["level"] == "organisation"]
    colours = Counter(r["rag"] for r in org)
    return {"kpis": str(run.kpis), "organisation": {r["kpi"]: r["value"] for r in org},
            "colours": dict(sorted(colours.items()))}


def _snapshot_values(config: Config, period: Period, months: int,
                     known: frozenset[str]) -> Iterator[tuple[str, str, str, str, float | None]]:
    """(period, kpi, level, scope, value) of the earlier months the history store does not
    hold, from each month's own kpis.json (computed from that month's frozen snapshot): the
    month before in full, the others for the organisation and its units. A month whose
    report data quality held back stated nothing, and is skipped."""
    before = period.shift(-1)
    for month in period.trailing(months)[:-1]:
        run = paths(config, month)
        if str(month) in known or not run.kpis.is_file():
            continue
        if run.validation.is_file() and read_json(run.validation)["blocking"]:
            continue
        levels = None if month == before else {"organisation", "business_unit"}
        for r in read_json(run.kpis)["results"]:
            if levels is None or r["level"] in levels:
                yield str(month), r["kpi"], r["level"], r["scope"], r["value"]


def assess_maturity(config: Config, period: Period) -> dict[str, Any]:
    """Score the latest questionnaire answers against the model, checked against this period's KPIs.

    The answers are the newest round: the `assessment_responses` source table or the latest
    stand-alone assessment (DAG `pmo_maturity_assessment`), whichever is newer.
    """
    from pmopulse.assessment import answers_for_period
    from pmopulse.kpis.catalogue import load_catalogue
    from pmopulse.maturity.model import load_model
    from pmopulse.maturity.scoring import Evidence, assess

    run = paths(config, period)
    answers, basis = answers_for_period(config, period, _read_tables(run.clean).get("assessment_responses"))
    model = load_model(config.maturity_model, load_catalogue(config.assessments_dir / "kpis.yaml"))
    config.check_targets(model)
    result = assess(
        model, answers,
        evidence=Evidence.from_kpis(read_json(run.kpis), config.organisation.name),
        targets=config.maturity_targets,
        business_units=[bu.id for bu in config.organisation.business_units],
    )
    result["answers_basis"] = basis
    write_json(run.maturity, result)
    return {"maturity": str(run.maturity), "headline_level": result["headline_level"],
            "contradictions": len(result["contradictions"])}


def recommend(config: Config, period: Period) -> dict[str, Any]:
    """Rank the triggered recommendation rules into a roadmap."""
    from pmopulse.recommend.engine import load_rules
    from pmopulse.recommend.engine import recommend as rank

    run = paths(config, period)
    actions = rank(
        load_rules(config.assessments_dir / "recommendations.yaml"),
        read_json(run.kpis), read_json(run.maturity),
        max_per_horizon=config.max_actions_per_horizon,
    )
    write_json(run.recommendations, actions)
    return {"recommendations": str(run.recommendations), "count": len(actions)}


def render_reports(config: Config, period: Period) -> dict[str, Any]:
    """Every report of the period: the organisation's and one per business unit."""
    rendered = {"organisation": render_report(config, period)}
    for unit in config.organisation.business_units:
        rendered[unit.id] = render_report(config, period, unit.id)
    return rendered


def render_report(config: Config, period: Period, business_unit: str | None = None) -> dict[str, Any]:
    """One report (the organisation's, or a business unit's) in each language its readers
    need: its context JSON and PDF per language, beside each other in `reports/`."""
    from pmopulse.contracts import data_dictionary, load_contracts
    from pmopulse.report.context import organisation_context
    from pmopulse.report.render import render_pdf

    run = paths(config, period)
    audience = business_unit or "organisation"
    previous = paths(config, period.shift(-1)).maturity
    maturity = read_json(run.maturity)
    kpis = read_json(run.kpis)
    if business_unit:
        recommendations = _unit_recommendations(config, kpis, maturity, business_unit)
    else:
        recommendations = read_json(run.recommendations)
    context = organisation_context(
        organisation=config.organisation.name,
        business_units=[{"id": bu.id, "name": bu.name} for bu in config.organisation.business_units],
        period=str(period),
        as_of=period.end.isoformat(),
        language=config.language,
        projects=_projects(run),
        validation=read_json(run.validation),
        kpis=kpis,
        maturity=maturity,
        previous_maturity=read_json(previous) if previous.is_file() else None,
        recommendations=recommendations,
        sources=read_json(run.canonical / "_snapshot.json")["sources"],
        data_dictionary=data_dictionary(load_contracts()),
        business_unit=business_unit,
    )
    rendered: dict[str, Any] = {"audience": audience, "languages": {}}
    for language in config.delivery.languages(audience, config.language):
        # One context, formatted per language: the figures are the same in every version.
        localised = {**context, "language": language}
        stem = f"{'business-unit-' + business_unit if business_unit else 'organisation'}-{period}.{language}"
        context_path = write_json(within(run.reports, f"{stem}.json"), localised)
        pdf = render_pdf(localised, config.templates_dir, "organisation.html.j2",
                         within(run.reports, f"{stem}.pdf"))
        rendered["languages"][language] = {"pdf": str(pdf), "context": str(context_path)}
    return rendered


def _projects(run: RunPaths) -> pd.DataFrame:
    """The clean projects table; empty when there is none (such a period is held back, and
    its report, rendered for the PMO to look at, says no data)."""
    path = run.clean / "projects.parquet"
    if path.is_file():
        return pd.read_parquet(path)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ("id", "name", "manager", "business_unit")})


def _unit_recommendations(config: Config, kpis: dict[str, Any], maturity: dict[str, Any],
                          business_unit: str) -> list[dict[str, Any]]:
    """The roadmap of one unit: its own practice gaps and contradicted claims."""
    from pmopulse.maturity.scoring import unit_view
    from pmopulse.recommend.engine import load_rules, recommend

    view = unit_view(maturity, business_unit)
    return recommend(load_rules(config.assessments_dir / "recommendations.yaml"), kpis, view,
                     business_unit=business_unit, max_per_horizon=config.max_actions_per_horizon)


def deliver(config: Config, period: Period, reports: dict[str, Any], *,
            resend: bool = False) -> dict[str, Any]:
    """Mail each report to its recipient lists, or tell the PMO why it was held back.

    The delivery ledger makes this safe to retry and re-run: what went out is not sent
    again unless `resend` is set."""
    from pmopulse.deliver.mail import Mail
    from pmopulse.deliver.recorded import send_recorded
    from pmopulse.report.i18n import locale_for
    from pmopulse.report.templating import render_template

    run = paths(config, period)
    validation = read_json(run.validation)
    delivery = config.delivery
    org = config.organisation.name
    locale = locale_for(config.templates_dir, config.language)
    if validation["blocking"]:
        held = Mail(
            sender=delivery.sender, to=(delivery.pmo_contact,),
            subject=locale.t("mail_held_subject", org=org, period=str(period)),
            html=render_template(config.templates_dir, config.language, "mail_held.html.j2",
                                 ctx={"period": str(period),
                                      "reasons": validation["blocking_reasons"]}),
            key=f"{period}-held-back-{delivery.pmo_contact}",
            run=str(period), report="held-back", language=config.language,
        )
        sent = send_recorded(config, [held], run.outbox, resend=resend)
        log.error("period %s: reports held back; the PMO contact was told why", period)
        return {"held_back": True, "reasons": validation["blocking_reasons"],
                "sent": sent + _tell_unconfirmed(config, period, sent)}
    mails = []
    for report in reports.values():
        for recipients in delivery.readers(report["audience"]):
            language = recipients.language or config.language
            rendered = report["languages"][language]
            context = read_json(Path(rendered["context"]))
            scope = context["scope"]["name"] if context["scope"] else org
            mails += [Mail(
                sender=delivery.sender, to=(to,),
                subject=locale_for(config.templates_dir, language).t("mail_subject", org=scope,
                                                                      period=str(period)),
                html=render_template(config.templates_dir, language, "mail_body.html.j2", ctx=context),
                attachments=(Path(rendered["pdf"]),),
                key=f"{period}-{report['audience']}-{language}-{to}",
                run=str(period), report=report["audience"], language=language,
            ) for to in recipients.to]
    sent = send_recorded(config, mails, run.outbox, resend=resend)
    return {"held_back": False, "sent": sent + _tell_unconfirmed(config, period, sent)}


def _tell_unconfirmed(config: Config, period: Period, sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tell the PMO contact which mails are unknown (claimed by a run that never confirmed
    them), once for each such set; returns the notice's own delivery records."""
    from pmopulse.deliver.mail import Mail
    from pmopulse.deliver.recorded import send_recorded
    from pmopulse.report.i18n import locale_for
    from pmopulse.report.templating import render_template

    unknown = [r for r in sent if r["status"] == "unknown"]
    if not unknown:
        return []
    for record in unknown:
        log.warning("period %s: delivery to %s unknown: %s", period, record["to"], record["error"])
    digest = hashlib.sha256("\n".join(sorted(f"{r['report']}/{r['to']}" for r in unknown)).encode())
    contact = config.delivery.pmo_contact
    notice = Mail(
        sender=config.delivery.sender, to=(contact,),
        subject=locale_for(config.templates_dir, config.language).t(
            "mail_unconfirmed_subject", org=config.organisation.name, period=str(period)),
        html=render_template(config.templates_dir, config.language, "mail_unconfirmed.html.j2",
                             ctx={"period": str(period), "mails": unknown}),
        key=f"{period}-unconfirmed-{digest.hexdigest()[:8]}-{contact}",
        run=str(period), report=f"unconfirmed:{digest.hexdigest()[:8]}", language=config.language,
    )
    return send_recorded(config, [notice], paths(config, period).outbox)


def store_history(config: Config, period: Period, delivered: dict[str, Any]) -> dict[str, Any]:
    """Record the period's KPI results as reported, replacing any earlier run of the period.

    A held-back period is not recorded: its figures were not reported, and the next month
    should compare against numbers recomputed from corrected data instead.
    """
    from pmopulse.store.history import HistoryStore

    if delivered["held_back"]:
        log.warning("period %s held back: KPI history not updated", period)
        return {"stored": 0, "held_back": True}
    store = HistoryStore(config.history_db.resolve("history store"))
    try:
        stored = store.replace_period(period, read_json(paths(config, period).kpis)["results"])
    finally:
        store.close()
    return {"stored": stored, "held_back": False, "history": config.history_db.location}


def run_period(config: Config, period: Period, *, refresh: bool = False,
               resend: bool = False) -> dict[str, Any]:
    """All stages in order, as the DAG runs them, logging one line per stage."""
    steps: dict[str, Any] = {}
    steps["extract"] = extract(config, period, refresh=refresh)
    log.info("[1/8] extract: %d tables%s", len(steps["extract"]["tables"]),
             " (frozen snapshot reused)" if steps["extract"]["reused"] else "")
    steps["validate"] = validate(config, period)
    totals = steps["validate"]["totals"]
    log.info("[2/8] validate: %d rules, %d rows quarantined of %d", totals["rules"],
             totals["quarantined"], totals["rows"])
    steps["kpis"] = compute_kpis(config, period)
    colours = steps["kpis"]["colours"]
    log.info("[3/8] KPIs: %d for the organisation (%s)", sum(colours.values()),
             ", ".join(f"{n} {rag}" for rag, n in colours.items()))
    steps["maturity"] = assess_maturity(config, period)
    log.info("[4/8] maturity: headline level %s", steps["maturity"]["headline_level"])
    steps["recommend"] = recommend(config, period)
    log.info("[5/8] recommendations: %d actions", steps["recommend"]["count"])
    steps["reports"] = render_reports(config, period)
    log.info("[6/8] reports: %d (organisation and %d business units)", len(steps["reports"]),
             len(steps["reports"]) - 1)
    steps["deliver"] = deliver(config, period, steps["reports"], resend=resend)
    log.info("[7/8] delivery: %d mail(s) sent, %d already sent before, %d unknown%s",
             sum(r["status"] == "sent" for r in steps["deliver"]["sent"]),
             sum(r["status"].startswith("skipped") for r in steps["deliver"]["sent"]),
             sum(r["status"] == "unknown" for r in steps["deliver"]["sent"]),
             ", reports HELD BACK" if steps["deliver"]["held_back"] else "")
    steps["history"] = store_history(config, period, steps["deliver"])
    log.info("[8/8] history: %d KPI results stored", steps["history"]["stored"])
    return steps
