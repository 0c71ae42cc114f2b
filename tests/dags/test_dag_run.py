"""The monthly DAG end to end with dag.test(): generated data in, a mailed PDF out."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from support import DEMO_PERIOD, SmtpSink, pdf_text

pytestmark = pytest.mark.integration


def _dag():
    from airflow.dag_processing.dagbag import DagBag
    from support import REPO

    return DagBag(dag_folder=str(REPO / "dags")).dags["pmo_monthly_governance"]


def test_monthly_run_mails_the_report_to_a_real_smtp_server(
    airflow_db: None, demo_copy: Path, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    import pendulum

    # Logical date 1 Nov: the run must report October, the last complete month.
    run = _dag().test(
        logical_date=pendulum.datetime(2026, 11, 1, 6, tz="Asia/Shanghai"),
        run_conf={"config": str(demo_copy / "pmopulse.yaml")},
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states

    assert sorted(to for _, tos, _ in smtp_server.envelopes for to in tos) == [
        "ceo@acme.example", "cloud-head@acme.example", "cto@acme.example", "device-head@acme.example",
        "net-head@acme.example", *["pmo-lead@acme.example"] * 4]  # the organisation's and each unit's
    by_recipient = {tos[0]: m for (_, tos, _), m in zip(smtp_server.envelopes, smtp_server.messages,
                                                          strict=True)}
    (unit_pdf,) = by_recipient["net-head@acme.example"].iter_attachments()
    assert unit_pdf.get_filename() == f"business-unit-BU-NET-{DEMO_PERIOD}.zh.pdf"
    (tmp_path / "unit.pdf").write_bytes(unit_pdf.get_content())
    assert "月度治理报告" in pdf_text(tmp_path / "unit.pdf") and "Network Products" in pdf_text(
        tmp_path / "unit.pdf")
    message = by_recipient["ceo@acme.example"]
    assert "2026-10" in message["Subject"] and "Acme Networks Group" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"organisation-{DEMO_PERIOD}.en.pdf"
    pdf = tmp_path / "received.pdf"
    pdf.write_bytes(attachment.get_content())
    text = pdf_text(pdf)
    for expected in ("Acme Networks Group", "October 2026", "Schedule performance index (SPI)",
                     "Cost performance index (CPI)", "Milestone on-time rate"):
        assert expected in text

    # The figures in the mail's PDF are the ones the context document records.
    context = json.loads((demo_copy / "artifacts" / DEMO_PERIOD / "reports" /
                          f"organisation-{DEMO_PERIOD}.en.json").read_text(encoding="utf-8"))
    spi = next(k for k in context["headline"]["kpis"] if k["kpi"] == "spi")
    assert f"{spi['value']:.2f}" in text
    assert not (demo_copy / "artifacts" / DEMO_PERIOD / "outbox").exists()


def test_a_failed_task_mails_the_pmo_contact_the_task_and_its_error(
    airflow_db: None, demo_copy: Path, smtp_server: SmtpSink
) -> None:
    import shutil

    shutil.rmtree(demo_copy / "data" / "risk_register")  # a source folder that is gone
    dag = _dag()
    for task in dag.tasks:
        task.retries = 0  # the failure path itself is under test, not the retry delay

    run = dag.test(run_conf={"config": str(demo_copy / "pmopulse.yaml"), "period": DEMO_PERIOD})

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed" and states["extract_source"] == "failed", states
    (message,) = smtp_server.messages
    assert message["To"] == "pmo-lead@acme.example"
    assert message["Subject"] == "[PMO Pulse] pmo_monthly_governance: task extract_source failed"
    body = message.get_body(("html",)).get_content()
    assert "SourceError" in body and "risk_register" in body


def test_a_period_param_not_over_fails_the_plan_and_tells_the_pmo_why(
    airflow_db: None, demo_copy: Path, smtp_server: SmtpSink
) -> None:
    import pendulum

    dag = _dag()
    for task in dag.tasks:
        task.retries = 0

    # 15 November in Shanghai: November is still running there, so it cannot be reported.
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 15, 6, tz="Asia/Shanghai"),
                   run_conf={"config": str(demo_copy / "pmopulse.yaml"), "period": "2026-11"})

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed" and states["plan"] == "failed", states
    assert not (demo_copy / "artifacts" / "2026-11").exists()
    (message,) = smtp_server.messages
    assert message["To"] == "pmo-lead@acme.example"
    assert message["Subject"] == "[PMO Pulse] pmo_monthly_governance: task plan failed"
    assert ("period 2026-11 has not ended in the organisation's time zone Asia/Shanghai (it is "
            "2026-11-15 there); it can be reported from 2026-12-01 on") in html.unescape(
                message.get_body(("html",)).get_content())
