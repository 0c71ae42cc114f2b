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
    assert env_of(airflow["airflow-apiserver"])["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "true"
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


def env_of(service: dict) -> dict:
    return service["environment"]


def _compose() -> tuple[dict, str]:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text), text


def test_compose_mail_catcher_is_for_trying_out_only() -> None:
    compose, _ = _compose()
    services = compose["services"]
    assert services["mailcatcher"]["profiles"] == ["tryout"]
    assert all(port.startswith("127.0.0.1:") for port in services["mailcatcher"]["ports"])
    # No other service is a mail viewer, and none sends to the catcher unless told to.
    assert [n for n, s in services.items() if "mailpit" in s.get("image", "")] == ["mailcatcher"]
    for name, service in services.items():
        if name.startswith("airflow-"):
            assert env_of(service)["AIRFLOW_CONN_SMTP_DEFAULT"] is None, f"{name}: set from .env or unset"
            assert "profiles" not in service, name


def test_compose_init_fixes_volume_ownership_and_creates_the_first_admin() -> None:
    compose, text = _compose()
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    assert init["user"] == "0:0"
    assert 'chown -R "$${AIRFLOW_UID}:0"' in script
    for volume in ("/opt/airflow/logs", "/opt/airflow/artifacts", "/opt/airflow/inbox", "/opt/airflow/auth"):
        assert volume in script.split("chown -R", 1)[1].splitlines()[0], volume
    env = env_of(init)
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["PMOPULSE_ADMIN_PASSWORD"].startswith("${PMOPULSE_ADMIN_PASSWORD:?")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${PMOPULSE_ADMIN_USER:-admin}:admin"
    assert "PMOPULSE_ADMIN_PASSWORD" in script and "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    assert "auth" in compose["volumes"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for documented in ("AIRFLOW_UID", "PMOPULSE_ADMIN_PASSWORD", "PMOPULSE_ADMIN_USER", "--profile tryout"):
        assert documented in readme and documented in text, documented


def test_compose_every_long_running_service_has_a_healthcheck() -> None:
    compose, _ = _compose()
    for name, service in compose["services"].items():
        if name == "airflow-init":  # runs once; the others wait for it to complete
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_compose_cites_a_readme_section_that_exists() -> None:
    _, text = _compose()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert '"Running in production" in README.md' in text
    assert "\n## Running in production\n" in readme


def test_compose_time_zone_agrees_with_the_example_config() -> None:
    from pmopulse.config import load_config

    compose, _ = _compose()
    zone = load_config(REPO / "config" / "pmopulse.example.yaml").organisation.timezone
    expected = f"${{PMOPULSE_TIMEZONE:-{zone}}}"
    for name, service in compose["services"].items():
        if name.startswith("airflow-"):
            assert env_of(service)["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == expected, name


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
