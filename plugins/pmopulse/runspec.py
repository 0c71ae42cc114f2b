"""What one run is: the config file, the period, and whether to pull sources again.

Airflow tasks pass this small dict between them; every task re-opens the config from it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pmopulse.config import Config, load_config
from pmopulse.errors import ConfigError
from pmopulse.period import Period

CONFIG_ENV = "PMOPULSE_CONFIG"


def plan_run(
    *, config: str = "", period: str = "", refresh: bool = False, resend: bool = False,
    run_time: dt.datetime
) -> dict[str, Any]:
    """Resolve the config path and the period a run reports.

    The period is the explicit one if given (refused while it has not ended), else the last
    complete month before the run time in the organisation's time zone (a run on 1 November
    reports October).
    """
    loaded = load_config(config_path(config))
    if period:
        resolved = reportable_period(loaded, period, now=run_time)
    else:
        resolved = Period.before(run_time.astimezone(loaded.organisation.zone).date())
    return {"config": str(loaded.path), "period": str(resolved), "refresh": bool(refresh),
            "resend": bool(resend)}


def reportable_period(config: Config, period: str, *, now: dt.datetime) -> Period:
    """The month a run or a check asks for, refused while it has not ended in the
    organisation's time zone at `now`. The DAG and the `pmopulse` command both ask here."""
    return Period.parse(period).check_ended(config.organisation.zone, now)


def config_path(config: str = "") -> str:
    """The DAG param `config`, else $PMOPULSE_CONFIG; refused when neither is set."""
    path = config or os.environ.get(CONFIG_ENV, "")
    if not path:
        raise ConfigError(
            f"no config: pass the DAG param 'config' or set {CONFIG_ENV} to the path of pmopulse.yaml")
    return path


def open_run(run: dict[str, Any]) -> tuple[Config, Period]:
    return load_config(run["config"]), Period.parse(run["period"])


@contextmanager
def stage(run: dict[str, Any]) -> Iterator[tuple[Config, Period]]:
    """Open a monthly run for one stage; with an object store, in its synced local cache."""
    from pmopulse.artifacts import period_parts, synced

    config, period = open_run(run)
    with synced(config, period_parts(period)):
        yield config, period
