from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

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


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("period", "zone", "now"),
    [
        pytest.param("2026-03", SHANGHAI, "2026-03-31T16:00", id="shanghai-midnight-ends-march"),
        pytest.param("2026-02", SHANGHAI, "2026-03-15T00:00", id="a-past-month"),
        pytest.param("2026-03", ZoneInfo("UTC"), "2026-04-01T00:00", id="utc-midnight-ends-march"),
    ],
)
def test_an_ended_month_can_be_reported(period: str, zone: ZoneInfo, now: str) -> None:
    assert Period.parse(period).check_ended(zone, _utc(now)) == Period.parse(period)


@pytest.mark.parametrize(
    ("period", "zone", "now", "local_today", "first_day"),
    [
        pytest.param("2026-03", SHANGHAI, "2026-03-31T15:59", "2026-03-31", "2026-04-01",
                     id="last-minute-of-march-in-shanghai"),
        pytest.param("2026-03", ZoneInfo("UTC"), "2026-03-31T16:00", "2026-03-31", "2026-04-01",
                     id="already-april-in-shanghai-not-in-utc"),
        pytest.param("2026-03", SHANGHAI, "2026-03-10T08:00", "2026-03-10", "2026-04-01",
                     id="the-current-month"),
        pytest.param("2026-12", SHANGHAI, "2026-03-10T08:00", "2026-03-10", "2027-01-01",
                     id="a-future-month"),
    ],
)
def test_a_month_not_over_is_refused_naming_month_zone_and_first_day(
        period: str, zone: ZoneInfo, now: str, local_today: str, first_day: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Period.parse(period).check_ended(zone, _utc(now))
    assert str(refused.value) == (
        f"period {period} has not ended in the organisation's time zone {zone.key} "
        f"(it is {local_today} there); it can be reported from {first_day} on")
