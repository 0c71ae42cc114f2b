from __future__ import annotations

import datetime as dt

import pytest
from pmopulse.errors import ConfigError
from pmopulse.period import Period


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(dt.date(2026, 11, 1), "2026-10", id="first-of-month-reports-previous"),
        pytest.param(dt.date(2026, 11, 21), "2026-10", id="mid-month"),
        pytest.param(dt.date(2026, 1, 15), "2025-12", id="january-wraps-year"),
    ],
)
def test_before_is_last_complete_month(day: dt.date, expected: str) -> None:
    assert str(Period.before(day)) == expected


def test_as_of_is_the_last_day_of_the_month() -> None:
    assert Period.parse("2024-02").end == dt.date(2024, 2, 29)
    assert Period.parse("2026-12").end == dt.date(2026, 12, 31)
    assert Period.parse("2026-10").start == dt.date(2026, 10, 1)


def test_trailing_lists_oldest_first() -> None:
    assert [str(p) for p in Period.parse("2026-02").trailing(3)] == ["2025-12", "2026-01", "2026-02"]


@pytest.mark.parametrize("text", ["2026-13", "2026/10", "Oct 2026", ""])
def test_bad_period_says_the_format(text: str) -> None:
    with pytest.raises(ConfigError, match=r"YYYY-MM|01\.\.12"):
        Period.parse(text)
