"""A REST API client for tracker sources: credentials from an Airflow connection, timeouts,
a bounded number of retries with backoff on 429, 5xx and lost connections (honouring
Retry-After), and errors that say what to fix.

Jira and Redmine differ in paths and paging, not in how a call must behave, so both use
`ApiClient`, set by the same `HttpSettings` options. Every error names the source, site,
projects and Airflow connection (`SourceSite`); a failing request is named by method and
path. Credentials are not sent over plain http:// to another machine unless the config
allows it. Nothing here logs a header or a URL with credentials in it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pmopulse.db import hide_password
from pmopulse.errors import ConfigError, SourceError

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 5.0, 10.0)
"""Seconds before each retry of a 429, 5xx or lost connection when the server names none;
further retries wait as long as the last."""
MAX_RETRY_AFTER = 60.0
"""A Retry-After longer than this is not waited out: the task fails and Airflow retries later."""
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True)
class HttpSettings:
    """How a tracker source talks to its site, from the source's `options:` (see KEYS).

    The defaults bound a dead site: 4 attempts of at most 10 s each plus 17 s of waiting
    between them fail the pull within about a minute.
    """

    timeout_seconds: float = 10.0      # to connect, and the longest silence while reading
    retries: int = 3                   # further attempts after a 429, a 5xx or a lost connection
    allow_insecure_http: bool = False  # send credentials over plain http:// to another host

    KEYS = ("timeout_seconds", "retries", "allow_insecure_http")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> HttpSettings:
        """The settings among a source's options (`where` is e.g. `sources[jira].options`)."""
        settings = cls(**{k: raw[k] for k in cls.KEYS if k in raw})
        timeout, retries = settings.timeout_seconds, settings.retries
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 600:
            raise ConfigError(f"{where}.timeout_seconds must be a number of seconds from 1 to 600, "
                              f"not {timeout!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ConfigError(f"{where}.retries must be a whole number from 0 to 10, not {retries!r}")
        if not isinstance(settings.allow_insecure_http, bool):
            raise ConfigError(f"{where}.allow_insecure_http must be true or false, "
                              f"not {settings.allow_insecure_http!r}")
        return settings

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (0-based) when the server names none."""
        return RETRY_DELAYS[min(retry, len(RETRY_DELAYS) - 1)]


@dataclass(frozen=True)
class SourceSite:
    """Which source, site, projects and connection a client reads: every error names them."""

    source: str                  # "source 'jira' (Jira)": also the prefix of log lines
    site: str                    # base URL
    projects: tuple[str, ...]    # as the config lists them; empty: every one the account sees
    conn_id: str
    options_key: str             # "sources[jira].options", where the HTTP settings are set

    def __str__(self) -> str:
        projects = ", ".join(self.projects) or "all the account can see"
        site = hide_password(self.site) if self.site else "(the connection host)"
        return (f"{self.source}, site {site}, project(s) {projects}, "
                f"Airflow connection {self.conn_id!r}")


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


def check_site(where: SourceSite, settings: HttpSettings) -> None:
    """Refuse, before any request, a site that is no http(s) URL, or plain http:// to a host
    other than this machine (the token would cross the network readable) unless allowed."""
    if not where.site:
        raise ConfigError(f"{where}: no site URL; set `site:` in the config or the connection's host")
    parts = urlsplit(where.site)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: the site {hide_password(where.site)!r} is not an http(s) URL such as "
                          "https://acme.atlassian.net; fix `site:` in the config or the connection's host")
    if parts.scheme == "http" and not settings.allow_insecure_http and not _loopback(parts.hostname):
        raise ConfigError(f"{where}: the site is plain http://, which would send the credentials "
                          f"unencrypted to {parts.hostname}; use https://, or set "
                          f"`{where.options_key}.allow_insecure_http: true` if that network is trusted")


def _loopback(host: str) -> bool:
    if host.casefold() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiClient:
    """GET JSON from one site with bounded retries; every error names `where`."""

    def __init__(self, where: SourceSite, *, headers: Mapping[str, str] | None = None,
                 auth: tuple[str, str] | None = None, settings: HttpSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import requests

        self.settings = settings or HttpSettings()
        check_site(where, self.settings)
        self.where = where
        self.base_url = where.site.rstrip("/")
        self.what = where.source
        self.sleep = sleep
        self.calls = 0
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        if auth is not None:
            self.session.auth = auth

    def error(self, text: str) -> SourceError:
        """A SourceError naming the source, site, projects and connection, then `text`."""
        return SourceError(f"{self.where}: {text}")

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            hint: str = "", empty_on: Collection[int] = ()) -> Any:
        """One GET; `hint` says in an error what was being asked for (a project, an issue).

        A status in `empty_on` means "nothing to read here" for this call (a Jira kanban
        board asked for sprints answers 400): it returns None instead of failing.
        """
        import requests

        url = f"{self.base_url}{path}"
        request = f"GET {path}" + (f" ({hint})" if hint else "")
        retries = self.settings.retries
        timeout = self.settings.timeout_seconds
        attempt = 0
        while True:
            self.calls += 1
            try:
                # The whole body is read here: one cut off raises ChunkedEncodingError.
                response = self.session.get(url, params=params, timeout=timeout)
                body = response.content
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                if attempt >= retries:
                    raise self.error(f"{request} got no whole answer ({type(exc).__name__}) in "
                                     f"{attempt + 1} attempt(s) of at most {timeout:g} s; check that "
                                     "the site is up and reachable from this machine, or raise "
                                     f"`{self.where.options_key}.timeout_seconds`/`retries`") from None
                delay = self.settings.delay(attempt)
                reason = type(exc).__name__
            except requests.RequestException as exc:
                raise self.error(f"{request} could not be sent ({type(exc).__name__}: {exc})") from None
            else:
                if response.status_code < 300:
                    return self._json(response, body, request)
                if response.status_code in empty_on:
                    log.info("%s: %s answered HTTP %d (%s): nothing to read there", self.what, path,
                             response.status_code, _server_message(response) or "no message")
                    return None
                if response.status_code != 429 and response.status_code < 500:
                    raise self.error(self._refused(response, path, hint))
                if attempt >= retries:
                    raise self.error(f"{request} answered HTTP {response.status_code} "
                                     f"{attempt + 1} time(s) in a row; the site is failing or "
                                     "overloaded: try again later")
                delay = _retry_after(response.headers.get("Retry-After"), self.settings.delay(attempt))
                if delay > MAX_RETRY_AFTER:
                    raise self.error(f"{request}: the site asks to wait {delay:.0f} s (Retry-After); "
                                     "the run stops here and Airflow retries later")
                reason = f"HTTP {response.status_code}"
            attempt += 1
            log.warning("%s: %s on %s; retry %d of %d in %.0f s", self.what, reason, path, attempt,
                        retries, delay)
            self.sleep(delay)

    def _json(self, response: Any, body: bytes, request: str) -> Any:
        kind = response.headers.get("Content-Type", "")
        try:
            return json.loads(body)
        except ValueError as exc:
            if "json" not in kind.casefold():
                raise self.error(f"{request} did not answer JSON (Content-Type {kind or 'none'}); "
                                 "is the site URL right?") from None
            raise self.error(f"{request} answered a truncated or malformed JSON body ({len(body)} "
                             f"bytes; {exc}); the site or a proxy on the way cut or garbled it: "
                             "try again, and if it repeats, ask the site's administrator") from None

    def _refused(self, response: Any, path: str, hint: str) -> str:
        status = response.status_code
        about = f" ({hint})" if hint else ""
        if said := _server_message(response):
            about += f"; the server says: {said}"
        if status == 401:
            return (f"the site refused the credentials (HTTP 401 on GET {path}){about}; check the "
                    "credentials (login, API token or key) in the Airflow connection")
        if status == 403:
            return (f"the site denied access (HTTP 403 on GET {path}){about}; the account needs "
                    "permission to browse it")
        if status == 404:
            return (f"GET {path} was not found (HTTP 404){about}; check the site URL and the "
                    "project key in the config")
        return f"GET {path} answered HTTP {status}{about}"


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
