"""Helpers shared by tests: repository paths, PDF text, the demo period, the SMTP sink."""

from __future__ import annotations

import email
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_PERIOD = "2026-10"


def pdf_text(path: Path, *, layout: bool = True) -> str:
    """The text a reader would copy out of the PDF (poppler's pdftotext)."""
    mode = "-layout" if layout else "-raw"
    return subprocess.run(
        ["pdftotext", mode, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@dataclass
class SmtpSink:
    """What a real SMTP server on loopback received."""

    host: str
    port: int
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)

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
