"""Small value types shared across layers (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

__all__ = ["Raster"]


@dataclass(frozen=True, eq=False)
class Raster:
    """A single-band grid with its georeferencing.

    Parameters
    ----------
    array
        2-D ``float32`` (or ``float64``) values; ``NaN`` marks nodata. Row 0 is north.
    transform
        Affine transform from (col, row) to the CRS coordinates of pixel corners.
    crs
        Coordinate reference system of ``transform``.
    name
        What the values are, with their unit, e.g. ``"elevation_m"`` or ``"rsrp_dbm"``.
    source
        Where the values came from (file name or description), for messages.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    name: str = "value"
    source: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return (int(self.array.shape[0]), int(self.array.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in CRS units."""
        rows, cols = self.shape
        left, top = self.transform @ (0, 0)
        right, bottom = self.transform @ (cols, rows)
        return (min(left, right), min(top, bottom), max(left, right), max(top, bottom))

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size ``(x, y)`` in CRS units (positive)."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def nodata_fraction(self) -> float:
        """Share of cells that are nodata (NaN)."""
        if self.array.size == 0:
            return 1.0
        return float(np.isnan(self.array).mean())
