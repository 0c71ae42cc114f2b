"""The KPI history store on SQLite and on a real PostgreSQL: one set of rows per period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pmopulse.errors import SourceError
from pmopulse.period import Period
from pmopulse.store.history import HistoryStore
from support import Database

pytestmark = pytest.mark.integration
OCT, SEP = Period.parse("2026-10"), Period.parse("2026-09")


def _result(kpi: str, level: str, scope: str, value: float | None, records: int = 3) -> dict:
    return {"kpi": kpi, "level": level, "scope": scope, "value": value, "numerator": value,
            "denominator": None if value is None else 1.0, "records": records,
            "rag": "no_data" if value is None else "green", "previous": None}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    else:
        database: Database = request.getfixturevalue("db")
        url = database.url()
    history = HistoryStore(url)
    yield history
    history.close()


def test_rerunning_a_period_replaces_its_rows(store: HistoryStore) -> None:
    first = [_result("spi", "organisation", "Org", 0.91), _result("spi", "project", "A", 0.8),
             _result("cpi", "organisation", "Org", None, records=0)]
    assert store.replace_period(OCT, first) == 3
    assert store.replace_period(OCT, first) == 3
    rerun = [_result("spi", "organisation", "Org", 0.93)]
    store.replace_period(OCT, rerun)
    rows = store.rows(OCT)
    assert [(r["kpi"], r["level"], r["scope"], r["value"]) for r in rows] == [
        ("spi", "organisation", "Org", 0.93)]


def test_periods_are_kept_apart_and_no_data_stays_null(store: HistoryStore) -> None:
    store.replace_period(SEP, [_result("spi", "organisation", "Org", 0.88),
                               _result("cpi", "organisation", "Org", None, records=0)])
    store.replace_period(OCT, [_result("spi", "organisation", "Org", 0.91)])
    history = store.history([SEP])
    assert history.stated(SEP, "spi").get(("organisation", "Org")) == pytest.approx(0.88)
    assert history.stated(SEP, "cpi").get(("organisation", "Org")) is None
    assert history.has(SEP) and not history.has(OCT)
    assert [r["value"] for r in store.rows(OCT)] == [pytest.approx(0.91)]


def test_a_failed_write_leaves_the_period_as_it_was(store: HistoryStore) -> None:
    store.replace_period(OCT, [_result("spi", "organisation", "Org", 0.91)])
    broken = [_result("spi", "organisation", "Org", 0.5), {**_result("cpi", "organisation", "Org", 1.0),
                                                            "records": None}]
    with pytest.raises(SourceError, match=r"(?i)history store .*null"):
        store.replace_period(OCT, broken)
    assert [r["value"] for r in store.rows(OCT)] == [pytest.approx(0.91)]


def test_trend_history_reads_the_month_before_in_full_and_earlier_months_at_the_top(
    store: HistoryStore,
) -> None:
    store.replace_period(Period.parse("2026-08"), [_result("spi", "organisation", "Org", 0.8),
                                                   _result("spi", "project", "A", 0.7)])
    store.replace_period(SEP, [_result("spi", "organisation", "Org", 0.9),
                               _result("spi", "project", "A", 0.6)])
    history = store.trend_history(OCT, 12)
    assert history.stated(SEP, "spi").get(("project", "A")) == pytest.approx(0.6)
    assert history.stated(Period.parse("2026-08"), "spi").get(("organisation", "Org")) == pytest.approx(0.8)
    assert history.stated(Period.parse("2026-08"), "spi").get(("project", "A")) is None


def test_an_unreachable_history_database_is_a_message() -> None:
    expected = r"history store postgresql\+psycopg2://nobody:\*\*\*@127.0.0.1:1/x: connection .* failed"
    with pytest.raises(SourceError, match=expected) as caught:
        HistoryStore("postgresql://nobody:secret@127.0.0.1:1/x")
    assert "secret" not in str(caught.value)


def test_a_sqlite_history_in_a_folder_not_made_yet_creates_the_folder(tmp_path: Path) -> None:
    # A run that fails in its first task mails about it before anything has made artifacts/.
    path = tmp_path / "artifacts" / "org" / "history.sqlite"
    store = HistoryStore(f"sqlite:///{path}")
    try:
        store.replace_period(OCT, [_result("spi", "organisation", "Org", 0.91)])
        assert [r["value"] for r in store.rows(OCT)] == [pytest.approx(0.91)]
    finally:
        store.close()
    assert path.is_file()


def test_a_sqlite_history_whose_folder_cannot_be_made_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "artifacts").write_text("a file where the folder should be")
    with pytest.raises(SourceError, match=r"history store: cannot create the folder of .*artifacts"):
        HistoryStore(f"sqlite:///{tmp_path / 'artifacts' / 'history.sqlite'}")
