"""The schedules source on real MS Project and Primavera P6 files (../shared/fixtures/schedules).

The files come from MPXJ's own test data; their README states what is in each. Expected
DCMA figures are counted here a second way, straight from MPXJ's objects, and compared
with what the source and the KPI functions make of the same file. The JVM starts once per
test process and is shared by every test.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from pmopulse.config import SourceConfig
from pmopulse.contracts import load_contracts
from pmopulse.errors import ConfigError, SourceError
from pmopulse.jsonfile import read_json
from pmopulse.kpis.catalogue import load_catalogue
from pmopulse.kpis.engine import compute_kpis
from pmopulse.kpis.schedule import MEASURES
from pmopulse.period import Period
from pmopulse.sources import RawTable, SourceRead, SourceRequest
from pmopulse.sources.mapping import canonical_frame
from pmopulse.sources.schedules import read
from pmopulse.sources.schedules.jvm import start_jvm
from support import REPO, canonical_table, kpi_result, minimal_config, write_config

FIXTURES = REPO.parent / "shared" / "fixtures" / "schedules"
CATALOGUE = load_catalogue(REPO / "assessments" / "kpis.yaml")
AUG_2022 = Period.parse("2022-08")


def _source(folder: Path, **settings: Any) -> SourceConfig:
    return SourceConfig(name="plans", kind="schedules", path=folder, **settings)


def _read(folder: Path, period: Period = AUG_2022, **settings: Any) -> SourceRead:
    request = SourceRequest(load_contracts(), period, folder / "state", zone=ZoneInfo("UTC"))
    return read(_source(folder, **settings), request)


def _raw(folder: Path, period: Period = AUG_2022, **settings: Any) -> dict[str, RawTable]:
    return {raw.table: raw for raw in _read(folder, period, **settings).tables}


def _typed(raws: dict[str, RawTable]) -> dict[str, pd.DataFrame]:
    contracts = load_contracts()
    return {name: canonical_frame(raw.frame, contracts[name], raw.mapping, raw.origin)
            for name, raw in raws.items()}


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "plans"
    folder.mkdir()
    for name in names:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def fixtures_read() -> dict[str, RawTable]:
    """Every fixture file, read once for August 2022 (the P6 file's data date is 2022-08-22)."""
    return _raw(FIXTURES)


@pytest.fixture(scope="module")
def tables(fixtures_read: dict[str, RawTable]) -> dict[str, pd.DataFrame]:
    return _typed(fixtures_read)


@pytest.fixture(scope="module")
def dcma(tables: dict[str, pd.DataFrame]) -> dict:
    """The DCMA checks over every fixture schedule, each its own project (named as the file:
    sample.mpp and sample.xml share their stem)."""
    tasks = tables["schedule_tasks"].assign(project=tables["schedule_tasks"]["schedule"])
    files = sorted(tasks["project"].unique())
    projects = canonical_table("projects", id=files, business_unit=["BU1"] * len(files))
    return compute_kpis({"projects": projects, "schedule_tasks": tasks},
                        {k: CATALOGUE[k] for k in MEASURES}, AUG_2022, organisation="Org",
                        business_units=["BU1"], measures=MEASURES)


# README: tasks as MPXJ counts them (MS Project's project summary task, ID 0, included);
# the source leaves that summary task out.
@pytest.mark.parametrize(
    ("file", "tasks", "milestones", "milestone_rows"),
    [
        ("sample.mpp", 23 - 1, 1, 0),        # 1 milestone, no baseline: left out of milestones
        ("sample.xml", 20 - 1, 1, 0),
        ("sf259.mpp", 24 - 1, 12, 12),       # 12 milestones with baselines
        ("baselines.xml", 2 - 1, 0, 0),
        ("percent-complete-8.4.xer", 13, 0, 0),   # 12 activities under one WBS node
        ("resource-rates-test.xer", 2, 0, 0),
    ],
)
def test_each_file_loads_its_tasks_and_milestones(tables: dict[str, pd.DataFrame], file: str, tasks: int,
                                                  milestones: int, milestone_rows: int) -> None:
    stem = Path(file).stem
    schedule = tables["schedule_tasks"][tables["schedule_tasks"]["schedule"] == file]
    assert len(schedule) == tasks
    assert set(schedule["project"]) == {stem}          # no projects map: the stem is the project
    assert int(schedule["is_milestone"].sum()) == milestones
    assert (tables["milestones"]["project"] == stem).sum() == milestone_rows


def test_milestones_carry_baseline_forecast_and_actual_dates(tables: dict[str, pd.DataFrame]) -> None:
    sf259 = tables["milestones"][tables["milestones"]["project"] == "sf259"]
    assert sf259["id"].tolist()[:3] == ["148061", "148062", "148063"]    # MS Project unique IDs
    assert sf259["name"].iloc[0] == "SubTask 1.1"
    assert set(sf259["baseline_date"].dt.strftime("%Y-%m-%d")) == {"2015-03-01"}
    assert set(sf259["forecast_date"].dt.strftime("%Y-%m-%d")) == {"2015-03-01"}
    assert sf259["actual_date"].isna().all() and sf259["is_gate"].isna().all()   # no gates configured


def test_milestones_without_a_baseline_are_counted_not_invented(fixtures_read: dict[str, RawTable]) -> None:
    assert "2 milestone(s) without a baseline finish left out" in fixtures_read["milestones"].origin
    assert not fixtures_read["milestones"].frame["baseline_date"].isna().any()


def test_every_schedule_gets_the_schedule_checks(dcma: dict) -> None:
    for project in ("sample.mpp", "sample.xml", "sf259.mpp", "baselines.xml", "percent-complete-8.4.xer",
                    "resource-rates-test.xer"):
        result = kpi_result(dcma, "dcma_missing_logic", "project", project)
        assert result["value"] is not None and result["records"] > 0, project


def _mpxj_project(path: Path) -> Any:
    start_jvm()
    from org.mpxj.reader import UniversalProjectReader

    return UniversalProjectReader().read(str(path))


def test_logic_and_relationship_checks_match_a_count_made_directly_in_mpxj(dcma: dict) -> None:
    from org.mpxj import TimeUnit

    project = _mpxj_project(FIXTURES / "sample.mpp")
    properties = project.getProjectProperties()
    open_tasks = [t for t in project.getTasks()
                  if not t.getSummary() and t.getActualFinish() is None and int(t.getID()) != 0]
    links = [r for t in open_tasks for r in t.getPredecessors()]
    lags = [float(r.getLag().getDuration()) for r in links]
    float_days = [float(t.getTotalSlack().convertUnits(TimeUnit.DAYS, properties).getDuration())
                  for t in open_tasks]
    expected = {
        "dcma_missing_logic": (sum(t.getPredecessors().isEmpty() or t.getSuccessors().isEmpty()
                                   for t in open_tasks), len(open_tasks)),
        "dcma_leads": (sum(lag < 0 for lag in lags), len(links)),
        "dcma_lags": (sum(lag > 0 for lag in lags), len(links)),
        "dcma_fs_relationships": (sum(str(r.getType()) == "FS" for r in links), len(links)),
        "dcma_high_float": (sum(days > 44 for days in float_days), len(open_tasks)),
    }
    # What the file holds: 18 open tasks, six links (FS, FS + 1 day, FS − 1 day, SS, FF, SF).
    assert expected["dcma_fs_relationships"] == (3, 6) and expected["dcma_leads"] == (1, 6)
    for kpi, (numerator, denominator) in expected.items():
        result = kpi_result(dcma, kpi, "project", "sample.mpp")
        assert (result["numerator"], result["denominator"]) == (numerator, denominator), kpi


def test_missed_tasks_and_bei_match_a_count_made_directly_in_mpxj(tables: dict[str, pd.DataFrame]) -> None:
    project = _mpxj_project(FIXTURES / "sf259.mpp")
    as_of = "2015-03-31"   # sf259 has no status date: checked as of the period's last day
    activities = [t for t in project.getTasks() if not t.getSummary() and int(t.getID()) != 0]
    due = [t for t in activities if t.getBaselineFinish() is not None and str(t.getBaselineFinish()) <= as_of]
    done = [t for t in activities if t.getActualFinish() is not None]
    schedule = tables["schedule_tasks"]
    tasks = schedule[schedule["project"] == "sf259"].assign(period="2015-03")
    projects = canonical_table("projects", id=["sf259"])
    report = compute_kpis({"projects": projects, "schedule_tasks": tasks},
                          {k: CATALOGUE[k] for k in ("dcma_missed_tasks", "dcma_bei")},
                          Period.parse("2015-03"), organisation="Org", business_units=[], measures=MEASURES)
    missed = kpi_result(report, "dcma_missed_tasks", "project", "sf259")
    # 13 activities (5 milestones, 8 tasks) were all due on 2015-03-01 and none has finished
    assert (missed["numerator"], missed["denominator"]) == (len(due), len(due)) == (13, 13)
    bei = kpi_result(report, "dcma_bei", "project", "sf259")
    assert (bei["numerator"], bei["denominator"], bei["value"]) == (len(done), len(due), 0.0)


def test_schedules_without_costs_or_not_started_give_no_earned_value(
        fixtures_read: dict[str, RawTable]) -> None:
    # Only the P6 file prices its activity (budgeted cost 27,600); at its data date
    # (2022-08-22 00:00, before the activity's planned start) nothing is planned or done:
    # an all-zero row would be an SPI of 0/0, so there is none.
    assert fixtures_read["evm_snapshots"].frame.empty


def _xer_rows(text: str, table: str, edit: Callable[[dict[str, str]], list[dict[str, str]]]) -> str:
    """An XER export with the rows of one table replaced by what `edit` returns for each."""
    out, current, fields = [], "", []
    for line in text.split("\n"):
        body = line.rstrip("\r")
        end = line[len(body):]
        cells = body.split("\t")
        if cells[0] == "%T":
            current = cells[1]
        elif cells[0] == "%F":
            fields = cells[1:]
        elif cells[0] == "%R" and current == table:
            for row in edit(dict(zip(fields, cells[1:], strict=False))):
                out.append("\t".join(["%R", *(row.get(f, "") for f in fields)]) + end)
            continue
        out.append(line)
    return "\n".join(out)


def _set(match: dict[str, str], **values: str) -> Callable[[dict[str, str]], list[dict[str, str]]]:
    return lambda row: [{**row, **values} if all(row[k] == v for k, v in match.items()) else row]


def _write_xer(path: Path, text: str) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.encode("latin-1"))   # XER is single-byte text; latin-1 keeps every byte


def test_earned_value_from_baseline_costs_up_to_the_data_date(tmp_path: Path) -> None:
    # The P6 file statused on 2022-09-10: 40 % physically complete, 9,000 spent.
    text = (FIXTURES / "resource-rates-test.xer").read_bytes().decode("latin-1")
    text = _xer_rows(text, "PROJECT", _set({"proj_id": "368"}, last_recalc_date="2022-09-10 00:00"))
    text = _xer_rows(text, "TASK", _set({"task_id": "35845"}, complete_pct_type="CP_Phys",
                                        phys_complete_pct="40", status_code="TK_Active",
                                        act_start_date="2022-08-22 08:00"))
    text = _xer_rows(text, "TASKRSRC", _set({"taskrsrc_id": "6643"}, act_reg_cost="9000.0000",
                                            remain_cost="14760.0000"))
    _write_xer(tmp_path / "plans" / "rates.xer", text)
    evm = _typed(_raw(tmp_path / "plans", Period.parse("2022-09")))["evm_snapshots"]
    # PV: 27,600 × (08-22 08:00 → 09-10 00:00 = 448 h) / (08-22 08:00 → 09-30 17:00 = 945 h)
    assert evm.iloc[0][["project", "period"]].tolist() == ["rates", "2022-09"]
    assert evm.iloc[0][["planned_value", "earned_value", "actual_cost"]].tolist() == [
        round(27600 * 448 / 945, 2), 27600 * 0.40, 9000.0]
    # A status date outside the period: its progress is not that month's.
    assert _raw(tmp_path / "plans", Period.parse("2022-10"))["evm_snapshots"].frame.empty


def test_a_plan_nobody_statused_has_no_earned_value(tmp_path: Path) -> None:
    # The priced P6 activity without a data date, no actual date and 0 % complete, read for
    # September 2022, when 21 of its 39 days are planned: not an SPI of 0.00 but no row.
    text = (FIXTURES / "resource-rates-test.xer").read_bytes().decode("latin-1")
    text = _xer_rows(text, "PROJECT", _set({"proj_id": "368"}, last_recalc_date=""))
    _write_xer(tmp_path / "plans" / "rates.xer", text)
    read_ = _read(tmp_path / "plans", Period.parse("2022-09"))
    evm = {raw.table: raw for raw in read_.tables}["evm_snapshots"]
    assert evm.frame.empty and "not statused, so no earned value: rates.xer" in evm.origin
    (note,) = read_.notes
    assert note["statused"] is False and note["status_date"] is None
    assert note["no_earned_value"].startswith("not statused")
    # the DCMA date checks of a schedule without a status date name the date they used
    assert (note["checked_as_of"], note["checked_as_of_by"]) == ("2022-09-30", "as_of")


def test_an_old_p6_export_is_as_old_as_its_data_date(tmp_path: Path) -> None:
    # percent-complete-8.4.xer: data date 2015-02-24, read in a November 2026 report.
    folder = _folder(tmp_path, "percent-complete-8.4.xer", "sample.xml")
    read_ = _read(folder, Period.parse("2026-11"), max_age_days=45)
    notes = {n["schedule"]: n for n in read_.notes}
    p6 = notes["percent-complete-8.4.xer"]
    assert (p6["status_date"], p6["dated_by"], p6["stale"]) == ("2015-02-24", "status_date", True)
    assert p6["age_days"] == (dt.date(2026, 11, 30) - dt.date(2015, 2, 24)).days
    assert (p6["checked_as_of"], p6["checked_as_of_by"]) == ("2015-02-24", "status_date")
    # no status date: the date the file was last saved (MS Project's project properties)
    xml = notes["sample.xml"]
    assert (xml["status_date"], xml["dated"], xml["dated_by"], xml["stale"]) == (
        None, "2003-02-19", "last_saved", True)
    assert read_.dated == {"percent-complete-8.4.xer status date": dt.date(2015, 2, 24),
                           "sample.xml last saved": dt.date(2003, 2, 19)}


def test_the_source_is_as_fresh_as_its_newest_status_date_not_the_run(tmp_path: Path) -> None:
    from pmopulse import pipeline
    from pmopulse.config import load_config

    plans = {"name": "plans", "kind": "schedules", "path": str(_folder(tmp_path, "percent-complete-8.4.xer"))}
    config = load_config(write_config(tmp_path, minimal_config([plans])))
    pipeline.extract_source(config, Period.parse("2026-11"), "plans")
    summary = read_json(pipeline.paths(config, Period.parse("2026-11")).staged / "plans.json")
    assert summary["freshness"]["newest"] == "2015-02-24" and summary["freshness"]["stale"] is True
    assert summary["freshness"]["basis"] == "percent-complete-8.4.xer status date"


def _dcma_figures(folder: Path) -> dict[str, tuple[float, float]]:
    tasks = _typed(_raw(folder))["schedule_tasks"]
    tasks = tasks.assign(project=tasks["schedule"])
    files = sorted(tasks["project"].unique())
    projects = canonical_table("projects", id=files, business_unit=["BU1"] * len(files))
    report = compute_kpis({"projects": projects, "schedule_tasks": tasks},
                          {k: CATALOGUE[k] for k in MEASURES}, AUG_2022, organisation="Org",
                          business_units=["BU1"], measures=MEASURES)
    return {f"{r['kpi']}/{r['scope']}": (r["numerator"], r["denominator"])
            for r in report["results"] if r["level"] == "project"}


def test_an_mpp_without_baseline_gives_the_dcma_figures_of_its_mspdi_copy(tmp_path: Path) -> None:
    # sample.mpp and sample.xml are not the same plan (23 and 20 tasks); the MSPDI copy is
    # written from sample.mpp by MPXJ's own writer. MPXJ reads the .mpp's missing baseline
    # as 0-day baseline durations and the .xml's as none.
    start_jvm()
    from org.mpxj.mspdi import MSPDIWriter
    from org.mpxj.reader import UniversalProjectReader

    folder = _folder(tmp_path, "sample.mpp")
    copy = tmp_path / "copy"
    copy.mkdir()
    MSPDIWriter().write(UniversalProjectReader().read(str(FIXTURES / "sample.mpp")), str(copy / "sample.xml"))
    mpp = {k.removesuffix(".mpp"): v for k, v in _dcma_figures(folder).items()}
    xml = {k.removesuffix(".xml"): v for k, v in _dcma_figures(copy).items()}
    assert mpp == xml
    assert mpp["dcma_high_duration/sample"][0] == 1        # Second Task: 100 days, no baseline
    (note,) = _read(folder).notes
    assert (note["durations"], note["baselined_tasks"]) == ("current", 0)


def test_a_corrupt_file_next_to_good_ones_is_listed_and_the_rest_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "sample.xml", "sf259.mpp")
    (folder / "broken.mpp").write_bytes(b"Project plan - see SharePoint\n" * 40)
    read_ = _read(folder, projects={"sample.xml": "P-1", "broken": "P-2", "sf259": "P-3"})
    (unread,) = read_.unread
    assert unread.item == "broken.mpp" and "not a schedule MPXJ can read" in unread.message
    assert not unread.blocking
    tasks = _typed({raw.table: raw for raw in read_.tables})["schedule_tasks"]
    assert set(tasks["schedule"]) == {"sample.xml", "sf259.mpp"}
    assert _read(folder, options={"required": True}).unread[0].blocking


@pytest.mark.integration
def test_an_unreadable_file_reaches_validation_and_holds_a_required_source(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pmopulse import pipeline
    from pmopulse.cli import _print_summary
    from pmopulse.config import load_config

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "projects.csv").write_text(
        "id,name,business_unit,manager,status,start\nsample,Sample,BU1,m1,active,2003-01-07\n",
        encoding="utf-8")
    folder = _folder(tmp_path, "sample.xml")
    (folder / "broken.mpp").write_bytes(b"")
    period = Period.parse("2022-08")
    for required in (False, True):
        plans = {"name": "plans", "kind": "schedules", "path": str(folder), "options": {"required": required}}
        exports = {"name": "pmo", "kind": "files", "path": "data"}
        config = load_config(write_config(tmp_path, minimal_config([exports, plans])))
        pipeline.extract(config, period, refresh=True)
        validation = read_json(Path(pipeline.validate(config, period)["validation"]))
        (unread,) = validation["unread"]
        assert (unread["source"], unread["item"]) == ("plans", "broken.mpp")
        assert "the file is empty" in unread["message"]
        assert validation["blocking"] is required
        assert any("broken.mpp" in r for r in validation["blocking_reasons"]) is required
        _print_summary(validation)
        assert "source plans: broken.mpp left out, it could not be read: " in capsys.readouterr().out


def _two_project_xer(folder: Path) -> None:
    """percent-complete-8.4.xer with a second P6 project (EC00641) copied from the first."""
    text = (FIXTURES / "percent-complete-8.4.xer").read_bytes().decode("latin-1")

    def copy(**renamed: dict[str, str]) -> Callable[[dict[str, str]], list[dict[str, str]]]:
        def edit(row: dict[str, str]) -> list[dict[str, str]]:
            twin = {**row, "guid": ""}
            for field, values in renamed.items():
                if field in twin:
                    twin[field] = values.get(twin[field], twin[field])
            if "task_id" in twin:
                twin["task_id"] = str(int(twin["task_id"]) + 1000)
            return [row, twin]
        return edit

    ids: dict[str, dict[str, str]] = {"proj_id": {"4507": "4508"}, "wbs_id": {"26010": "26011"}}
    text = _xer_rows(text, "PROJECT", copy(**ids, proj_short_name={"EC00640": "EC00641"}))
    text = _xer_rows(text, "PROJWBS", copy(**ids, wbs_short_name={"EC00640": "EC00641"}))
    text = _xer_rows(text, "TASK", copy(**ids))
    _write_xer(folder / "portfolio.xer", text)


def test_each_project_of_a_multi_project_export_is_a_schedule(tmp_path: Path) -> None:
    _two_project_xer(tmp_path / "plans")
    tasks = _typed(_raw(tmp_path / "plans"))["schedule_tasks"]
    assert tasks.groupby(["project", "schedule"]).size().to_dict() == {
        ("EC00640", "portfolio.xer#EC00640"): 13, ("EC00641", "portfolio.xer#EC00641"): 13}
    mapped = _typed(_raw(tmp_path / "plans", projects={"portfolio#EC00641": "P-2"}))["schedule_tasks"]
    assert set(mapped["schedule"]) == {"portfolio.xer#EC00641"} and set(mapped["project"]) == {"P-2"}


def test_the_projects_map_names_files_and_skips_the_rest(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "sf259.mpp", "sample.xml", "sample.mpp")
    raws = _raw(folder, projects={"sf259.mpp": "P-1", "sample": "P-2"})
    tasks = _typed(raws)["schedule_tasks"]
    # sample.xml and sample.mpp share the stem: a stem key takes both, as two schedules
    assert tasks.groupby("project")["schedule"].unique().map(sorted).to_dict() == {
        "P-1": ["sf259.mpp"], "P-2": ["sample.mpp", "sample.xml"]}
    assert set(_typed(raws)["milestones"]["project"]) == {"P-1"}
    with pytest.raises(SourceError, match=r"projects lists \['plan-b'\], but .* has no such schedule"):
        _raw(folder, projects={"sf259": "P-1", "plan-b": "P-3"})


def test_ms_project_lock_files_and_other_files_are_not_schedules(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "sample.xml")
    (folder / "~$sample.mpp").write_bytes(b"\x00MS Project lock file")   # unreadable if it were read
    (folder / "notes.txt").write_text("kick-off on Monday")
    tasks = _typed(_raw(folder))["schedule_tasks"]
    assert set(tasks["schedule"]) == {"sample.xml"}


def test_milestone_ids_of_a_project_in_several_schedules_name_the_schedule(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "sf259.mpp")
    shutil.copy(FIXTURES / "sf259.mpp", folder / "sf259-phase2.mpp")
    milestones = _typed(_raw(folder, projects={"sf259": "P-1", "sf259-phase2": "P-1"}))["milestones"]
    assert len(milestones) == 24 and milestones["id"].is_unique
    assert milestones["id"].iloc[0] == "sf259-phase2.mpp/148061"


def test_gate_patterns_mark_gate_milestones(tmp_path: Path) -> None:
    milestones = _typed(_raw(_folder(tmp_path, "sf259.mpp"), options={"gates": ["subtask 1.1.2*"]}))[
        "milestones"]
    gates = milestones.set_index("name")["is_gate"]
    assert gates["SubTask 1.1.2"] and gates["SubTask 1.1.2.2.1"] and not gates["SubTask 1.1.1"]
    assert int(gates.sum()) == 5


def test_another_baseline_can_be_chosen(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "sf259.mpp", "baselines.xml")
    tasks = _typed(_raw(folder, options={"baseline": 1}))["schedule_tasks"].set_index("schedule")
    # baselines.xml holds Baseline1–10 only: Baseline1 finishes on 2000-01-01 after 1 day
    task = tasks.loc["baselines.xml"]
    assert task["baseline_finish"] == pd.Timestamp("2000-01-01") and task["baseline_duration_days"] == 1.0
    assert tasks.loc["sf259.mpp", "baseline_finish"].isna().all()   # sf259 has no Baseline1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gate": ["TR*"]}, r"unknown key\(s\) \['gate'\]"),
        ({"gates": [3]}, r"gates must list milestone name patterns"),
        ({"baseline": 11}, r"baseline must be 0 \(the baseline\) or 1–10"),
        ({"required": "yes"}, r"required must be true or false, not 'yes'"),
    ],
)
def test_bad_options_say_what_is_expected(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _raw(_folder(tmp_path, "sample.xml"), options=options)


def _cut(name: str, tmp_path: Path, keep: float = 0.5) -> Path:
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    data = (FIXTURES / name).read_bytes()
    (folder / name).write_bytes(data[: int(len(data) * keep)])
    return folder


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sf259.mpp", r"sf259\.mpp: the file ends too early, it is probably truncated \(.*\); open it in "
                      r"MS Project or Primavera P6 and save or export it again"),
        ("sample.xml", r"sample\.xml: the file ends too early, it is probably truncated"),
        ("percent-complete-8.4.xer", r"percent-complete-8\.4\.xer: the P6 export is incomplete"),
    ],
)
def test_a_truncated_file_fails_naming_it(tmp_path: Path, name: str, message: str) -> None:
    (unread,) = _read(_cut(name, tmp_path)).unread
    assert unread.item == name and re.search(message, unread.message)
    assert "\tat " not in unread.message and "Exception" not in unread.message   # no Java stack trace


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"plan\.mpp: the file is empty"),
        (b"Project plan - see SharePoint\n" * 40, r"plan\.mpp: not a schedule MPXJ can read \(.*OLE2"),
    ],
)
def test_a_corrupt_file_fails_naming_it(tmp_path: Path, content: bytes, message: str) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "plan.mpp").write_bytes(content)
    (unread,) = _read(folder).unread
    assert unread.item == "plan.mpp" and re.search(message, unread.message) and not unread.blocking


def test_a_password_protected_file_is_named_with_what_to_do() -> None:
    # No password-protected fixture exists; this is the message MPXJ raises for one.
    from pmopulse.sources.schedules.reader import _explain

    start_jvm()
    from org.mpxj import MPXJException

    message = _explain(Path("plans/budget.mpp"), str(MPXJException.PASSWORD_PROTECTED))
    assert message.startswith("plans/budget.mpp: the schedule is password-protected")
    assert "save a copy without the password" in message


def test_a_jvm_started_elsewhere_without_mpxj_is_named() -> None:
    # A fresh process: this test session's own JVM already has MPXJ on its class path.
    import os
    import subprocess
    import sys

    script = ("import jpype; jpype.startJVM(convertStrings=False)\n"
              "from pmopulse.errors import SourceError\n"
              "from pmopulse.sources.schedules.jvm import start_jvm\n"
              "try:\n    start_jvm()\nexcept SourceError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plugins")})
    assert "a Java VM was already started in this process without MPXJ's classes" in done.stdout


def test_a_missing_or_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"folder .*nowhere does not exist"):
        _raw(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no plans here")
    with pytest.raises(SourceError, match=r"holds no schedule \(\.mpp, \.xml, \.xer files\)"):
        _raw(tmp_path / "empty")


@pytest.mark.integration
def test_schedule_checks_reach_kpis_json_per_project(tmp_path: Path) -> None:
    """Extract a schedules source beside a projects export, freeze, validate, compute the KPIs."""
    from pmopulse import pipeline
    from pmopulse.config import load_config
    from pmopulse.jsonfile import read_json

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "projects.csv").write_text(
        "id,name,business_unit,manager,status,start\n"
        "P-1,UMS Parada,BU1,m1,active,2015-01-05\n"
        "P-2,Sample,BU1,m2,active,2003-01-07\n"
        "P-3,Percent complete,BU1,m3,active,2015-02-24\n", encoding="utf-8")
    plans = {"name": "plans", "kind": "schedules", "path": str(FIXTURES),
             "projects": {"sf259.mpp": "P-1", "sample.mpp": "P-2", "percent-complete-8.4.xer": "P-3"},
             "options": {"gates": ["SubTask 1.1.2*"]}}
    exports = {"name": "pmo", "kind": "files", "path": "data"}
    config = load_config(write_config(tmp_path, minimal_config([exports, plans])))
    period = Period.parse("2015-03")
    extracted = pipeline.extract_source(config, period, "plans")
    assert {t: v["rows"] for t, v in extracted["tables"].items()} == {
        "milestones": 12, "evm_snapshots": 0, "schedule_tasks": 23 + 22 + 13}
    pipeline.extract_source(config, period, "pmo")
    assert pipeline.freeze(config, period)["tables"]["schedule_tasks"] == 58
    validation = pipeline.validate(config, period)
    assert read_json(Path(validation["validation"]))["tables"]["schedule_tasks"]["quarantined"] == 0
    pipeline.compute_kpis(config, period)

    kpis = read_json(pipeline.paths(config, period).kpis)
    assert kpis["catalogue"]["dcma_bei"]["group"] == "schedule_quality"
    results = {(r["kpi"], r["scope"]): r for r in kpis["results"] if r["level"] == "project"}
    for project in ("P-1", "P-2", "P-3"):
        assert results[("dcma_missing_logic", project)]["value"] is not None, project
    # sf259: its 13 activities were all due by their baseline (2015-03-01) and none is finished
    assert [results[(k, "P-1")]["value"] for k in ("dcma_missed_tasks", "dcma_bei")] == [1.0, 0.0]
    assert results[("dcma_missed_tasks", "P-1")]["rag"] == results[("dcma_bei", "P-1")]["rag"] == "red"
    # sample.mpp's six links: FS, FS + lag, FS + lead, SS, FF, SF
    assert results[("dcma_fs_relationships", "P-2")]["value"] == pytest.approx(3 / 6)
    # the P6 export states no float: no data, not 0 %
    assert ("dcma_high_float", "P-3") not in results
    unit = next(r for r in kpis["results"] if r["kpi"] == "dcma_missing_logic" and r["scope"] == "BU1")
    assert unit["denominator"] == sum(results[("dcma_missing_logic", p)]["denominator"]
                                      for p in ("P-1", "P-2", "P-3"))
