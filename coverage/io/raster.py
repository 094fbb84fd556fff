"""Raster readers: DEM (GeoTIFF, SRTM ``.hgt`` tile, or a folder of tiles) and population.

Nodata becomes ``NaN`` the moment a raster is read (STYLE.md §17). A raster without a
CRS is refused, never guessed. Warping to the analysis grid is done here, so the
analysis core receives arrays already on the working grid.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.fill import fillnodata
from rasterio.merge import merge
from rasterio.warp import reproject

from coverage._errors import InputSchemaError, MissingCRSError
from coverage._types import Raster
from coverage._validate import Problems

__all__ = [
    "DEM_SUFFIXES",
    "fill_voids",
    "grid_for_bounds",
    "load_dem",
    "read_dem",
    "read_population",
    "warp_population",
    "warp_to_grid",
]

DEM_SUFFIXES = (".tif", ".tiff", ".hgt", ".vrt", ".img", ".asc")


def _dem_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in DEM_SUFFIXES)
    return [path]


def load_dem(path: str | Path, *, layer_name: str = "dem") -> tuple[Raster | None, Problems]:
    """Read a DEM and collect problems instead of raising. See :func:`read_dem`."""
    path = Path(path)
    problems = Problems(layer_name, str(path))
    if not path.exists():
        problems.error(f"file not found: {path}", "check the path in the project file")
        return None, problems
    files = _dem_files(path)
    if not files:
        problems.error(
            f"no raster tiles ({', '.join(DEM_SUFFIXES)}) in folder {path}", "put the DEM tiles there"
        )
        return None, problems
    try:
        datasets = [rasterio.open(f) for f in files]
    except rasterio.errors.RasterioIOError as exc:
        problems.error(f"cannot read the raster: {exc}", "check that it is a GeoTIFF or SRTM .hgt file")
        return None, problems
    try:
        crss = {ds.crs.to_wkt() if ds.crs else None for ds in datasets}
        if None in crss:
            problems.error(
                "the raster has no CRS",
                "give it one, e.g. `gdal_edit.py -a_srs EPSG:32648 FILE` (coverage-gaps never guesses)",
            )
            return None, problems
        if len(crss) > 1:
            problems.error("the tiles of the folder have different CRSs", "reproject them to one CRS first")
            return None, problems
        nodata = datasets[0].nodata
        if len(datasets) == 1:
            ds = datasets[0]
            masked = ds.read(1, masked=True)
            array = np.ma.filled(masked.astype("float32"), np.nan)
            transform = ds.transform
        else:
            mosaic, transform = merge(
                datasets, nodata=nodata if nodata is not None else -32768, dtype="float32"
            )
            array = mosaic[0].astype("float32")
            array[array == (nodata if nodata is not None else -32768)] = np.nan
        crs = CRS.from_wkt(datasets[0].crs.to_wkt())
    finally:
        for ds in datasets:
            ds.close()
    if np.isnan(array).all():
        problems.error("the raster holds only nodata", "check the file")
        return None, problems
    nodata_share = float(np.isnan(array).mean())
    if nodata_share > 0.0:
        problems.warning(
            f"{nodata_share:.2%} of the DEM is nodata (voids); voids near terrain are interpolated "
            "([radio] dem_void_fill_m), signal behind larger ones is reported as unknown, never as no signal",
            "fill large voids with another DEM (e.g. Copernicus GLO-30) if they matter",
        )
    finite = array[np.isfinite(array)]
    if finite.size and (finite.min() < -500 or finite.max() > 9000):
        problems.error(
            f"elevations range from {finite.min():.0f} to {finite.max():.0f} m, outside any terrain on Earth",
            "check the nodata value and the unit (metres)",
        )
    name = path.name if path.is_file() else f"{path.name}/ ({len(files)} tiles)"
    return Raster(array, transform, crs, name="elevation_m", source=name), problems


def read_dem(path: str | Path) -> Raster:
    """Read a digital elevation model.

    Parameters
    ----------
    path
        A GeoTIFF, one SRTM ``.hgt`` tile (GDAL's SRTMHGT driver: EPSG:4326, voids
        −32768), or a folder of such tiles, which are mosaicked.

    Returns
    -------
    Raster
        ``float32`` elevations in metres with ``NaN`` for nodata, in the file's CRS.
    """
    raster, problems = load_dem(path)
    if problems.errors or raster is None:
        cls = MissingCRSError if any("no CRS" in p.message for p in problems.errors) else InputSchemaError
        raise cls(list(problems), f"Cannot read the DEM {path}")
    return raster


def read_population(path: str | Path) -> Raster:
    """Read a population raster (people per cell, e.g. WorldPop); nodata becomes NaN.

    Raises
    ------
    InputSchemaError
        If the raster has no CRS, only nodata, or negative counts.
    """
    raster, problems = load_dem(path, layer_name="population")
    if raster is not None:
        finite = raster.array[np.isfinite(raster.array)]
        if finite.size and finite.min() < 0:
            problems.error("population has negative cells", "check the nodata value of the raster")
    if problems.errors or raster is None:
        raise InputSchemaError(
            [p for p in problems if "elevation" not in p.message], f"Cannot read population {path}"
        )
    return Raster(raster.array, raster.transform, raster.crs, name="population", source=raster.source)


def fill_voids(raster: Raster, max_distance_m: float) -> tuple[Raster, int]:
    """Fill nodata cells within ``max_distance_m`` of valid cells by interpolation.

    Uses GDAL's inverse-distance ``FillNodata`` (no smoothing). Voids farther than
    ``max_distance_m`` from valid cells stay NaN. Returns the new raster and the number
    of cells filled.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> a = np.array([[1, 1, 1], [1, np.nan, 1], [1, 1, 1]], dtype="float32")
    >>> out, n = fill_voids(Raster(a, Affine(30, 0, 0, 0, -30, 90), CRS.from_epsg(32648)), 100.0)
    >>> n, float(out.array[1, 1])
    (1, 1.0)
    """
    voids = np.isnan(raster.array)
    if max_distance_m <= 0 or not voids.any():
        return raster, 0
    res_x, res_y = raster.resolution
    # metres per pixel: degrees are converted at the equatorial length of a degree
    pixel_m = min(res_x, res_y) * (111_320.0 if raster.crs.is_geographic else 1.0)
    search_px = max(1, math.ceil(max_distance_m / pixel_m))
    valid = (~voids).astype("uint8")
    filled = fillnodata(
        np.where(voids, 0.0, raster.array).astype("float32"),
        mask=valid,
        max_search_distance=search_px,
        smoothing_iterations=0,
    )
    # FillNodata leaves unreachable cells at their input value; a 0/1 marker finds them.
    marker = fillnodata(
        valid.astype("float32"), mask=valid, max_search_distance=search_px, smoothing_iterations=0
    )
    still = voids & (marker < 0.5)
    out = np.where(still, np.nan, filled).astype("float32")
    n_filled = int((voids & ~still).sum())
    return Raster(out, raster.transform, raster.crs, name=raster.name, source=raster.source), n_filled


def grid_for_bounds(
    bounds: tuple[float, float, float, float], resolution_m: float
) -> tuple[Affine, tuple[int, int]]:
    """Return the transform and shape of a north-up grid snapped to ``resolution_m``.

    Examples
    --------
    >>> t, shape = grid_for_bounds((100.0, 200.0, 190.0, 260.0), 30.0)
    >>> shape, (t.c, t.f)
    ((3, 4), (90.0, 270.0))
    """
    left, bottom, right, top = bounds
    left = math.floor(left / resolution_m) * resolution_m
    bottom = math.floor(bottom / resolution_m) * resolution_m
    right = math.ceil(right / resolution_m) * resolution_m
    top = math.ceil(top / resolution_m) * resolution_m
    cols = max(1, round((right - left) / resolution_m))
    rows = max(1, round((top - bottom) / resolution_m))
    return Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top), (rows, cols)


def warp_to_grid(
    raster: Raster,
    *,
    crs: CRS,
    transform: Affine,
    shape: tuple[int, int],
    resampling: str = "bilinear",
) -> Raster:
    """Resample ``raster`` onto a target grid; cells outside the source become NaN.

    ``bilinear`` suits elevations. For population counts use ``"sum"`` so that totals
    are preserved when cells are aggregated.
    """
    dst = np.full(shape, np.nan, dtype="float32")
    reproject(
        source=raster.array.astype("float32"),
        destination=dst,
        src_transform=raster.transform,
        src_crs=raster.crs.to_wkt(),
        src_nodata=np.nan,
        dst_transform=transform,
        dst_crs=crs.to_wkt(),
        dst_nodata=np.nan,
        resampling=Resampling[resampling],
    )
    return Raster(dst, transform, crs, name=raster.name, source=raster.source)


def _cell_areas_m2(raster: Raster) -> np.ndarray:
    """Area of each row's cells in m² (geographic CRS: spherical-earth formula)."""
    rows, _cols = raster.shape
    if not raster.crs.is_geographic:
        res_x, res_y = raster.resolution
        return np.full((rows, 1), res_x * res_y)
    # A = R² · Δλ · (sin φ_top − sin φ_bottom), authalic radius 6,371,007 m
    radius = 6_371_007.0
    t = raster.transform
    tops = np.radians(t.f + t.e * np.arange(rows))
    bottoms = np.radians(t.f + t.e * (np.arange(rows) + 1))
    area = radius**2 * np.radians(abs(t.a)) * np.abs(np.sin(tops) - np.sin(bottoms))
    return area[:, None]


def warp_population(raster: Raster, *, crs: CRS, transform: Affine, shape: tuple[int, int]) -> Raster:
    """Resample a population-count raster onto a grid, preserving people.

    Counts are turned into densities (people per m²), averaged onto the target grid
    (which handles both finer and coarser targets), and multiplied by the target cell
    area, so the total over a region is preserved up to edge effects.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> pop = Raster(np.full((2, 2), 100.0, "float32"), Affine(100, 0, 0, 0, -100, 200), CRS.from_epsg(32648))
    >>> fine = warp_population(pop, crs=pop.crs, transform=Affine(50, 0, 0, 0, -50, 200), shape=(4, 4))
    >>> float(fine.array.sum()), float(fine.array[0, 0])
    (400.0, 25.0)
    """
    density = Raster(
        (raster.array / _cell_areas_m2(raster)).astype("float32"),
        raster.transform,
        raster.crs,
        name="density",
    )
    out = warp_to_grid(density, crs=crs, transform=transform, shape=shape, resampling="average")
    cell_m2 = abs(transform.a * transform.e)
    return Raster(
        (out.array * cell_m2).astype("float32"), transform, crs, name="population", source=raster.source
    )
