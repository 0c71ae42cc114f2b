"""The reporting period: one calendar month, and the as-of date every score uses."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pmopulse.errors import ConfigError

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month such as 2026-10. Its as-of date is the month's last day."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ConfigError(f"period month must be 01..12, got {self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text.strip())
        if not match:
            raise ConfigError(f"period must look like YYYY-MM (e.g. 2026-10), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    @classmethod
    def before(cls, day: dt.date) -> Period:
        """The last complete month before `day` (the month a monthly run on `day` reports)."""
        return cls.containing(day).shift(-1)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """The as-of date: the last day of the month."""
        return self.shift(1).start - dt.timedelta(days=1)

    @property
    def first_reportable_day(self) -> dt.date:
        """The day after the month ends: the first day a report of it can be complete."""
        return self.shift(1).start

    def check_ended(self, zone: ZoneInfo, now: dt.datetime) -> Period:
        """This period, refused while it has not ended in the organisation's time zone: a
        month still running would be reported (and mailed) with data that is not in yet."""
        today = now.astimezone(zone).date()
        if today < self.first_reportable_day:
            raise ConfigError(
                f"period {self} has not ended in the organisation's time zone {zone.key} "
                f"(it is {today} there); it can be reported from {self.first_reportable_day} on")
        return self

    def shift(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def trailing(self, months: int) -> list[Period]:
        """This period and the `months - 1` before it, oldest first."""
        return [self.shift(-k) for k in range(months - 1, -1, -1)]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
