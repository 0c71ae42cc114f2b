"""Artifacts in an object store: `artifacts_root` may be a URL (s3://, gs://, file://, ...).

Every stage reads and writes plain local files (parquet, JSON, PDFs, Great Expectations'
Data Docs), so with an object store each task works in a local cache of it: `synced`
pulls what the stage needs before it runs and pushes what it changed afterwards. Tasks on
different workers therefore share snapshots and PDFs through the store alone.

The cache mirrors the store exactly for the parts pulled (a file gone from the store goes
from the cache too), so a stale file on one machine can never enter a run. Tasks on one
machine take the cache one at a time (a file lock): a task's pull must not remove a file
another task there has written but not yet pushed. Workers on other machines still run
in parallel. A failed stage pushes nothing.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmopulse.errors import ConfigError
from pmopulse.jsonfile import read_json, write_json

if TYPE_CHECKING:
    from pmopulse.config import Config

log = logging.getLogger(__name__)

CACHE_ENV = "PMOPULSE_ARTIFACTS_CACHE"
"""Folder for the local caches of object stores; default `<temp>/pmopulse-artifacts`."""
_MANIFEST = ".pmopulse-sync.json"   # what each cached file was in the store when pulled
_LOCK = ".pmopulse-sync.lock"


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""What an id or name that becomes part of a file name may be: letters, digits, `.`, `_`, `-`."""


def check_name(value: str, where: str) -> str:
    """Refuse an id or name that would not be one plain file-name part (`../x`, `a/b`, ``)."""
    if not SAFE_NAME.match(value) or ".." in value:
        raise ConfigError(f"{where} is {value!r}; it becomes part of file names, so it must match "
                          f"{SAFE_NAME.pattern} (letters, digits, '.', '_', '-'; no '..', no '/')")
    return value


def within(root: Path, *parts: str) -> Path:
    """`root / parts`, refused if it would land outside `root` (`..`, an absolute part, a link)."""
    target = root.joinpath(*parts)
    resolved_root = root.resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise ConfigError(f"{target} would be outside {root}; the name {'/'.join(parts)!r} must "
                          "stay inside its folder (no '..', '/' or absolute paths)")
    return target


def cache_dir(url: str) -> Path:
    """This machine's cache of the store at `url`: the same folder for every task here."""
    base = Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "pmopulse-artifacts")
    return base / hashlib.sha256(url.encode()).hexdigest()[:16]


def period_parts(period: object) -> tuple[str, ...]:
    """What a monthly stage may read or write: its period, source mirrors, assessments."""
    return (f"{period}/**", "sources/**", "assessments/**")


ASSESSMENT_PARTS = ("assessments/**", "*/kpis.json", "*/validation.json")
"""What an assessment stage may read or write: assessments and every period's KPI evidence."""


@contextmanager
def synced(config: Config, parts: Iterable[str]) -> Iterator[Config]:
    """Run a stage against the local cache of the config's object store, if it has one."""
    if config.artifacts_url is None:
        yield config
        return
    patterns = tuple(parts)
    store = ArtifactStore(config.artifacts_url, config.artifacts_root, config.artifacts_conn_id)
    with store.locked():
        store.pull(patterns)
        before = store.local_state(patterns)
        yield config
        store.push(patterns, before)


class ArtifactStore:
    """An object-store folder (Airflow's ObjectStoragePath) and its local cache."""

    def __init__(self, url: str, cache: Path, conn_id: str | None = None) -> None:
        from airflow.sdk import ObjectStoragePath

        self.url = url
        self.cache = cache
        try:
            self.remote = ObjectStoragePath(url, conn_id=conn_id)
        except (ValueError, ImportError) as exc:
            raise ConfigError(f"artifacts_root {url!r}: no file system for it ({exc}); for s3:// "
                              "install apache-airflow-providers-amazon[s3fs], for gs:// the google "
                              "provider with gcsfs") from None

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.cache.mkdir(parents=True, exist_ok=True)
        with (self.cache / _LOCK).open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remote_state(self, patterns: tuple[str, ...]) -> dict[str, list[Any]]:
        """Store-relative name -> [size, modified] of every stored file the patterns match."""
        state: dict[str, list[Any]] = {}
        if not self.remote.exists():
            return state
        root = self.remote.path.rstrip("/")
        for path, info in self.remote.fs.find(root, detail=True).items():
            name = path[len(root):].lstrip("/")
            if info.get("type") == "file" and _matches(name, patterns):
                stamp = info.get("mtime") or info.get("LastModified") or info.get("ETag") or info.get("etag")
                state[name] = [info.get("size"), str(stamp)]
        return state

    def local_state(self, patterns: tuple[str, ...]) -> dict[str, list[int]]:
        """Cache-relative name -> [size, mtime_ns] of every cached file the patterns match."""
        state = {}
        for path in self.cache.rglob("*"):
            name = path.relative_to(self.cache).as_posix()
            if path.is_file() and not name.startswith(".pmopulse-") and _matches(name, patterns):
                stat = path.stat()
                state[name] = [stat.st_size, stat.st_mtime_ns]
        return state

    def pull(self, patterns: tuple[str, ...]) -> None:
        """Make the cache hold exactly what the store holds for the patterns."""
        manifest_file = self.cache / _MANIFEST
        manifest: dict[str, Any] = read_json(manifest_file) if manifest_file.exists() else {}
        remote = self.remote_state(patterns)
        local = self.local_state(patterns)
        fetched = removed = 0
        for name, info in remote.items():
            known = manifest.get(name)
            if known and known["remote"] == info and local.get(name) == known["local"]:
                continue  # the cached copy is what the store holds
            target = within(self.cache, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            with (self.remote / name).open("rb") as source, partial.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            partial.replace(target)
            stat = target.stat()
            manifest[name] = {"remote": info, "local": [stat.st_size, stat.st_mtime_ns]}
            fetched += 1
        for name in set(local) - set(remote):
            within(self.cache, name).unlink()
            manifest.pop(name, None)
            removed += 1
        write_json(manifest_file, manifest)
        log.info("artifacts %s: pulled %d file(s), removed %d stale, %d up to date in %s",
                 self.url, fetched, removed, len(remote) - fetched, self.cache)

    def push(self, patterns: tuple[str, ...], before: dict[str, list[int]]) -> None:
        """Upload what the stage wrote or changed; delete from the store what it deleted."""
        after = self.local_state(patterns)
        manifest_file = self.cache / _MANIFEST
        manifest: dict[str, Any] = read_json(manifest_file) if manifest_file.exists() else {}
        changed = [name for name, info in after.items() if before.get(name) != info]
        for name in changed:
            target = self.remote / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with (self.cache / name).open("rb") as source, target.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
        gone = sorted(set(before) - set(after))
        for name in gone:
            (self.remote / name).unlink(missing_ok=True)
            manifest.pop(name, None)
        remote = self.remote_state(patterns) if changed else {}
        for name in changed:
            manifest[name] = {"remote": remote.get(name), "local": after[name]}
        write_json(manifest_file, manifest)
        log.info("artifacts %s: pushed %d file(s), deleted %d", self.url, len(changed), len(gone))


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    """`2026-10/**` matches everything under 2026-10/; `*/kpis.json` one level down."""
    for pattern in patterns:
        if pattern.endswith("/**"):
            if name.startswith(pattern[:-2]):
                return True
        elif fnmatch.fnmatchcase(name, pattern) and name.count("/") == pattern.count("/"):
            return True
    return False
