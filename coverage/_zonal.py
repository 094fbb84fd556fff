"""Village zones on a raster grid as a sparse cell -> village index (no file I/O).

A zone is the set of grid cells whose **centre** lies inside the village polygon, or
within ``radius_m`` of a village point (a disc). Zones may overlap (discs of nearby
villages), so they are not burnt into one label raster: each zone is a run of flat
cell indices in :attr:`Zones.cells`, ordered by village, and per-village statistics are
``np.ufunc.reduceat`` over those runs. Memory is O(total zone cells), time
O(villages x cells per zone), never O(villages x grid cells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features

__all__ = ["Zones", "centre_points", "reduce_zones", "village_zones"]

_CHUNK = 16_384  # villages per vectorised disc chunk (bounds peak memory)


@dataclass(frozen=True, eq=False)
class Zones:
    """Cells of every village zone.

    Parameters
    ----------
    cells
        Flat cell indices (``row * width + col``), grouped by village in input order.
    starts
        Start of each village's run in ``cells``; ``counts`` its length (0 = the zone
        misses the grid).
    counts
        Number of cells per village.
    centre_cell
        Flat index of the cell holding the village centre, -1 outside the grid.
    """

    cells: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    centre_cell: np.ndarray


def centre_points(geometry: gpd.GeoSeries) -> np.ndarray:
    """Return the test point of each village: the point itself, else a point inside.

    Polygons use ``representative_point()`` (always inside, unlike the centroid).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pts = centre_points(gpd.GeoSeries([Point(1, 2), box(0, 0, 2, 2)]))
    >>> [(p.x, p.y) for p in pts]
    [(1.0, 2.0), (1.0, 1.0)]
    """
    geoms = np.asarray(geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    out = geoms.copy()
    if (~is_point).any():
        out[~is_point] = shapely.point_on_surface(geoms[~is_point])
    return out


def _cell_of(x: np.ndarray, y: np.ndarray, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    inv = ~transform
    col = np.floor(inv.a * x + inv.b * y + inv.c).astype(np.int64)
    row = np.floor(inv.d * x + inv.e * y + inv.f).astype(np.int64)
    inside = (row >= 0) & (row < shape[0]) & (col >= 0) & (col < shape[1])
    return np.where(inside, row * shape[1] + col, -1)


def _disc_cells(
    x: np.ndarray, y: np.ndarray, radius_m: float, transform: Affine, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(village index, flat cell) pairs of cells whose centre is within the disc."""
    res = abs(transform.a)
    k = math.ceil(radius_m / res) + 1
    offs = np.arange(-k, k + 1)
    dr, dc = (a.ravel() for a in np.meshgrid(offs, offs, indexing="ij"))
    inv = ~transform
    vill_parts, cell_parts = [], []
    for lo in range(0, len(x), _CHUNK):
        xs, ys = x[lo : lo + _CHUNK], y[lo : lo + _CHUNK]
        c0 = np.floor(inv.a * xs + inv.c).astype(np.int64)
        r0 = np.floor(inv.e * ys + inv.f).astype(np.int64)
        rows = r0[:, None] + dr[None, :]
        cols = c0[:, None] + dc[None, :]
        cx = transform.c + (cols + 0.5) * transform.a
        cy = transform.f + (rows + 0.5) * transform.e
        keep = (cx - xs[:, None]) ** 2 + (cy - ys[:, None]) ** 2 <= radius_m**2
        keep |= (dr == 0)[None, :] & (dc == 0)[None, :]  # the centre cell always belongs
        keep &= (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
        vi, _ = np.nonzero(keep)
        vill_parts.append(vi + lo)
        cell_parts.append((rows * shape[1] + cols)[keep])
    return np.concatenate(vill_parts), np.concatenate(cell_parts)


def _colour_batches(geoms: np.ndarray) -> np.ndarray:
    """Greedy colouring so that polygons of one colour share no area."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    if len(left):
        overlap = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 0
        left, right = left[overlap], right[overlap]
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        neighbours.setdefault(b, []).append(a)
    colour = np.zeros(len(geoms), dtype=np.int64)
    for i in sorted(neighbours):
        used = {int(colour[j]) for j in neighbours[i]}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return colour


def _polygon_cells(
    geoms: np.ndarray, transform: Affine, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(polygon index, flat cell) pairs, rasterizing non-overlapping batches."""
    colour = _colour_batches(geoms)
    vill_parts, cell_parts = [], []
    for c in np.unique(colour):
        idx = np.flatnonzero(colour == c)
        labels = features.rasterize(
            ((g, int(i) + 1) for g, i in zip(geoms[idx], idx, strict=True)),
            out_shape=shape,
            transform=transform,
            fill=0,
            dtype="int32",
        )
        flat = np.flatnonzero(labels)
        vill_parts.append(labels.ravel()[flat].astype(np.int64) - 1)
        cell_parts.append(flat)
    return np.concatenate(vill_parts), np.concatenate(cell_parts)


def village_zones(
    geometry: gpd.GeoSeries, transform: Affine, shape: tuple[int, int], *, radius_m: float
) -> Zones:
    """Build the zone of every village on the grid ``(transform, shape)``.

    Points get a disc of ``radius_m``; polygons their own cells. The cell holding the
    centre point is always part of the zone, so a village smaller than a cell still
    has one cell (when it lies on the grid).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> z = village_zones(
    ...     gpd.GeoSeries([Point(15, 15), box(0, 0, 20, 10), Point(99, 99)]),
    ...     Affine(10, 0, 0, 0, -10, 30), (3, 3), radius_m=10.0)
    >>> z.counts.tolist(), z.centre_cell.tolist()
    ([5, 2, 0], [4, 7, -1])
    """
    geoms = np.asarray(geometry.values, dtype=object)
    n = len(geoms)
    centres = centre_points(geometry)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    centre_cell = _cell_of(cx, cy, transform, shape) if n else np.zeros(0, np.int64)
    is_point = shapely.get_type_id(geoms) == 0
    vill_parts, cell_parts = [], []
    if is_point.any():
        idx = np.flatnonzero(is_point)
        v, c = _disc_cells(cx[idx], cy[idx], radius_m, transform, shape)
        vill_parts.append(idx[v])
        cell_parts.append(c)
    if (~is_point).any():
        idx = np.flatnonzero(~is_point)
        v, c = _polygon_cells(geoms[idx], transform, shape)
        vill_parts.append(idx[v])
        cell_parts.append(c)
        # polygons smaller than a cell (no cell centre inside): use the centre cell
        has = np.zeros(n, dtype=bool)
        has[idx[v]] = True
        tiny = idx[~has[idx] & (centre_cell[idx] >= 0)]
        vill_parts.append(tiny)
        cell_parts.append(centre_cell[tiny])
    vill = np.concatenate(vill_parts) if vill_parts else np.zeros(0, np.int64)
    cells = np.concatenate(cell_parts) if cell_parts else np.zeros(0, np.int64)
    order = np.argsort(vill, kind="stable")
    vill, cells = vill[order], cells[order]
    counts = np.bincount(vill, minlength=n).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if n else counts
    dtype = np.int32 if shape[0] * shape[1] < 2**31 else np.int64
    return Zones(cells.astype(dtype), starts, counts, centre_cell)


def reduce_zones(ufunc: np.ufunc, values: np.ndarray, zones: Zones, empty: float = np.nan) -> np.ndarray:
    """Apply ``ufunc.reduceat`` to the per-cell ``values`` of each zone.

    ``values`` are already gathered (``array.ravel()[zones.cells]``); villages with an
    empty zone get ``empty``.

    Examples
    --------
    >>> z = Zones(np.array([0, 1, 2]), np.array([0, 2, 3]), np.array([2, 1, 0]), np.array([0, 2, -1]))
    >>> reduce_zones(np.add, np.array([1.0, 2.0, 5.0]), z).tolist()
    [3.0, 5.0, nan]
    """
    out = np.full(len(zones.counts), empty, dtype=np.float64)
    has = zones.counts > 0
    if has.any():
        out[has] = ufunc.reduceat(values, zones.starts[has])
    return out
