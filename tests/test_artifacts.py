"""Artifacts in an object store: tasks share snapshots and PDFs through the store alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pmopulse import artifacts
from pmopulse.artifacts import ArtifactStore
from pmopulse.config import load_config
from pmopulse.errors import ConfigError
from support import DEMO_PERIOD, SmtpSink, pdf_text


def _store_config(org: Path, store: Path, *, history: bool = True) -> Path:
    path = org / "pmopulse.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["artifacts_root"] = store.as_uri()
    if history:
        raw["history"] = {"url": f"sqlite:///{org / 'history.sqlite'}"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.integration
def test_every_task_on_a_fresh_machine_still_reports_through_the_object_store(
    airflow_db: None, demo_copy: Path, smtp_server: SmtpSink, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from support import REPO

    store = tmp_path / "bucket" / "pmopulse"
    config_path = _store_config(demo_copy, store)
    monkeypatch.setenv(artifacts.CACHE_ENV, str(tmp_path / "cache"))
    pulls: list[int] = []
    real_pull = ArtifactStore.pull

    def pull_on_a_new_machine(self: ArtifactStore, patterns: tuple[str, ...]) -> None:
        # Whatever an earlier task left in the local cache is gone: only the store remains.
        for child in self.cache.iterdir():
            if not child.name.startswith(".pmopulse-sync.lock"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        pulls.append(1)
        real_pull(self, patterns)

    monkeypatch.setattr(ArtifactStore, "pull", pull_on_a_new_machine)
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["pmo_monthly_governance"]

    run = dag.test(run_conf={"config": str(config_path), "period": DEMO_PERIOD})

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert len(pulls) >= 12, "every stage pulled from the store into an empty cache"
    period = store / DEMO_PERIOD
    assert (period / "canonical" / "_snapshot.json").is_file() and (period / "kpis.json").is_file()
    pdf = period / "reports" / f"organisation-{DEMO_PERIOD}.en.pdf"
    assert "Acme Networks Group" in pdf_text(pdf)
    assert len(smtp_server.envelopes) == 9
    (attachment,) = next(m for m in smtp_server.messages if m["To"] == "ceo@acme.example").iter_attachments()
    assert attachment.get_content() == pdf.read_bytes(), "the PDF mailed is the one in the store"
    assert not (demo_copy / "artifacts").exists(), "nothing is written beside the config"


def test_pull_mirrors_the_store_and_push_sends_back_only_what_changed(tmp_path: Path) -> None:
    remote = tmp_path / "store"
    (remote / "2026-10" / "reports").mkdir(parents=True)
    (remote / "2026-10" / "kpis.json").write_text("{}", encoding="utf-8")
    (remote / "2026-10" / "reports" / "a.pdf").write_bytes(b"%PDF a")
    (remote / "2026-09" / "reports").mkdir(parents=True)
    (remote / "2026-09" / "reports" / "old.pdf").write_bytes(b"%PDF old")
    cache = tmp_path / "cache"
    (cache / "2026-10").mkdir(parents=True)
    (cache / "2026-10" / "stale.parquet").write_bytes(b"left by an earlier run")
    store = ArtifactStore(remote.as_uri(), cache)
    parts = ("2026-10/**",)

    store.pull(parts)

    assert sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()
                  and not p.name.startswith(".pmopulse")) == ["2026-10/kpis.json", "2026-10/reports/a.pdf"]
    before = store.local_state(parts)
    (cache / "2026-10" / "kpis.json").write_text('{"spi": 0.9}', encoding="utf-8")
    (cache / "2026-10" / "reports" / "a.pdf").unlink()
    (cache / "2026-10" / "reports" / "b.pdf").write_bytes(b"%PDF b")
    store.push(parts, before)

    assert (remote / "2026-10" / "kpis.json").read_text(encoding="utf-8") == '{"spi": 0.9}'
    assert not (remote / "2026-10" / "reports" / "a.pdf").exists()
    assert (remote / "2026-10" / "reports" / "b.pdf").read_bytes() == b"%PDF b"
    assert (remote / "2026-09" / "reports" / "old.pdf").exists(), "other periods are left alone"


def test_an_object_store_needs_a_shared_history_database(demo_copy: Path, tmp_path: Path) -> None:
    path = _store_config(demo_copy, tmp_path / "store", history=False)
    with pytest.raises(ConfigError, match="set `history`"):
        load_config(path)
    config = load_config(_store_config(demo_copy, tmp_path / "store"))
    assert config.artifacts_url == (tmp_path / "store").as_uri()
    assert config.artifacts_root != tmp_path / "store", "stages work in a local cache of the store"
