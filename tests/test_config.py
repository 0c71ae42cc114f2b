from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pmopulse.config import load_config
from pmopulse.errors import ConfigError


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "pmopulse.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _minimal() -> dict:
    return {
        "organisation": {"name": "Org", "business_units": [{"id": "BU1", "name": "One"}]},
        "sources": [{"kind": "files", "path": "data"}],
        "delivery": {"sender": "pulse@org.example", "allowed_domains": ["org.example"],
                     "pmo_contact": "pmo@org.example",
                     "recipients": {"organisation": ["ceo@org.example"]}},
    }


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, _minimal()))
    assert config.sources[0].path == tmp_path / "data"
    assert config.artifacts_root == tmp_path / "artifacts"
    assert config.maturity_model.name == "pmo_maturity.yaml"
    assert config.maturity_model.exists()


def test_recipient_outside_allowed_domains_is_refused(tmp_path: Path) -> None:
    data = _minimal()
    data["delivery"]["recipients"]["organisation"].append("boss@gmail.com")
    with pytest.raises(ConfigError, match=r"boss@gmail.com.*allowed_domains"):
        load_config(_write(tmp_path, data))


def test_missing_section_names_file_and_key(tmp_path: Path) -> None:
    data = _minimal()
    del data["delivery"]["sender"]
    with pytest.raises(ConfigError, match=r"pmopulse.yaml: delivery.sender is required"):
        load_config(_write(tmp_path, data))


def test_unknown_source_kind_lists_the_known_ones(tmp_path: Path) -> None:
    data = _minimal()
    data["sources"][0]["kind"] = "sharepoint"
    with pytest.raises(ConfigError, match=r"'sharepoint'.*files"):
        load_config(_write(tmp_path, data))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_malformed_value_is_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    data = _minimal()
    data["validation"] = {"max_quarantine_share": "lots"}
    with pytest.raises(ConfigError, match=r"pmopulse.yaml: malformed value.*'lots'"):
        load_config(_write(tmp_path, data))


def test_organisation_report_needs_a_recipient(tmp_path: Path) -> None:
    data = _minimal()
    data["delivery"]["recipients"] = {}
    with pytest.raises(ConfigError, match=r"recipients\.organisation must list"):
        load_config(_write(tmp_path, data))


def test_recipient_lists_each_choose_a_language(tmp_path: Path) -> None:
    data = _minimal()
    data["delivery"]["recipients"] = {
        "organisation": [{"to": ["ceo@org.example"]}, {"language": "zh", "to": ["chair@org.example"]}],
        "BU1": {"language": "zh", "to": ["head@org.example"]},
        "assessment": ["pmo@org.example"],
    }
    delivery = load_config(_write(tmp_path, data)).delivery
    assert [(r.to, r.language) for r in delivery.for_audience("organisation")] == [
        (("ceo@org.example",), None), (("chair@org.example",), "zh")]
    assert delivery.languages("organisation", "en") == ["en", "zh"]
    assert delivery.languages("BU1", "en") == ["en", "zh"], "the default language is always rendered"
    assert delivery.languages("assessment", "zh") == ["zh"]


def test_each_unit_report_goes_to_its_head_and_the_pmo_contact_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    data = _minimal()
    data["organisation"]["business_units"].append({"id": "BU2", "name": "Two"})
    data["delivery"]["recipients"]["BU1"] = {"language": "zh", "to": ["head@org.example"]}
    delivery = load_config(_write(tmp_path, data)).delivery
    assert [(r.to, r.language) for r in delivery.readers("BU1")] == [
        (("head@org.example",), "zh"), (("pmo@org.example",), None)]
    assert [r.to for r in delivery.readers("BU2")] == [("pmo@org.example",)], "no list: the PMO still"
    assert [r.to for r in delivery.readers("organisation")] == [("ceo@org.example",)]
    assert [r.to for r in delivery.readers("assessment")] == [("pmo@org.example",)]

    data["delivery"]["copy_pmo"] = False
    delivery = load_config(_write(tmp_path, data)).delivery
    assert [r.to for r in delivery.readers("BU1")] == [("head@org.example",)]
    assert delivery.readers("BU2") == [], "rendered, not mailed"

    data["delivery"]["copy_pmo"] = "yes"
    with pytest.raises(ConfigError, match=r"delivery\.copy_pmo must be true or false"):
        load_config(_write(tmp_path, data))


@pytest.mark.parametrize(("recipients", "message"), [
    ({"BU9": ["x@org.example"]}, r"delivery.recipients.BU9: not an audience; expected organisation, "
                                 r"assessment or a business unit id \['BU1'\]"),
    ({"BU1": {"language": "fr", "to": ["x@org.example"]}},
     r"delivery.recipients.BU1: language 'fr'; expected one of \('en', 'zh'\)"),
    ({"BU1": {"language": "zh", "to": ["x@gmail.com"]}}, r"x@gmail.com.*allowed_domains"),
])
def test_a_bad_recipient_list_is_refused_with_what_to_fix(tmp_path: Path, recipients: dict,
                                                         message: str) -> None:
    data = _minimal()
    data["delivery"]["recipients"].update(recipients)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, data))


@pytest.mark.parametrize("zone", ["Asia/Shang_hai", "Asia", ""], ids=["unknown", "a-folder", "empty"])
def test_an_unknown_time_zone_is_refused_with_examples(tmp_path: Path, zone: str) -> None:
    data = _minimal()
    data["organisation"]["timezone"] = zone
    with pytest.raises(ConfigError, match=rf"organisation.timezone {zone!r} is not a time zone name; "
                                          "use an IANA name such as Asia/Shanghai"):
        load_config(_write(tmp_path, data))
