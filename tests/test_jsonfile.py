"""JSON artifacts: readable Chinese, numbers as numbers, and no NaN that other readers refuse."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from pmopulse.jsonfile import read_json, write_json


def test_an_artifact_keeps_chinese_readable_and_reads_back_the_same(tmp_path: Path) -> None:
    data = {"kpi": "spi", "name": "进度绩效指数", "value": 0.93, "records": 12, "previous": None}
    path = write_json(tmp_path / "out" / "kpis.json", data)
    assert "进度绩效指数" in path.read_text(encoding="utf-8")
    assert read_json(path) == data
    compact = write_json(tmp_path / "compact.json", data, readable=False)
    assert "\n" not in compact.read_text(encoding="utf-8") and read_json(compact) == data


def test_numpy_numbers_dates_and_missing_values_are_written_as_any_json_reader_expects(
    tmp_path: Path,
) -> None:
    path = write_json(tmp_path / "a.json", {
        "records": np.int64(7), "value": np.float64(0.5), "as_of": dt.date(2026, 10, 31),
        "missing": math.nan, 2026: "a year as a key"})
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"records": 7, "value": 0.5, "as_of": "2026-10-31",
                                "missing": None, "2026": "a year as a key"}
    assert "NaN" not in text  # standard JSON readers (browsers, jq) refuse NaN


def test_a_file_that_is_not_json_is_the_standard_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"results": [', encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        read_json(path)
