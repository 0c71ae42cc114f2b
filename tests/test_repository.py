"""What a user finds in the repository: a true README, a deployable compose file."""

from __future__ import annotations

import yaml
from support import REPO


def test_readme_names_the_two_commands_and_where_outputs_land() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for text in ("make demo", "make test", "artifacts/", "outbox/", "pmopulse run",
                 "pmopulse demo-data"):
        assert text in readme


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_compose_file_runs_airflow_on_celery_with_read_only_content() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-worker", "airflow-triggerer"} <= set(services)
    worker = services["airflow-worker"]
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "./report_templates:/opt/airflow/report_templates:ro" in worker["volumes"]
    assert worker["environment"]["AIRFLOW__CORE__FERNET_KEY"] == "${FERNET_KEY:?set FERNET_KEY}"


def test_readme_shows_the_first_page_of_the_report() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for shot in ("docs/screenshots/organisation-page1.png", "docs/screenshots/organisation-page1.zh.png"):
        assert shot in readme and (REPO / shot).stat().st_size > 50_000
