"""The history store's file: connection, locking, transactions, schema and migrations.

The store is one SQLite file (stdlib :mod:`sqlite3`, rollback journal). Every write
happens inside one ``BEGIN IMMEDIATE`` transaction: a command that fails, or is killed,
leaves the file as it was (SQLite rolls a hot journal back on the next open). Two
commands at once are serialised by SQLite's file lock: the second one logs that it
waits, then waits up to ``busy_timeout_s`` and gives up with :class:`StoreBusyError`.

The schema version lives in the ``store_meta`` table (key ``schema_version``), which
leaves ``PRAGMA user_version`` free. A new store is built by running every migration
from an empty file, so new and migrated stores are the same by construction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import CoverageError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_V1",
    "SCHEMA_VERSION",
    "HistoryStoreError",
    "StoreBusyError",
    "connect",
    "file_sha256",
    "read_transaction",
    "schema_version",
    "sql_value",
    "tool_version",
    "utc_text",
    "write_transaction",
]

log = logging.getLogger("coverage.history")

#: Identifies the file as a coverage-gaps history store (``PRAGMA application_id``, "CGHS").
APPLICATION_ID = 0x43474853

BUSY_MESSAGE = "the history store is busy (another coverage-gaps command is writing); try again"


class HistoryStoreError(CoverageError, RuntimeError):
    """The history store is missing, damaged, or newer than this version of coverage-gaps."""


class StoreBusyError(HistoryStoreError, TimeoutError):
    """Another command held the store's write lock for longer than the busy timeout."""


#: Version 1 of the schema: runs, per-village results and classes, outage reports and,
#: apart from them, reporter details. Kept verbatim: it is the first migration.
SCHEMA_V1 = """
CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_at TEXT NOT NULL,               -- UTC, ISO 8601
    tool_version TEXT NOT NULL,
    project_name TEXT NOT NULL,
    project_file TEXT,
    parameters_json TEXT NOT NULL,
    villages INTEGER NOT NULL
);
CREATE TABLE run_inputs (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    input_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, input_name)
);
CREATE TABLE village_results (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    village_id TEXT NOT NULL,
    name TEXT,
    commune_code TEXT,
    commune_name TEXT,
    province TEXT,
    population INTEGER,
    score REAL,
    rank INTEGER,
    recommended_action TEXT,
    PRIMARY KEY (run_id, village_id)
);
CREATE TABLE village_classes (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    village_id TEXT NOT NULL,
    technology TEXT NOT NULL,
    operator TEXT NOT NULL,             -- 'any' or a canonical operator name
    class TEXT NOT NULL CHECK (class IN ('good', 'weak', 'none', 'no_data')),
    PRIMARY KEY (run_id, village_id, technology, operator)
);
CREATE TABLE outage_imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    added INTEGER NOT NULL,
    corrected INTEGER NOT NULL,
    unchanged INTEGER NOT NULL
);
CREATE TABLE outage_reports (
    report_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES outage_imports(import_id),
    content_sha256 TEXT NOT NULL,
    reported_at TEXT NOT NULL,          -- UTC, ISO 8601
    village_id TEXT,
    operator TEXT,
    technology TEXT,
    kind TEXT NOT NULL,
    lon REAL,
    lat REAL,
    PRIMARY KEY (report_id, version)
);
CREATE TABLE reporters (                -- personal data: never exported, never reported
    report_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    reporter_name TEXT,
    phone_hmac TEXT,                    -- HMAC-SHA256(store salt, phone digits)
    reporter_key TEXT,                  -- phone HMAC, else name HMAC: de-duplication
    PRIMARY KEY (report_id, version),
    FOREIGN KEY (report_id, version) REFERENCES outage_reports(report_id, version)
);
"""


def _migrate_v1_to_v2(conn: sqlite3.Connection) -> None:
    """v2: the status and funding route of each village, and indexes for the report."""
    conn.execute("ALTER TABLE village_results ADD COLUMN status TEXT")
    conn.execute("ALTER TABLE village_results ADD COLUMN funding_route TEXT")
    conn.execute("CREATE INDEX runs_by_time ON runs(run_at)")
    conn.execute("CREATE INDEX classes_by_tech ON village_classes(run_id, technology, operator)")


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO store_meta VALUES ('reporter_salt', ?)", (os.urandom(32).hex(),))
    conn.execute(
        "INSERT INTO store_meta VALUES ('created_at', ?)",
        (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),),
    )


#: ``MIGRATIONS[n]`` turns a version-``n`` store into version ``n + 1`` (0 = empty file).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create_v1, 1: _migrate_v1_to_v2}
SCHEMA_VERSION = max(MIGRATIONS) + 1


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the schema version of an open store (0 for an empty file)."""
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_meta'"
    ).fetchone()
    if not has_meta:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise HistoryStoreError("the file is an SQLite database but not a coverage-gaps history store")
        return 0
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def _open(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every one is opened explicitly below.
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _begin(conn: sqlite3.Connection, path: Path, statement: str, busy_timeout_s: float) -> None:
    """Run ``BEGIN ...``; log once and wait if another command holds the lock."""
    wait_ms = int(busy_timeout_s * 1000)
    conn.execute("PRAGMA busy_timeout = 0")  # first try without waiting, to log before waiting
    try:
        conn.execute(statement)
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")  # COMMIT may wait for readers
        return
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
    log.warning(
        "the history store %s is busy (another coverage-gaps command is writing); waiting up to %g s",
        path,
        busy_timeout_s,
    )
    start = time.monotonic()
    conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreBusyError(f"{BUSY_MESSAGE} (store: {path})") from exc
        raise
    log.info("the history store is free again after %.1f s", time.monotonic() - start)


def _migrate(conn: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
    version = schema_version(conn)
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise HistoryStoreError(
            f"{path} has schema version {version}, newer than this coverage-gaps understands "
            f"({SCHEMA_VERSION}); upgrade coverage-gaps"
        )
    _begin(conn, path, "BEGIN IMMEDIATE", busy_timeout_s)
    try:
        version = schema_version(conn)  # another command may have migrated meanwhile
        if version == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](conn)
            if version:  # an existing store, not a new one being built
                log.info("history store %s migrated from schema version %d to %d", path, step, step + 1)
        conn.execute("INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def connect(path: str | Path, *, create: bool, busy_timeout_s: float = 30.0) -> Iterator[sqlite3.Connection]:
    """Open the store at ``path`` (migrated to the current schema) and close it afterwards.

    Raises
    ------
    HistoryStoreError
        If ``path`` does not exist and ``create`` is false, is not a history store, or
        has a newer schema.
    """
    path = Path(path)
    if not path.exists() and not create:
        raise HistoryStoreError(
            f"no history store at {path}: record a run first (`coverage-gaps run`), or pass the store's path"
        )
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = _open(path)
    except sqlite3.Error as exc:
        raise HistoryStoreError(f"cannot open the history store {path}: {exc}") from exc
    try:
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            _migrate(conn, path, busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreBusyError(f"{BUSY_MESSAGE} (store: {path})") from exc
            raise HistoryStoreError(f"{path} is not a readable history store: {exc}") from exc
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, path: Path, busy_timeout_s: float) -> Iterator[None]:
    """One write transaction: committed if the block succeeds, rolled back otherwise."""
    _begin(conn, path, "BEGIN IMMEDIATE", busy_timeout_s)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK")
        raise StoreBusyError(f"{BUSY_MESSAGE} (store: {path})") from exc


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: every query in the block sees the same state of the store."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 of a file, or of a folder's files (names and contents, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def utc_text(when: dt.datetime | pd.Timestamp, what: str) -> str:
    """Return an aware date-time as UTC ISO 8601 text; refuse a naive one."""
    if when.tzinfo is None:
        raise ValueError(f"{what} {when!r} has no time zone; pass an aware datetime, e.g. in UTC")
    return pd.Timestamp(when).tz_convert("UTC").isoformat()


def sql_value(v: Any) -> Any:
    """Return a cell as a value SQLite stores (NA -> NULL, numpy scalars -> Python)."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def tool_version() -> str:
    """Return the version of coverage-gaps.

    Read from the loaded package at run time: a static ``import coverage`` here would
    make this low layer depend on the package root, which imports every layer.
    """
    return str(sys.modules["coverage"].__version__)
