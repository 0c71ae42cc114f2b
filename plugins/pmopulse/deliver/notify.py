"""Tell the PMO contact when a DAG task has failed for good (after its retries).

Used as the DAGs' `on_failure_callback`: the mail names the DAG, run, task, attempt and the
error, so the PMO can act before executives wonder where their report is. A failure to
notify is logged, never raised: it must not hide the task's own error.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def task_failed(context: dict[str, Any]) -> None:
    from pmopulse.config import load_config
    from pmopulse.deliver.mail import Mail
    from pmopulse.deliver.recorded import send_recorded
    from pmopulse.errors import PmoPulseError
    from pmopulse.report.i18n import locale_for
    from pmopulse.report.templating import render_template
    from pmopulse.runspec import config_path

    ti = context["ti"]
    error = context.get("exception")
    details = {
        "dag": ti.dag_id, "run": ti.run_id, "task": ti.task_id, "try": ti.try_number,
        "map_index": getattr(ti, "map_index", -1),
        "error": f"{type(error).__name__}: {error}" if error is not None else "unknown error",
    }
    try:
        config = load_config(config_path((context.get("params") or {}).get("config", "")))
        locale = locale_for(config.templates_dir, config.language)
        mail = Mail(
            sender=config.delivery.sender, to=(config.delivery.pmo_contact,),
            subject=locale.t("mail_failed_subject", dag=ti.dag_id, task=ti.task_id),
            html=render_template(config.templates_dir, config.language, "mail_failed.html.j2",
                                 ctx=details),
            key=f"failed-{ti.dag_id}-{ti.task_id}-{ti.try_number}",
            run=f"{ti.dag_id}/{ti.run_id}",
            report=f"failure:{ti.task_id}:{details['map_index']}:try{ti.try_number}",  # each failure told
            language=config.language,
        )
        send_recorded(config, [mail], config.artifacts_root / "outbox")
    except (PmoPulseError, OSError) as exc:
        log.error("could not tell the PMO contact that %s.%s failed: %s", ti.dag_id, ti.task_id, exc)
