"""The keys pmopulse.yaml knows, level by level, as one declarative schema.

A key the schema does not know is refused with its path and the nearest known key: a
misspelt `histroy:` would otherwise be ignored, and its section silently fall back to the
defaults. Only keys are checked here; the values are checked where they are built.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.kpis.catalogue import Band
from pmopulse.sources.mapping import FORMAT_KEYS, TableMapping
from pmopulse.sources.workbook import WorkbookLimits


@dataclass(frozen=True)
class Keys:
    """A mapping with these keys, each with the schema of its value (None: not checked)."""

    known: Mapping[str, Schema]


@dataclass(frozen=True)
class EachKey:
    """A mapping from names the config chooses (KPI ids, tables, audiences) to values."""

    value: Schema


@dataclass(frozen=True)
class Items:
    """A list of values, each named in messages by its `label` key (else its position);
    with `single`, one value may also stand without the list."""

    item: Schema
    label: str | None = None
    single: bool = False


@dataclass(frozen=True)
class SourceOptions:
    """A source's `options:`: the keys its kind takes (see `option_keys`)."""


Schema = Keys | EachKey | Items | SourceOptions | None

_THRESHOLDS = EachKey(Keys({"green": Keys(dict.fromkeys(f.name for f in fields(Band))),
                            "amber": Keys(dict.fromkeys(f.name for f in fields(Band)))}))
_DATABASE = Keys(dict.fromkeys(("url", "url_env", "conn_id")))
_SOURCE = Keys({
    **dict.fromkeys(("name", "kind", "path", "url", "url_env", "conn_id", "max_age_days",
                     "business_unit", "site", "projects", *FORMAT_KEYS)),
    "tables": EachKey(Keys(dict.fromkeys(f.name for f in fields(TableMapping)))),
    "options": SourceOptions(),
})
CONFIG = Keys({
    "organisation": Keys({
        "name": None,
        "timezone": None,
        "business_units": Items(Keys({"id": None, "name": None, "kpi_thresholds": _THRESHOLDS}),
                                label="id"),
    }),
    "sources": Items(_SOURCE, label="name"),
    **dict.fromkeys(("artifacts_root", "artifacts_conn_id", "assessments_dir", "templates_dir")),
    "history": _DATABASE,
    "assessment": Keys(dict.fromkeys(("model", "targets", "inbox"))),
    "validation": Keys(dict.fromkeys(("max_quarantine_share", "share_from_rows", "max_quarantined_rows",
                                      "max_age_days"))),
    "report": Keys({"language": None}),
    "recommendations": Keys({"max_per_horizon": None}),
    "kpi_thresholds": _THRESHOLDS,
    "limits": Keys(dict.fromkeys(WorkbookLimits.KEYS)),
    "delivery": Keys({
        **dict.fromkeys(("sender", "allowed_domains", "pmo_contact", "smtp_conn_id", "copy_pmo")),
        "recipients": EachKey(Items(Keys(dict.fromkeys(("to", "language"))), single=True)),
    }),
})
"""Every key of pmopulse.yaml (config/README.md explains each)."""


def option_keys(kind: str) -> tuple[str, ...] | None:
    """The `options:` a source kind takes, from its options class; None for an unknown kind."""
    from pmopulse.sources.http import HttpSettings

    if kind in ("files", "sql"):
        return ()
    if kind == "jira":
        from pmopulse.sources.jira.options import JiraOptions as options
    elif kind == "redmine":
        from pmopulse.sources.redmine import Options as options  # type: ignore[assignment]
    elif kind == "schedules":
        from pmopulse.sources.schedules import ScheduleOptions as options  # type: ignore[assignment]
    else:
        return None
    own = tuple(f.name for f in fields(options) if f.name != "http")
    return own + HttpSettings.KEYS if len(own) < len(fields(options)) else own


def check_keys(raw: Mapping[str, Any]) -> None:
    """Refuse every key of the config the schema does not know, naming its path and the
    nearest known key. Values of the wrong shape are left to the code that reads them."""
    problems: list[str] = []
    _check(raw, CONFIG, "", problems, {})
    if problems:
        raise ConfigError("; ".join(problems))


def _check(value: Any, schema: Schema, where: str, problems: list[str],
           parent: Mapping[str, Any]) -> None:
    if isinstance(schema, Items):
        items = [value] if schema.single and isinstance(value, Mapping) else value
        if isinstance(items, list):
            for index, item in enumerate(items):
                label = item.get(schema.label) if schema.label and isinstance(item, Mapping) else None
                at = f"{where}[{label if label not in (None, '') else index}]"
                _check(item, schema.item, where if items is not value else at, problems, parent)
    elif isinstance(schema, EachKey) and isinstance(value, Mapping):
        for key, item in value.items():
            _check(item, schema.value, f"{where}.{key}", problems, value)
    elif isinstance(schema, SourceOptions) and isinstance(value, Mapping):
        kind = str(parent.get("kind"))
        known = option_keys(kind)
        if known is not None:
            _refuse_unknown(value, known, where, problems, f"a {kind} source takes")
    elif isinstance(schema, Keys) and isinstance(value, Mapping):
        _refuse_unknown(value, tuple(schema.known), where, problems, "expected")
        for key, item in value.items():
            if str(key) in schema.known:
                _check(item, schema.known[str(key)], f"{where}.{key}" if where else str(key),
                       problems, value)


def _refuse_unknown(value: Mapping[Any, Any], known: tuple[str, ...], where: str,
                    problems: list[str], takes: str) -> None:
    unknown = [key for key in map(str, value) if key not in known]
    if not unknown:
        return
    named = []
    for key in unknown:
        nearest = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
        named.append(f"{(f'{where}.{key}' if where else key)!r}{hint}")
    expected = f"{takes} one of {sorted(known)}" if known else f"{takes} no options"
    problems.append(f"unknown key(s) {', '.join(named)}; {expected}")
