"""Month-over-month change and trends come from what earlier runs reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pmopulse import pipeline
from pmopulse.config import load_config
from pmopulse.period import Period
from pmopulse.store.history import HistoryStore

OCT, SEP = Period.parse("2026-10"), Period.parse("2026-09")


def _kpis(config, period: Period) -> dict:  # type: ignore[no-untyped-def]
    pipeline.extract(config, period)
    pipeline.validate(config, period)
    return json.loads(Path(pipeline.compute_kpis(config, period)["kpis"]).read_text(encoding="utf-8"))


def _org(report: dict, kpi: str) -> dict:
    (result,) = [r for r in report["results"] if r["kpi"] == kpi and r["level"] == "organisation"]
    return result


def test_previous_and_trend_use_history_and_a_rerun_keeps_one_set_of_rows(demo_copy: Path) -> None:
    config = load_config(demo_copy / "pmopulse.yaml")
    first = _kpis(config, OCT)
    assert _org(first, "spi")["previous_basis"] == "recomputed"

    september = _kpis(config, SEP)
    assert pipeline.store_history(config, SEP, {"held_back": False})["stored"] == len(september["results"])
    # What September's report said, whatever October's data now says about September.
    store = HistoryStore(config.history_db.resolve("test"))
    store.replace_period(SEP, [{**r, "value": 0.5} if r["kpi"] == "spi" and r["level"] == "organisation"
                               else r for r in september["results"]])

    october = _kpis(config, OCT)
    spi = _org(october, "spi")
    assert (spi["previous"], spi["previous_basis"]) == (0.5, "history")
    points = {p["period"]: p for p in october["trend"]["spi"]}
    assert points["2026-09"] == {"period": "2026-09", "value": 0.5, "basis": "history"}
    assert points["2026-08"]["basis"] == "recomputed"
    assert points["2026-10"]["value"] == pytest.approx(spi["value"])

    for _ in range(2):
        pipeline.store_history(config, OCT, {"held_back": False})
    assert len(store.rows(OCT)) == len(october["results"])
    assert pipeline.store_history(config, Period.parse("2026-08"), {"held_back": True})["stored"] == 0
    assert store.rows(Period.parse("2026-08")) == []
    store.close()


def test_a_month_missing_from_the_history_store_is_read_from_its_own_snapshot(demo_copy: Path) -> None:
    """September was computed (its kpis.json exists) but never stored: October takes
    September's values from that snapshot, also for a KPI that cannot be recomputed; August,
    neither stored nor computed, is recomputed only where the catalogue allows it."""
    config = load_config(demo_copy / "pmopulse.yaml")
    september = _kpis(config, SEP)
    october = _kpis(config, OCT)
    for kpi in ("spi", "risk_register_currency"):
        result = _org(october, kpi)
        assert (result["previous"], result["previous_basis"]) == (_org(september, kpi)["value"], "snapshot")
    points = {p["period"]: p for p in october["trend"]["risk_register_currency"]}
    assert points["2026-09"]["basis"] == "snapshot" and points["2026-09"]["value"] is not None
    assert points["2026-08"] == {"period": "2026-08", "value": None, "basis": "missing"}
    assert {p["period"]: p["basis"] for p in october["trend"]["spi"]}["2026-08"] == "recomputed"
