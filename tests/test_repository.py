"""What a user finds in the repository: a true README, a deployable compose file."""

from __future__ import annotations

from pathlib import Path

import yaml
from support import REPO


def test_readme_names_the_two_commands_and_where_outputs_land() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for text in ("make demo", "make test", "artifacts/", "outbox/", "pmopulse run",
                 "pmopulse demo-data"):
        assert text in readme


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_compose_file_runs_airflow_on_celery_with_one_image_and_one_set_of_secrets() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    airflow = {name: s for name, s in services.items() if name.startswith("airflow-")}
    assert set(airflow) == {"airflow-init", "airflow-apiserver", "airflow-scheduler",
                            "airflow-dag-processor", "airflow-triggerer", "airflow-worker"}
    assert {"postgres", "redis", "mailcatcher"} <= set(services)
    for name, service in airflow.items():
        assert service["build"] == ".", name
        assert service["image"] == "${PMOPULSE_IMAGE:-pmopulse-airflow:latest}", name
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__FERNET_KEY"] == "${FERNET_KEY:?set FERNET_KEY}", name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW__API_AUTH__JWT_SECRET:?"), name
        assert env["PMOPULSE_CONFIG"] == "/opt/airflow/config/pmopulse.yaml", name
        for volume in service["volumes"]:
            source, target, *mode = volume.split(":")
            if target.endswith(("/dags", "/assessments", "/report_templates", "/config", "/data")):
                assert mode == ["ro"], f"{name}: {volume} must be read-only"
            if source.startswith("./"):
                assert (REPO / source).is_dir(), f"{name}: {source} does not exist in the repository"
        if name != "airflow-init":
            assert service["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    assert airflow["airflow-worker"]["command"] == "celery worker"
    assert set(compose["volumes"]) >= {"artifacts", "logs", "postgres-db"}
    # No secret is written into the file itself.
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert "FERNET_KEY:-" not in text and "JWT_SECRET:-" not in text


def test_dockerfile_builds_on_the_official_image_with_the_report_dependencies() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.count("FROM ") == 1 and "FROM apache/airflow:3.3.2" in dockerfile
    for package in ("libpango-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk", "default-jre-headless"):
        assert package in dockerfile
    assert "-r /opt/pmopulse/requirements.lock" in dockerfile


def test_example_config_loads_and_fits_the_compose_mounts(tmp_path) -> None:
    from pmopulse.config import load_config

    config = load_config(REPO / "config" / "pmopulse.example.yaml")
    assert config.assessment_inbox == Path("/opt/airflow/inbox")
    assert config.sources[0].path == Path("/opt/airflow/data")
    assert config.history_db.conn_id == "pmopulse_history"
    assert config.delivery.languages("organisation", "en") == ["en", "zh"]


def test_readme_shows_the_first_page_of_the_report() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for shot in ("docs/screenshots/organisation-page1.png", "docs/screenshots/organisation-page1.zh.png"):
        assert shot in readme and (REPO / shot).stat().st_size > 50_000
