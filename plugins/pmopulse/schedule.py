"""What the DAG files need when they are parsed: the organisation's time zone, the owner and
the task time limits. Light on purpose (no pandas, no Airflow): the DAG processor parses
the DAG files again and again."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmopulse.errors import ConfigError
from pmopulse.yamlfile import load_yaml

log = logging.getLogger(__name__)

DAG_OWNER = "pmo-office"
MONTHLY_TASK_TIMEOUT = dt.timedelta(hours=2)
"""One stage of the monthly run; extracting a large Jira takes the longest."""
ASSESSMENT_TASK_TIMEOUT = dt.timedelta(minutes=30)


def organisation_timezone(config: str | None = None) -> str:
    """organisation.timezone of the config (default: $PMOPULSE_CONFIG), read without the
    rest of the config, so that the monthly schedule runs in the organisation's zone.
    Without a config (tests, a DAG processor without PMOPULSE_CONFIG) it is UTC; the run
    itself then fails in `plan`, naming the missing file."""
    path = os.environ.get("PMOPULSE_CONFIG", "") if config is None else config
    if not path:
        return "UTC"
    file = Path(path)
    if not file.is_file():
        log.warning("config %s does not exist: the schedule is read in UTC", file)
        return "UTC"
    raw = load_yaml(file, "config file")
    organisation = raw.get("organisation") if isinstance(raw, dict) else None
    name = str((organisation if isinstance(organisation, dict) else {}).get("timezone", "UTC"))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{file}: organisation.timezone {name!r} is not a time zone name; "
                          "use an IANA name such as Asia/Shanghai or Europe/Berlin") from None
    return name
