"""Reader for candidate sites given by the user to the optimiser."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from coverage._validate import Problems, check_geometries, check_unique, coerce_columns
from coverage.io._table import read_frame, to_geoframe
from coverage.io.layers import raise_for
from coverage.schema import Column

__all__ = ["CANDIDATE_COLUMNS", "read_candidate_points"]

CANDIDATE_COLUMNS: tuple[Column, ...] = (
    Column("candidate_id", "str", False, "candidate id (default: C0001, ...)"),
    Column("antenna_height_m", "float", False, "mast height above ground, m", min_value=1, max_value=300),
    Column("band_mhz", "float", False, "band, MHz", min_value=400, max_value=7125),
    Column("eirp_dbm", "float", False, "sector EIRP, dBm", min_value=10, max_value=90),
    Column("sectors", "int", False, "1 = omni, else evenly spaced sectors", min_value=1, max_value=12),
    Column(
        "cost_vnd",
        "float",
        False,
        "cost of this candidate, VND (overrides the computed cost)",
        min_value=0,
        max_value=1e13,
    ),
    Column("has_grid_power", "bool", False, "grid power at the candidate"),
    Column("grid_distance_km", "float", False, "distance to the grid, km", min_value=0, max_value=500),
)


def read_candidate_points(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read candidate sites (points) with the optional columns of :data:`CANDIDATE_COLUMNS`.

    Any format of the other readers (CSV/Excel with lon/lat or x/y + ``crs``, GeoPackage,
    GeoJSON, Shapefile). Every problem (unreadable file, bad numbers, yes/no values,
    duplicate ids, missing coordinates) is reported at once with file, row and column.

    Raises
    ------
    InputSchemaError
        Listing every problem.
    """
    problems = Problems("candidates", str(path))
    frame = read_frame(Path(path), problems, layer=layer, columns=columns)
    if frame is not None and len(frame) == 0:
        problems.error("the file has no candidate rows", "add candidate sites")
    gdf = None
    if frame is not None and len(frame):
        gdf = to_geoframe(frame, problems, crs=crs, x_column=x_column, y_column=y_column)
        checked = coerce_columns(gdf if gdf is not None else frame, CANDIDATE_COLUMNS, problems)
        if checked["candidate_id"].notna().any():
            check_unique(checked, ["candidate_id"], problems, what="candidate_id")
        if gdf is not None:
            gdf = check_geometries(checked, problems, allowed=("Point",))
    raise_for(problems, f"candidates from {path}")
    assert gdf is not None
    out = gdf.drop(columns=["_row"])
    for c in ("has_grid_power", "sectors"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    keep = [c.name for c in CANDIDATE_COLUMNS if out[c.name].notna().any()]
    return gpd.GeoDataFrame(out[[*keep]].assign(geometry=out.geometry), geometry="geometry", crs=out.crs)
