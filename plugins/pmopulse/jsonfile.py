"""The one way PMO Pulse writes and reads its JSON artifacts: UTF-8, Chinese kept readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any, *, indent: int | None = 1) -> Path:
    """Write `data` as JSON, indented for people to read; `indent=None` writes it on one line,
    for large artifacts read by programs: Python indents in pure Python, three times slower
    than its compact encoder (a second for the 100,000 results of 10,000 projects)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=indent, default=str), encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
