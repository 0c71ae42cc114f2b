"""A REST API client for tracker sources: credentials from an Airflow connection, timeouts,
retries with backoff on 429 and 5xx (honouring Retry-After), and errors that say what to fix.

Jira and Redmine differ in paths and paging, not in how a call must behave, so both use
`ApiClient`. Nothing here logs a header or a URL with credentials in it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from pmopulse.errors import SourceError

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 10.0, 30.0)
"""Seconds before each retry of a 429, 5xx or lost connection when the server names none."""
MAX_RETRY_AFTER = 300.0
"""A Retry-After longer than this is not waited out: the task fails and Airflow retries later."""
TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for one request."""


@dataclass(frozen=True)
class Credentials:
    """What an Airflow connection holds for a REST API: where, and who."""

    host: str                # base URL, e.g. https://acme.atlassian.net
    login: str | None
    password: str | None = field(repr=False)  # API token or key: never printed
    extra: Mapping[str, Any] = field(default_factory=dict)


def connection_credentials(conn_id: str, what: str) -> Credentials:
    """Read an Airflow connection (from the metadata database or `AIRFLOW_CONN_<ID>`)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise SourceError(f"{what}: Airflow connection {conn_id!r} does not exist; create it "
                          f"(or set AIRFLOW_CONN_{conn_id.upper()}) with the site and credentials") from None
    host = (conn.host or "").rstrip("/")
    if host and "://" not in host:
        host = f"{conn.schema or 'https'}://{host}"
    if host and conn.port and f":{conn.port}" not in host.split("://", 1)[1]:
        host = f"{host}:{conn.port}"
    return Credentials(host=host, login=conn.login or None, password=conn.password or None,
                       extra=conn.extra_dejson or {})


class ApiClient:
    """GET JSON from one site with retries; `what` names the source in every message."""

    def __init__(self, base_url: str, what: str, *, headers: Mapping[str, str] | None = None,
                 auth: tuple[str, str] | None = None,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import requests

        if not base_url:
            raise SourceError(f"{what}: no site URL; set `site:` in the config or the connection's host")
        self.base_url = base_url.rstrip("/")
        self.what = what
        self.retry_delays = retry_delays
        self.sleep = sleep
        self.calls = 0
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        if auth is not None:
            self.session.auth = auth

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            hint: str = "", empty_on: Collection[int] = ()) -> Any:
        """One GET; `hint` says in an error what was being asked for (a project, an issue).

        A status in `empty_on` means "nothing to read here" for this call (a Jira kanban
        board asked for sprints answers 400): it returns None instead of failing.
        """
        import requests

        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            self.calls += 1
            try:
                response = self.session.get(url, params=params, timeout=TIMEOUT)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= len(self.retry_delays):
                    raise SourceError(f"{self.what}: cannot reach {self.base_url} "
                                      f"({type(exc).__name__}) after {attempt + 1} attempts") from None
                delay = self.retry_delays[attempt]
                reason = type(exc).__name__
            else:
                if response.status_code < 300:
                    return self._json(response, path)
                if response.status_code in empty_on:
                    log.info("%s: %s answered HTTP %d (%s): nothing to read there", self.what, path,
                             response.status_code, _server_message(response) or "no message")
                    return None
                if response.status_code != 429 and response.status_code < 500:
                    raise SourceError(self._refused(response, path, hint))
                if attempt >= len(self.retry_delays):
                    raise SourceError(f"{self.what}: {self.base_url}{path} answered HTTP "
                                      f"{response.status_code} {attempt + 1} times; try again later")
                delay = _retry_after(response.headers.get("Retry-After"), self.retry_delays[attempt])
                if delay > MAX_RETRY_AFTER:
                    raise SourceError(f"{self.what}: {self.base_url} asks to wait {delay:.0f} s "
                                      "(Retry-After); the run stops here and Airflow retries later")
                reason = f"HTTP {response.status_code}"
            attempt += 1
            log.warning("%s: %s on %s; retry %d in %.0f s", self.what, reason, path, attempt, delay)
            self.sleep(delay)

    def _json(self, response: Any, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown")
            raise SourceError(f"{self.what}: {self.base_url}{path} did not answer JSON "
                              f"(Content-Type {kind}); is the site URL right?") from None

    def _refused(self, response: Any, path: str, hint: str) -> str:
        status = response.status_code
        about = f" ({hint})" if hint else ""
        if said := _server_message(response):
            about += f"; the server says: {said}"
        if status == 401:
            return (f"{self.what}: {self.base_url} refused the credentials (HTTP 401){about}; "
                    "check the credentials (login, API token or key) in the Airflow connection")
        if status == 403:
            return (f"{self.what}: {self.base_url} denied access (HTTP 403){about}; the account "
                    "needs permission to browse it")
        if status == 404:
            return (f"{self.what}: {self.base_url}{path} was not found (HTTP 404){about}; check "
                    "the site URL and the project key in the config")
        return f"{self.what}: {self.base_url}{path} answered HTTP {status}{about}"


def _server_message(response: Any) -> str:
    """The reason a server gives in its error body (Jira `errorMessages`/`errors`, Redmine
    `errors`), shortened; empty when the body holds none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    parts: list[str] = []
    for key in ("errorMessages", "errors", "message"):
        value = body.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(map(str, value))
        elif isinstance(value, Mapping):
            parts.extend(f"{k}: {v}" for k, v in value.items())
    text = "; ".join(p for p in parts if p)
    return text if len(text) <= 300 else text[:297] + "..."


def _retry_after(value: str | None, default: float) -> float:
    """Retry-After as seconds or an HTTP date; the default when absent or unreadable."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    import datetime as dt

    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
