"""Names never become paths: ids and names that end up in file names are checked when the
config loads, and every output path a name joins stays under its root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pmopulse.artifacts import SAFE_NAME, check_name, within
from pmopulse.cli import main
from pmopulse.config import BusinessUnit, Organisation, SourceConfig, load_config
from pmopulse.errors import ConfigError
from support import REPO, minimal_config, write_config

HOSTILE_NAMES = ["../../../ESCAPED", "..", "a/../../b", "/etc/cron.d/x", "bu/sub", "bu\\sub",
                 ".hidden", "-rf", "a" * 65, "name with space", "ESC..APED", "bu\x00x", "x\ny"]


def _config(tmp_path: Path, *, unit: str = "BU1", source: str = "exports") -> dict:
    data = minimal_config([{"name": source, "kind": "files", "path": "data", "business_unit": unit}])
    data["organisation"]["business_units"] = [{"id": unit, "name": "Unit"}]
    return data


@pytest.mark.parametrize("unit", HOSTILE_NAMES)
def test_a_business_unit_id_that_is_not_a_plain_file_name_is_refused_at_load(
        tmp_path: Path, unit: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, _config(tmp_path, unit=unit)))
    message = str(refused.value)
    assert "organisation.business_units[0].id" in message and SAFE_NAME.pattern in message


@pytest.mark.parametrize("source", HOSTILE_NAMES)
def test_a_source_name_that_is_not_a_plain_file_name_is_refused_at_load(
        tmp_path: Path, source: str) -> None:
    data = _config(tmp_path)
    data["sources"][0]["name"] = source
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, data))
    message = str(refused.value)
    assert "sources[0].name" in message and SAFE_NAME.pattern in message


def test_the_checks_hold_for_objects_built_without_the_loader() -> None:
    with pytest.raises(ConfigError, match=r"business_units\[0\]\.id"):
        Organisation("Org", (BusinessUnit("../x", "X"),))
    with pytest.raises(ConfigError, match=r"sources\[\]\.name"):
        SourceConfig(name="../x", kind="files", path=Path("data"))


@pytest.mark.parametrize("name", ["BU-A", "bu_1", "Net.Products", "P6", "a" * 64])
def test_ordinary_ids_are_accepted(tmp_path: Path, name: str) -> None:
    assert check_name(name, "x") == name
    config = load_config(write_config(tmp_path, _config(tmp_path, unit=name, source=name)))
    assert config.organisation.business_units[0].id == name and config.sources[0].name == name


def test_the_example_config_still_loads() -> None:
    load_config(REPO / "config" / "pmopulse.example.yaml")


@pytest.mark.parametrize("parts", [("..", "x"), ("../../ESCAPED.pdf",), ("/etc/passwd",),
                                   ("a", "..", "..", "b"), ("link", "x")])
def test_the_path_helper_refuses_anything_outside_its_root(tmp_path: Path, parts: tuple[str, ...]) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)   # a link inside that points outside
    with pytest.raises(ConfigError, match="would be outside"):
        within(root, *parts)


def test_the_path_helper_allows_names_inside_its_root(tmp_path: Path) -> None:
    assert within(tmp_path, "reports", "organisation-2026-10.en.pdf") == \
        tmp_path / "reports" / "organisation-2026-10.en.pdf"
    assert within(tmp_path / "not-yet-there", "a.json") == tmp_path / "not-yet-there" / "a.json"


def test_pmopulse_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"pmopulse {version('pmopulse')}"
    command = subprocess.run([sys.executable, "-m", "pmopulse", "--version"], capture_output=True,
                             text=True, check=True, env={"PYTHONPATH": str(REPO / "plugins")})
    assert command.stdout.strip() == f"pmopulse {version('pmopulse')}"
