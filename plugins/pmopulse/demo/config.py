"""The pmopulse.yaml that `pmopulse demo-data` writes beside the generated tables."""

from __future__ import annotations

from pathlib import Path

import yaml

DEMO_ORGANISATION = "Acme Networks Group"
DEMO_DOMAIN = "acme.example"


def write_demo_config(out_dir: Path, business_units: list[dict[str, str]]) -> Path:
    """Write a config that reads the demo CSVs and mails to the demo domain only."""
    config = {
        "organisation": {
            "name": DEMO_ORGANISATION,
            "timezone": "Asia/Shanghai",
            "business_units": business_units,
        },
        "artifacts_root": "artifacts",
        "sources": [{"name": "demo_csv", "kind": "files", "path": "data"}],
        "assessment": {"model": "pmo_maturity"},
        "validation": {"max_quarantine_share": 0.05},
        "report": {"language": "en"},
        "delivery": {
            "sender": f"PMO Pulse <pmo-pulse@{DEMO_DOMAIN}>",
            "smtp_conn_id": "smtp_default",
            "allowed_domains": [DEMO_DOMAIN],
            "pmo_contact": f"pmo-lead@{DEMO_DOMAIN}",
            "recipients": {
                "organisation": [f"ceo@{DEMO_DOMAIN}", f"cto@{DEMO_DOMAIN}",
                                 f"pmo-lead@{DEMO_DOMAIN}"],
            },
        },
    }
    path = out_dir / "pmopulse.yaml"
    header = "# PMO Pulse configuration for the generated demo organisation.\n"
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
