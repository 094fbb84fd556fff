"""A history of runs and outage reports, in one SQLite file per project.

Why SQLite (stdlib :mod:`sqlite3`): it needs nothing at run time (DuckDB's spatial
extension is downloaded on first use, impossible offline), it is one file that a
province can copy, back up and open in QGIS or DB Browser, and its file locking and
journal give the two guarantees the store needs: a run that fails or is killed leaves
the store as it was, and two commands at once do not corrupt it (see
:mod:`coverage._history_store`).

Tables (schema version :data:`SCHEMA_VERSION`):

* ``runs``: ``run_id, run_at`` (UTC), ``tool_version, project_name, project_file,
  parameters_json, villages``; ``run_inputs``: the SHA-256 of every input file.
* ``village_results``: per run and village: ``name, commune_code, commune_name,
  province, population, score, rank, recommended_action, status, funding_route``.
* ``village_classes`` (long): ``run_id, village_id, technology, operator, class`` with
  ``operator = 'any'`` for the best of all operators.
* ``outage_imports``, ``outage_reports``: reports keyed by ``(report_id, version)``;
  a corrected report is a new version, the latest version is the current one.
* ``reporters``: reporter name, a salted HMAC of the phone number and a de-duplication
  key, apart from everything else. Nothing in this module or in :mod:`coverage.report`
  exports it. The salt is random per store, so keys match across imports into one store
  and cannot be linked between stores or brute-forced from the digits alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from coverage._history_import import ImportResult, import_outages
from coverage._history_store import (
    SCHEMA_VERSION,
    HistoryStoreError,
    StoreBusyError,
    connect,
    file_sha256,
    read_transaction,
    sql_value,
    tool_version,
    utc_text,
    write_transaction,
)
from coverage.config import Project
from coverage.schema import OPERATORS

__all__ = [
    "CLASSES",
    "SCHEMA_VERSION",
    "HistoryStoreError",
    "ImportResult",
    "StoreBusyError",
    "current_outages",
    "default_store_path",
    "file_sha256",
    "import_outages",
    "input_checksums",
    "list_runs",
    "read_runs",
    "record_run",
    "run_villages",
]

log = logging.getLogger(__name__)

#: Village signal classes, best first (as :data:`coverage.gaps.CLASSES`).
CLASSES: tuple[str, ...] = ("good", "weak", "none", "no_data")

_CLASS_COLUMN = re.compile(r"^class_(\dg)_(.+)$")
_RESULT_COLUMNS = (
    "name",
    "commune_code",
    "commune_name",
    "province",
    "population",
    "score",
    "rank",
    "recommended_action",
    "status",
    "funding_route",
)
_OPERATOR_SLUGS = {op.lower(): op for op in OPERATORS}


def default_store_path(project_path: str | Path) -> Path:
    """Return the default store of a project: ``<project stem>.history.sqlite`` beside it.

    Examples
    --------
    >>> default_store_path("/data/thai-nguyen/project.toml").as_posix()
    '/data/thai-nguyen/project.history.sqlite'
    """
    path = Path(project_path)
    return path.with_name(f"{path.stem}.history.sqlite")


def input_checksums(project: Project) -> dict[str, str]:
    """Return ``{"project": sha256, "<layer>": sha256, ...}`` for a project's files."""
    sums = {"project": file_sha256(project.path)}
    sums.update({name: file_sha256(src.path) for name, src in project.inputs.items()})
    return sums


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _parameters(project: Project) -> dict[str, Any]:
    params: dict[str, Any] = {"working_crs": project.working_crs}
    for name in ("radio", "thresholds", "tower_defaults", "gaps", "evidence", "priority", "costs"):
        if hasattr(project, name):
            params[name] = _jsonable(getattr(project, name))
    return params


def _class_columns(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(column, technology, operator)`` for every ``class_<tech>_<operator>`` column."""
    out = []
    for col in table.columns:
        m = _CLASS_COLUMN.match(str(col))
        if m:
            tech, slug = m.group(1).upper(), m.group(2)
            out.append((str(col), tech, "any" if slug == "any" else _OPERATOR_SLUGS.get(slug, slug)))
    return out


def _village_rows(table: pd.DataFrame) -> tuple[list[tuple], list[tuple]]:
    if "village_id" not in table.columns:
        raise ValueError("the village table has no 'village_id' column")
    ids = table["village_id"].astype(str)
    if ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()]))[:5]
        raise ValueError(f"the village table repeats village_id {dup}; each village must appear once")
    class_cols = _class_columns(table)
    if not class_cols:
        raise ValueError("the village table has no class_<technology>_<operator> column, e.g. class_4g_any")
    keys = [(tech, op) for _, tech, op in class_cols]
    if len(set(keys)) < len(keys):
        raise ValueError(
            f"two class columns name the same technology and operator: {[c for c, *_ in class_cols]}"
        )
    values = [
        [sql_value(v) for v in table[c].astype(object).tolist()] if c in table.columns else [None] * len(ids)
        for c in _RESULT_COLUMNS
    ]
    results = list(zip(ids, *values, strict=True))
    classes = []
    for col, tech, op in class_cols:
        values = table[col].astype(object).where(table[col].notna(), "no_data").astype(str)
        bad = sorted(set(values) - set(CLASSES))
        if bad:
            raise ValueError(f"column {col!r} has values {bad}; expected one of {list(CLASSES)}")
        classes += [(vid, tech, op, cls) for vid, cls in zip(ids, values, strict=True)]
    return results, classes


def record_run(
    store_path: str | Path,
    *,
    project: Project,
    villages_table: pd.DataFrame,
    inputs_checksums: Mapping[str, str],
    version: str | None = None,
    run_at: dt.datetime | None = None,
    busy_timeout_s: float = 30.0,
) -> int:
    """Record one run (its inputs, parameters and per-village results) in one transaction.

    Parameters
    ----------
    store_path
        The store file; created (with its folder) when missing.
    project
        The project that was run: its name, file and parameters are recorded.
    villages_table
        One row per village: ``village_id``, any ``class_<tech>_<operator>`` columns
        (``class_4g_any``, ``class_5g_viettel``, ...; empty = ``no_data``) and, when
        present, ``name, commune_code, commune_name, province, population, score, rank,
        recommended_action, status, funding_route``. Other columns are ignored.
    inputs_checksums
        Input name -> SHA-256 hex digest (see :func:`input_checksums`).
    version
        Tool version; default ``coverage.__version__``.
    run_at
        When the run happened (time-zone aware); default now.
    busy_timeout_s
        How long to wait for another command writing to the store.

    Returns
    -------
    int
        The new ``run_id``.

    Raises
    ------
    ValueError
        If the table lacks ``village_id`` or class columns, repeats a village, or has
        an unknown class; nothing is written.
    StoreBusyError
        If another command kept the store locked for longer than ``busy_timeout_s``.
    """
    results, classes = _village_rows(villages_table)
    for name, digest in inputs_checksums.items():
        if not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
            raise ValueError(f"checksum of input {name!r} is not a SHA-256 hex digest: {digest!r}")
    when = utc_text(run_at or dt.datetime.now(dt.UTC), "run_at")
    params = json.dumps(_parameters(project), ensure_ascii=False, sort_keys=True)
    path = Path(store_path)
    with connect(path, create=True, busy_timeout_s=busy_timeout_s) as conn:
        with write_transaction(conn, path, busy_timeout_s):
            cur = conn.execute(
                "INSERT INTO runs (run_at, tool_version, project_name, project_file, parameters_json, "
                "villages) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    when,
                    version or tool_version(),
                    project.name,
                    str(project.path),
                    params,
                    len(results),
                ),
            )
            run_id = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO run_inputs VALUES (?, ?, ?)",
                [(run_id, str(k), str(v)) for k, v in sorted(inputs_checksums.items())],
            )
            conn.executemany(
                f"INSERT INTO village_results (run_id, village_id, {', '.join(_RESULT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_RESULT_COLUMNS) + 2))})",
                [(run_id, *r) for r in results],
            )
            conn.executemany(
                "INSERT INTO village_classes VALUES (?, ?, ?, ?, ?)", [(run_id, *c) for c in classes]
            )
    log.info("run %d recorded in %s (%d villages)", run_id, path, len(results))
    return run_id


def _frame(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> pd.DataFrame:
    cur = conn.execute(sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def list_runs(store_path: str | Path) -> pd.DataFrame:
    """Return one row per recorded run, oldest first.

    Columns: ``run_id, run_at`` (UTC), ``tool_version, project_name, villages,
    villages_no_good_4g, villages_no_good_5g`` (centre class weak or none, any
    operator) and ``changed_inputs`` (inputs whose checksum differs from the previous
    run, ``;``-separated; ``*`` for the first run).
    """
    with connect(store_path, create=False) as conn, read_transaction(conn):
        runs = _frame(
            conn,
            "SELECT r.run_id, r.run_at, r.tool_version, r.project_name, r.villages, "
            "(SELECT count(*) FROM village_classes c WHERE c.run_id = r.run_id AND c.technology = '4G' "
            " AND c.operator = 'any' AND c.class IN ('weak', 'none')) AS villages_no_good_4g, "
            "(SELECT count(*) FROM village_classes c WHERE c.run_id = r.run_id AND c.technology = '5G' "
            " AND c.operator = 'any' AND c.class IN ('weak', 'none')) AS villages_no_good_5g "
            "FROM runs r ORDER BY r.run_at, r.run_id",
        )
        inputs = _frame(conn, "SELECT run_id, input_name, sha256 FROM run_inputs")
    sums = {rid: dict(zip(g["input_name"], g["sha256"], strict=True)) for rid, g in inputs.groupby("run_id")}
    changed, previous = [], None
    for rid in runs["run_id"]:
        now = sums.get(rid, {})
        if previous is None:
            changed.append("*")
        else:
            names = sorted(k for k in set(now) | set(previous) if now.get(k) != previous.get(k))
            changed.append(";".join(names))
        previous = now
    runs["changed_inputs"] = changed
    runs["run_at"] = pd.to_datetime(runs["run_at"], utc=True, format="ISO8601")
    return runs


def read_runs(store_path: str | Path, run_ids: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(villages, classes)`` of some runs, read in one transaction.

    ``villages``: ``run_id, village_id`` and the ``village_results`` columns;
    ``classes`` (long): ``run_id, village_id, technology, operator, class``.
    """
    ids = sorted({int(r) for r in run_ids})
    marks = ", ".join("?" * len(ids)) or "NULL"
    with connect(store_path, create=False) as conn, read_transaction(conn):
        villages = _frame(
            conn,
            f"SELECT run_id, village_id, {', '.join(_RESULT_COLUMNS)} FROM village_results "
            f"WHERE run_id IN ({marks}) ORDER BY run_id, village_id",
            tuple(ids),
        )
        classes = _frame(
            conn,
            "SELECT run_id, village_id, technology, operator, class FROM village_classes "
            f"WHERE run_id IN ({marks}) ORDER BY run_id, village_id, technology, operator",
            tuple(ids),
        )
    return villages, classes


def run_villages(store_path: str | Path, run_id: int | None = None) -> pd.DataFrame:
    """Return the per-village table of one run (default: the latest), classes as wide columns.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.config import Project
    >>> tmp = tempfile.TemporaryDirectory()
    >>> store = Path(tmp.name) / "h.sqlite"
    >>> table = pd.DataFrame({"village_id": ["a", "b"], "class_4g_any": ["good", None],
    ...                       "class_4g_viettel": ["weak", "none"]})
    >>> rid = record_run(store, project=Project(Path("p.toml"), "demo", None, {}),
    ...                  villages_table=table, inputs_checksums={})
    >>> run_villages(store)[["village_id", "class_4g_any", "class_4g_viettel"]].values.tolist()
    [['a', 'good', 'weak'], ['b', 'no_data', 'none']]
    >>> tmp.cleanup()
    """
    if run_id is None:
        runs = list_runs(store_path)
        if runs.empty:
            raise HistoryStoreError(f"{store_path} holds no run yet")
        run_id = int(runs["run_id"].iloc[-1])
    villages, classes = read_runs(store_path, [run_id])
    if villages.empty:
        raise HistoryStoreError(f"{store_path} has no run {run_id}")
    classes["column"] = "class_" + classes["technology"].str.lower() + "_" + classes["operator"].str.lower()
    wide = classes.pivot(index="village_id", columns="column", values="class")
    out = villages.drop(columns="run_id").merge(wide.reset_index(), on="village_id", how="left")
    return out


def current_outages(store_path: str | Path) -> pd.DataFrame:
    """Return the latest version of every outage report (shareable columns only).

    Columns: ``report_id, version, reported_at`` (UTC), ``village_id, operator,
    technology, kind, lon, lat, imported_at``. No reporter detail.
    """
    with connect(store_path, create=False) as conn, read_transaction(conn):
        out = _frame(
            conn,
            "SELECT o.report_id, o.version, o.reported_at, o.village_id, o.operator, o.technology, "
            "o.kind, o.lon, o.lat, i.imported_at FROM outage_reports o "
            "JOIN outage_imports i USING (import_id) "
            "WHERE o.version = (SELECT max(version) FROM outage_reports x WHERE x.report_id = o.report_id) "
            "ORDER BY o.reported_at, o.report_id",
        )
    for col in ("reported_at", "imported_at"):
        out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
    return out
