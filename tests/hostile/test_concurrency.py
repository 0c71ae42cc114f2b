"""Two runs of one period at once, and a run killed mid-delivery: one run per period, one
mail per recipient. Real `pmopulse run` processes, a real SMTP server on loopback, and the
history database on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from pmopulse import pipeline
from pmopulse.config import load_config
from pmopulse.jsonfile import write_json
from pmopulse.period import Period
from pmopulse.store.ledger import DeliveryLedger
from pmopulse.store.locks import STALE_AFTER, Holder, LockBusy, LockStore
from support import REPO, Database, SmtpSink, write_config

PERIOD = "2026-10"
READERS = {"ceo@seam.example", "net@seam.example", "cloud@seam.example"}
ENV = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}


def _organisation(folder: Path, history: str | None = None) -> Path:
    """Two business units, four projects each, six months of earned value and a risk register."""
    data = folder / "data"
    data.mkdir(parents=True)
    ids = [f"{unit}-{i}" for unit in ("NET", "CLOUD") for i in range(1, 5)]
    pd.DataFrame({
        "id": ids, "name": [f"Project {i}" for i in ids], "business_unit": [i.split("-")[0] for i in ids],
        "manager": [f"pm-{i}" for i in ids], "status": "active", "start": "2026-01-05",
        "baseline_finish": "2027-06-30",
    }).to_csv(data / "projects.csv", index=False)
    pd.DataFrame([{"project": p, "period": f"2026-{m:02d}", "planned_value": 100.0 * n,
                   "earned_value": 100.0 * n, "actual_cost": 105.0 * n}
                  for p in ids for n, m in enumerate(range(5, 11), start=1)]
                 ).to_csv(data / "evm_snapshots.csv", index=False)
    pd.DataFrame({
        "project": ids, "id": [f"R-{i}" for i in ids], "probability": 0.3, "impact": 2,
        "status": "open", "owner": "risk-owner", "raised": "2026-02-01", "last_reviewed": "2026-10-20",
        "has_response_plan": True,
    }).to_csv(data / "risks.csv", index=False)
    return write_config(folder, {
        "organisation": {"name": "Seam Corp", "timezone": "Asia/Shanghai", "business_units": [
            {"id": "NET", "name": "Network"}, {"id": "CLOUD", "name": "Cloud"}]},
        "artifacts_root": "artifacts",
        **({"history": {"url": history}} if history else {}),
        "sources": [{"name": "files", "kind": "files", "path": "data"}],
        "validation": {"max_age_days": 400},
        "delivery": {"sender": "pulse@seam.example", "allowed_domains": ["seam.example"],
                     "pmo_contact": "pmo@seam.example",
                     "recipients": {"organisation": ["ceo@seam.example"], "NET": ["net@seam.example"],
                                    "CLOUD": ["CLOUD@seam.example "]}},  # the ledger keys it lower case
    })


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest) -> str | None:
    """None: the default SQLite file under artifacts_root; else a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    database: Database = request.getfixturevalue("db")
    return database.url()


def _start(*args: str, code: str | None = None) -> subprocess.Popen[str]:
    command = ["-c", code] if code else ["-m", "pmopulse"]
    return subprocess.Popen([sys.executable, *command, *args], env={**ENV, **_smtp_env()},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _smtp_env() -> dict[str, str]:
    # smtp_server has set AIRFLOW_CONN_SMTP_DEFAULT in this process's environment by now.
    return {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def _received(smtp: SmtpSink) -> Counter[tuple[str, str]]:
    """How often each (recipient, subject) arrived."""
    return Counter((str(m["To"]).lower(), str(m["Subject"])) for m in smtp.messages)


def _once_each(smtp: SmtpSink) -> set[str]:
    """Who received mail; fails when any mail arrived twice."""
    received = _received(smtp)
    assert set(received.values()) <= {1}, received
    return {to for to, _ in received}


@pytest.mark.integration
def test_two_runs_at_once_mail_each_reader_once(
    tmp_path: Path, smtp_server: SmtpSink, history: str | None
) -> None:
    config = _organisation(tmp_path / "org", history)
    run = ("run", "--config", str(config), "--period", PERIOD)
    results = [_finish(p) for p in [_start(*run), _start(*run)]]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 4]), results
    for code, _, err in results:
        if code == 4:   # the loser names the winner and stops before doing anything
            assert f"period {PERIOD} is being run by " in err and " since " in err, err
            assert "Traceback" not in err
    assert _once_each(smtp_server) >= READERS
    first = _received(smtp_server)
    # The lock is gone with its run: a third run goes through, and sends nothing again.
    code, out, err = _finish(_start(*run))
    assert code == 0, err
    assert out.count("skipped: sent before") == sum(first.values())
    assert _received(smtp_server) == first


@pytest.mark.integration
def test_two_deliveries_at_once_claim_each_mail_once(
    tmp_path: Path, smtp_server: SmtpSink, history: str | None
) -> None:
    """The lock keeps two `pmopulse run`s apart; a DAG's deliver task and a hand-run delivery
    of the same period meet only in the ledger, which lets one of them send each mail."""
    config = load_config(_organisation(tmp_path / "org", history))
    period = Period.parse(PERIOD)
    for stage in (pipeline.extract, pipeline.validate, pipeline.compute_kpis, pipeline.assess_maturity,
                  pipeline.recommend):
        stage(config, period)
    rendered = write_json(tmp_path / "rendered.json", pipeline.render_reports(config, period))
    code = ("import sys; from pathlib import Path; from pmopulse import pipeline; "
            "from pmopulse.config import load_config; from pmopulse.jsonfile import read_json; "
            "from pmopulse.period import Period; "
            "pipeline.deliver(load_config(Path(sys.argv[1])), Period.parse(sys.argv[2]), "
            "read_json(Path(sys.argv[3])))")
    args = (str(config.path), PERIOD, str(rendered))
    results = [_finish(p) for p in [_start(*args, code=code) for _ in range(4)]]
    assert [c for c, _, _ in results] == [0] * 4, results
    # Each mail once; a delivery that found another's claim open says so (the PMO is told).
    assert _once_each(smtp_server) >= READERS
    ledger = DeliveryLedger(config.history_db.resolve("delivery ledger"))
    try:
        assert {(d.recipient, d.status) for d in ledger.entries(PERIOD) if d.recipient in READERS} == {
            (to, "sent") for to in READERS}
    finally:
        ledger.close()


CRASH_AFTER_CLAIM = """
import os, sys
from pmopulse import cli
from pmopulse.deliver import mail

def die(*args, **kwargs):  # the mail is claimed in the ledger; the process dies before sending
    os._exit(9)

mail._send_smtp = die
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.integration
def test_a_delivery_killed_after_its_claim_is_unknown_until_resent(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    config = _organisation(tmp_path / "org")
    run = ("run", "--config", str(config), "--period", PERIOD)
    code, _, err = _finish(_start(*run, code=CRASH_AFTER_CLAIM))
    assert code == 9, err
    assert smtp_server.envelopes == []

    # Its lock outlived it; its process is gone on this host, so the next run takes it over.
    code, out, err = _finish(_start(*run))
    assert code == 0, err
    assert "mail to ceo@seam.example: unknown (ledger)" in out
    assert "UNKNOWN whether 1 mail(s) arrived" in err and "never confirmed it" in err
    assert _once_each(smtp_server) == READERS - {"ceo@seam.example"} | {"pmo@seam.example"}
    received = _received(smtp_server)
    (notice,) = [m for m in smtp_server.messages if "delivery of some reports unknown" in m["Subject"]]
    assert notice["To"] == "pmo@seam.example"
    body = notice.get_body(("html",)).get_content()
    assert "ceo@seam.example (organisation)" in body and "--resend" in body

    code, out, err = _finish(_start(*run))   # still unknown, still not sent, the PMO told once
    assert code == 0, err
    assert "mail to ceo@seam.example: unknown (ledger)" in out
    assert _received(smtp_server) == received

    code, out, err = _finish(_start(*run, "--resend"))
    assert code == 0, err
    assert "UNKNOWN" not in err
    per_reader = Counter()
    for (to, _), n in _received(smtp_server).items():
        per_reader[to] += n
    # Every report again, on purpose; the unknown one reaches its reader for the first time.
    assert (per_reader["ceo@seam.example"], per_reader["net@seam.example"]) == (1, 2)


def test_a_second_holder_is_told_who_runs_the_period_and_a_stale_lock_is_taken_over(
    tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    first = LockStore(url, Holder("build-1", 4242, "a1b2c3d4"))
    second = LockStore(url, Holder("build-2", 99, "e5f6a7b8"))
    since = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
    try:
        first.acquire("period:2026-10", now=since)
        with pytest.raises(LockBusy, match=r"^period 2026-10 is being run by build-1 pid 4242 "
                           r"\(run a1b2c3d4\) since 2026-11-02 06:00:00 UTC; .*--wait"):
            second.acquire("period:2026-10", now=since + dt.timedelta(hours=1))
        second.acquire("period:2026-11", now=since)         # another period is free
        second.acquire("period:2026-10", now=since + STALE_AFTER + dt.timedelta(minutes=1))
        first.release("period:2026-10")                     # not its lock any more: no effect
        with pytest.raises(LockBusy, match="build-2 pid 99"):
            first.acquire("period:2026-10", now=since + STALE_AFTER + dt.timedelta(minutes=2))
    finally:
        first.close()
        second.close()
