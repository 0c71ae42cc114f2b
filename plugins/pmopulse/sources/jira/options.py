"""The settings a Jira source takes under `options:`, checked before any call is made."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.sources.http import HttpSettings

PERSON_KEYS = ("account_id", "display_name")
MAX_PAGE_SIZE = 100
"""Jira returns at most 100 issues a page when fields and the changelog are asked for."""
TABLES = ("work_items", "work_item_history", "milestones", "timesheets")
"""The canonical tables a Jira source fills."""


@dataclass(frozen=True)
class JiraOptions:
    escaped_label: str = "escaped"   # a bug with this label was found after release
    page_size: int = 100             # issues per search page
    sprints: bool = True             # the projects' board sprints as milestones
    worklogs: bool = True            # worklogs as timesheets
    jql: str | None = None           # an extra clause ANDed to `project in (...)`
    person: str = "account_id"       # timesheets.person: the author's account id or display name
    http: HttpSettings = field(default_factory=HttpSettings)  # timeout_seconds, retries, ...

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> JiraOptions:
        own = [f.name for f in fields(cls) if f.name != "http"]
        known = [*own, *HttpSettings.KEYS]
        if unknown := sorted(set(raw) - set(known)):
            raise ConfigError(f"{where}: unknown option(s) {unknown}; a jira source takes {known}")
        options = cls(**{k: v for k, v in raw.items() if k in own},
                      http=HttpSettings.parse(raw, where))
        for name in ("sprints", "worklogs"):
            if not isinstance(getattr(options, name), bool):
                raise ConfigError(f"{where}.{name} must be true or false, not {getattr(options, name)!r}")
        if not isinstance(options.page_size, int) or isinstance(options.page_size, bool) \
                or not 1 <= options.page_size <= MAX_PAGE_SIZE:
            raise ConfigError(f"{where}.page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, "
                              f"not {options.page_size!r}")
        if not isinstance(options.escaped_label, str) or not options.escaped_label.strip():
            raise ConfigError(f"{where}.escaped_label must be a label, not {options.escaped_label!r}")
        if options.person not in PERSON_KEYS:
            raise ConfigError(f"{where}.person is {options.person!r}; expected one of {list(PERSON_KEYS)}")
        if options.jql is not None:
            if not isinstance(options.jql, str) or not options.jql.strip():
                raise ConfigError(f"{where}.jql must be a JQL clause, not {options.jql!r}")
            if re.search(r"\border\s+by\b", options.jql, re.IGNORECASE):
                raise ConfigError(f"{where}.jql must be a filter without ORDER BY (the source orders "
                                  f"the search itself): {options.jql!r}")
        return options
