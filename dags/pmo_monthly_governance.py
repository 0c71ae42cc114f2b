"""
### PMO monthly governance run

Every month, for the **previous** calendar month: extract the project data from the
configured sources (one mapped task per source, in parallel), validate it against the
data contracts (Great Expectations), compute the PMO KPIs per project, business unit and
organisation, score the maturity self-assessment, rank recommendations, render the PDF
reports (the organisation's, and one per business unit, mapped over the units in the
config), mail each to its recipient lists in their languages, and record the reported
KPIs in the history store (trends and month-over-month change come from there).

**Params**
- `config`: path to `pmopulse.yaml` (default: the `PMOPULSE_CONFIG` environment variable).
- `period`: `YYYY-MM` to report a specific month (backfill / re-run); empty = previous month.
  A month that has not ended in the organisation's time zone (`organisation.timezone`) is
  refused by the `plan` task.
- `refresh`: pull the sources again instead of reusing the period's frozen snapshot.
- `resend`: mail the reports again to everyone; otherwise a re-run or retry mails only
  the recipients the delivery ledger has not recorded as sent.

The schedule (06:00 on the 1st) is read in the organisation's time zone
(`organisation.timezone` of the config at `PMOPULSE_CONFIG`; UTC without one). The DAG is
paused when it first appears: unpause it once the config and the SMTP connection are set.
Each task stops after 2 hours. Tasks pass only paths and small dicts; all work is done
by the `pmopulse` library, which can run the same stages by hand (`pmopulse run`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from pmopulse.deliver.notify import task_failed  # light: its imports happen on failure
from pmopulse.schedule import DAG_OWNER, MONTHLY_TASK_TIMEOUT, organisation_timezone

TIMEZONE = organisation_timezone()  # reads one key of one YAML file, nothing else


@dag(
    dag_id="pmo_monthly_governance",
    description="Monthly PMO governance reports: extract, validate, KPIs, maturity, PDFs, mail",
    schedule=CronTriggerTimetable("0 6 1 * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    is_paused_upon_creation=True,  # the first `docker compose up` mails nobody
    max_active_runs=1,
    tags=["pmo-pulse", "governance", "monthly"],
    default_args={"owner": DAG_OWNER, "retries": 2, "retry_delay": dt.timedelta(minutes=5),
                  "execution_timeout": MONTHLY_TASK_TIMEOUT, "on_failure_callback": task_failed},
    params={
        "config": Param("", type="string", description="Path to pmopulse.yaml; empty = $PMOPULSE_CONFIG"),
        "period": Param("", type="string", pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
                        description="Month to report, YYYY-MM; empty = the previous month"),
        "refresh": Param(False, type="boolean", description="Pull sources again"),
        "resend": Param(False, type="boolean",
                        description="Mail every report again, even to recipients who already got it"),
    },
    doc_md=__doc__,
)
def pmo_monthly_governance() -> None:
    @task
    def plan(params: dict[str, Any] | None = None, dag_run: Any = None) -> dict[str, Any]:
        from pmopulse.runspec import plan_run

        params = params or {}
        return plan_run(config=params.get("config", ""), period=params.get("period", ""),
                        refresh=params.get("refresh", False), resend=params.get("resend", False),
                        run_time=dag_run.logical_date or dag_run.run_after)

    @task
    def sources(run: dict[str, Any]) -> list[str]:
        from pmopulse.runspec import open_run

        config, _ = open_run(run)
        return [source.name for source in config.sources]

    @task(map_index_template="{{ source_name }}")
    def extract_source(run: dict[str, Any], source: str) -> dict[str, Any]:
        from airflow.sdk import get_current_context
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        get_current_context()["source_name"] = source  # type: ignore[typeddict-unknown-key]
        with stage(run) as (config, period):
            return pipeline.extract_source(config, period, source, refresh=run["refresh"])

    @task
    def freeze(run: dict[str, Any], extracted: list[dict[str, Any]]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.freeze(config, period, refresh=run["refresh"])

    @task
    def validate(run: dict[str, Any], extracted: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.validate(config, period)

    @task
    def compute_kpis(run: dict[str, Any], validated: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.compute_kpis(config, period)

    @task
    def assess_maturity(run: dict[str, Any], kpis: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.assess_maturity(config, period)

    @task
    def recommend(run: dict[str, Any], kpis: dict[str, Any], maturity: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.recommend(config, period)

    @task
    def render_organisation(run: dict[str, Any], recommendations: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.render_report(config, period)

    @task
    def business_units(run: dict[str, Any]) -> list[str]:
        from pmopulse.runspec import open_run

        config, _ = open_run(run)
        return [unit.id for unit in config.organisation.business_units]

    @task
    def render_business_unit(run: dict[str, Any], recommendations: dict[str, Any],
                             business_unit: str) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.render_report(config, period, business_unit)

    # Safe to retry: the delivery ledger skips whatever already went out.
    @task
    def deliver(run: dict[str, Any], organisation: dict[str, Any],
                units: list[dict[str, Any]]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        reports = {"organisation": organisation, **{unit["audience"]: unit for unit in units}}
        with stage(run) as (config, period):
            return pipeline.deliver(config, period, reports, resend=run.get("resend", False))

    @task
    def store_history(run: dict[str, Any], delivered: dict[str, Any]) -> dict[str, Any]:
        from pmopulse import pipeline
        from pmopulse.runspec import stage

        with stage(run) as (config, period):
            return pipeline.store_history(config, period, delivered)

    run = plan()
    extracted = extract_source.partial(run=run).expand(source=sources(run))
    validated = validate(run, freeze(run, extracted))
    kpis = compute_kpis(run, validated)
    maturity = assess_maturity(run, kpis)  # claims are checked against the KPIs
    actions = recommend(run, kpis, maturity)
    units = render_business_unit.partial(run=run, recommendations=actions).expand(
        business_unit=business_units(run))
    store_history(run, deliver(run, render_organisation(run, actions), units))


pmo_monthly_governance()
