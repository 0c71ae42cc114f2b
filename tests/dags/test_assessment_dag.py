"""The assessment DAG end to end: answers dropped into the inbox start it through the asset
watcher, in a real Airflow (scheduler, triggerer, DAG processor and API server, as
`airflow standalone` runs them), and the report arrives at a real SMTP server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import pytest
from support import REPO, SmtpSink, pdf_text

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, ready: Callable[[], bool], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(1)
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:])
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; Airflow's log ends:\n{tail}")


@pytest.fixture
def airflow(reported_copy: Path, smtp_server: SmtpSink, tmp_path: Path) -> Iterator[Path]:
    """Airflow with only the assessment DAG, watching the demo organisation's inbox."""
    home, dags = tmp_path / "airflow", tmp_path / "dags"
    dags.mkdir()
    # The DAG as shipped, except that it starts unpaused: shipped, it waits for the PMO to
    # unpause it once the config and the SMTP connection are set.
    source = (REPO / "dags" / "pmo_maturity_assessment.py").read_text(encoding="utf-8")
    assert "is_paused_upon_creation=True," in source
    (dags / "pmo_maturity_assessment.py").write_text(
        source.replace("is_paused_upon_creation=True,", "is_paused_upon_creation=False,"), encoding="utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "PMOPULSE_CONFIG": str(reported_copy / "pmopulse.yaml"),
        "PMOPULSE_INBOX_POLL_SECONDS": "1",
    }
    log = tmp_path / "airflow.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["airflow", "standalone"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health",
                                            timeout=2) as response:
                    health = json.load(response)
            except OSError:
                return False
            return all(health.get(part, {}).get("status") == "healthy"
                       for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"))

        _wait("Airflow to be healthy", healthy, 180, log)
        _wait("the inbox watcher to start", lambda: "questionnaire answers" in log.read_text(
            encoding="utf-8", errors="replace"), 120, log)
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _drop(answers: pd.DataFrame, target: Path) -> None:
    """Write outside the inbox, then move in, as a careful export tool does."""
    staging = target.parent.parent / f".staging-{target.name}"
    answers.to_csv(staging, index=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)


def _pdf_text(message: EmailMessage, tmp_path: Path) -> str:
    (attachment,) = message.iter_attachments()
    pdf = tmp_path / attachment.get_filename()
    pdf.write_bytes(attachment.get_content())
    return " ".join(pdf_text(pdf).split())


def test_dropped_answers_are_assessed_and_the_report_mailed(
    airflow: Path, reported_copy: Path, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    inbox = reported_copy / "inbox"
    answers = pd.read_csv(reported_copy / "data" / "assessment_responses.csv", dtype=str,
                          keep_default_na=False)
    _drop(answers, inbox / "Q4 self-assessment.csv")
    _drop(answers[answers["business_unit"] == "BU-NET"], inbox / "BU-NET" / "网络产品.csv")

    _wait("two assessment mails", lambda: len(smtp_server.envelopes) >= 2, 300, airflow)

    assert sorted(to for _, tos, _ in smtp_server.envelopes for to in tos) == [
        "pmo-lead@acme.example", "pmo-lead@acme.example"]
    mails = {("Network Products" in m["Subject"]): m for m in smtp_server.messages}
    organisation, unit = mails[False], mails[True]
    folders = {json.loads((f / "intake.json").read_text(encoding="utf-8"))["file"]: f
               for f in (reported_copy / "artifacts" / "assessments").iterdir()}
    assert set(folders) == {"Q4 self-assessment.csv", "网络产品.csv"}

    for message, name in ((organisation, "Q4 self-assessment.csv"), (unit, "网络产品.csv")):
        result = json.loads((folders[name] / "assessment.json").read_text(encoding="utf-8"))
        maturity = result["maturity"]
        assert result["intake"]["source"] == "inbox"
        assert result["evidence"]["period"] == "2026-10", "checked against the latest KPIs reported"
        assert (f"level {maturity['headline_level']} evidenced ({maturity['headline_claimed_level']} "
                f"claimed)") in message["Subject"]
        text = _pdf_text(message, tmp_path)
        assert "Maturity self-assessment" in text and name in text
        assert "checked against the KPIs of October 2026" in text
        for c in maturity["contradictions"]:
            assert c["text"]["en"][:40] in text
    assert "Acme Networks Group" in organisation["Subject"]
    assert json.loads((folders["网络产品.csv"] / "intake.json").read_text(encoding="utf-8"))[
        "business_unit"] == "BU-NET"

    # Each file was taken once and is kept with its assessment; the inbox is empty again.
    assert [p for p in inbox.rglob("*") if p.is_file()] == []
    assert (folders["Q4 self-assessment.csv"] / "answers.csv").read_bytes() == \
        answers.to_csv(index=False).encode("utf-8")


def test_a_run_by_hand_scores_the_file_named_in_its_params(
    airflow_db: None, reported_copy: Path, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    answers = tmp_path / "manual.csv"
    shutil.copy(reported_copy / "data" / "assessment_responses.csv", answers)
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["pmo_maturity_assessment"]

    run = dag.test(run_conf={"config": str(reported_copy / "pmopulse.yaml"), "answers_file": str(answers),
                             "business_unit": "BU-NET", "as_of": "2026-11-05"})

    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}
    (message,) = smtp_server.messages
    assert "Network Products" in message["Subject"]
    (folder,) = (reported_copy / "artifacts" / "assessments").iterdir()
    intake = json.loads((folder / "intake.json").read_text(encoding="utf-8"))
    assert intake | {"id": None, "received": None} == {
        "id": None, "file": "manual.csv", "business_unit": "BU-NET", "received": None,
        "as_of": "2026-11-05", "source": "by hand", "answers": "answers.csv", "encoding": None}
    assert answers.exists()
    assert "Network Products" in _pdf_text(message, tmp_path)
