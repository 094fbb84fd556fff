"""Read any supported vector or table file into a frame with row labels and a CRS.

Formats: GeoPackage, GeoJSON, Shapefile, FlatGeobuf (through pyogrio), CSV (optionally
gzip-compressed) and Excel ``.xlsx`` tables with coordinate columns. Every frame gets a
``_row`` column of human row labels (``"line 7"`` for CSV, ``"row 7"`` for Excel,
``"feature 3"`` otherwise) used in error messages. Files are only read, never written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from coverage._validate import Problems
from coverage.crs import VIETNAM_BOUNDS_LONLAT, lonlat_looks_swapped

__all__ = ["TABLE_SUFFIXES", "VECTOR_SUFFIXES", "read_frame", "restore_truncated_names", "to_geoframe"]

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml")
TABLE_SUFFIXES = (".csv", ".txt", ".gz", ".xlsx")

LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo")
LAT_NAMES = ("lat", "latitude", "vi_do", "vido")


def _normalise_header(name: object) -> str:
    text = str(name).strip().lstrip("\ufeff").lower()
    return re.sub(r"[\s\-]+", "_", text)


def read_frame(
    path: Path,
    problems: Problems,
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    header_names: list[str] | None = None,
) -> pd.DataFrame | gpd.GeoDataFrame | None:
    """Read ``path`` into a (Geo)DataFrame of strings/values with a ``_row`` column.

    Headers are lower-cased with spaces turned into ``_``; ``columns`` maps schema names
    to the file's own column names (``{"name": "ten_thon"}``). Returns ``None`` (after
    adding a problem) when the file cannot be read at all.
    """
    path = Path(path)
    if not path.exists():
        problems.error(
            f"file not found: {path}",
            "check the path in the project file (paths are relative to the project file)",
        )
        return None
    suffixes = "".join(path.suffixes).lower()
    try:
        if path.suffix.lower() in (".csv", ".txt") or suffixes.endswith(".csv.gz"):
            frame: pd.DataFrame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                header=None if header_names else "infer",
                names=header_names,
            )
            frame["_row"] = [f"line {i + 2 - (1 if header_names else 0)}" for i in range(len(frame))]
        elif path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
            frame["_row"] = [f"row {i + 2}" for i in range(len(frame))]
        elif path.suffix.lower() in VECTOR_SUFFIXES or path.is_dir():
            layers = pyogrio.list_layers(path)
            if layer is None and len(layers) > 1:
                names = [str(n) for n in layers[:, 0]]
                problems.error(
                    f"the file has {len(names)} layers {names} and none was chosen",
                    'name one with `layer = "..."` in the project file',
                )
                return None
            frame = gpd.read_file(path, layer=layer, engine="pyogrio")
            frame["_row"] = [f"feature {i + 1}" for i in range(len(frame))]
        else:
            problems.error(
                f"unsupported file type '{path.suffix}'",
                "use GeoPackage (.gpkg), GeoJSON, Shapefile, CSV or Excel (.xlsx)",
            )
            return None
    except UnicodeDecodeError as exc:
        problems.error(f"cannot decode the file as UTF-8 ({exc.reason})", "save the file as UTF-8")
        return None
    except (OSError, ValueError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        problems.error(f"cannot read the file: {exc}", "check that it is a valid, complete file")
        return None
    rename = {c: _normalise_header(c) for c in frame.columns if c not in ("_row", "geometry")}
    frame = frame.rename(columns=rename)
    if columns:
        inverse = {_normalise_header(src): dst for dst, src in columns.items()}
        missing = [src for src in inverse if src not in frame.columns]
        for src in missing:
            problems.error(
                f"the project file maps a column to '{src}', which the file does not have",
                f"fix the `columns` mapping; the file has {[c for c in frame.columns if c != '_row']}",
            )
        frame = frame.rename(columns={s: d for s, d in inverse.items() if s in frame.columns})
    return frame


def restore_truncated_names(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Undo Shapefile's 10-character limit on column names (``commune_co`` -> ``commune_code``).

    A column is renamed only when exactly one schema name starts with it and the full
    name is not already present.
    """
    rename = {}
    for col in frame.columns:
        col_s = str(col)
        if len(col_s) != 10 or col_s in names:
            continue
        matches = [n for n in names if n.startswith(col_s) and n not in frame.columns]
        if len(matches) == 1:
            rename[col] = matches[0]
    return frame.rename(columns=rename)


def _parse_crs(value: str | None, problems: Problems) -> CRS | None:
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except CRSError:
        problems.error(f"declared crs {value!r} is not a known CRS", "write an EPSG code, e.g. 'EPSG:9213'")
        return None


def to_geoframe(
    frame: pd.DataFrame | gpd.GeoDataFrame,
    problems: Problems,
    *,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    allow_missing_xy: bool = False,
) -> gpd.GeoDataFrame | None:
    """Give ``frame`` point geometry (for tables) and a CRS, never guessing one.

    Rules: a vector file keeps its own CRS; a declared ``crs`` may label a file that has
    none but must not contradict one it has. A table with lon/lat columns is EPSG:4326
    unless ``crs`` says otherwise; a table with x/y columns needs a declared ``crs``.
    Swapped lon/lat (or VN-2000 X/Y, where surveyors list northing first) is detected.
    """
    declared = _parse_crs(crs, problems)
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is None and declared is None:
            problems.error(
                "the layer has no coordinate reference system (CRS)",
                'add a .prj / CRS to the file, or declare it with `crs = "EPSG:..."` in the project file',
            )
            return None
        if frame.crs is None:
            return frame.set_crs(declared)
        if declared is not None and not CRS.from_user_input(frame.crs).equals(
            declared, ignore_axis_order=True
        ):
            problems.error(
                f"the file's CRS ({frame.crs.to_string()}) differs from the declared crs ({crs})",
                "remove `crs` from the project file, or fix the file's CRS",
            )
            return None
        return frame

    cols = list(frame.columns)
    if x_column or y_column:
        if not (x_column and y_column):
            problems.error("only one of x_column / y_column is set", "set both in the project file")
            return None
        xcol, ycol = x_column.lower(), y_column.lower()
        for c in (xcol, ycol):
            if c not in cols:
                problems.error(f"coordinate column '{c}' is missing", f"the file has {cols[:-1]}")
                return None
        geographic_default = False
    elif (xcol := next((c for c in LON_NAMES if c in cols), None)) and (
        ycol := next((c for c in LAT_NAMES if c in cols), None)
    ):
        geographic_default = True
    elif "x" in cols and "y" in cols:
        xcol, ycol = "x", "y"
        geographic_default = False
    else:
        problems.error(
            "no coordinate columns found (expected lon/lat, or x/y with a declared crs)",
            "add lon and lat columns in WGS 84 degrees, or name your columns with x_column/y_column",
        )
        return None

    if declared is None:
        if not geographic_default:
            problems.error(
                f"columns '{xcol}'/'{ycol}' hold projected coordinates but no crs is declared",
                'declare it in the project file, e.g. `crs = "EPSG:9213"` for VN-2000 Thái Nguyên',
            )
            return None
        declared = CRS.from_epsg(4326)

    x = pd.to_numeric(frame[xcol].replace("", np.nan), errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame[ycol].replace("", np.nan), errors="coerce").to_numpy(dtype=float)
    raw_x = frame[xcol].astype(str).str.strip()
    raw_y = frame[ycol].astype(str).str.strip()
    empty = (raw_x.isin(["", "nan"]) & raw_y.isin(["", "nan"])).to_numpy()
    bad = ~np.isfinite(x) | ~np.isfinite(y)
    unparsable = bad & ~empty
    rows = frame["_row"].astype(str).to_numpy()
    if unparsable.any():
        problems.rows(
            list(rows[unparsable]),
            f"coordinates '{xcol}'/'{ycol}' are not numbers",
            "write decimal numbers (e.g. 105.8412, not 105°50'28\")",
        )
    if empty.any() and not allow_missing_xy:
        problems.rows(list(rows[empty]), "coordinates are empty", "fill in the location")

    ok = ~bad
    if declared.is_geographic and ok.any():
        out_of_range = ok & ((np.abs(y) > 90) | (np.abs(x) > 180))
        if lonlat_looks_swapped(x[ok], y[ok]):
            problems.error(
                f"'{xcol}' and '{ycol}' look swapped: the values of '{xcol}' lie between "
                f"{np.nanmin(x[ok]):.3f} and {np.nanmax(x[ok]):.3f}, which are latitudes of Viet Nam",
                "exchange the two columns (longitude is about 102-110 in Viet Nam, latitude 8-24)",
                column=xcol,
            )
        elif out_of_range.any():
            problems.rows(
                list(rows[out_of_range]),
                "latitude beyond ±90° or longitude beyond ±180°",
                "check the coordinates and their order",
            )
    elif ok.any():
        from pyproj import Transformer

        to_ll = Transformer.from_crs(declared, 4326, always_xy=True)
        lon, lat = to_ll.transform(x[ok], y[ok])
        lon_s, lat_s = to_ll.transform(y[ok], x[ok])
        x0, y0, x1, y1 = VIETNAM_BOUNDS_LONLAT
        inside = np.mean((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        inside_s = np.mean((lon_s >= x0) & (lon_s <= x1) & (lat_s >= y0) & (lat_s <= y1))
        if inside < 0.5 and inside_s > 0.5:
            problems.error(
                f"'{xcol}'/'{ycol}' look swapped for {declared.name}: as given the points fall outside "
                "Viet Nam, exchanged they fall inside (VN-2000 tables list X = northing first)",
                f'set x_column = "{ycol}" and y_column = "{xcol}" in the project file',
                column=xcol,
            )
    geometry = gpd.points_from_xy(np.where(ok, x, np.nan), np.where(ok, y, np.nan))
    geometry = np.where(ok, geometry, None)
    data = frame.drop(columns=[xcol, ycol])
    return gpd.GeoDataFrame(data, geometry=list(geometry), crs=declared)
