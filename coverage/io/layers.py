"""Readers for the village, commune and outage layers.

Each public reader returns a GeoDataFrame in the documented schema
(:mod:`coverage.schema`) and raises :class:`~coverage._errors.InputSchemaError` listing
**every** problem of the layer at once. The ``load_*`` variants return the problems
instead of raising, for ``coverage-gaps validate``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage._errors import CoverageWarning, CRSMismatchError, InputSchemaError, MissingCRSError
from coverage._validate import (
    Problems,
    check_geometries,
    check_required_columns,
    check_unique,
    coerce_columns,
)
from coverage.io._table import read_frame, restore_truncated_names, to_geoframe
from coverage.schema import (
    COMMUNE_COLUMNS,
    OUTAGE_COLUMNS,
    REPORTER_COLUMNS,
    VILLAGE_COLUMNS,
    Column,
    normalise_operator,
)

__all__ = [
    "load_communes",
    "load_outages",
    "load_villages",
    "read_communes",
    "read_outages",
    "read_villages",
]

# A per-process secret: reporter keys de-duplicate within a run but cannot be reversed
# (a plain hash of a 10-digit phone number could be brute-forced) or linked across runs.
_REPORTER_SALT = os.urandom(32)


def _schema_frame(
    path: Path,
    layer_name: str,
    schema: tuple[Column, ...],
    *,
    layer: str | None,
    crs: str | None,
    x_column: str | None,
    y_column: str | None,
    columns: Mapping[str, str] | None,
    allow_missing_xy: bool = False,
) -> tuple[gpd.GeoDataFrame | None, Problems, pd.DataFrame | None]:
    problems = Problems(layer_name, str(path))
    frame = read_frame(Path(path), problems, layer=layer, columns=columns)
    if frame is None:
        return None, problems, None
    if len(frame) == 0:
        problems.error("the layer is empty (no rows or features)", "check that the right file/layer is named")
        return None, problems, None
    frame = restore_truncated_names(frame, [c.name for c in schema])
    missing = check_required_columns(frame, schema, problems)
    frame = normalise_operator_column(frame, problems)
    gdf = to_geoframe(
        frame, problems, crs=crs, x_column=x_column, y_column=y_column, allow_missing_xy=allow_missing_xy
    )
    # Value checks run even without usable geometry, so every problem is found at once.
    checked = coerce_columns(
        gdf if gdf is not None else frame, [c for c in schema if c.name not in missing], problems
    )
    return (checked if gdf is not None else None), problems, checked


def raise_for(problems: Problems, what: str) -> None:
    """Raise the most specific error class for ``problems`` if any is an error."""
    errors = problems.errors
    if not errors:
        return
    if len(errors) == 1 and (
        "no coordinate reference system" in errors[0].message or "no crs is declared" in errors[0].message
    ):
        raise MissingCRSError(list(problems), f"Cannot read {what}")
    if len(errors) == 1 and "differs from the declared crs" in errors[0].message:
        raise CRSMismatchError(list(problems), f"Cannot read {what}")
    raise InputSchemaError(list(problems), f"Cannot read {what}")


def raise_or_warn(gdf: gpd.GeoDataFrame | None, problems: Problems, what: str) -> gpd.GeoDataFrame:
    """Raise for errors (see :func:`raise_for`), else emit each warning and return ``gdf``."""
    raise_for(problems, what)
    for p in problems:
        warnings.warn(str(p), CoverageWarning, stacklevel=3)
    assert gdf is not None
    return gdf


def load_villages(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame | None, Problems]:
    """Read and check villages; return ``(villages or None, problems)``."""
    gdf, problems, table = _schema_frame(
        Path(path),
        "villages",
        VILLAGE_COLUMNS,
        layer=layer,
        crs=crs,
        x_column=x_column,
        y_column=y_column,
        columns=columns,
    )
    if table is not None:
        check_unique(table, ["village_id"], problems, what="village_id")
    if gdf is None:
        return None, problems
    gdf = check_geometries(gdf, problems, allowed=("Point", "Polygon", "MultiPolygon"))
    for col in ("population", "households", "schools", "health_stations"):
        if gdf[col].isna().all():
            continue
        if gdf[col].isna().any():
            problems.rows(
                gdf.loc[gdf[col].isna(), "_row"].astype(str).tolist(),
                f"'{col}' is empty for some villages",
                f"fill in {col} (0 if none); empty values count as unknown",
                column=col,
                severity="warning",
            )
    return gdf, problems


def read_villages(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a village layer (points at the village centre / cultural house, or polygons).

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, CSV (lon/lat or x/y columns) or Excel file.
    layer
        Layer name in a multi-layer file.
    crs
        CRS of a table's x/y columns, or of a vector file that lacks one (never guessed).
    x_column, y_column
        Coordinate column names of a table, when not ``lon``/``lat`` or ``x``/``y``.
    columns
        Map from schema column to the file's column, e.g. ``{"name": "ten_thon"}``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``village_id, name, commune_code, commune_name, province, population,
        households, has_grid_power, extremely_difficult, schools, health_stations``
        (optional ones empty when absent) in the file's CRS, plus ``_row`` labels.

    Raises
    ------
    InputSchemaError
        With every problem found (missing columns, duplicate ids, bad values, ...).
    MissingCRSError
        When the only problem is a missing CRS.
    """
    gdf, problems = load_villages(
        path, layer=layer, crs=crs, x_column=x_column, y_column=y_column, columns=columns
    )
    return raise_or_warn(gdf, problems, f"villages from {path}")


def load_communes(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame | None, Problems]:
    """Read and check communes; return ``(communes or None, problems)``."""
    gdf, problems, table = _schema_frame(
        Path(path),
        "communes",
        COMMUNE_COLUMNS,
        layer=layer,
        crs=crs,
        x_column=None,
        y_column=None,
        columns=columns,
    )
    if table is not None:
        check_unique(table, ["commune_code"], problems, what="commune_code")
    if gdf is None:
        return None, problems
    gdf = check_geometries(gdf, problems, allowed=("Polygon", "MultiPolygon"))
    return gdf, problems


def read_communes(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read commune (xã/phường) polygons: ``commune_code, name, province[, population]``.

    Invalid polygons are repaired with ``shapely.make_valid`` and reported as warnings;
    missing geometries, wrong types and duplicate codes are errors. See
    :func:`read_villages` for the parameters.
    """
    gdf, problems = load_communes(path, layer=layer, crs=crs, columns=columns)
    return raise_or_warn(gdf, problems, f"communes from {path}")


def phone_digits(phone: object) -> str:
    """Return the national number's digits: ``0912 345 678``, ``+84912345678`` and ``912345678`` agree.

    Examples
    --------
    >>> {phone_digits(p) for p in ("0912 345 678", "+84 912-345-678", 912345678.0)}
    {'912345678'}
    """
    if isinstance(phone, float):  # a number column read from Excel
        phone = "" if phone != phone else str(int(phone))
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = digits[2:]
    return digits.lstrip("0")


def reporter_key(name: object, phone: object) -> str | None:
    """Return a keyed, irreversible digest of a reporter's phone (else name).

    The key is only for de-duplicating reports within one run; it is never written.
    Phone numbers are compared by their digits, so ``0912 345 678`` equals
    ``+84912345678``.
    """
    digits = phone_digits(phone)
    basis = f"tel:{digits}" if len(digits) >= 6 else ""
    if not basis:
        text = " ".join(str(name or "").lower().split())
        if not text or text == "nan":
            return None
        basis = f"name:{text}"
    return hmac.new(_REPORTER_SALT, basis.encode(), hashlib.sha256).hexdigest()[:16]


def load_outages(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame | None, Problems]:
    """Read and check outage reports; return ``(outages or None, problems)``."""
    gdf, problems, table = _schema_frame(
        Path(path),
        "outages",
        OUTAGE_COLUMNS,
        layer=layer,
        crs=crs,
        x_column=x_column,
        y_column=y_column,
        columns=columns,
        allow_missing_xy=True,
    )
    if table is not None:
        check_unique(table, ["report_id"], problems, what="report_id")
    if gdf is None:
        return None, problems
    # Operators may be spelled as brands ("VinaPhone"); normalise before the choice check.
    known = [c.name for c in OUTAGE_COLUMNS] + ["_row", gdf.geometry.name]
    extra = [c for c in gdf.columns if c not in known]
    if extra:
        problems.warning(
            f"columns {extra} are not part of the outage schema and were dropped "
            "(they may hold personal data and are never carried to any output)",
            "remove them from the file, or map them with `columns` if they are schema columns",
        )
        gdf = gdf.drop(columns=extra)
    gdf["reporter_key"] = [
        reporter_key(n, p)
        for n, p in zip(gdf["reporter_name"].tolist(), gdf["reporter_phone"].tolist(), strict=True)
    ]
    gdf = gdf.drop(columns=list(REPORTER_COLUMNS))
    no_place = (gdf.geometry.isna() | gdf.geometry.is_empty) & gdf["village_id"].isna()
    if no_place.any():
        problems.rows(
            gdf.loc[no_place, "_row"].astype(str).tolist(),
            "report has neither coordinates nor a village_id",
            "add lon/lat or the village_id of the report",
        )
    return gdf, problems


def read_outages(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read reported dead zones / outages.

    Reporter names and phone numbers are replaced at once by ``reporter_key``, a keyed
    digest used only to de-duplicate reports; the raw values never leave this function,
    and columns outside the schema are dropped (they could hold personal data). Rows may
    have lon/lat, or only a ``village_id`` (geometry ``None``).
    """
    gdf, problems = load_outages(
        path, layer=layer, crs=crs, x_column=x_column, y_column=y_column, columns=columns
    )
    return raise_or_warn(gdf, problems, f"outages from {path}")


def normalise_operator_column(gdf: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Map operator spellings (``vinaphone``, ``Mobifone``) to canonical names in place."""
    if "operator" not in gdf.columns:
        return gdf
    raw = gdf["operator"]
    normalised = raw.map(lambda v: normalise_operator(v) if isinstance(v, str) and v.strip() else None)
    out = gdf.copy()
    out["operator"] = normalised.where(normalised.notna(), raw)
    return out
