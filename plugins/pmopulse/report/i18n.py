"""Translations and the one set of locale-aware formatters every template uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pmopulse.errors import ConfigError
from pmopulse.kpis.engine import RECOMPUTED
from pmopulse.yamlfile import load_yaml

_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]


@cache
def load_translations(templates_dir: Path, language: str) -> dict[str, str]:
    path = templates_dir / "i18n" / f"{language}.yaml"
    raw = load_yaml(path, f"translation file for language {language!r}")
    return {str(k): str(v) for k, v in raw.items()}


@dataclass(frozen=True)
class Locale:
    """Formats numbers, dates and texts for one report language. Missing values say so."""

    language: str
    texts: Mapping[str, str]

    def t(self, key: str, **values: Any) -> str:
        if key not in self.texts:
            raise ConfigError(f"translation key {key!r} missing for language {self.language!r}")
        return self.texts[key].format(**values) if values else self.texts[key]

    def pick(self, texts: Mapping[str, str]) -> str:
        """The text in this language from an {en: ..., zh: ...} mapping, else English."""
        return texts.get(self.language) or texts["en"]

    def ratio(self, value: float | None) -> str:
        return self.t("no_data") if value is None else f"{value:.2f}"

    def percent(self, value: float | None, digits: int = 1) -> str:
        return self.t("no_data") if value is None else f"{value * 100:.{digits}f}%"

    def number(self, value: float | None, digits: int = 0) -> str:
        return self.t("no_data") if value is None else f"{value:,.{digits}f}"

    def kpi_value(self, value: float | None, unit: str) -> str:
        if value is None:
            return self.t("no_data")
        if unit == "percent":
            return self.percent(value)
        if unit in ("count", "currency"):
            return self.number(value)
        if unit in ("days", "hours"):
            return f"{self.number(value, 1)} {self.t('unit_' + unit)}"
        return self.ratio(value)

    def change(self, value: float | None, previous: float | None, unit: str,
               basis: str | None = None) -> str:
        """The change from the previous value, said to be against a recomputed value when
        the previous month was not reported but recomputed from this month's data."""
        if value is None or previous is None:
            return "–"
        shown = self._change(value, previous, unit)
        return f"{shown} ({self.t('recomputed')})" if basis == RECOMPUTED else shown

    def _change(self, value: float, previous: float, unit: str) -> str:
        # Round first, so the arrow never disagrees with the figure shown beside it.
        digits = {"percent": 1, "ratio": 2, "days": 1, "hours": 1}.get(unit, 0)
        scale = 100 if unit == "percent" else 1
        delta = round((value - previous) * scale, digits)
        if delta == 0:
            return "▶ 0"
        arrow = "▲" if delta > 0 else "▼"
        shown = f"{delta:+,.{digits}f}"
        return f"{arrow} {shown} pt" if unit == "percent" else f"{arrow} {shown}"

    def date(self, value: str | dt.date | None) -> str:
        if value is None:
            return self.t("no_data")
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        if self.language == "zh":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {_MONTHS_EN[day.month - 1][:3]} {day.year}"

    def period(self, value: str) -> str:
        year, month = (int(x) for x in value.split("-"))
        if self.language == "zh":
            return f"{year}年{month}月"
        return f"{_MONTHS_EN[month - 1]} {year}"


def locale_for(templates_dir: Path, language: str) -> Locale:
    return Locale(language, load_translations(templates_dir, language))
