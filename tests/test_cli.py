"""`pmopulse run` without Airflow: the same stages, the same artifacts, clear errors."""

from __future__ import annotations

import csv
import datetime as dt
import email
import html
import json
from email import policy
from pathlib import Path

import pytest
from pmopulse.cli import EXIT_HELD_BACK, EXIT_USER_ERROR, main
from support import DEMO_PERIOD, SmtpSink, canonical_table, minimal_config, pdf_text, write_config


def _run(org: Path) -> int:
    return main(["run", "--config", str(org / "pmopulse.yaml"), "--period", DEMO_PERIOD])


def test_run_writes_report_and_outbox_without_smtp_connection(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(demo_copy) == 0
    period_dir = demo_copy / "artifacts" / DEMO_PERIOD
    pdf = period_dir / "reports" / f"organisation-{DEMO_PERIOD}.en.pdf"
    text = pdf_text(pdf)
    assert "Acme Networks Group" in text and "October 2026" in text
    assert "Milestone on-time rate" in text
    mails = sorted((period_dir / "outbox").glob("*.eml"))
    assert len(mails) == 9, "three executives; each business unit's head and the PMO contact"
    assert (period_dir / "outbox" / f"{DEMO_PERIOD}-BU-NET-en-pmo-lead@acme.example.eml").is_file()
    ceo = period_dir / "outbox" / f"{DEMO_PERIOD}-organisation-en-ceo@acme.example.eml"
    message = email.message_from_bytes(ceo.read_bytes(), policy=policy.default)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content() == pdf.read_bytes()
    assert str(pdf) in capsys.readouterr().out


def test_injected_defects_are_quarantined_and_reported(demo_copy: Path) -> None:
    assert _run(demo_copy) == 0
    manifest = json.loads((demo_copy / "data" / "demo_manifest.json").read_text(encoding="utf-8"))
    validation = json.loads(
        (demo_copy / "artifacts" / DEMO_PERIOD / "validation.json").read_text(encoding="utf-8"))
    failed = {(name, rule["column"]) for name, table in validation["tables"].items()
              for rule in table["rules"] if not rule["success"]}
    for defect in manifest["defects"]:
        assert (defect["table"], defect["column"]) in failed, defect
    assert not validation["blocking"]
    assert validation["totals"]["quarantined"] >= 4


def test_rerun_reuses_the_frozen_snapshot_and_gives_the_same_numbers(demo_copy: Path) -> None:
    assert _run(demo_copy) == 0
    kpis = demo_copy / "artifacts" / DEMO_PERIOD / "kpis.json"
    first = kpis.read_bytes()
    # the source changes after the period was extracted: a re-run must not see it
    (demo_copy / "data" / "evm_snapshots.csv").write_text("garbage", encoding="utf-8")
    assert _run(demo_copy) == 0
    assert kpis.read_bytes() == first


def _break_cell(csv_path: Path, column: str, value: str) -> int:
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    rows[6][column] = value
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 8  # the 7th record sits on row 8 when the header is row 1


def test_non_numeric_cost_stops_the_run_naming_file_column_row_and_no_mail_is_sent(
    demo_copy: Path, smtp_server: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    source = demo_copy / "data" / "evm_snapshots.csv"
    row = _break_cell(source, "actual_cost", "twelve thousand")
    assert _run(demo_copy) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert str(source) in err
    assert f"row {row}, column 'actual_cost': 'twelve thousand' is not a number" in err
    assert "Traceback" not in err
    assert smtp_server.envelopes == []


def test_missing_required_column_stops_the_run_and_no_mail_is_sent(
    demo_copy: Path, smtp_server: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    source = demo_copy / "data" / "projects.csv"
    rows = list(csv.reader(source.open(encoding="utf-8")))
    drop = rows[0].index("business_unit")
    source.write_text("\n".join(",".join(f'"{c}"' for i, c in enumerate(r) if i != drop)
                                for r in rows) + "\n", encoding="utf-8")
    assert _run(demo_copy) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert f"{source}: required column(s) business_unit missing for table 'projects'" in err
    assert smtp_server.envelopes == []


def test_demo_data_help_explains_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo-data", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--projects", "--months", "--seed", "--as-of"):
        assert option in out


def test_validate_prints_each_failed_rule_and_exits_2_when_blocking(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", "--config", str(demo_copy / "pmopulse.yaml"), "--period", DEMO_PERIOD]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "error   evm_snapshots.actual_cost: expected ≥ 0; 1 row(s) differ" in out
    assert "verdict: ok" in out

    # allow no quarantined row at all: the same data now blocks the report
    config = demo_copy / "pmopulse.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "max_quarantine_share: 0.05", "max_quarantine_share: 0.0"), encoding="utf-8")
    assert main([*args, "--json"]) == EXIT_USER_ERROR
    summary = json.loads(capsys.readouterr().out)
    assert summary["blocking"] is True
    assert any("evm_snapshots" in reason for reason in summary["blocking_reasons"])


def test_validate_flags_a_stale_source_and_writes_data_docs(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(demo_copy / "pmopulse.yaml")
    assert main(["validate", "--config", config, "--period", DEMO_PERIOD]) == 0
    out = capsys.readouterr().out
    assert ("source risk_register: newest record 2026-10-31 (risks.raised), 0 days before the "
            "period end; fresh (limit 45 days)") in out
    docs = demo_copy / "artifacts" / DEMO_PERIOD / "data_docs" / "index.html"
    assert f"details: {docs}" in out
    index = docs.read_text(encoding="utf-8")
    assert "risks_contract" in index and "projects_contract" in index
    (risk_page,) = (docs.parent / "validations" / "risks_contract").rglob("*.html")
    assert "expect_column_values_to_be_between" in risk_page.read_text(encoding="utf-8") \
        or "probability" in risk_page.read_text(encoding="utf-8")

    # The same exports reported two months later are 61 days old: flagged, not blocking.
    assert main(["validate", "--config", config, "--period", "2026-12"], now=dt.datetime(
        2027, 1, 5, tzinfo=dt.UTC)) == 0
    out = capsys.readouterr().out
    assert ("source demo_csv: newest record 2026-10-31 (assessment_responses.submitted), "
            "61 days before the period end; STALE (limit 45 days)") in out
    summary = json.loads((demo_copy / "artifacts" / "2026-12" / "validation.json").read_text())
    assert [s["stale"] for s in summary["freshness"]] == [True, True]


def test_raw_snapshot_keeps_the_source_as_exported(demo_copy: Path) -> None:
    import pandas as pd

    assert main(["validate", "--config", str(demo_copy / "pmopulse.yaml"), "--period", DEMO_PERIOD]) == 0
    period_dir = demo_copy / "artifacts" / DEMO_PERIOD
    raw = pd.read_parquet(period_dir / "raw" / "risk_register" / "risks.parquet")
    canonical = pd.read_parquet(period_dir / "canonical" / "risks.parquet")
    assert {"风险评估 / 发生概率", "状态"} <= set(raw.columns)
    assert set(raw["状态"]) == {"打开", "已关闭"}
    assert set(canonical["status"]) == {"open", "closed"}
    assert len(raw) == len(canonical)
    assert canonical["source_origin"].str.endswith("风险登记册.xlsx, sheet '风险登记'").all()


def test_kpis_json_gives_every_scope_with_its_basis(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    args = ["kpis", "--config", str(demo_copy / "pmopulse.yaml"), "--period", DEMO_PERIOD]
    assert main([*args, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert {r["level"] for r in results} == {"organisation", "business_unit", "program", "project"}
    assert all(set(r) == {"kpi", "level", "scope", "value", "numerator", "denominator", "records",
                          "rag", "previous", "previous_basis"} for r in results)
    # The organisation's SPI is the clean snapshot's ΣEV / ΣPV, to the cent.
    evm = pd.read_parquet(demo_copy / "artifacts" / DEMO_PERIOD / "clean" / "evm_snapshots.parquet")
    october = evm[evm["period"] == DEMO_PERIOD]
    (spi,) = [r for r in results if r["kpi"] == "spi" and r["level"] == "organisation"]
    assert spi["numerator"] == pytest.approx(october["earned_value"].sum())
    assert spi["denominator"] == pytest.approx(october["planned_value"].sum())
    assert spi["records"] == len(october)

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Schedule performance index (SPI)" in out and f"({len(october)} records)" in out


def test_a_rerun_mails_nobody_twice_and_resend_mails_everyone_again(
    demo_copy: Path, smtp_server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(demo_copy) == 0
    first = len(smtp_server.envelopes)
    capsys.readouterr()

    assert _run(demo_copy) == 0
    out = capsys.readouterr().out
    assert len(smtp_server.envelopes) == first == 9
    assert out.count("skipped: sent before") == 9

    assert main(["run", "--config", str(demo_copy / "pmopulse.yaml"), "--period", DEMO_PERIOD,
                 "--resend"]) == 0
    assert len(smtp_server.envelopes) == 18


def test_a_blocked_run_mails_only_the_pmo_contact_why(demo_copy: Path, smtp_server) -> None:
    (demo_copy / "data" / "projects.csv").unlink()  # no projects table: nothing can be reported

    assert _run(demo_copy) == 3
    (message,) = smtp_server.messages
    assert message["To"] == "pmo-lead@acme.example"
    assert "held back by data quality" in message["Subject"]
    assert "projects" in message.get_body(("html",)).get_content()
    assert not list(message.iter_attachments())


LAST_HOUR_OF_NOVEMBER = dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC)
"""23:30 on 30 November in Shanghai, the demo organisation's time zone."""


@pytest.mark.parametrize("command", ["run", "kpis", "validate"])
@pytest.mark.parametrize(("period", "first_day"), [("2026-11", "2026-12-01"), ("2027-01", "2027-02-01")],
                         ids=["current-month", "future-month"])
def test_a_month_not_over_is_refused_before_anything_is_read_or_mailed(
    demo_copy: Path, smtp_server: SmtpSink, capsys: pytest.CaptureFixture[str], command: str,
    period: str, first_day: str,
) -> None:
    args = [command, "--config", str(demo_copy / "pmopulse.yaml"), "--period", period]
    assert main(args, now=LAST_HOUR_OF_NOVEMBER) == EXIT_USER_ERROR
    assert capsys.readouterr().err.strip().endswith(
        f"error: period {period} has not ended in the organisation's time zone Asia/Shanghai "
        f"(it is 2026-11-30 there); it can be reported from {first_day} on")
    assert not (demo_copy / "artifacts" / period).exists()
    assert smtp_server.envelopes == []


def _organisation_with_a_unit_it_does_not_list(folder: Path) -> tuple[Path, Path]:
    """Three projects, the third in a business unit the config does not name."""
    exports = folder / "exports"
    exports.mkdir()
    projects = exports / "projects.csv"
    canonical_table("projects", id=["P1", "P2", "P3"], name=["Alpha", "Beta", "Gamma"],
                    business_unit=["BU1", "BU1", "BU-GHOST"], manager=["m1", "m2", "m3"],
                    status=["active"] * 3, start=["2026-01-05"] * 3).to_csv(projects, index=False)
    config = minimal_config([{"name": "pmo", "kind": "files", "path": "exports"}])
    config["delivery"]["recipients"]["BU1"] = ["bu1-head@org.example"]
    return write_config(folder, config), projects


UNKNOWN_UNIT = ("projects.business_unit: 'BU-GHOST' in row(s) 4 of {file} is not one of "
                "organisation.business_units in the config [BU1]; list it there or correct the rows")


def test_validate_blocks_a_business_unit_the_config_does_not_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, projects = _organisation_with_a_unit_it_does_not_list(tmp_path)
    args = ["validate", "--config", str(config), "--period", DEMO_PERIOD]
    assert main(args) == EXIT_USER_ERROR
    out = capsys.readouterr().out
    assert f"BLOCKING: {UNKNOWN_UNIT.format(file=projects)}" in out
    assert "verdict: BLOCKED" in out

    assert main([*args, "--json"]) == EXIT_USER_ERROR
    assert UNKNOWN_UNIT.format(file=projects) in json.loads(capsys.readouterr().out)["blocking_reasons"]


def test_run_mails_no_report_when_a_business_unit_is_not_configured(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    config, projects = _organisation_with_a_unit_it_does_not_list(tmp_path)
    assert main(["run", "--config", str(config), "--period", DEMO_PERIOD]) == EXIT_HELD_BACK
    (message,) = smtp_server.messages  # the PMO contact learns why; no one gets a report
    assert message["To"] == "pmo@org.example"
    assert "held back by data quality" in message["Subject"]
    assert not list(message.iter_attachments())
    assert UNKNOWN_UNIT.format(file=projects) in html.unescape(message.get_body(("html",)).get_content())
