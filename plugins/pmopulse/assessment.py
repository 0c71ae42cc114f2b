"""The stand-alone maturity assessment (DAG `pmo_maturity_assessment`) as stage functions.

One assessment per answers file, in its own folder `{artifacts_root}/assessments/{id}/`:

    intake.json       what came in: the file's name, business unit, time received, as-of date
    answers.csv|xlsx  the file exactly as received (nothing is lost, even when it is refused)
    answers.parquet   the answers that were scored
    assessment.json   the result: levels, contradictions, roadmap, rows left out, evidence used
    reports/          the report's context JSON and PDF
    outbox/           mails, when no SMTP connection is configured

Claims are checked against the newest reported KPIs: the latest period whose month ended on
or before the as-of date and whose reports were not held back. The monthly run then takes
the latest assessment into its report (`answers_for_period`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmopulse.artifacts import within
from pmopulse.config import Config, whole_number
from pmopulse.errors import ConfigError, ContractViolation, SourceError
from pmopulse.jsonfile import read_json, write_json
from pmopulse.maturity.inbox import slug
from pmopulse.period import Period

if TYPE_CHECKING:
    from pmopulse.maturity.model import MaturityModel
    from pmopulse.recommend.engine import RecommendationRule

log = logging.getLogger(__name__)

_PERIOD_DIR = re.compile(r"^\d{4}-\d{2}$")


# --------------------------------------------------------------------------------------
# Scoring, shared with `pmopulse assess`
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scoring:
    """What answers are scored with: the model, targets, recommendation rules and limits."""

    model: MaturityModel
    rules: list[RecommendationRule]
    targets: Mapping[str, int] = field(default_factory=dict)
    max_per_horizon: int = 5
    organisation: str | None = None        # None: the one the KPI report is about
    business_units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        whole_number(self.max_per_horizon, "actions per roadmap horizon", 1)

    @classmethod
    def from_config(cls, config: Config) -> Scoring:
        from pmopulse.kpis.catalogue import load_catalogue
        from pmopulse.maturity.model import load_model
        from pmopulse.recommend.engine import load_rules

        model = load_model(config.maturity_model, load_catalogue(config.assessments_dir / "kpis.yaml"))
        config.check_targets(model)
        return cls(model, load_rules(config.assessments_dir / "recommendations.yaml"),
                   config.maturity_targets, config.max_actions_per_horizon, config.organisation.name,
                   tuple(bu.id for bu in config.organisation.business_units))

    def evaluate(self, answers: pd.DataFrame, kpis: Mapping[str, Any] | None,
                 business_unit: str | None = None) -> dict[str, Any]:
        """Levels, contradictions and the ranked roadmap, for the organisation or one unit.

        A unit's result is that unit's view: its answers, and its own KPI values as evidence
        wherever the KPI is reported per unit.
        """
        from pmopulse.maturity.scoring import Evidence, assess, unit_view
        from pmopulse.recommend.engine import recommend

        result = assess(self.model, answers, evidence=Evidence.from_kpis(kpis, self.organisation),
                        targets=self.targets, business_units=self.business_units)
        if business_unit is not None:
            result = unit_view(result, business_unit)
        result["scope"] = business_unit
        result["recommendations"] = recommend(self.rules, kpis or {"results": []}, result,
                                              business_unit=business_unit,
                                              max_per_horizon=self.max_per_horizon)
        return result


KPI_RESULT_KEYS = ("kpi", "level", "scope", "value", "rag", "records")
"""What scoring and the recommendations read of each result in a KPI report."""


def read_evidence(path: Path, *, name: str | None = None) -> dict[str, Any]:
    """A KPI report (a period's kpis.json) to check claims against, refused with a message
    naming the file (as `name`, default its path) and the KPI when it is not one: every result
    needs KPI_RESULT_KEYS, and a value is a number, or null for no data."""
    import json

    label = name or str(path)
    what = "not a KPI report (a period's kpis.json, as `pmopulse kpis` writes it)"
    try:
        report = read_json(path)
    except (OSError, json.JSONDecodeError) as exc:
        raise ContractViolation(f"{label}: {what}: {exc}") from None
    results = report.get("results") if isinstance(report, dict) else None
    if not isinstance(results, list):
        raise ContractViolation(f"{label}: {what}: no list of results")
    for number, result in enumerate(results):
        if not isinstance(result, dict) or (missing := [k for k in KPI_RESULT_KEYS if k not in result]):
            raise ContractViolation(f"{label}: {what}: result {number} has no "
                                    f"{', '.join(missing) if isinstance(result, dict) else 'keys'}; "
                                    f"each result needs {', '.join(KPI_RESULT_KEYS)}")
        value = result["value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ContractViolation(
                f"{label}: KPI {result['kpi']!r} ({result['level']} {result['scope']!r}) has the value "
                f"{value!r}; expected a number, or null for no data")
    return report


def latest_evidence(config: Config, as_of: dt.date) -> Period | None:
    """The newest period with reported KPIs whose month ended on or before `as_of`."""
    periods = []
    root = config.artifacts_root
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not _PERIOD_DIR.match(folder.name) or not (folder / "kpis.json").is_file():
            continue
        period = Period.parse(folder.name)
        validation = folder / "validation.json"
        if period.end > as_of or (validation.is_file() and read_json(validation)["blocking"]):
            continue  # not yet over, or held back: its figures were never reported
        periods.append(period)
    return max(periods, default=None)


# --------------------------------------------------------------------------------------
# The DAG's stages
# --------------------------------------------------------------------------------------


def intake(
    config: Config,
    *,
    answers_file: str = "",
    business_unit: str = "",
    as_of: str = "",
    encoding: str = "",
    run_time: dt.datetime,
    triggered: bool = False,
) -> list[str]:
    """Give each answers file its assessment folder; returns the folders.

    In a run by hand, the file is `answers_file` (copied: the original stays). Otherwise
    every file the inbox watcher has claimed and no run has taken yet is moved in: one run
    may take several files, and a run whose files an earlier run took has nothing to do. The
    as-of date is the explicit one, or the run's date in the organisation's time zone. A CSV
    is read in `encoding` when given, else as UTF-8 or GB18030, whichever decodes it.
    """
    from pmopulse.maturity.inbox import Claimed, pending, release
    from pmopulse.maturity.questionnaire import check_encoding

    day = _as_of(config, as_of, run_time)
    if encoding:
        check_encoding(encoding, "param encoding")
    units = {bu.id for bu in config.organisation.business_units}
    inbox = config.assessment_inbox
    if answers_file:
        path = Path(answers_file)
        if not path.is_file():
            raise SourceError(f"answers file {path} does not exist (DAG param answers_file)")
        received = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)
        files = [Claimed(path, path.name, business_unit or None, received)]
    else:
        files = pending(inbox)
        if not files and not triggered:
            raise ConfigError(
                f"no answers file: put a CSV or XLSX export into {inbox} (or {inbox}/<business unit "
                "id>/), or run the DAG by hand with the param answers_file")
        if not files:
            log.warning("no claimed answers file is waiting in %s: an earlier run took them", inbox)
    if business_unit and business_unit not in units:
        raise ConfigError(f"param business_unit {business_unit!r} is not in the config "
                          f"(organisation.business_units: {sorted(units)})")
    folders = []
    for claimed in files:
        unit = claimed.business_unit
        name = f"{claimed.received:%Y%m%dT%H%M%SZ}-{slug(Path(claimed.name).stem)}"
        folder = within(config.assessments_root, f"{name}-{unit}" if unit else name)
        folder.mkdir(parents=True, exist_ok=True)
        answers = folder / f"answers{claimed.path.suffix.lower()}"
        shutil.copyfile(claimed.path, answers)
        record = {"id": folder.name, "file": claimed.name, "business_unit": unit,
                  "received": claimed.received.isoformat(), "as_of": day.isoformat(),
                  "source": "by hand" if answers_file else "inbox", "answers": answers.name,
                  "encoding": encoding or None}
        if unit is not None and unit not in units:
            # Kept and refused when scored, so one misnamed folder never blocks later files.
            record["refused"] = (f"{claimed.name}: landed in the inbox folder {unit!r}, which is not "
                                 f"a business unit in the config {sorted(units)}; move it into the "
                                 "folder of its unit (or the inbox itself for the organisation)")
        write_json(folder / "intake.json", record)
        if not answers_file:
            release(claimed, inbox)
        log.info("assessment %s: %s (%s) received %s, as of %s", folder.name, claimed.name,
                 unit or "organisation", record["received"], day)
        folders.append(str(folder))
    return folders


def score(config: Config, folder: str | Path) -> dict[str, Any]:
    """Import the answers, score them against the latest KPI evidence, rank the roadmap."""
    from pmopulse.maturity.questionnaire import read_answers

    folder = Path(folder)
    record = read_json(folder / "intake.json")
    if record.get("refused"):
        return _refused(folder, record, record["refused"], [])
    scoring = Scoring.from_config(config)
    unit = record["business_unit"]
    try:
        imported = read_answers(folder / record["answers"], scoring.model,
                                encoding=record.get("encoding"), limits=config.limits)
    except (SourceError, ContractViolation) as exc:
        return _refused(folder, record, str(exc).replace(str(folder / record["answers"]), record["file"]),
                        [])
    answers, problems = _in_scope(imported.answers, [str(p) for p in imported.problems], unit,
                                  imported.file)
    problems = [p.replace(imported.file, record["file"]) for p in problems]
    notes = [str(n).replace(imported.file, record["file"]) for n in imported.notes]
    if answers.empty:
        return _refused(folder, record, f"{record['file']}: no usable answer", problems)
    period = latest_evidence(config, dt.date.fromisoformat(record["as_of"]))
    kpis = read_evidence(config.period_dir(period) / "kpis.json") if period else None
    result = scoring.evaluate(answers, kpis, unit)
    answers.to_parquet(folder / "answers.parquet", index=False)
    write_json(folder / "assessment.json", {
        "usable": True, "intake": record,
        "evidence": {"period": str(period), "as_of": period.end.isoformat()} if period else None,
        "import": {"problems": problems, "notes": notes, "unanswered": imported.unanswered,
                   "encoding": imported.encoding},
        "maturity": result,
    })
    log.info("assessment %s: level %s evidenced, %s claimed; %d contradiction(s); evidence %s",
             record["id"], result["headline_level"], result["headline_claimed_level"],
             len(result["contradictions"]), period or "none")
    return {"assessment": str(folder), "usable": True, "headline_level": result["headline_level"],
            "contradictions": len(result["contradictions"])}


def render(config: Config, folder: str | Path) -> dict[str, Any]:
    """The assessment report in each language its readers need: context JSON and PDF."""
    from pmopulse.kpis.catalogue import load_catalogue
    from pmopulse.report.render import render_pdf

    folder = Path(folder)
    result = read_json(folder / "assessment.json")
    rendered: dict[str, Any] = {"assessment": str(folder), "languages": {}}
    if not result["usable"]:
        return rendered
    units = {bu.id: bu.name for bu in config.organisation.business_units}
    unit = result["intake"]["business_unit"]
    catalogue = {k: d.as_dict() for k, d in load_catalogue(config.assessments_dir / "kpis.yaml").items()}
    for language in config.delivery.languages("assessment", config.language):
        context = {
            "report": "assessment",
            "language": language,
            "organisation": config.organisation.name,
            "scope": {"id": unit, "name": units.get(unit, unit)} if unit else None,
            "as_of": result["intake"]["as_of"],
            "intake": result["intake"],
            "evidence": result["evidence"],
            "import": result["import"],
            "maturity": result["maturity"],
            "recommendations": result["maturity"]["recommendations"],
            "catalogue": catalogue,
        }
        stem = f"assessment-{folder.name}.{language}"
        context_path = write_json(within(folder / "reports", f"{stem}.json"), context)
        pdf = render_pdf(context, config.templates_dir, "assessment.html.j2",
                         within(folder / "reports", f"{stem}.pdf"))
        rendered["languages"][language] = {"pdf": str(pdf), "context": str(context_path)}
    return rendered


def deliver(config: Config, folder: str | Path, rendered: Mapping[str, Any], *,
            resend: bool = False) -> dict[str, Any]:
    """Mail the report to `delivery.recipients.assessment` (default: the PMO contact), each
    list in its language, or tell the PMO contact why the answers were refused. The
    delivery ledger skips what already went out for this assessment unless `resend`."""
    from pmopulse.deliver.mail import Mail
    from pmopulse.deliver.recorded import send_recorded
    from pmopulse.report.i18n import locale_for
    from pmopulse.report.templating import render_template

    folder = Path(folder)
    result = read_json(folder / "assessment.json")
    record = result["intake"]
    delivery = config.delivery
    units = {bu.id: bu.name for bu in config.organisation.business_units}
    scope = units.get(record["business_unit"], config.organisation.name)
    if not result["usable"]:
        locale = locale_for(config.templates_dir, config.language)
        mails = [Mail(
            sender=delivery.sender, to=(delivery.pmo_contact,),
            subject=locale.t("mail_assessment_refused_subject", file=record["file"]),
            html=render_template(config.templates_dir, config.language,
                                 "mail_assessment_refused.html.j2", ctx=result),
            key=f"assessment-{record['id']}-refused-{delivery.pmo_contact}",
            run=record["id"], report="assessment-refused", language=config.language,
        )]
    else:
        maturity = result["maturity"]
        mails = []
        for readers in delivery.readers("assessment"):
            language = readers.language or config.language
            files = rendered["languages"][language]
            mails += [Mail(
                sender=delivery.sender, to=(to,),
                subject=locale_for(config.templates_dir, language).t(
                    "mail_assessment_subject", scope=scope, level=maturity["headline_level"],
                    claimed=maturity["headline_claimed_level"]),
                html=render_template(config.templates_dir, language, "mail_assessment.html.j2",
                                     ctx=read_json(Path(files["context"]))),
                attachments=(Path(files["pdf"]),),
                key=f"assessment-{record['id']}-{language}-{to}",
                run=record["id"], report="assessment", language=language,
            ) for to in readers.to]
    sent = send_recorded(config, mails, folder / "outbox", resend=resend)
    return {"assessment": str(folder), "usable": result["usable"], "sent": sent}


# --------------------------------------------------------------------------------------
# The monthly run's answers
# --------------------------------------------------------------------------------------


def answers_for_period(
    config: Config, period: Period, table: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The answers the month's report scores, and where they came from.

    The organisation's answers are the newer of the `assessment_responses` source table
    (dated by its newest `submitted`) and the latest organisation-wide stand-alone
    assessment received by the end of the month. A business unit's own stand-alone
    assessment of that day or later replaces that unit's answers.
    """
    from pmopulse.maturity.scoring import respondent_keys

    end = period.end
    rounds = [r for r in _assessment_rounds(config) if r["date"] <= end]
    candidates = [r for r in rounds if r["business_unit"] is None]
    if table is not None and not table.empty:
        submitted = pd.to_datetime(table["submitted"], errors="coerce").dropna() \
            if "submitted" in table else pd.Series(dtype="datetime64[ns]")
        dated = submitted.max().date() if not submitted.empty else end
        candidates.append({"source": "assessment_responses", "business_unit": None, "date": dated,
                           "answers": table})
    base = max(candidates, key=lambda r: r["date"], default=None)
    chosen = [base] if base else []
    answers = base["answers"] if base else _empty_answers()
    newest_per_unit: dict[str, dict[str, Any]] = {}
    for r in rounds:
        # On the same day, a unit's own assessment is the more specific one.
        if r["business_unit"] is not None and (base is None or r["date"] >= base["date"]):
            newest_per_unit[r["business_unit"]] = max(
                (r, newest_per_unit.get(r["business_unit"], r)), key=lambda x: x["date"])
    for unit, r in sorted(newest_per_unit.items()):
        answers = pd.concat([answers[answers["business_unit"] != unit], r["answers"]], ignore_index=True)
        chosen.append(r)
    basis = [{"source": r["source"], "business_unit": r["business_unit"], "date": r["date"].isoformat(),
              "respondents": int(respondent_keys(r["answers"]).nunique())} for r in chosen]
    return answers, basis


def _assessment_rounds(config: Config) -> list[dict[str, Any]]:
    rounds = []
    root = config.assessments_root
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not (folder / "answers.parquet").is_file() or not (folder / "intake.json").is_file():
            continue
        record = read_json(folder / "intake.json")
        rounds.append({"source": f"assessment {record['id']} ({record['file']})",
                       "business_unit": record["business_unit"],
                       "date": dt.date.fromisoformat(record["as_of"]),
                       "answers": pd.read_parquet(folder / "answers.parquet")})
    return rounds


# --------------------------------------------------------------------------------------


def _as_of(config: Config, as_of: str, run_time: dt.datetime) -> dt.date:
    if as_of:
        try:
            return dt.date.fromisoformat(as_of)
        except ValueError:
            raise ConfigError(f"as_of must be a date YYYY-MM-DD, got {as_of!r}") from None
    return run_time.astimezone(config.organisation.zone).date()


def _in_scope(answers: pd.DataFrame, problems: list[str], unit: str | None,
              file: str) -> tuple[pd.DataFrame, list[str]]:
    """A business unit's file scores that unit only: blank units are filled in, rows of
    another unit are left out and reported."""
    from pmopulse.contracts.coerce import SOURCE_ROW

    if unit is None:
        return answers, problems
    answers = answers.copy()
    answers["business_unit"] = answers["business_unit"].fillna(unit)
    other = answers[answers["business_unit"] != unit]
    problems = problems + [
        f"{file}: row {row}, column 'business_unit': {value!r}; expected {unit!r} or empty, as the "
        f"file is the assessment of business unit {unit!r}"
        for row, value in zip(other[SOURCE_ROW], other["business_unit"], strict=True)
    ]
    return answers[answers["business_unit"] == unit].reset_index(drop=True), problems


def _refused(folder: Path, record: dict[str, Any], reason: str, problems: list[str]) -> dict[str, Any]:
    log.error("assessment %s refused: %s", record["id"], reason)
    for problem in problems:
        log.error("  %s", problem)
    write_json(folder / "assessment.json", {"usable": False, "intake": record, "refused": reason,
                                             "import": {"problems": problems}})
    return {"assessment": str(folder), "usable": False, "refused": reason}


def _empty_answers() -> pd.DataFrame:
    return pd.DataFrame(columns=["respondent", "role", "business_unit", "question", "answer", "submitted"])
