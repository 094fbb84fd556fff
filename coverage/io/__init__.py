"""File edges: readers that validate and normalise inputs, and writers for outputs."""

from __future__ import annotations

from coverage.io.layers import read_communes, read_outages, read_villages
from coverage.io.raster import (
    fill_voids,
    grid_for_bounds,
    read_dem,
    read_population,
    warp_population,
    warp_to_grid,
)
from coverage.io.towers import read_towers

__all__ = [
    "fill_voids",
    "grid_for_bounds",
    "read_communes",
    "read_dem",
    "read_outages",
    "read_population",
    "read_towers",
    "read_villages",
    "warp_population",
    "warp_to_grid",
]
