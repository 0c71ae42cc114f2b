"""
### PMO maturity self-assessment

Runs when questionnaire answers land: put a CSV or XLSX export (a filled-in form from
`pmopulse questionnaire`, or a web form's export) into the inbox folder named by
`assessment.inbox` in pmopulse.yaml (default: `inbox/` beside the config), or into
`inbox/<business unit id>/` for one unit's assessment. The triggerer takes the file once it
has stopped changing, moves it aside, and the asset event starts this DAG, which scores
every file claimed so far.

For each file: keep it in its own assessment folder, score it against the maturity model,
check each claim against the latest reported KPIs (claimed vs evidenced level), rank the
improvement roadmap, render the assessment report (PDF) and mail it to
`delivery.recipients.assessment` (default: the PMO contact). A file that cannot be scored
is kept, and the PMO contact is told what to fix. The next monthly report takes in the
latest assessment.

**Run by hand** with the params `answers_file` (a path the workers can read),
`business_unit` (empty = the whole organisation), `as_of` (empty = the run's date) and
`encoding` (of a CSV, e.g. gb18030; empty = UTF-8 or GB18030, whichever reads the file, as
for every file from the inbox).
`resend` mails the reports again; a retried `deliver` otherwise mails only the recipients
the delivery ledger has not recorded as sent.

The watcher reads `PMOPULSE_CONFIG` when the DAG file is parsed; without it the DAG can
only be run by hand. `PMOPULSE_INBOX_POLL_SECONDS` sets how often it looks (default 10).
The DAG is paused when it first appears; each task stops after 30 minutes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import Asset, AssetWatcher, Param, dag, task
from pmopulse.deliver.notify import task_failed  # light: its imports happen on failure
from pmopulse.schedule import ASSESSMENT_TASK_TIMEOUT, DAG_OWNER


def _watchers() -> list[AssetWatcher]:
    config = os.environ.get("PMOPULSE_CONFIG", "")
    if not config:
        return []
    from pmopulse.maturity.trigger import AnswersInboxTrigger

    poll = float(os.environ.get("PMOPULSE_INBOX_POLL_SECONDS", "10"))
    return [AssetWatcher(name="pmopulse_answers_inbox",
                         trigger=AnswersInboxTrigger(config=config, poll_seconds=poll))]


QUESTIONNAIRE_ANSWERS = Asset(name="pmo_questionnaire_answers", watchers=_watchers())


@dag(
    dag_id="pmo_maturity_assessment",
    description="Score a PMO maturity self-assessment when questionnaire answers land; mail the report",
    schedule=[QUESTIONNAIRE_ANSWERS],
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=True,  # unpause once the config and the SMTP connection are set
    max_active_runs=1,  # a run takes every claimed file: two at once would race for them
    tags=["pmo-pulse", "maturity", "assessment"],
    default_args={"owner": DAG_OWNER, "retries": 1, "retry_delay": dt.timedelta(minutes=2),
                  "execution_timeout": ASSESSMENT_TASK_TIMEOUT, "on_failure_callback": task_failed},
    params={
        "config": Param("", type="string", description="Path to pmopulse.yaml; empty = $PMOPULSE_CONFIG"),
        "answers_file": Param("", type="string",
                              description="Run by hand: the answers export (CSV or XLSX) to score"),
        "business_unit": Param("", type="string",
                               description="Run by hand: the business unit id; empty = organisation"),
        "as_of": Param("", type="string", pattern=r"^(\d{4}-\d{2}-\d{2})?$",
                       description="Status date YYYY-MM-DD; empty = the run's date"),
        "encoding": Param("", type="string",
                          description="Encoding of CSV answers, e.g. gb18030; empty = UTF-8 "
                                      "or GB18030, whichever reads the file"),
        "resend": Param(False, type="boolean",
                        description="Mail the reports again; otherwise a retry mails only the "
                                    "recipients the delivery ledger has not recorded as sent"),
    },
    doc_md=__doc__,
)
def pmo_maturity_assessment() -> None:
    @task
    def intake(params: dict[str, Any] | None = None, dag_run: Any = None) -> list[dict[str, str]]:
        from pmopulse.assessment import intake as take_in
        from pmopulse.runspec import config_path

        params = params or {}
        config = config_path(params.get("config", ""))
        with _opened(config) as loaded:
            folders = take_in(loaded, answers_file=params.get("answers_file", ""),
                              business_unit=params.get("business_unit", ""), as_of=params.get("as_of", ""),
                              encoding=params.get("encoding", ""),
                              run_time=dag_run.run_after, triggered=dag_run.run_type == "asset_triggered")
        return [{"config": config, "assessment": folder} for folder in folders]

    @task
    def score(job: dict[str, str]) -> dict[str, str]:
        from pmopulse.assessment import score as score_answers

        with _opened(job["config"]) as config:
            score_answers(config, job["assessment"])
        return job

    @task
    def render(job: dict[str, str]) -> dict[str, Any]:
        from pmopulse.assessment import render as render_report

        with _opened(job["config"]) as config:
            return {**job, **render_report(config, job["assessment"])}

    # Safe to retry: the delivery ledger skips whatever already went out.
    @task
    def deliver(job: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from pmopulse.assessment import deliver as mail

        with _opened(job["config"]) as config:
            return mail(config, job["assessment"], job, resend=bool((params or {}).get("resend", False)))

    deliver.expand(job=render.expand(job=score.expand(job=intake())))


@contextmanager
def _opened(config: str) -> Iterator[Any]:
    """The config; with an object store, in the synced local cache of the assessments."""
    from pmopulse.artifacts import ASSESSMENT_PARTS, synced
    from pmopulse.config import load_config

    with synced(load_config(config), ASSESSMENT_PARTS) as loaded:
        yield loaded


pmo_maturity_assessment()
