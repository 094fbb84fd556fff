"""DEM and population readers: GeoTIFF, SRTM .hgt, folders of tiles; nodata is NaN."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from coverage._errors import InputSchemaError, MissingCRSError
from coverage.io import grid_for_bounds, read_dem, read_population, warp_to_grid

from .conftest import DEMO, write_tif

HGT = DEMO / "dem" / "N21E105.hgt"


def test_real_srtm_tile():
    dem = read_dem(HGT)
    assert dem.shape == (1201, 1201)
    assert dem.crs.to_epsg() == 4326
    assert dem.array.dtype == np.float32
    # 1,539 voids (-32768) in the real tile, all NaN (SOURCE.md)
    assert int(np.isnan(dem.array).sum()) == 1539
    assert np.nanmax(dem.array) == 1582
    # Tam Đảo summit area (21.573 N, 105.544 E) is high ground
    col, row = ~dem.transform @ (105.544, 21.573)
    assert dem.array[int(row), int(col)] > 1400


def test_geotiff_nodata_becomes_nan(tmp_path):
    arr = np.arange(20, dtype="int16").reshape(4, 5)
    arr[0, 0] = -9999
    path = write_tif(
        tmp_path / "d.tif",
        arr,
        transform=Affine(30, 0, 500000, 0, -30, 2400000),
        crs="EPSG:32648",
        nodata=-9999,
    )
    dem = read_dem(path)
    assert np.isnan(dem.array[0, 0]) and dem.array[3, 4] == 19


def test_folder_of_tiles_is_mosaicked(tmp_path):
    t = Affine(30, 0, 500000, 0, -30, 2400000)
    a = np.full((4, 5), 10, dtype="float32")
    write_tif(tmp_path / "a.tif", a, transform=t, crs="EPSG:32648", nodata=-1)
    write_tif(tmp_path / "b.tif", a + 5, transform=t @ Affine.translation(5, 0), crs="EPSG:32648", nodata=-1)
    dem = read_dem(tmp_path)
    assert dem.shape == (4, 10)
    assert dem.array[0, 0] == 10 and dem.array[0, 9] == 15
    assert "2 tiles" in dem.source


def test_hgt_in_a_folder(tmp_path):
    shutil.copy(HGT, tmp_path / HGT.name)
    assert read_dem(tmp_path).shape == (1201, 1201)


def test_raster_without_crs_is_refused(tmp_path):
    path = write_tif(
        tmp_path / "d.tif",
        np.ones((3, 3), "float32"),
        transform=Affine(30, 0, 0, 0, -30, 0),
        crs=None,
        nodata=None,
    )
    with pytest.raises(MissingCRSError, match="no CRS"):
        read_dem(path)


def test_all_nodata_and_missing(tmp_path):
    path = write_tif(
        tmp_path / "d.tif",
        np.full((3, 3), -1, "float32"),
        transform=Affine(30, 0, 0, 0, -30, 0),
        crs="EPSG:32648",
        nodata=-1,
    )
    with pytest.raises(InputSchemaError, match="only nodata"):
        read_dem(path)
    with pytest.raises(InputSchemaError, match="file not found"):
        read_dem(tmp_path / "nope.tif")


def test_population_negative_refused(tmp_path):
    path = write_tif(
        tmp_path / "p.tif",
        np.array([[1.0, -2.0]], "float32"),
        transform=Affine(100, 0, 0, 0, -100, 0),
        crs="EPSG:32648",
        nodata=None,
    )
    with pytest.raises(InputSchemaError, match="negative"):
        read_population(path)


def test_warp_to_utm_grid_keeps_nodata_as_nan():
    dem = read_dem(HGT)
    utm = CRS.from_epsg(32648)
    transform, shape = grid_for_bounds((590_000, 2_385_000, 600_000, 2_395_000), 90.0)
    out = warp_to_grid(dem, crs=utm, transform=transform, shape=shape)
    assert out.shape == shape and out.crs == utm
    assert np.isfinite(out.array).mean() > 0.99
    # a grid beyond the tile is all NaN (unknown), not zero
    far_t, far_shape = grid_for_bounds((900_000, 2_385_000, 910_000, 2_395_000), 90.0)
    far = warp_to_grid(dem, crs=utm, transform=far_t, shape=far_shape)
    assert np.isnan(far.array).all()


def test_small_voids_are_filled_large_ones_kept():
    from coverage.io import fill_voids

    dem = read_dem(HGT)
    filled, n = fill_voids(dem, 500.0)
    assert n == 1539 and not np.isnan(filled.array).any()
    # filled values lie within the range of their neighbours (interpolation, not zero)
    void = np.isnan(dem.array)
    assert np.nanmin(filled.array[void]) > -100 and np.nanmax(filled.array[void]) < 1600
    same, n0 = fill_voids(dem, 0.0)
    assert n0 == 0 and same is dem
    # a void far from any terrain stays unknown
    arr = np.full((40, 40), np.nan, "float32")
    arr[0, 0] = 5.0
    big, n_big = fill_voids(type(dem)(arr, Affine(30, 0, 0, 0, -30, 0), CRS.from_epsg(32648)), 100.0)
    assert 0 < n_big < 40 * 40 - 1 and np.isnan(big.array[-1, -1])
