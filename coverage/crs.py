"""Coordinate reference systems: require, check, choose the metric working CRS.

Policy (STYLE.md §16): every layer carries a CRS; nothing is guessed; distances and
areas are computed in a projected metric CRS; EPSG:4326 is used only for web maps.
VN-2000 provincial 3-degree zones (EPSG:5896-5899, 9205-9218) are ordinary EPSG codes
to pyproj; PROJ applies the 7-parameter EPSG:6960 "VN-2000 to WGS 84 (2)"
transformation when converting to WGS 84 / UTM, so no bare datum swap (which would
move points by about 224 m, DOMAIN.md §1.10) can happen here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS

__all__ = [
    "VIETNAM_BOUNDS_LONLAT",
    "VN2000_PROVINCE_EPSG",
    "lonlat_looks_swapped",
    "to_metric_crs",
    "utm_crs_for_lonlat",
    "working_crs_for",
]

#: Viet Nam with a margin, (min lon, min lat, max lon, max lat), degrees.
VIETNAM_BOUNDS_LONLAT: tuple[float, float, float, float] = (101.0, 7.5, 118.0, 24.0)

#: Verified province -> VN-2000 TM-3 EPSG code (DOMAIN.md §1.10; PROJ 9.5 EPSG database).
#: Merged provinces keep one CRS per legacy province: choose the code of the file's origin.
VN2000_PROVINCE_EPSG: dict[str, int] = {
    "Quảng Ninh": 5899,
    "Tuyên Quang": 9211,
    "Hà Giang": 9209,
    "Thanh Hóa": 5897,
    "Sơn La": 9206,
    "Bắc Kạn": 9213,
    "Thái Nguyên": 9213,
    "Điện Biên": 9205,
    "Lai Châu": 9205,
    "Lào Cai": 9208,
    "Yên Bái": 9208,
    "Cao Bằng": 9210,
    "Lạng Sơn": 9215,
    "Hà Nội": 5897,
}


def utm_crs_for_lonlat(lon: float, lat: float) -> CRS:
    """Return the WGS 84 / UTM zone CRS containing a point.

    Viet Nam spans UTM zones 48N (102-108 E, EPSG:32648) and 49N (108-114 E,
    EPSG:32649).

    Examples
    --------
    >>> utm_crs_for_lonlat(105.8, 21.6).to_epsg()
    32648
    >>> utm_crs_for_lonlat(108.2, 16.0).to_epsg()
    32649
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) + 1
    zone = min(max(zone, 1), 60)
    code = (32600 if lat >= 0 else 32700) + zone
    return CRS.from_epsg(code)


def working_crs_for(layers: list[gpd.GeoDataFrame], requested: str | None = None) -> CRS:
    """Choose the metric working CRS for a project.

    Parameters
    ----------
    layers
        Layers with a CRS (the first non-empty one decides the automatic choice).
    requested
        A CRS named in the project file (any pyproj input, e.g. ``"EPSG:9213"``). It must
        be projected with metre units.

    Returns
    -------
    pyproj.CRS
        ``requested`` if given, else the UTM zone of the centre of the layers' extent.
    """
    if requested:
        crs = CRS.from_user_input(requested)
        if not crs.is_projected:
            raise ValueError(
                f"working_crs {requested!r} is geographic (degrees); name a projected CRS in metres, "
                "e.g. 'EPSG:32648' (UTM 48N) or 'EPSG:9213' (VN-2000 TM-3 106-30)"
            )
        unit = crs.axis_info[0].unit_name if crs.axis_info else ""
        if unit not in ("metre", "meter"):
            raise ValueError(f"working_crs {requested!r} has unit {unit!r}; a metre-based CRS is required")
        return crs
    bounds = []
    for layer in layers:
        if layer is None or layer.empty or layer.crs is None:
            continue
        bounds.append(layer.to_crs(4326).total_bounds)
    if not bounds:
        raise ValueError("cannot choose a working CRS: no layer with features and a CRS")
    arr = np.array(bounds)
    lon = (np.nanmin(arr[:, 0]) + np.nanmax(arr[:, 2])) / 2.0
    lat = (np.nanmin(arr[:, 1]) + np.nanmax(arr[:, 3])) / 2.0
    return utm_crs_for_lonlat(float(lon), float(lat))


def to_metric_crs(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to the metric working ``crs`` (never relabels).

    Raises
    ------
    ValueError
        If ``gdf`` has no CRS (label it first; coverage-gaps never guesses one).
    """
    if gdf.crs is None:
        raise ValueError("layer has no CRS; it cannot be reprojected (label it with set_crs first)")
    return gdf.to_crs(crs)


def lonlat_looks_swapped(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Tell whether lon/lat columns are probably swapped for data in Viet Nam.

    True when most points fall outside Viet Nam as given but inside it with the two
    coordinates exchanged.

    Examples
    --------
    >>> lonlat_looks_swapped(np.array([21.5, 21.6]), np.array([105.8, 105.9]))
    True
    >>> lonlat_looks_swapped(np.array([105.8]), np.array([21.5]))
    False
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return False
    x0, y0, x1, y1 = VIETNAM_BOUNDS_LONLAT
    inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    inside_swapped = (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
    return bool(inside_swapped[ok].mean() > 0.5 and inside[ok].mean() < 0.5)
