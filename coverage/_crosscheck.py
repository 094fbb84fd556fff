"""Checks that need two layers at once: overlap, containment, far-away points.

All inputs are already read and carry a CRS; they are compared in ``crs`` (the metric
working CRS). Problems are collected, never raised here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import box

from coverage._types import Raster
from coverage._validate import Problems

__all__ = ["cross_check", "raster_footprint"]

#: Villages closer than this to a commune are "on the border" (warning), not outside.
BORDER_TOLERANCE_M = 1000.0


def raster_footprint(raster: Raster, crs: CRS) -> shapely.Geometry:
    """Return the raster's extent as a polygon in ``crs`` (densified before reprojecting)."""
    footprint = gpd.GeoSeries([box(*raster.bounds)], crs=raster.crs).segmentize(max(raster.resolution) * 20)
    return footprint.to_crs(crs).iloc[0]


def _labels(gdf: gpd.GeoDataFrame, mask: np.ndarray) -> list[str]:
    return [str(x) for x in gdf.loc[mask, "_row"].tolist()]


def cross_check(
    *,
    crs: CRS,
    villages: gpd.GeoDataFrame | None,
    communes: gpd.GeoDataFrame | None,
    towers: gpd.GeoDataFrame | None,
    outages: gpd.GeoDataFrame | None,
    dem: Raster | None,
    far_km: float = 50.0,
) -> list:
    """Compare layers with each other; return the problems found.

    Checks: the DEM overlaps the villages (each village outside it is an error); every
    village lies in a commune (outside by more than 1 km: error, closer: warning) and in
    the commune its ``commune_code`` names (warning); towers and outage reports are not
    farther than ``far_km`` from the study area (error: usually a CRS or coordinate
    mistake); towers outside the DEM are reported as warnings (they cannot be computed);
    outage ``village_id`` values that match no village are warnings.
    """
    found: list = []
    vil = villages.to_crs(crs) if villages is not None else None
    com = communes.to_crs(crs) if communes is not None else None
    study_parts = [g for g in (vil, com) if g is not None and len(g)]
    study = shapely.union_all([box(*g.total_bounds) for g in study_parts]) if study_parts else None

    if dem is not None and vil is not None and len(vil):
        p = Problems("dem/villages", dem.source)
        footprint = raster_footprint(dem, crs)
        reps = vil.geometry.representative_point()
        outside = ~reps.within(footprint).to_numpy()
        if outside.all():
            p.error(
                "the DEM does not overlap the villages at all",
                "use a DEM covering the study area (check both CRSs)",
            )
        elif outside.any():
            p.rows(
                _labels(vil, outside),
                "village lies outside the DEM; its signal cannot be computed",
                "extend the DEM (add tiles to the DEM folder)",
            )
        found.extend(p)

    if vil is not None and com is not None and len(vil) and len(com):
        p = Problems("villages/communes")
        reps = gpd.GeoDataFrame(
            vil[["_row", "village_id", "commune_code"]], geometry=vil.geometry.representative_point()
        )
        joined = gpd.sjoin(
            reps,
            com[["commune_code", com.geometry.name]].rename(columns={"commune_code": "_in"}),
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated(keep="first")]
        outside = joined["_in"].isna().to_numpy()
        if outside.any():
            union = com.geometry.union_all()
            dist = reps.geometry[outside].distance(union).to_numpy()
            far = np.zeros(len(reps), dtype=bool)
            far[np.flatnonzero(outside)[dist > BORDER_TOLERANCE_M]] = True
            near = outside & ~far
            if far.any():
                p.rows(
                    _labels(vil, far),
                    "village lies outside every commune (more than 1 km away)",
                    "check its coordinates and CRS, or add its commune to the communes layer",
                )
            if near.any():
                p.rows(
                    _labels(vil, near),
                    "village lies just outside every commune (within 1 km: boundary precision?)",
                    "check the coordinates",
                    severity="warning",
                )
        mismatch = (~outside) & (
            joined["_in"].astype("string") != joined["commune_code"].astype("string")
        ).fillna(False).to_numpy()
        if mismatch.any():
            p.rows(
                _labels(vil, mismatch),
                "village lies in another commune than its commune_code says",
                "check commune_code (post-2025 code) or the coordinates",
                column="commune_code",
                severity="warning",
            )
        found.extend(p)

    far_m = far_km * 1000.0
    if study is not None:
        for name, layer in (("towers", towers), ("outages", outages)):
            if layer is None or not len(layer):
                continue
            g = layer.to_crs(crs)
            has = (g.geometry.notna() & ~g.geometry.is_empty).to_numpy()
            if not has.any():
                continue
            dist = np.full(len(g), 0.0)
            dist[has] = g.geometry[has].distance(study).to_numpy()
            bad = has & (dist > far_m)
            if bad.any():
                p = Problems(name)
                p.rows(
                    _labels(g, bad),
                    f"point lies more than {far_km:g} km from the villages and communes",
                    "check its coordinates, their order (lon/lat) and the layer's CRS",
                )
                found.extend(p)

    if dem is not None and towers is not None and len(towers):
        footprint = raster_footprint(dem, crs)
        t = towers.to_crs(crs)
        outside = ~t.geometry.within(footprint).to_numpy()
        if outside.any():
            p = Problems("towers/dem", dem.source)
            p.rows(
                _labels(t, outside),
                "tower lies outside the DEM; it will be reported as skipped, not computed",
                "extend the DEM to cover all towers near the study area",
                severity="warning",
            )
            found.extend(p)

    if outages is not None and vil is not None and len(outages):
        ids = set(vil["village_id"].astype(str))
        vid = outages["village_id"]
        unmatched = (vid.notna() & ~vid.astype(str).isin(ids)).to_numpy()
        if unmatched.any():
            p = Problems("outages")
            p.rows(
                _labels(outages, unmatched),
                "village_id matches no village; the report goes to the 'unmatched' table",
                "check the village_id",
                column="village_id",
                severity="warning",
            )
            found.extend(p)
    return found
