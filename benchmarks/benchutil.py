"""Shared helpers for the scripts in benchmarks/: progress lines, probes, child runs, tables.

A measurement runs in a fresh child process (the benchmark script re-run with
`--measure ...`), so its peak memory is its own: not the parent's generated data, not an
earlier measurement's heap that Python never handed back. Inside the child, `Probe`
takes a baseline after the imports and reports wall time and the peak resident memory
above that baseline.

Peak memory on Linux is the process's VmHWM (high-water mark of resident memory, kept per
address space, so an exec starts it afresh), reset to the current RSS at the baseline via
/proc/self/clear_refs. `ru_maxrss` is not used there because Linux carries it across
exec: a child spawned from a big parent would report the parent's peak. Elsewhere
`ru_maxrss` is the fallback. tracemalloc is not used: it does not see Arrow's buffers,
which hold most of pandas' string data.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

MB = 1024 * 1024
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_START = time.perf_counter()


def log(message: str) -> None:
    """A progress line with the seconds since the script started (on stderr, unbuffered)."""
    print(f"[{time.perf_counter() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)


def _status_bytes(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far."""
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB on Linux


def reset_peak_rss() -> bool:
    """Make the peak start again from the current resident memory (Linux >= 4.0)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class Probe:
    """Wall time and peak memory above a baseline of the code inside `with Probe() as p:`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.baseline_bytes = 0
        self.peak_bytes = 0

    def __enter__(self) -> Probe:
        reset_peak_rss()
        self.baseline_bytes = peak_rss_bytes()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.peak_bytes = peak_rss_bytes()

    def result(self, **extra: Any) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 4),
            "peak_mb": round((self.peak_bytes - self.baseline_bytes) / MB, 1),
            "process_peak_mb": round(self.peak_bytes / MB, 1),
            "baseline_mb": round(self.baseline_bytes / MB, 1),
            **extra,
        }


def emit(result: dict[str, Any]) -> None:
    """What a child prints as its last stdout line for `run_child` to read."""
    print(json.dumps(result), flush=True)


def run_child(args: Sequence[str], *, show_stderr: bool = False) -> dict[str, Any]:
    """Run `python <args>` in a fresh process and return the JSON it emitted last.

    The child's stderr is kept for the error message, or passed through with show_stderr.
    """
    done = subprocess.run([sys.executable, *args], stdout=subprocess.PIPE,
                          stderr=None if show_stderr else subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {' '.join(args[1:])} failed "
                           f"(exit {done.returncode}):\n{(done.stderr or '').strip()}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"measurement {' '.join(args[1:])} printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def machine() -> dict[str, Any]:
    """Enough about where the figures come from to compare them later."""
    import platform

    import numpy
    import pandas
    import pyarrow

    return {
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
