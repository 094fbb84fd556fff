"""Schema checks that collect every problem of a layer before raising once.

Modelled on osmnx ``_validate.py``: checks append :class:`~coverage._errors.Problem`
records to a :class:`Problems` list; the caller raises one
:class:`~coverage._errors.InputSchemaError` with all of them (or returns them to
``coverage-gaps validate``). Nothing here reads files or changes inputs in place.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import GeometryRepairedWarning, InputSchemaError, Problem
from coverage.schema import Column

__all__ = [
    "MAX_LISTED_ROWS",
    "Problems",
    "check_geometries",
    "check_required_columns",
    "check_unique",
    "closest",
    "coerce_columns",
    "parse_bool",
]

#: Rows listed per (column, kind of problem) before the rest are summarised.
MAX_LISTED_ROWS = 20

_TRUE = {"true", "t", "yes", "y", "1", "có", "co", "x", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "không", "khong", "0.0"}


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``value`` (case-insensitive), if any is close.

    Examples
    --------
    >>> closest("antena_height_m", ["antenna_height_m", "azimuth_deg"])
    'antenna_height_m'
    """
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    match = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def parse_bool(value: object) -> bool | None:
    """Parse yes/no spellings (English and Vietnamese); ``None`` for empty.

    Raises
    ------
    ValueError
        For a value that is neither empty nor a known spelling.

    Examples
    --------
    >>> parse_bool("Có"), parse_bool("no"), parse_bool(""), parse_bool(1)
    (True, False, None, True)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text == "" or text == "nan":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


class Problems(list[Problem]):
    """A list of problems with helpers to add and raise them.

    Parameters
    ----------
    layer
        Layer name used for problems added through :meth:`error` and :meth:`warning`.
    file
        File name used likewise.
    """

    def __init__(self, layer: str = "", file: str | None = None) -> None:
        super().__init__()
        self.layer = layer
        self.file = file

    def error(
        self, message: str, fix: str = "", *, row: str | None = None, column: str | None = None
    ) -> None:
        """Add an error."""
        self.append(Problem("error", self.layer, message, fix, self.file, row, column))

    def warning(
        self, message: str, fix: str = "", *, row: str | None = None, column: str | None = None
    ) -> None:
        """Add a warning."""
        self.append(Problem("warning", self.layer, message, fix, self.file, row, column))

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``error``."""
        return [p for p in self if p.severity == "error"]

    def raise_if_errors(self, summary: str) -> None:
        """Raise :class:`InputSchemaError` with every problem if any is an error."""
        if self.errors:
            raise InputSchemaError(list(self), summary)

    def rows(
        self,
        rows: Sequence[str],
        message: str,
        fix: str,
        *,
        column: str | None = None,
        severity: str = "error",
    ) -> None:
        """Add one problem per row, listing at most :data:`MAX_LISTED_ROWS` of them."""
        add = self.error if severity == "error" else self.warning
        for row in rows[:MAX_LISTED_ROWS]:
            add(message, fix, row=row, column=column)
        if len(rows) > MAX_LISTED_ROWS:
            add(f"{message} (and {len(rows) - MAX_LISTED_ROWS} more rows like this)", fix, column=column)


def check_required_columns(df: pd.DataFrame, columns: Sequence[Column], problems: Problems) -> list[str]:
    """Report every required column that is missing; return their names."""
    missing = []
    present = [str(c) for c in df.columns]
    for col in columns:
        if col.required and col.name not in df.columns:
            guess = closest(col.name, present)
            hint = f" A column '{guess}' exists: rename it, or map it in the project file" if guess else ""
            problems.error(
                f"required column '{col.name}' ({col.description}) is missing.{hint}",
                f"add a '{col.name}' column, or map your column to it with "
                f'`columns = {{ {col.name} = "your_column" }}` in the project file',
                column=col.name,
            )
            missing.append(col.name)
    return missing


def _labels(df: pd.DataFrame, mask: np.ndarray) -> list[str]:
    return [str(x) for x in df.loc[mask, "_row"].tolist()]


def coerce_columns(df: pd.DataFrame, columns: Sequence[Column], problems: Problems) -> pd.DataFrame:
    """Parse every schema column to its kind, collecting bad values as problems.

    ``df`` must carry a ``_row`` column of row labels (e.g. ``"line 7"``). Columns that
    are absent are added empty, so later code can rely on the schema. Values that fail
    to parse become missing and are reported as errors (never silently dropped).
    """
    out = df.copy()
    for col in columns:
        if col.name not in out.columns:
            dtype = {"float": "float64", "int": "Int64", "bool": "boolean"}.get(col.kind, "object")
            out[col.name] = pd.Series([None] * len(out), index=out.index, dtype=dtype)
            continue
        raw = out[col.name]
        empty = raw.isna() | raw.astype(str).str.strip().isin(["", "nan", "NaN", "None", "<NA>"])
        if col.kind in ("float", "int"):
            values = pd.to_numeric(raw.where(~empty), errors="coerce")
            bad = (~empty) & values.isna()
            if bad.any():
                problems.rows(
                    _labels(out, bad.to_numpy()),
                    f"'{col.name}' is not a number",
                    f"write a plain number ({col.description})",
                    column=col.name,
                )
            rng_bad = np.zeros(len(out), dtype=bool)
            v = values.to_numpy(dtype=float)
            if col.min_value is not None:
                rng_bad |= v < col.min_value
            if col.max_value is not None:
                rng_bad |= v > col.max_value
            if rng_bad.any():
                labels = _labels(out, rng_bad)
                shown = v[rng_bad][: len(labels)]
                for label, value in list(zip(labels, shown, strict=False))[:MAX_LISTED_ROWS]:
                    problems.error(
                        f"'{col.name}' = {value:g} is outside the physical range "
                        f"[{col.min_value:g}, {col.max_value:g}]",
                        f"check the unit ({col.description})",
                        row=label,
                        column=col.name,
                    )
                if len(labels) > MAX_LISTED_ROWS:
                    problems.error(
                        f"'{col.name}' is out of range in {len(labels) - MAX_LISTED_ROWS} more rows",
                        f"check the unit ({col.description})",
                        column=col.name,
                    )
            if col.kind == "int":
                frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-9)
                if frac.any():
                    problems.rows(
                        _labels(out, frac),
                        f"'{col.name}' must be a whole number",
                        "round it",
                        column=col.name,
                    )
                out[col.name] = values.round().astype("Int64")
            else:
                out[col.name] = values.astype("float64")
        elif col.kind == "bool":
            parsed: list[bool | None] = []
            bad_rows = np.zeros(len(out), dtype=bool)
            for i, value in enumerate(raw.tolist()):
                try:
                    parsed.append(parse_bool(value))
                except ValueError:
                    parsed.append(None)
                    bad_rows[i] = True
            if bad_rows.any():
                problems.rows(
                    _labels(out, bad_rows),
                    f"'{col.name}' is not yes/no",
                    "use true/false, yes/no, 1/0 or có/không",
                    column=col.name,
                )
            out[col.name] = pd.Series(parsed, index=out.index, dtype="boolean")
        elif col.kind == "datetime":
            text = raw.where(~empty).astype("string").str.strip()
            # Values with an offset (…+07:00, …Z) are exact; values without one are read as
            # Viet Nam time (+07:00) with a warning. Everything ends up in UTC, so a file may
            # mix both forms.
            has_offset = text.str.contains(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True, na=False)
            aware = pd.to_datetime(text.where(has_offset), errors="coerce", format="ISO8601", utc=True)
            naive = pd.to_datetime(text.where(~has_offset & ~empty), errors="coerce", format="ISO8601")
            naive = naive.dt.tz_localize(
                "Asia/Ho_Chi_Minh", ambiguous="NaT", nonexistent="NaT"
            ).dt.tz_convert("UTC")
            parsed_dt = aware.where(has_offset, naive)
            n_naive = int((~has_offset & ~empty & naive.notna()).sum())
            if n_naive:
                problems.warning(
                    f"'{col.name}' has no time-zone offset in {n_naive} rows; "
                    "Viet Nam time (+07:00) is assumed",
                    "write offsets, e.g. 2026-09-14T08:30:00+07:00",
                    column=col.name,
                )
            bad = (~empty) & parsed_dt.isna()
            if bad.any():
                problems.rows(
                    _labels(out, bad.to_numpy()),
                    f"'{col.name}' is not an ISO 8601 date-time",
                    "write e.g. 2026-09-14T08:30:00+07:00",
                    column=col.name,
                )
            out[col.name] = parsed_dt
        else:
            text = raw.where(~empty).astype("string").str.strip()
            if col.choices:
                valid = set(col.choices)
                bad = (~empty) & ~text.isin(valid).fillna(False)
                if bad.any():
                    labels = _labels(out, bad.to_numpy())
                    values = text[bad].tolist()
                    for label, value in list(zip(labels, values, strict=False))[:MAX_LISTED_ROWS]:
                        guess = closest(str(value), col.choices)
                        hint = f" Did you mean '{guess}'?" if guess else ""
                        problems.error(
                            f"'{col.name}' = {value!r} is not one of {list(col.choices)}.{hint}",
                            f"use one of {list(col.choices)}",
                            row=label,
                            column=col.name,
                        )
                    if len(labels) > MAX_LISTED_ROWS:
                        problems.error(
                            f"'{col.name}' has unknown values in {len(labels) - MAX_LISTED_ROWS} more rows",
                            f"use one of {list(col.choices)}",
                            column=col.name,
                        )
            out[col.name] = text.astype("object").where(text.notna(), None)
        if col.required:
            missing = empty.to_numpy() if col.kind == "str" else out[col.name].isna().to_numpy()
            if col.kind != "str":
                missing = missing & empty.to_numpy()
            if missing.any():
                problems.rows(
                    _labels(out, missing),
                    f"required value '{col.name}' is empty",
                    f"fill in {col.description}",
                    column=col.name,
                )
    return out


def check_unique(df: pd.DataFrame, keys: Sequence[str], problems: Problems, *, what: str) -> None:
    """Report rows whose ``keys`` repeat an earlier row (both rows are named)."""
    if df.empty or not all(k in df.columns for k in keys):
        return
    key_frame = df[list(keys)].astype("string").fillna("")
    dup = key_frame.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    groups = df[dup].groupby([key_frame[k][dup] for k in keys], sort=True, dropna=False)
    for n, (key, group) in enumerate(groups):
        if n >= MAX_LISTED_ROWS:
            problems.error(f"{groups.ngroups - MAX_LISTED_ROWS} more duplicate {what} groups", "")
            break
        key_t = key if isinstance(key, tuple) else (key,)
        desc = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key_t, strict=True))
        rows = ", ".join(group["_row"].astype(str))
        problems.error(
            f"duplicate {what} ({desc}) in {rows}",
            "give each row its own id, or delete the repeated row",
            row=str(group["_row"].iloc[0]),
            column=keys[0],
        )


def check_geometries(
    gdf: gpd.GeoDataFrame,
    problems: Problems,
    *,
    allowed: Sequence[str],
) -> gpd.GeoDataFrame:
    """Check geometry presence, type and validity; repair invalid polygons.

    Missing or empty geometries and wrong types are errors. Invalid polygons (e.g.
    self-intersections) are repaired with ``shapely.make_valid`` and reported as a
    warning (and a :class:`GeometryRepairedWarning`), because a repaired boundary is
    almost always what the author meant; points with non-finite coordinates are errors.
    """
    out = gdf.copy()
    geom = out.geometry
    missing = (geom.isna() | geom.is_empty).to_numpy()
    if missing.any():
        problems.rows(
            _labels(out, missing),
            "geometry is missing or empty",
            "give the feature a location (coordinates or a shape)",
        )
    present = ~missing
    types = geom.geom_type.to_numpy()
    wrong = present & ~np.isin(types, list(allowed))
    if wrong.any():
        labels = _labels(out, wrong)
        problems.rows(
            labels,
            f"geometry type is {sorted(set(types[wrong]))} but {list(allowed)} is expected",
            "convert the features to the expected type",
        )
    coords_ok = np.ones(len(out), dtype=bool)
    if present.any():
        arr = shapely.get_coordinates(geom[present].to_numpy())
        if arr.size and not np.isfinite(arr).all():
            bad_idx = [
                i
                for i, g in zip(np.flatnonzero(present), geom[present], strict=True)
                if not np.isfinite(shapely.get_coordinates(g)).all()
            ]
            coords_ok[bad_idx] = False
            problems.rows(
                _labels(out, ~coords_ok), "geometry has non-finite coordinates", "fix the coordinates"
            )
    check = present & coords_ok & ~wrong
    invalid = np.zeros(len(out), dtype=bool)
    invalid[check] = ~shapely.is_valid(geom[check].to_numpy())
    if invalid.any():
        labels = _labels(out, invalid)
        reasons = shapely.is_valid_reason(geom[invalid].to_numpy())
        for label, reason in list(zip(labels, reasons, strict=True))[:MAX_LISTED_ROWS]:
            problems.warning(
                f"invalid geometry ({reason}) was repaired with make_valid",
                "fix the boundary in your GIS to silence this warning",
                row=label,
            )
        repaired = shapely.make_valid(geom[invalid].to_numpy())
        # make_valid can return a GeometryCollection: keep its polygonal part for areas.
        if all(t in ("Polygon", "MultiPolygon") for t in allowed):
            repaired = np.array(
                [
                    shapely.union_all(
                        shapely.get_parts(g)[np.isin(shapely.get_type_id(shapely.get_parts(g)), [3, 6])]
                    )
                    if g.geom_type == "GeometryCollection"
                    else g
                    for g in repaired
                ],
                dtype=object,
            )
        out.loc[invalid, out.geometry.name] = repaired
        warnings.warn(
            f"{problems.layer}: {int(invalid.sum())} invalid geometries repaired with make_valid",
            GeometryRepairedWarning,
            stacklevel=3,
        )
    return out
