"""Assessment input is read, not dropped or crashed on: the answers file, the KPI evidence and
the limits given to `pmopulse assess` and to the stand-alone assessment (DAG
`pmo_maturity_assessment`). Every bad input is a message naming the file, row, column or
option and what was expected; never a traceback, never a silently lost answer."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from pmopulse import assessment
from pmopulse.cli import EXIT_USER_ERROR, main
from pmopulse.config import load_config, project_home
from pmopulse.errors import ConfigError, ContractViolation
from pmopulse.maturity.model import load_model
from pmopulse.report.render import render_html

MODEL_FILE = project_home() / "assessments" / "models" / "qa_audit.yaml"
MODEL = load_model(MODEL_FILE)
ITEMS = [q.id for d in MODEL.dimensions for p in d.practices for q in p.questions]
TEMPLATES = project_home() / "report_templates"
RUN_TIME = dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)


def _answers(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _everyone_answers(answer: str = "largely", *, submitted: str = "2026-11-02") -> list[list[str]]:
    """Two QA engineers of one unit answer every item."""
    return [["respondent", "role", "business unit", "item", "answer", "submitted"]] + [
        [person, "qa_engineer", "NET", item, answer, submitted]
        for person in ("qa1", "qa2") for item in ITEMS]


def _kpis(path: Path, value: object) -> Path:
    path.write_text(json.dumps({"results": [
        {"kpi": "audit_coverage", "level": "organisation", "scope": "Acme", "value": value,
         "rag": "red", "records": 20}]}), encoding="utf-8")
    return path


def _assess(*args: str) -> list[str]:
    return ["assess", "--model", str(MODEL_FILE), *args]


# --------------------------------------------------------------------------------------
# a. Actions per roadmap horizon
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_horizon", ["0", "-2", "many"])
def test_per_horizon_below_one_is_a_usage_error_not_a_division_by_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], per_horizon: str
) -> None:
    answers = _answers(tmp_path / "answers.csv", _everyone_answers("not"))  # gaps: a roadmap to rank
    with pytest.raises(SystemExit) as exit_:
        main(_assess("--responses", str(answers), f"--per-horizon={per_horizon}"))
    assert exit_.value.code == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert f"argument --per-horizon: {per_horizon!r}: expected a whole number of at least 1" in err
    assert "Traceback" not in err


def test_scoring_refuses_a_horizon_of_no_actions() -> None:
    with pytest.raises(ConfigError, match="actions per roadmap horizon is 0; expected a whole number"):
        assessment.Scoring(MODEL, [], max_per_horizon=0)


# --------------------------------------------------------------------------------------
# b. KPI evidence that is not a number
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", [1, 2], True])
def test_a_kpi_value_that_is_not_a_number_names_the_file_and_the_kpi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: object
) -> None:
    answers = _answers(tmp_path / "answers.csv", _everyone_answers("fully"))
    evidence = _kpis(tmp_path / "kpis.json", value)
    assert main(_assess("--responses", str(answers), "--evidence", str(evidence))) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert (f"--evidence {evidence}: KPI 'audit_coverage' (organisation 'Acme') has the value "
            f"{value!r}; expected a number, or null for no data") in err
    assert "Traceback" not in err


def test_a_kpi_result_without_its_colour_is_not_a_kpi_report(tmp_path: Path) -> None:
    path = tmp_path / "kpis.json"
    path.write_text('{"results": [{"kpi": "audit_coverage", "level": "organisation", "scope": "Acme", '
                    '"value": 0.5}]}', encoding="utf-8")
    with pytest.raises(ContractViolation, match=r"kpis.json: not a KPI report .*result 0 has no rag, recor"):
        assessment.read_evidence(path)


def test_numbers_and_no_data_are_evidence(tmp_path: Path) -> None:
    for value in (0.5, 1, None):
        assert assessment.read_evidence(_kpis(tmp_path / "kpis.json", value))["results"][0]["value"] == value


# --------------------------------------------------------------------------------------
# c. A date that cannot be read loses the date, not the answer
# --------------------------------------------------------------------------------------


def test_us_dates_are_noted_and_every_answer_is_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _answers(tmp_path / "answers.csv", _everyone_answers(submitted="03/15/2026"))
    assert main(_assess("--responses", str(answers), "--json")) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["answers"] == 2 * len(ITEMS) and result["respondents"] == 2
    assert result["import"]["problems"] == []
    notes = result["import"]["notes"]
    assert len(notes) == 2 * len(ITEMS)
    assert notes[0] == (f"{answers}: row 2, column 'submitted': '03/15/2026'; expected a date YYYY-MM-DD "
                        "(or YYYY/MM/DD, YYYY.MM.DD, YYYY年MM月DD日); read as no date")
    assert f"note: {notes[-1]}" in captured.err
    html = render_html(_report_context(result, "en") | {"import": result["import"]}, TEMPLATES,
                       "assessment.html.j2")
    assert f"Unreadable cells ({len(notes)}), read as empty; their answers are used:" in html
    assert "&#39;03/15/2026&#39;; expected a date YYYY-MM-DD" in html


# --------------------------------------------------------------------------------------
# d. Encodings
# --------------------------------------------------------------------------------------


def _chinese_answers(path: Path, encoding: str) -> Path:
    """A web form's export with Chinese headers and answers, as Excel on Chinese Windows saves it."""
    return _answers(path, [["答卷人", "角色", "业务单元", "题号", "答案", "提交日期"]] + [
        [person, "质量工程师", "网络产品部", item, "大部分实施", "2026年11月2日"]
        for person in ("张伟", "李娜") for item in ITEMS], encoding=encoding)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_a_gbk_or_utf8_answers_file_is_read_without_being_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    answers = _chinese_answers(tmp_path / "答卷.csv", encoding)
    assert main(_assess("--responses", str(answers), "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["respondents"] == 2 and result["answers"] == 2 * len(ITEMS)
    assert result["import"]["encoding"] == ("gb18030" if encoding == "gbk" else "utf-8-sig")
    assert result["dimensions"][0]["practices"][0]["characterisation"] == "largely"


def test_an_encoding_given_is_used_and_a_wrong_one_names_the_file_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _chinese_answers(tmp_path / "answers.csv", "gbk")
    assert main(_assess("--responses", str(answers), "--encoding", "gbk", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["import"]["encoding"] == "gbk"

    assert main(_assess("--responses", str(answers), "--encoding", "utf-8")) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert f"{answers}: line 1 is not valid utf-8 text" in err
    assert "`pmopulse assess --encoding ENCODING`" in err and "param `encoding`" in err
    assert "Traceback" not in err

    assert main(_assess("--responses", str(answers), "--encoding", "klingon")) == EXIT_USER_ERROR
    assert "--encoding 'klingon' is not a known encoding" in capsys.readouterr().err


def test_a_file_in_no_encoding_tried_names_the_file_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_bytes(b"respondent,item,answer\nqa1,QAP-2.1-Q1,\x80\xff\n")
    assert main(_assess("--responses", str(answers))) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert f"{answers}: neither UTF-8 nor GB18030 text (line 2 is not valid utf-8 text" in err
    assert "--encoding ENCODING" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------
# f. The same respondent id in two business units is two people
# --------------------------------------------------------------------------------------


def test_one_respondent_id_in_two_units_is_two_respondents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "qa1" of NET and "qa1" of SW both answer every item: not duplicates, two people.
    rows = [["respondent", "business unit", "item", "answer"]] + [
        ["qa1", unit, item, "fully"] for unit in ("NET", "SW") for item in ITEMS]
    answers = _answers(tmp_path / "answers.csv", rows)
    assert main(_assess("--responses", str(answers), "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["import"]["problems"] == []
    assert result["respondents"] == 2 and result["answers"] == 2 * len(ITEMS)
    assert result["dimensions"][0]["practices"][0]["respondents"] == 2
    assert {u: s["respondents"] for u, s in result["business_units"].items()} == {"NET": 1, "SW": 1}


# --------------------------------------------------------------------------------------
# g. A score says how many practices it rests on
# --------------------------------------------------------------------------------------


def test_a_score_says_how_many_practices_were_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = MODEL.dimensions[0]
    answered = [q.id for p in first.practices[:2] for q in p.questions]  # two practices of the first
    rows = [["respondent", "item", "answer"]] + [["qa1", item, "fully"] for item in answered]
    answers = _answers(tmp_path / "answers.csv", rows)
    assert main(_assess("--responses", str(answers))) == 0
    out = capsys.readouterr().out
    assert f"score 100/100 (2 of {len(first.practices)} practices answered)" in out

    scoring = assessment.Scoring(MODEL, [])
    from pmopulse.maturity.questionnaire import read_answers

    result = scoring.evaluate(read_answers(answers, MODEL).answers, None)
    dimension = result["dimensions"][0]
    assert (dimension["score"], dimension["practices_answered"], len(dimension["practices"])) == (
        100.0, 2, len(first.practices))
    for language, shown in (("en", f"100 (2 of {len(first.practices)} practices answered)"),
                            ("zh", f"100（{len(first.practices)} 项实践中已作答 2 项）")):
        html = render_html(_report_context(result, language), TEMPLATES, "assessment.html.j2")
        assert shown in html


def _report_context(maturity: dict, language: str) -> dict:
    return {
        "report": "assessment", "language": language, "organisation": "Acme", "scope": None,
        "as_of": "2026-11-20",
        "intake": {"id": "x", "file": "answers.csv", "received": "2026-11-20T02:00:00+00:00",
                   "source": "by hand"},
        "evidence": None, "import": {"problems": [], "notes": [], "unanswered": 0},
        "maturity": maturity, "recommendations": [], "catalogue": {},
    }


# --------------------------------------------------------------------------------------
# The stand-alone assessment reads its input the same way
# --------------------------------------------------------------------------------------


def _config(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "org" / "pmopulse.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({
        "organisation": {"name": "Acme", "timezone": "Asia/Shanghai",
                         "business_units": [{"id": "NET", "name": "Network"}]},
        "sources": [{"kind": "files", "path": "data"}],
        "assessment": {"model": "qa_audit"},
        "delivery": {"sender": "pulse@acme.example", "allowed_domains": ["acme.example"],
                     "pmo_contact": "pmo@acme.example",
                     "recipients": {"organisation": ["ceo@acme.example"]}},
        **extra,
    }), encoding="utf-8")
    return path


def test_the_stand_alone_assessment_reads_gbk_keeps_undated_answers_and_checks_the_kpis(
    tmp_path: Path
) -> None:
    config = load_config(_config(tmp_path))
    gbk = _chinese_answers(tmp_path / "答卷.csv", "gbk")
    us_dates = _answers(tmp_path / "dates.csv", _everyone_answers(submitted="03/15/2026"))

    (folder,) = map(Path, assessment.intake(config, answers_file=str(gbk), run_time=RUN_TIME))
    assert assessment.score(config, folder)["usable"] is True
    result = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert result["import"]["encoding"] == "gb18030" and result["maturity"]["respondents"] == 2

    (folder,) = map(Path, assessment.intake(config, answers_file=str(us_dates), run_time=RUN_TIME))
    assessment.score(config, folder)
    result = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert result["maturity"]["answers"] == 2 * len(ITEMS)
    assert result["import"]["notes"][0].startswith("dates.csv: row 2, column 'submitted': '03/15/2026'")

    # The KPIs of the month before are read with the same loader as `assess --evidence`.
    period = config.artifacts_root / "2026-10"
    period.mkdir(parents=True)
    kpis = _kpis(period / "kpis.json", "n/a")
    with pytest.raises(ContractViolation) as error:
        assessment.score(config, folder)
    assert str(error.value) == (f"{kpis}: KPI 'audit_coverage' (organisation 'Acme') has the value 'n/a'; "
                                "expected a number, or null for no data")


def test_a_wrong_encoding_param_refuses_the_file_naming_it_and_the_option(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    gbk = _chinese_answers(tmp_path / "答卷.csv", "gbk")
    with pytest.raises(ConfigError, match="param encoding 'klingon' is not a known encoding"):
        assessment.intake(config, answers_file=str(gbk), encoding="klingon", run_time=RUN_TIME)

    (folder,) = map(Path, assessment.intake(config, answers_file=str(gbk), encoding="utf-8",
                                            run_time=RUN_TIME))
    scored = assessment.score(config, folder)
    assert scored["usable"] is False
    assert scored["refused"].startswith("答卷.csv: line 1 is not valid utf-8 text")
    assert "run the DAG pmo_maturity_assessment by hand with the param `encoding`" in scored["refused"]


# --------------------------------------------------------------------------------------
# a. The config's limit, at load
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 2.5, "five", True])
def test_max_per_horizon_in_the_config_is_a_whole_number_of_at_least_one(
    tmp_path: Path, value: object
) -> None:
    path = _config(tmp_path, recommendations={"max_per_horizon": value})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (f"{path}: recommendations.max_per_horizon is {value!r}; expected a whole "
                                "number of at least 1")
