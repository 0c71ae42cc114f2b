"""How many quarantined rows a table may have before the period's reports are held back.

A share is a fair rule for a large table, but not for a small organisation: with the
default 5 %, one bad row in a six-row projects table (17 %) would hold back every report.
Below `share_from_rows` rows a count applies instead. The defaults meet at the boundary:
at 40 rows, 5 % is 2 rows, so a table growing past 40 rows does not suddenly get stricter
or laxer (share_from_rows = max_rows / max_share).
"""

from __future__ import annotations

from dataclasses import dataclass

from pmopulse.errors import ConfigError


@dataclass(frozen=True)
class QuarantineLimit:
    max_share: float = 0.05     # validation.max_quarantine_share
    share_from_rows: int = 40   # validation.share_from_rows
    max_rows: int = 2           # validation.max_quarantined_rows

    def __post_init__(self) -> None:
        if isinstance(self.max_share, bool) or not 0 <= self.max_share <= 1:
            raise ConfigError(f"validation.max_quarantine_share is {self.max_share!r}; "
                              "expected a share between 0 and 1, e.g. 0.05")
        for value, key in ((self.share_from_rows, "share_from_rows"),
                           (self.max_rows, "max_quarantined_rows")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"validation.{key} is {value!r}; expected a whole number "
                                  "of at least 0")

    def exceeded(self, table: str, quarantined: int, rows: int) -> str | None:
        """Why the table holds the reports back, or None when it does not."""
        fix = f"fix the rows listed in quarantine/{table}.csv"
        if rows >= self.share_from_rows:
            share = quarantined / rows if rows else 0.0
            if share > self.max_share:
                return (f"{quarantined} of {rows} rows of {table!r} ({share:.1%}) were quarantined, "
                        f"more than the allowed {self.max_share:.0%} "
                        f"(validation.max_quarantine_share); {fix}")
        elif quarantined > self.max_rows:
            return (f"{quarantined} of {rows} rows of {table!r} were quarantined, more than the "
                    f"allowed {self.max_rows} (validation.max_quarantined_rows, for tables under "
                    f"{self.share_from_rows} rows); {fix}")
        return None
