"""A config says what it means or is refused: unknown keys, alias bombs, oversized files
and header-injecting addresses are refused when the config loads (issue 19 point 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pmopulse.config import load_config
from pmopulse.errors import ConfigError
from pmopulse.yamlfile import MAX_BYTES, load_yaml
from support import minimal_config, write_config

FILES = {"name": "exports", "kind": "files", "path": "data"}


def _config(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data = minimal_config([dict(FILES)])
    data.update(changes)
    return data


@pytest.mark.parametrize(("change", "path", "nearest"), [
    ({"histroy": {"conn_id": "h"}}, "histroy", "history"),
    ({"validation": {"max_quarantine_shar": 0.1}}, "validation.max_quarantine_shar", "max_quarantine_share"),
    ({"organisation": {"name": "Org", "timezon": "UTC"}}, "organisation.timezon", "timezone"),
    ({"organisation": {"name": "Org", "business_units": [{"id": "BU1", "nme": "One"}]}},
     r"organisation.business_units\[BU1\].nme", "name"),
    ({"sources": [{**FILES, "encodng": "gbk"}]}, r"sources\[exports\].encodng", "encoding"),
    ({"sources": [{"name": "j", "kind": "jira", "conn_id": "c", "options": {"page_sise": 5}}]},
     r"sources\[j\].options.page_sise", "page_size"),
    ({"sources": [{"name": "s", "kind": "schedules", "path": "p", "options": {"gate": ["TR*"]}}]},
     r"sources\[s\].options.gate", "gates"),
    ({"kpi_thresholds": {"on_time": {"green": {"minn": 0.9}}}}, "kpi_thresholds.on_time.green.minn", "min"),
    ({"limits": {"xlsx_max_ration": 10}}, "limits.xlsx_max_ration", "xlsx_max_ratio"),
], ids=["top", "section", "organisation", "business-unit", "source", "jira-option", "schedules-option",
        "threshold-band", "limits"])
def test_an_unknown_key_is_refused_with_its_path_and_nearest_known_key(
        tmp_path: Path, change: dict[str, Any], path: str, nearest: str) -> None:
    with pytest.raises(ConfigError, match=rf"pmopulse.yaml: unknown key\(s\) '{path}' "
                                          rf"\(did you mean '{nearest}'\?\)"):
        load_config(write_config(tmp_path, _config(tmp_path, **change)))


def test_unknown_recipient_entry_keys_and_files_options_are_refused(tmp_path: Path) -> None:
    data = _config(tmp_path, sources=[{**FILES, "options": {"x": 1}}])
    with pytest.raises(ConfigError, match=r"'sources\[exports\].options.x'; a files source takes no options"):
        load_config(write_config(tmp_path, data))
    data = _config(tmp_path)
    data["delivery"]["recipients"]["organisation"] = {"to": ["ceo@org.example"], "lang": "zh"}
    with pytest.raises(ConfigError, match=r"'delivery.recipients.organisation.lang' "
                                          r"\(did you mean 'language'\?\)"):
        load_config(write_config(tmp_path, data))


def test_the_example_configs_still_load(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "config" / "pmopulse.example.yaml"
    assert load_config(example).delivery.sender == "PMO Pulse <pmo-pulse@example.com>"
    data = _config(tmp_path, limits={"xlsx_max_uncompressed_mb": 50, "xlsx_max_ratio": 20})
    assert load_config(write_config(tmp_path, data)).limits.max_ratio == 20


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def test_a_billion_laughs_config_is_refused_before_it_is_built(tmp_path: Path) -> None:
    path = tmp_path / "pmopulse.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pmopulse.yaml: its aliases \(\*name\) expand to [\d,]+ nodes"):
        load_config(path)


def test_many_aliases_and_recursive_aliases_are_refused(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"many.yaml uses 101 aliases \(\*name\); at most 100"):
        load_yaml(many)
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("a: &a [1, *a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"recursive.yaml: an alias at line 1 .* must not be recursive"):
        load_yaml(recursive)
    fine = tmp_path / "fine.yaml"
    fine.write_text("base: &b {x: 1}\nuses: [*b, *b]\n", encoding="utf-8")
    assert load_yaml(fine) == {"base": {"x": 1}, "uses": [{"x": 1}, {"x": 1}]}


def test_an_oversized_yaml_file_is_refused_naming_file_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)       # sparse: nothing is written, nothing is read
    with pytest.raises(ConfigError, match=r"maturity model .*huge.yaml is 5.0 MB; a YAML file may be "
                                          r"at most 5 MB"):
        load_yaml(path, "maturity model")


@pytest.mark.parametrize(("sender", "message"), [
    ("pulse@org.example\r\nBcc: all@evil.example", "must be one line"),
    ("PMO Pulse <pulse@org.example>\nX: y", "must be one line"),
    ("pulse@evil.example", "outside delivery.allowed_domains"),
    ("PMO Pulse <pulse@evil.example>", "outside delivery.allowed_domains"),
    ("a@org.example, b@org.example", "is not one e-mail address"),
    ("not an address", "is not one e-mail address"),
], ids=["crlf", "lf-after-name", "foreign-domain", "foreign-domain-with-name", "two", "none"])
def test_a_bad_sender_is_refused_when_the_config_loads(tmp_path: Path, sender: str, message: str) -> None:
    data = _config(tmp_path)
    data["delivery"]["sender"] = sender
    with pytest.raises(ConfigError, match=rf"delivery.sender: .*{message}"):
        load_config(write_config(tmp_path, data))


def test_addresses_are_trimmed_and_lowercased_before_they_become_ledger_keys(tmp_path: Path) -> None:
    data = _config(tmp_path)
    data["delivery"].update(sender="PMO Pulse <Pulse@ORG.Example>", pmo_contact=" PMO@Org.Example ",
                            allowed_domains=["ORG.example"])
    data["delivery"]["recipients"] = {"organisation": ["CEO@org.example ", "ceo@ORG.EXAMPLE"]}
    delivery = load_config(write_config(tmp_path, data)).delivery
    assert delivery.sender == "PMO Pulse <pulse@org.example>"
    assert delivery.pmo_contact == "pmo@org.example"
    assert delivery.for_audience("organisation")[0].to == ("ceo@org.example", "ceo@org.example")
    assert delivery.allowed_domains == ("org.example",)
