"""The one way PMO Pulse writes and reads its JSON artifacts: UTF-8, Chinese kept readable.

orjson, not the standard library: kpis.json holds a result per KPI and scope (100,000 at
10,000 projects), which the standard encoder writes in 0.3 s and orjson in 0.03 s; every
later stage reads it, in 0.36 s against 0.14 s. JSON has no NaN or infinity: orjson writes
them as null, which readers take as "no data" (the standard library wrote `NaN`, which no
other JSON reader accepts).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import orjson

# Dict keys that are not strings (dates, numbers) are written as text, as json.dumps did;
# numpy scalars as numbers; dates and times as their str() (e.g. "2026-10-31 00:00:00"),
# as before, through `default`.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(data: Any, *, readable: bool = True) -> bytes:
    """`data` as JSON bytes: indented for people to read, or on one line for programs."""
    return orjson.dumps(data, default=str, option=_OPTIONS | (orjson.OPT_INDENT_2 if readable else 0))


def write_json(path: Path, data: Any, *, readable: bool = True) -> Path:
    """Write `data` as JSON, indented unless `readable=False` (large artifacts read by programs).

    Written beside and renamed into place, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        partial.write_bytes(dumps(data, readable=readable))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def read_json(path: Path) -> Any:
    """A JSON file; bad JSON raises `json.JSONDecodeError` (orjson's is a subclass of it)."""
    return orjson.loads(path.read_bytes())
