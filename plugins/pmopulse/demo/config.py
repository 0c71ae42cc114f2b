"""A complete demo organisation: generated tables, the Chinese risk register, and pmopulse.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pmopulse.demo.generator import DemoManifest, generate_demo
from pmopulse.demo.register import FOLDER, RISK_REGISTER_MAPPING, write_risk_register

DEMO_ORGANISATION = "Acme Networks Group"
DEMO_DOMAIN = "acme.example"


def build_demo_organisation(out_dir: Path, **generate: Any) -> tuple[DemoManifest, Path]:
    """Generate the demo tables, move the risks into the XLSX register, write the config.

    Keyword arguments go to `generate_demo`. Returns the manifest and the config path.
    """
    import pandas as pd

    manifest = generate_demo(out_dir, **generate)
    data = Path(out_dir) / "data"
    risks_csv = data / "risks.csv"
    risks = pd.read_csv(risks_csv, dtype=str, keep_default_na=False, encoding="utf-8")
    progress = generate.get("progress")
    if progress:
        progress(f"writing {FOLDER}/{RISK_REGISTER_MAPPING['file']} ({len(risks):,} rows, Chinese headers)")
    write_risk_register(risks, data / FOLDER)
    risks_csv.unlink()
    return manifest, write_demo_config(out_dir, list(manifest.business_units))


def write_demo_config(out_dir: Path, business_units: list[dict[str, str]]) -> Path:
    """Write a config that reads the demo files and mails to the demo domain only."""
    config = {
        "organisation": {
            "name": DEMO_ORGANISATION,
            "timezone": "Asia/Shanghai",
            "business_units": business_units,
        },
        "artifacts_root": "artifacts",
        "sources": [
            {"name": "demo_csv", "kind": "files", "path": "data"},
            {"name": "risk_register", "kind": "files", "path": f"data/{FOLDER}",
             "tables": {"risks": RISK_REGISTER_MAPPING}},
        ],
        "assessment": {"model": "pmo_maturity"},
        "validation": {"max_quarantine_share": 0.05, "max_age_days": 45},
        "report": {"language": "en"},
        "delivery": {
            "sender": f"PMO Pulse <pmo-pulse@{DEMO_DOMAIN}>",
            "smtp_conn_id": "smtp_default",
            "allowed_domains": [DEMO_DOMAIN],
            "pmo_contact": f"pmo-lead@{DEMO_DOMAIN}",
            "recipients": {
                "organisation": [f"ceo@{DEMO_DOMAIN}", f"cto@{DEMO_DOMAIN}",
                                 f"pmo-lead@{DEMO_DOMAIN}"],
                # Each unit's head gets the unit's report; Network Products reads Chinese.
                **{unit["id"]: {"language": "zh" if unit["id"] == "BU-NET" else "en",
                                "to": [f"{unit['id'].lower().removeprefix('bu-')}-head@{DEMO_DOMAIN}"]}
                   for unit in business_units},
            },
        },
    }
    path = Path(out_dir) / "pmopulse.yaml"
    header = ("# PMO Pulse configuration for the generated demo organisation.\n"
              "# The risks come from an XLSX register with Chinese headers (see the second\n"
              "# source): this is how any export in its own shape is mapped.\n")
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
