"""Freshness: the newest dated record up to the period end, never a guess."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pmopulse.contracts import load_contracts
from pmopulse.validation.freshness import source_freshness

AS_OF = dt.date(2026, 10, 31)


def test_future_dates_do_not_make_an_old_export_look_current() -> None:
    risks = pd.DataFrame({"raised": pd.to_datetime(["2026-08-01", "2027-03-01"]),
                          "last_reviewed": pd.to_datetime(["2026-08-20", None])})
    result = source_freshness({"risks": risks}, load_contracts(), AS_OF, max_age_days=45)
    assert result == {"newest": "2026-08-20", "basis": "risks.last_reviewed", "age_days": 72,
                      "max_age_days": 45, "stale": True}


def test_a_month_counts_up_to_its_last_day() -> None:
    evm = pd.DataFrame({"period": ["2026-09", "2026-10"]})
    result = source_freshness({"evm_snapshots": evm}, load_contracts(), AS_OF, max_age_days=45)
    assert (result["newest"], result["age_days"], result["stale"]) == ("2026-10-31", 0, False)


def test_no_dated_records_is_no_data_not_fresh() -> None:
    empty = pd.DataFrame({"raised": pd.to_datetime([]), "last_reviewed": pd.to_datetime([])})
    result = source_freshness({"risks": empty}, load_contracts(), AS_OF, max_age_days=45)
    assert result["newest"] is None and result["stale"] is None
