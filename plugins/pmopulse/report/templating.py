"""The Jinja2 environment shared by reports and mails: autoescape on, strict undefined."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from pmopulse.report.i18n import locale_for


def render_template(templates_dir: Path, language: str, template: str, **values: Any) -> str:
    locale = locale_for(templates_dir, language)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=locale.t, pick=locale.pick, change=locale.change)
    env.filters.update(
        ratio=locale.ratio, percent=locale.percent, number=locale.number, date=locale.date,
        period=locale.period, kpi_value=locale.kpi_value,
    )
    return env.get_template(template).render(**values)
