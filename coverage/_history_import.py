"""Incremental import of outage reports into the history store.

Shareable fields go to ``outage_reports``; reporter details to ``reporters``, apart.
A phone number is kept only as ``HMAC-SHA256(store salt, national digits)``: the salt
is random per store (``store_meta.reporter_salt``), so the same phone gives the same
key across imports into one store, while the digits cannot be recovered by trying the
few hundred million possible numbers without the store itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import CoverageWarning
from coverage._history_store import connect, file_sha256, sql_value, tool_version, utc_text, write_transaction
from coverage._validate import Problems
from coverage.io._table import read_frame, restore_truncated_names
from coverage.io.layers import load_outages, phone_digits, raise_for
from coverage.schema import OUTAGE_COLUMNS

__all__ = ["ImportResult", "import_outages"]

log = logging.getLogger("coverage.history")


@dataclass(frozen=True)
class ImportResult:
    """What one :func:`import_outages` call did.

    Parameters
    ----------
    rows_read
        Reports in the file.
    added
        New report ids, stored as version 1.
    corrected
        Known report ids whose content differs from every stored version: stored as
        the next version (the history of corrections).
    unchanged
        Reports already stored with the same content: nothing written.
    import_id
        Id of the import in ``outage_imports``; ``None`` when nothing was written.
    warnings
        Warnings about the file (also emitted as :class:`~coverage.CoverageWarning`).
    """

    rows_read: int
    added: int
    corrected: int
    unchanged: int
    import_id: int | None
    warnings: tuple[str, ...] = ()


def _keyed(salt: bytes, text: str) -> str:
    return hmac.new(salt, text.encode(), hashlib.sha256).hexdigest()


def _reporter(salt: bytes, name: object, phone: object) -> tuple[str | None, str | None, str | None]:
    """``(name, phone HMAC, de-duplication key)``; the phone itself is never kept."""
    text = " ".join(str(name).split()) if isinstance(name, str) else ""
    digits = phone_digits(phone)
    phone_key = _keyed(salt, f"tel:{digits}") if len(digits) >= 6 else None
    name_key = _keyed(salt, f"name:{text.lower()}") if text else None
    return (text or None), phone_key, (phone_key or name_key)


def _text(v: Any) -> str | None:
    v = sql_value(v)
    return None if v is None else str(v)


def _outage_rows(path: Path, load_kw: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """Return the validated shareable columns plus the raw reporter columns, matched by row."""
    gdf, problems = load_outages(path, **load_kw)
    raise_for(problems, f"outage reports from {path}")
    assert gdf is not None
    raw_problems = Problems("outages", str(path))
    raw = read_frame(path, raw_problems, layer=load_kw.get("layer"), columns=load_kw.get("columns"))
    assert raw is not None  # load_outages read the same file without error
    raw = restore_truncated_names(raw, [c.name for c in OUTAGE_COLUMNS]).set_index("_row")
    points = gdf.geometry
    if gdf.crs is not None:
        points = points.to_crs("EPSG:4326")
    has_xy = ~(points.isna() | points.is_empty)
    points = points.where(~has_xy, points[has_xy].representative_point())
    out = pd.DataFrame(
        {
            "_row": gdf["_row"].to_numpy(),
            "report_id": gdf["report_id"].astype(str).to_numpy(),
            "reported_at": [utc_text(t, "reported_at") for t in gdf["reported_at"]],
            "village_id": [_text(v) for v in gdf["village_id"]],
            "operator": [_text(v) for v in gdf["operator"]],
            "technology": [_text(v) for v in gdf["technology"]],
            "kind": [_text(v) for v in gdf["kind"]],
            "lon": np.where(has_xy, points.x.where(has_xy), np.nan).round(7),
            "lat": np.where(has_xy, points.y.where(has_xy), np.nan).round(7),
        }
    )
    for col in ("reporter_name", "reporter_phone"):
        out[col] = raw[col].reindex(out["_row"]).to_numpy() if col in raw.columns else None
    return out, [str(p) for p in problems]


def import_outages(
    store_path: str | Path,
    outages_file: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    imported_at: dt.datetime | None = None,
    busy_timeout_s: float = 30.0,
) -> ImportResult:
    """Add the outage reports of a file to the store, incrementally, in one transaction.

    The file is checked with the rules of :func:`coverage.io.layers.load_outages` (the
    same formats, schema and ``columns`` mapping). A report whose ``report_id`` is new is
    added as version 1; one already stored with the same content (including the
    reporter) is skipped; one whose content differs from every stored version is added
    as the next version. Reporter names and phone HMACs go to the separate
    ``reporters`` table; raw phone numbers are never stored.

    Parameters
    ----------
    store_path
        The store file; created when missing.
    outages_file
        Outage reports (CSV, Excel, GeoPackage, GeoJSON, ...).
    layer, crs, x_column, y_column, columns
        As for :func:`coverage.io.read_outages`.
    imported_at
        When the import happened (time-zone aware); default now.
    busy_timeout_s
        How long to wait for another command writing to the store.

    Returns
    -------
    ImportResult
        Counts of added, corrected and unchanged reports.

    Raises
    ------
    InputSchemaError
        With every problem of the file; nothing is written.
    """
    path = Path(outages_file)
    kw = {"layer": layer, "crs": crs, "x_column": x_column, "y_column": y_column, "columns": columns}
    rows, found = _outage_rows(path, kw)
    for message in found:
        warnings.warn(message, CoverageWarning, stacklevel=2)
    when = utc_text(imported_at or dt.datetime.now(dt.UTC), "imported_at")
    store = Path(store_path)
    counts = {"added": 0, "corrected": 0, "unchanged": 0}
    import_id: int | None = None
    with connect(store, create=True, busy_timeout_s=busy_timeout_s) as conn:
        with write_transaction(conn, store, busy_timeout_s):
            salt = bytes.fromhex(
                conn.execute("SELECT value FROM store_meta WHERE key = 'reporter_salt'").fetchone()[0]
            )
            known: dict[str, tuple[int, set[str]]] = {}
            for rid, ver, digest in conn.execute(
                "SELECT report_id, version, content_sha256 FROM outage_reports"
            ):
                top, digests = known.get(rid, (0, set()))
                known[rid] = (max(top, ver), digests | {digest})
            new_reports, new_reporters = [], []
            for rec in rows.to_dict("records"):
                who = _reporter(salt, rec["reporter_name"], rec["reporter_phone"])
                fields = [rec[c] for c in ("reported_at", "village_id", "operator", "technology", "kind")]
                xy = [None if np.isnan(rec[c]) else float(rec[c]) for c in ("lon", "lat")]
                digest = hashlib.sha256(json.dumps([*fields, *xy, who[2]]).encode()).hexdigest()
                top, digests = known.get(rec["report_id"], (0, set()))
                if digest in digests:
                    counts["unchanged"] += 1
                    continue
                counts["added" if top == 0 else "corrected"] += 1
                version = top + 1
                known[rec["report_id"]] = (version, digests | {digest})
                new_reports.append((rec["report_id"], version, digest, *fields, *xy))
                new_reporters.append((rec["report_id"], version, *who))
            if new_reports:
                import_id = conn.execute(
                    "INSERT INTO outage_imports (imported_at, file_name, file_sha256, tool_version, "
                    "rows_read, added, corrected, unchanged) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (when, path.name, file_sha256(path), tool_version(), len(rows), *counts.values()),
                ).lastrowid
                conn.executemany(
                    "INSERT INTO outage_reports (report_id, version, content_sha256, reported_at, "
                    "village_id, operator, technology, kind, lon, lat, import_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r, import_id) for r in new_reports],
                )
                conn.executemany("INSERT INTO reporters VALUES (?, ?, ?, ?, ?)", new_reporters)
    log.info(
        "%s: %d reports read, %d added, %d corrected, %d unchanged",
        path.name,
        len(rows),
        *counts.values(),
    )
    return ImportResult(len(rows), *counts.values(), import_id, tuple(found))
