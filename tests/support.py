"""Helpers shared by tests: repository paths, PDF text, the demo period, the SMTP sink."""

from __future__ import annotations

import email
import re
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
SERVER = "127.0.0.1:5432"
"""The PostgreSQL server tests use (database `test`, trust auth); CI starts it when it is down."""
DEMO_PERIOD = "2026-10"


def pdf_text(path: Path, *, layout: bool = True) -> str:
    """The text a reader would copy out of the PDF (poppler's pdftotext)."""
    mode = "-layout" if layout else "-raw"
    return subprocess.run(
        ["pdftotext", mode, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_page(path: Path, page: int | str) -> str:
    """One page's text, laid out."""
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
                          check=True, capture_output=True, text=True).stdout


def pdf_fonts(path: Path) -> list[list[str]]:
    """pdffonts' rows: name, type…, emb, sub, uni, object, generation."""
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in listing.splitlines()[2:] if line.strip()]


def check_contents(path: Path, page: int, entries: int) -> None:
    """The contents on `page` list `entries` sections, each on the page it names."""
    contents = pdf_page(path, page)
    found = re.findall(r"^\s*\d+\.\s+(.+?)\s*\.{3,}\s*(\d+)\s*$", contents, re.M)
    assert len(found) == entries, contents
    for title, number in found:
        first = [line.strip() for line in pdf_page(path, number).splitlines() if line.strip()][1]
        assert first == title, f"contents say {title!r} is on page {number}, which starts {first!r}"


@dataclass
class SmtpSink:
    """What a real SMTP server on loopback received."""

    host: str
    port: int
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)   # mailboxes answered 550 (permanent)
    busy: int = 0                                   # DATA commands still to answer 451 (transient)

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
            for _, _, content in self.envelopes
        ]


def minimal_config(sources: list[dict]) -> dict:
    """The smallest valid pmopulse.yaml content around the given `sources:` list."""
    return {
        "organisation": {"name": "Org", "business_units": [{"id": "BU1", "name": "One"}]},
        "sources": sources,
        "delivery": {"sender": "pulse@org.example", "allowed_domains": ["org.example"],
                     "pmo_contact": "pmo@org.example",
                     "recipients": {"organisation": ["ceo@org.example"]}},
    }


def write_config(folder: Path, data: dict) -> Path:
    import yaml

    path = folder / "pmopulse.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def canonical_table(table: str, /, **columns: list) -> pd.DataFrame:
    """A clean canonical table as validation hands it on: the given columns, every other
    contract column empty, each typed as its contract says (dates from ISO text)."""
    from pmopulse.contracts import ColumnType, load_contracts
    from pmopulse.contracts.coerce import empty_column

    contract = load_contracts()[table]
    unknown = set(columns) - set(contract.column_names)
    assert not unknown, f"{table} has no column(s) {unknown}"
    length = len(next(iter(columns.values()))) if columns else 0
    frame = pd.DataFrame(index=range(length))
    for col in contract.columns:
        if col.name not in columns:
            frame[col.name] = empty_column(col.type, length)
        elif col.type is ColumnType.DATE:
            frame[col.name] = pd.to_datetime(pd.Series(columns[col.name], dtype="object")).astype(
                "datetime64[us]")
        elif col.type is ColumnType.INTEGER:
            frame[col.name] = pd.Series(columns[col.name], dtype="Int64")
        elif col.type is ColumnType.NUMBER:
            frame[col.name] = pd.Series(columns[col.name], dtype="float64")
        elif col.type is ColumnType.BOOLEAN:
            frame[col.name] = pd.Series(columns[col.name], dtype="boolean")
        else:
            frame[col.name] = pd.Series(columns[col.name], dtype="str")
    return frame


@dataclass(frozen=True)
class Database:
    """A fresh schema in the test database, and a connection to fill and inspect it."""

    schema: str
    engine: sa.Engine

    def url(self, auth: str = "postgres") -> str:
        """The URL a user would configure, with this schema first on the search path."""
        return f"postgresql://{auth}@{SERVER}/test?options=-csearch_path%3D{self.schema}"

    def run(self, sql: str, rows: list[dict[str, Any]] | None = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text(sql), rows or None)

    def count(self, table: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()




def kpi_result(report: dict, kpi: str, level: str = "organisation", scope: str = "Org") -> dict:
    """The one result of `kpi` for a scope in a compute_kpis report."""
    (match,) = [r for r in report["results"]
                if r["kpi"] == kpi and r["level"] == level and r["scope"] == scope]
    return match
