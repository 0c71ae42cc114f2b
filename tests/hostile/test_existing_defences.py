"""Hostile input that PMO Pulse already withstands, each stated once here as its user sees it:
markup in data prints as text and fetches nothing, mail headers cannot be injected, YAML
cannot build objects, a schedule cannot pull in a local file, and a failing source never
prints its password."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pmopulse.config import load_config
from pmopulse.contracts import load_contracts
from pmopulse.deliver.mail import Mail, to_mime
from pmopulse.errors import ConfigError, SourceError
from pmopulse.period import Period
from pmopulse.report.render import TemplatesOnlyFetcher, render_pdf
from pmopulse.sources import SourceRequest, read_source
from support import REPO, minimal_config, pdf_text, write_config

MARKUP = ('<script>alert(1)</script><img src="file:///etc/passwd">'
          '<style>@import url("http://evil.example/x.css"); body{background:url(file:///etc/passwd)}</style>'
          '<link rel="stylesheet" href="http://evil.example/y.css">')


# -- Markup in data --------------------------------------------------------------------


def test_markup_in_a_project_name_prints_as_text_and_fetches_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "report_templates", templates)
    (templates / "probe.html.j2").write_text(
        '<html lang="en"><head><link rel="stylesheet" href="print.css"></head>'
        "<body><h1>{{ ctx.organisation }}</h1><p>Project: {{ ctx.project }}</p></body></html>",
        encoding="utf-8")
    fetched: list[str] = []
    original = TemplatesOnlyFetcher.fetch
    monkeypatch.setattr(TemplatesOnlyFetcher, "fetch",
                        lambda self, url, headers=None: fetched.append(url) or original(self, url, headers))

    pdf = render_pdf({"language": "en", "organisation": "Org", "project": MARKUP}, templates,
                     "probe.html.j2", tmp_path / "probe.pdf")

    # pdftotext wraps long lines: compare without white space
    assert "".join(MARKUP.split()) in "".join(pdf_text(pdf, layout=False).split())
    assert fetched and all(url.startswith("data:") or str(templates.resolve()) in url for url in fetched)
    assert not any("passwd" in url or "evil" in url for url in fetched)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://evil.example/x.css",
                                 "file:///tmp/../etc/passwd"])
def test_the_report_fetcher_refuses_anything_outside_the_templates(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="refuses to fetch"):
        TemplatesOnlyFetcher(tmp_path).fetch(url)


# -- Mail headers ----------------------------------------------------------------------

INJECTED = ["Monthly report\r\nBcc: spy@evil.example", "Monthly report\nBcc: spy@evil.example",
            "Monthly report\rBcc: spy@evil.example"]


@pytest.mark.parametrize("subject", INJECTED, ids=["crlf", "lf", "cr"])
def test_a_line_break_in_a_mail_subject_is_refused_not_sent_as_a_header(subject: str) -> None:
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        to_mime(Mail("pulse@org.example", ("ceo@org.example",), subject, "<p>report</p>"))


@pytest.mark.parametrize("recipient", [s.replace("Monthly report", "ceo@org.example") for s in INJECTED],
                         ids=["crlf", "lf", "cr"])
def test_a_line_break_in_a_recipient_is_refused(tmp_path: Path, recipient: str) -> None:
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        to_mime(Mail("pulse@org.example", (recipient,), "Monthly report", "<p>report</p>"))
    data = minimal_config([{"kind": "files", "path": "data"}])
    data["delivery"]["recipients"]["organisation"] = [recipient]
    with pytest.raises(ConfigError, match="is not an e-mail address"):
        load_config(write_config(tmp_path, data))


# -- YAML ------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    "!!python/object:pmopulse.config.Config {{}}",
    "!!python/name:os.system",
], ids=["apply", "new", "object", "name"])
def test_unsafe_yaml_tags_in_the_config_are_refused(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    path = write_config(tmp_path, minimal_config([{"kind": "files", "path": "data"}]))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: Org", "name: " + tag.format(marker=marker)), encoding="utf-8")
    assert tag.split()[0] in path.read_text(encoding="utf-8")

    with pytest.raises(ConfigError, match=r"pmopulse.yaml is not valid YAML"):
        load_config(path)
    assert not marker.exists()


# -- XML external entities -------------------------------------------------------------

FIXTURE = REPO.parent / "shared" / "fixtures" / "schedules" / "sample.xml"


def test_an_mspdi_schedule_cannot_pull_in_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    plans = tmp_path / "plans"
    plans.mkdir()
    original = FIXTURE.read_text(encoding="utf-8")
    shutil.copy(FIXTURE, plans / "good.xml")
    for name, target in [("passwd.xml", "file:///etc/passwd"), ("secret.xml", secret.as_uri())]:
        hostile = original.replace(
            '<?xml version="1.0"?>',
            f'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY xxe SYSTEM "{target}">]>', 1)
        hostile = hostile.replace("<Title>sample</Title>", "<Title>&xxe;</Title>", 1)
        hostile = hostile.replace("<Name>First Task</Name>", "<Name>&xxe;</Name>", 1)
        assert "&xxe;" in hostile
        (plans / name).write_text(hostile, encoding="utf-8")
    config = load_config(write_config(tmp_path, minimal_config(
        [{"name": "plans", "kind": "schedules", "path": "plans", "business_unit": "BU1"}]))).sources[0]
    request = SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path / "state",
                            zone=ZoneInfo("UTC"))

    read = read_source(config, request)

    everything = " ".join([*(raw.frame.to_csv() for raw in read.tables),
                           *(f"{u.item} {u.message}" for u in read.unread), json.dumps(read.notes,
                                                                                     default=str)])
    assert "TOP-SECRET-MARKER" not in everything
    assert not re.search(r"root:.*:0:0:", everything)
    assert sorted(u.item for u in read.unread) == ["passwd.xml", "secret.xml"]
    assert all("DOCTYPE is disallowed" in u.message for u in read.unread)
    tasks = next(raw.frame for raw in read.tables if raw.table == "schedule_tasks")
    assert "First Task" in set(tasks["name"]), "the good file next to them is read"


# -- Secrets in failure messages -------------------------------------------------------

PASSWORD = "s3cret-Pa55"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: a connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fail(tmp_path: Path, source: dict) -> str:
    config = load_config(write_config(tmp_path, minimal_config([source])))
    request = SourceRequest(load_contracts(), Period.parse("2026-10"), tmp_path / "state",
                            zone=ZoneInfo("UTC"))
    with pytest.raises(SourceError) as failed:
        read_source(config.sources[0], request)
    return str(failed.value)


def test_a_database_that_cannot_be_reached_is_named_without_its_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("PULSE_TEST_DB", f"postgresql://pmo:{PASSWORD}@127.0.0.1:{closed_port}/pmo")
    message = _fail(tmp_path, {"name": "finance", "kind": "sql", "url_env": "PULSE_TEST_DB",
                               "tables": {"projects": {"query": "SELECT 1"}}})
    assert "source 'finance'" in message and f"127.0.0.1:{closed_port}" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("connection", ["password", "host"])
def test_a_tracker_that_cannot_be_reached_is_named_without_its_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int, connection: str) -> None:
    site = f"http://127.0.0.1:{closed_port}"
    held = ({"conn_type": "http", "host": site, "login": "pm", "password": PASSWORD}
            if connection == "password" else
            {"conn_type": "http", "host": f"http://pm:{PASSWORD}@127.0.0.1:{closed_port}",
             "password": PASSWORD})
    monkeypatch.setenv("AIRFLOW_CONN_PULSE_TRACKER", json.dumps(held))
    message = _fail(tmp_path, {"name": "tracker", "kind": "redmine", "conn_id": "pulse_tracker",
                               "business_unit": "BU1", "projects": ["web"],
                               "options": {"retries": 0}})
    assert "Redmine source 'tracker'" in message and "ConnectionError" in message
    assert PASSWORD not in message
