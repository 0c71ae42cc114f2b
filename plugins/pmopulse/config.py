"""Deployment configuration (pmopulse.yaml) as frozen, validated dataclasses."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmopulse.artifacts import cache_dir, check_name
from pmopulse.configkeys import check_keys
from pmopulse.db import DatabaseRef, hide_password
from pmopulse.errors import ConfigError
from pmopulse.kpis.catalogue import ThresholdOverrides
from pmopulse.sources.mapping import FORMAT_KEYS, TableMapping, parse_mapping
from pmopulse.sources.workbook import WorkbookLimits
from pmopulse.validation.limits import QuarantineLimit
from pmopulse.yamlfile import load_yaml

LANGUAGES = ("en", "zh")
SOURCE_KINDS = ("files", "sql", "jira", "redmine", "schedules")
API_KINDS = ("jira", "redmine")
"""Sources read over a REST API: credentials come from an Airflow connection (`conn_id`)."""
DEFAULT_MAX_AGE_DAYS = 45
"""A source whose newest record is older than this, at the period end, is flagged as stale."""
_EMAIL_RE = re.compile(r"^[^@\s<>]+@([^@\s<>]+\.[^@\s<>]+)$")


def project_home() -> Path:
    """Where assessments/ and report_templates/ live: $PMOPULSE_HOME, else this checkout."""
    env = os.environ.get("PMOPULSE_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BusinessUnit:
    id: str
    name: str


@dataclass(frozen=True)
class Organisation:
    name: str
    business_units: tuple[BusinessUnit, ...]
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("organisation.name must not be empty")
        ids = [bu.id for bu in self.business_units]
        for index, unit_id in enumerate(ids):
            check_name(unit_id, f"organisation.business_units[{index}].id")
        if len(set(ids)) != len(ids):
            raise ConfigError(f"organisation.business_units has duplicate ids: {sorted(ids)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ConfigError(f"organisation.timezone {self.timezone!r} is not a time zone name; "
                              "use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC") from None

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the organisation's days and months are counted in."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SourceConfig:
    """One place data comes from: a folder of files, a database, a tracker's REST API or a
    folder of schedules (see config/README.md)."""

    name: str
    kind: str
    path: Path | None = None                                  # files, schedules: the folder
    tables: Mapping[str, TableMapping] = field(default_factory=dict)
    defaults: TableMapping = field(default_factory=TableMapping)  # files: formats for unlisted tables
    database: DatabaseRef | None = None                       # sql: where the database is
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    business_unit: str | None = None                          # the unit whose projects it holds
    conn_id: str | None = None                                # jira, redmine: Airflow connection
    site: str | None = None                                   # jira, redmine: base URL, else the conn's host
    projects: Mapping[str, str] = field(default_factory=dict)  # system project key -> project id
    options: Mapping[str, Any] = field(default_factory=dict)  # kind-specific settings

    def __post_init__(self) -> None:
        check_name(self.name, "sources[].name")
        where = f"sources[{self.name}]"
        if self.kind not in SOURCE_KINDS:
            raise ConfigError(f"{where}.kind is {self.kind!r}; expected one of {list(SOURCE_KINDS)}")
        if self.kind == "files" and self.path is None:
            raise ConfigError(f"{where}.path is required for a files source")
        if self.kind == "sql":
            if self.database is None:
                raise ConfigError(f"{where}: a sql source needs one of url, url_env, conn_id")
            if missing := sorted(t for t, m in self.tables.items() if not m.query):
                raise ConfigError(f"{where}.tables {missing} need a `query`")
        if self.kind in API_KINDS and not self.conn_id:
            raise ConfigError(f"{where}: a {self.kind} source needs `conn_id`, the Airflow connection "
                              "holding its credentials")
        if self.kind == "schedules" and self.path is None:
            raise ConfigError(f"{where}.path is required for a schedules source")
        if self.max_age_days < 1:
            raise ConfigError(f"{where}.max_age_days must be at least 1")

    @property
    def location(self) -> str:
        """Where the data is, safe to print: never the contents of a secret."""
        if self.database is not None:
            return self.database.location
        if self.kind in API_KINDS:
            return f"{hide_password(self.site or 'the host')} of Airflow connection {self.conn_id}"
        return str(self.path)


@dataclass(frozen=True)
class RecipientList:
    """Who receives one audience's report, and in which language."""

    audience: str               # organisation, assessment, or a business unit id
    to: tuple[str, ...]
    language: str | None = None  # None: report.language

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(map(normal_address, self.to)))


def normal_address(address: str) -> str:
    """An address as the delivery ledger keys it: trimmed and lowercase, so that
    `Pmo@Example.com ` and `pmo@example.com` are one reader who gets one mail."""
    return address.strip().lower()


@dataclass(frozen=True)
class DeliveryConfig:
    sender: str
    allowed_domains: tuple[str, ...]
    lists: tuple[RecipientList, ...]
    pmo_contact: str
    smtp_conn_id: str = "smtp_default"
    copy_pmo: bool = True        # the PMO contact also receives every business unit's report

    def __post_init__(self) -> None:
        if not self.allowed_domains:
            raise ConfigError("delivery.allowed_domains must list at least one mail domain")
        object.__setattr__(self, "allowed_domains", tuple(d.strip().lower() for d in self.allowed_domains))
        object.__setattr__(self, "sender", self.checked_sender())
        object.__setattr__(self, "pmo_contact", normal_address(self.pmo_contact))
        if not any(r.to for r in self.for_audience("organisation")):
            raise ConfigError("delivery.recipients.organisation must list at least one recipient")
        for recipients in self.lists:
            if recipients.language is not None and recipients.language not in LANGUAGES:
                raise ConfigError(f"delivery.recipients.{recipients.audience}: language "
                                  f"{recipients.language!r}; expected one of {LANGUAGES}")
            for address in recipients.to:
                self.check_recipient(address, f"delivery.recipients.{recipients.audience}")
        self.check_recipient(self.pmo_contact, "delivery.pmo_contact")

    def for_audience(self, audience: str) -> list[RecipientList]:
        """The lists configured for an audience, as written."""
        return [r for r in self.lists if r.audience == audience]

    def readers(self, audience: str) -> list[RecipientList]:
        """Who receives an audience's report. The assessment report goes to the PMO contact
        when no list is configured; a business unit's report goes to its own lists and, with
        `copy_pmo` (the default), to the PMO contact, who governs every unit's projects."""
        lists = [r for r in self.for_audience(audience) if r.to]
        pmo = RecipientList(audience, (self.pmo_contact,))
        if audience == "assessment":
            return lists or [pmo]
        if audience != "organisation" and self.copy_pmo \
                and not any(self.pmo_contact in r.to for r in lists):
            return [*lists, pmo]
        return lists

    def languages(self, audience: str, default: str) -> list[str]:
        """The languages an audience's report is needed in; the default always, first."""
        wanted = [r.language or default for r in self.readers(audience)]
        return list(dict.fromkeys([default, *wanted]))

    def checked_sender(self) -> str:
        """`sender` as one `Name <address>` (or a bare address) inside allowed_domains, its
        address lowercase. A line break would let the From header carry other headers, and
        the mail server refuses it only after every report is rendered."""
        where = "delivery.sender"
        if not self.sender.isprintable():
            raise ConfigError(f"{where}: {self.sender!r} must be one line (no line breaks or control "
                              "characters); expected e.g. 'PMO Pulse <pmo-pulse@example.com>'")
        parsed = getaddresses([self.sender])
        if self.sender.count("@") != 1 or len(parsed) != 1 or not parsed[0][1]:
            raise ConfigError(f"{where}: {self.sender!r} is not one e-mail address; expected e.g. "
                              "'PMO Pulse <pmo-pulse@example.com>' or 'pmo-pulse@example.com'")
        name, address = parsed[0]
        self.check_recipient(address, where)
        return formataddr((name.strip(), normal_address(address))) if name.strip() \
            else normal_address(address)

    def check_recipient(self, address: str, where: str) -> None:
        match = _EMAIL_RE.match(address.strip())
        if not match:
            raise ConfigError(f"{where}: {address!r} is not an e-mail address")
        if match[1].lower() not in {d.strip().lower() for d in self.allowed_domains}:
            raise ConfigError(
                f"{where}: {address!r} is outside delivery.allowed_domains "
                f"{list(self.allowed_domains)}; add the domain there or remove the recipient"
            )


@dataclass(frozen=True)
class Config:
    path: Path
    organisation: Organisation
    sources: tuple[SourceConfig, ...]
    artifacts_root: Path
    maturity_model: Path
    language: str
    delivery: DeliveryConfig
    quarantine_limit: QuarantineLimit = field(default_factory=QuarantineLimit)
    history: DatabaseRef | None = None       # None: SQLite file history.sqlite under artifacts_root
    kpi_thresholds: ThresholdOverrides = field(default_factory=ThresholdOverrides)
    maturity_targets: Mapping[str, int] = field(default_factory=dict)  # dimension -> level (default 3)
    max_actions_per_horizon: int = 5
    inbox: Path | None = None                 # None: the folder `inbox` beside the config file
    limits: WorkbookLimits = field(default_factory=WorkbookLimits)  # what an XLSX may expand to
    artifacts_url: str | None = None          # an object store; artifacts_root is then its local cache
    artifacts_conn_id: str | None = None      # the Airflow connection with the store's credentials
    assessments_dir: Path = field(default_factory=lambda: project_home() / "assessments")
    templates_dir: Path = field(default_factory=lambda: project_home() / "report_templates")

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ConfigError(f"report.language is {self.language!r}; expected one of {LANGUAGES}")
        whole_number(self.max_actions_per_horizon, "recommendations.max_per_horizon", 1)
        if not self.sources:
            raise ConfigError("sources must list at least one source")
        names = [s.name for s in self.sources]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ConfigError(f"sources: names must be unique; repeated: {dupes}")
        if self.artifacts_url and self.history is None:
            raise ConfigError(f"artifacts_root is an object store ({self.artifacts_url}), so the KPI "
                              "history and delivery ledger need a database every worker reaches: set "
                              "`history` (e.g. conn_id of a PostgreSQL connection)")

    def period_dir(self, period: object) -> Path:
        return self.artifacts_root / str(period)

    def check_targets(self, model: Any) -> None:
        """Refuse targets for dimensions the model does not have, or outside levels 1–5."""
        dimensions = {d.id for d in model.dimensions}
        if unknown := sorted(set(self.maturity_targets) - dimensions):
            raise ConfigError(f"{self.path}: assessment.targets names unknown dimension(s) {unknown}; "
                              f"the model has {sorted(dimensions)}")

    @property
    def assessment_inbox(self) -> Path:
        """Where questionnaire answer exports land for `pmo_maturity_assessment`."""
        return self.inbox or self.path.parent / "inbox"

    @property
    def assessments_root(self) -> Path:
        """Where each stand-alone assessment keeps its answers, result, report and mails."""
        return self.artifacts_root / "assessments"

    @property
    def history_db(self) -> DatabaseRef:
        """Where KPI history and the delivery ledger are kept."""
        return self.history or DatabaseRef(url=f"sqlite:///{self.artifacts_root / 'history.sqlite'}")


def load_config(path: str | Path) -> Config:
    """Read pmopulse.yaml. Relative paths in it are relative to the file itself."""
    path = Path(path).resolve()
    raw = load_yaml(path, "config file")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    try:
        check_keys(raw)
        return _build(path, raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: malformed value ({type(exc).__name__}: {exc}); "
                          "see config/README.md for the expected keys") from None


def _build(path: Path, raw: dict[str, Any]) -> Config:
    base = path.parent

    def resolve(value: str) -> Path:
        candidate = Path(value)
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    org = _section(raw, "organisation")
    units = tuple(
        BusinessUnit(id=str(_key(bu, "id", "organisation.business_units[]")),
                     name=str(bu.get("name", bu["id"])))
        for bu in org.get("business_units", [])
    )
    organisation = Organisation(
        name=str(_key(org, "name", "organisation")),
        business_units=units,
        timezone=str(org.get("timezone", "UTC")),
    )
    max_age = int((raw.get("validation") or {}).get("max_age_days", DEFAULT_MAX_AGE_DAYS))
    sources = tuple(_source(src, i, resolve, max_age, {bu.id for bu in units})
                    for i, src in enumerate(raw.get("sources") or []))
    home = project_home()
    assessments_dir = resolve(str(raw["assessments_dir"])) if "assessments_dir" in raw \
        else home / "assessments"
    templates_dir = resolve(str(raw["templates_dir"])) if "templates_dir" in raw \
        else home / "report_templates"
    assessment = raw.get("assessment") or {}
    model_name = str(assessment.get("model", "pmo_maturity"))
    model = resolve(model_name) if model_name.endswith(".yaml") \
        else assessments_dir / "models" / f"{model_name}.yaml"

    delivery = _section(raw, "delivery")
    lists = _recipient_lists(delivery.get("recipients") or {}, {bu.id for bu in units})
    artifacts = str(raw.get("artifacts_root", "artifacts"))
    artifacts_url = artifacts.rstrip("/") if "://" in artifacts else None
    return Config(
        path=path,
        organisation=organisation,
        sources=sources,
        artifacts_root=cache_dir(artifacts_url) if artifacts_url else resolve(artifacts),
        artifacts_url=artifacts_url,
        artifacts_conn_id=str(raw["artifacts_conn_id"]) if raw.get("artifacts_conn_id") else None,
        maturity_model=model,
        language=str((raw.get("report") or {}).get("language", "en")),
        delivery=DeliveryConfig(
            sender=str(_key(delivery, "sender", "delivery")),
            allowed_domains=tuple(str(d) for d in delivery.get("allowed_domains") or []),
            lists=lists,
            pmo_contact=str(_key(delivery, "pmo_contact", "delivery")),
            smtp_conn_id=str(delivery.get("smtp_conn_id", "smtp_default")),
            copy_pmo=_flag(delivery.get("copy_pmo", True), "delivery.copy_pmo"),
        ),
        quarantine_limit=_quarantine_limit(raw.get("validation") or {}),
        history=DatabaseRef.parse(raw["history"], "history") if raw.get("history") else None,
        maturity_targets=_targets(assessment.get("targets")),
        inbox=resolve(str(assessment["inbox"])) if assessment.get("inbox") else None,
        max_actions_per_horizon=(raw.get("recommendations") or {}).get("max_per_horizon", 5),
        kpi_thresholds=ThresholdOverrides.parse(
            raw.get("kpi_thresholds"),
            {str(bu.get("id")): bu.get("kpi_thresholds") for bu in org.get("business_units", [])},
            "",
        ),
        assessments_dir=assessments_dir,
        templates_dir=templates_dir,
        limits=WorkbookLimits.parse(raw.get("limits") or {}, "limits"),
    )


def _recipient_lists(raw: Mapping[str, Any], units: set[str]) -> tuple[RecipientList, ...]:
    """`recipients.<audience>`: a list of addresses, `{language, to}`, or a list of those."""
    lists = []
    for audience, value in raw.items():
        audience = str(audience)
        if audience not in {"organisation", "assessment", *units}:
            raise ConfigError(f"delivery.recipients.{audience}: not an audience; expected organisation, "
                              f"assessment or a business unit id {sorted(units)}")
        entries = value if isinstance(value, list) and value and isinstance(value[0], dict) else [value]
        for entry in entries:
            if isinstance(entry, dict):
                lists.append(RecipientList(audience, tuple(str(a) for a in entry.get("to") or []),
                                           str(entry["language"]) if entry.get("language") else None))
            else:
                lists.append(RecipientList(audience, tuple(str(a) for a in entry or [])))
    return tuple(lists)


def _source(src: Any, index: int, resolve: Any, max_age: int, units: set[str]) -> SourceConfig:
    from pmopulse.contracts import load_contracts

    if not isinstance(src, Mapping):
        raise ConfigError(f"sources[{index}] must be a mapping")
    name = check_name(str(src.get("name") or f"source{index + 1}"), f"sources[{index}].name")
    where = f"sources[{name}]"
    defaults = parse_mapping({k: src[k] for k in FORMAT_KEYS if k in src}, where)
    contracts = load_contracts()
    tables_raw = src.get("tables") or {}
    if not isinstance(tables_raw, Mapping):
        raise ConfigError(f"{where}.tables must map table names to their settings")
    if unknown := sorted(set(map(str, tables_raw)) - set(contracts)):
        raise ConfigError(f"{where}.tables names unknown table(s) {unknown}; "
                          f"the canonical tables are {sorted(contracts)}")
    tables = {
        str(table): parse_mapping(spec, f"{where}.tables.{table}", contracts[str(table)], defaults)
        for table, spec in tables_raw.items()
    }
    kind = str(_key(src, "kind", where))
    unit = str(src["business_unit"]) if src.get("business_unit") else None
    if unit is not None and unit not in units:
        raise ConfigError(f"{where}.business_unit {unit!r} is not one of organisation.business_units "
                          f"{sorted(units)}")
    options = src.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}.options must be a mapping of settings")
    return SourceConfig(
        name=name,
        kind=kind,
        path=resolve(str(src["path"])) if src.get("path") else None,
        tables=tables,
        defaults=defaults,
        database=DatabaseRef.parse(src, where) if kind == "sql" else None,
        max_age_days=int(src.get("max_age_days", max_age)),
        business_unit=unit,
        conn_id=str(src["conn_id"]) if kind in API_KINDS and src.get("conn_id") else None,
        site=str(src["site"]).rstrip("/") if src.get("site") else None,
        projects=_projects(src.get("projects"), f"{where}.projects"),
        options={str(k): v for k, v in options.items()},
    )


def _projects(raw: Any, where: str) -> dict[str, str]:
    """`projects:` a list of keys (the key is the project id) or a map key -> project id."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        return {str(k): str(k) for k in raw}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    raise ConfigError(f"{where} must list project keys or map them to project ids, not {raw!r}")


def _targets(raw: Any) -> dict[str, int]:
    if not isinstance(raw or {}, Mapping):
        raise ConfigError("assessment.targets must map dimension ids to levels 1–5")
    targets = {str(k): int(v) for k, v in (raw or {}).items()}
    if bad := sorted(k for k, v in targets.items() if not 1 <= v <= 5):
        raise ConfigError(f"assessment.targets for {bad} must be levels 1–5")
    return targets


def whole_number(value: Any, where: str, minimum: int) -> int:
    """A count as YAML writes it: an integer (not text, a fraction or true/false) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} is {value!r}; expected a whole number of at least {minimum}")
    return value


def _quarantine_limit(validation: Mapping[str, Any]) -> QuarantineLimit:
    default = QuarantineLimit()
    return QuarantineLimit(
        max_share=float(validation.get("max_quarantine_share", default.max_share)),
        share_from_rows=validation.get("share_from_rows", default.share_from_rows),
        max_rows=validation.get("max_quarantined_rows", default.max_rows),
    )


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        raise ConfigError(f"missing section {key!r}")
    return value


def _key(section: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in section or section[key] in (None, ""):
        raise ConfigError(f"{where}.{key} is required")
    return section[key]
