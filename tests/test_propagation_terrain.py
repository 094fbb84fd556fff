"""Terrain geometry: horizon, shadows, Bullington edge, symmetry (profile and grid)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point

from coverage._types import Raster
from coverage.params import RadioParams, Thresholds
from coverage.propagation import bullington_profile, signal_from_towers
from coverage.propagation.terrain import EARTH_RADIUS_M, _lookup_table, n_radials_for, radial_directions

CRS_UTM = CRS.from_epsg(32648)
RES = 30.0


def make_dem(array, res=RES):
    arr = np.asarray(array, dtype=np.float32)
    return Raster(arr, Affine(res, 0, 500_000.0, 0, -res, 2_300_000.0), CRS_UTM, "elevation_m")


def cell_centre(dem, row, col):
    return dem.transform * (col + 0.5, row + 0.5)


def towers_at(dem, cells, **overrides):
    rows = []
    for i in range(len(cells)):
        rec = {
            "site_id": f"S{i:03d}",
            "sector_id": None,
            "operator": "Viettel",
            "technology": "4G",
            "band_mhz": 1800.0,
            "antenna_height_m": 30.0,
            "azimuth_deg": np.nan,
            "tilt_deg": np.nan,
            "eirp_dbm": 62.5,
            "bandwidth_mhz": np.nan,
            "status": "on_air",
        }
        rec.update(overrides)
        rows.append(rec)
    geoms = [Point(*cell_centre(dem, r, c)) for r, c in cells]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=dem.crs)


# ---------------------------------------------------------------- profiles


def test_horizon_over_flat_spherical_earth():
    k, h_tx, h_rx, step = 4.0 / 3.0, 30.0, 1.5, 30.0
    horizon = math.sqrt(2 * k * EARTH_RADIUS_M * h_tx) + math.sqrt(2 * k * EARTH_RADIUS_M * h_rx)
    assert horizon == pytest.approx(27_624, abs=5)
    los, g, _ = bullington_profile(np.zeros(1200), step, h_tx, h_rx, k)
    last_visible = np.nonzero(los)[0].max() * step
    assert np.all(los[: int(horizon // step) - 1])
    assert abs(last_visible - horizon) <= step
    # beyond the horizon the earth bulge is the diffracting edge
    assert np.all(g[~los] > 0)


def test_shadow_length_behind_a_wall():
    # antenna 30 m, wall 20 m high at 300 m, receivers 1.5 m: the shadow ends where the
    # ray over the wall top comes down to 1.5 m: x = 300 * 28.5 / 10 = 855 m.
    z = np.zeros(100)
    z[10] = 20.0
    los, _, _ = bullington_profile(z, 30.0, 30.0, 1.5, k_factor=1e9)
    shadow = np.nonzero(~los)[0]
    assert shadow.min() == 11
    assert abs(shadow.max() * 30.0 - 855.0) <= 30.0
    assert np.all(los[shadow.max() + 1 :])


def test_single_edge_matches_knife_edge_geometry():
    # one thin obstacle: Bullington's edge is the obstacle itself
    z = np.zeros(41)
    z[15] = 60.0
    los, g, _ = bullington_profile(z, 25.0, 20.0, 1.5, k_factor=1e9)
    i = 40
    d, d1 = i * 25.0, 15 * 25.0
    d2 = d - d1
    ray = 20.0 + (1.5 - 20.0) * d1 / d
    h = 60.0 - ray
    assert not los[i]
    assert g[i] == pytest.approx(h * math.sqrt(2 * d / (d1 * d2)), rel=1e-9)


def test_nodata_on_the_path_makes_everything_behind_unknown():
    z = np.zeros(20)
    z[7] = np.nan
    los, g, _ = bullington_profile(z, 30.0, 30.0, 1.5)
    assert np.all(los[:7]) and np.all(np.isfinite(g[:7]))
    assert np.all(np.isnan(g[7:])) and not np.any(los[7:])


def _naive_bullington(z, step, h_tx, h_rx, k):
    """O(n^2) reference: brute-force steepest rays from both ends."""
    n = len(z) - 1
    curv = 1 / (2 * k * EARTH_RADIUS_M)
    d = np.arange(n + 1) * step
    zc = z - d**2 * curv
    ht = z[0] + h_tx
    out = np.zeros(n + 1)
    for i in range(2, n + 1):
        rx = zc[i] + h_rx
        j = np.arange(1, i)
        s_t = np.max((zc[j] - ht) / d[j])
        m_d = (rx - ht) / d[i]
        if m_d >= s_t:
            continue
        sig = np.min((rx - zc[j]) / (d[i] - d[j]))
        xb = (rx - sig * d[i] - ht) / (s_t - sig)
        out[i] = (s_t - m_d) * xb * math.sqrt(2 * d[i] / (xb * (d[i] - xb)))
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 300.0), min_size=3, max_size=80),
    st.floats(5.0, 60.0),
    st.sampled_from([30.0, 90.0]),
)
def test_incremental_hull_equals_brute_force(heights, h_tx, step):
    z = np.array(heights)
    _, g, _ = bullington_profile(z, step, h_tx, 1.5)
    np.testing.assert_allclose(g, _naive_bullington(z, step, h_tx, 1.5, 4 / 3), rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------- radial geometry


def test_radials_are_unit_and_mirror_exact():
    n = n_radials_for(100)
    dirs = radial_directions(n)
    np.testing.assert_allclose(np.hypot(dirs[:, 0], dirs[:, 1]), 1.0, atol=1e-15)
    k = np.arange(n)
    mirror = (n // 2 - k) % n
    assert np.array_equal(dirs[mirror, 0], -dirs[:, 0]) and np.array_equal(dirs[mirror, 1], dirs[:, 1])


def test_every_cell_maps_to_a_nearby_radial_sample():
    half = 64
    n = n_radials_for(half)
    dirs = radial_directions(n)
    flat = _lookup_table(half, n)
    ridx, sidx = np.divmod(flat, half + 2)
    dr, dc = np.mgrid[-half : half + 1, -half : half + 1]
    inside = np.hypot(dr, dc) <= half
    sx = dirs[ridx, 0] * sidx
    sy = dirs[ridx, 1] * sidx
    err = np.hypot(sx - dc, sy - dr)[inside]
    assert err.max() <= 0.75  # within one cell: radial rounding 0.5 + angular 0.5 at the rim


# ---------------------------------------------------------------- grid


def test_grid_los_flag_flips_at_the_horizon():
    params = RadioParams(model="free_space", max_radius_km=32.0, technologies=("4G",))
    dem = make_dem(np.zeros((5, 1100)))
    towers = towers_at(dem, [(2, 2)], eirp_dbm=80.0)
    res = signal_from_towers(towers, dem, params=params, thresholds=Thresholds(), diagnostics=True)
    los = res.layers["4G", "any"].los[2]
    horizon = math.sqrt(2 * params.k_factor * EARTH_RADIUS_M) * (math.sqrt(30.0) + math.sqrt(1.5))
    last = (np.nonzero(los == 1)[0].max() - 2) * RES
    assert abs(last - horizon) <= RES
    assert np.all(los[2 : 2 + int(horizon // RES) - 1] == 1)
    assert np.all(los[2 + int(horizon // RES) + 2 : 2 + 1000] == 0)


def test_grid_shadow_behind_a_ridge_and_zero_loss_in_los():
    z = np.zeros((61, 121))
    z[:, 40] = 20.0  # a ridge 300 m east of the site (col 30)
    dem = make_dem(z)
    towers = towers_at(dem, [(30, 30)])
    res = signal_from_towers(
        towers, dem, params=RadioParams(technologies=("4G",)), thresholds=Thresholds(), diagnostics=True
    )
    lay = res.layers["4G", "any"]
    row = lay.los[30]
    shadow = np.nonzero(row[31:] == 0)[0] + 31
    assert shadow.min() == 41
    assert abs((shadow.max() - 30) * RES - 855.0) <= RES  # geometry as in the profile test
    assert np.all(lay.terrain_loss_db[lay.los == 1] == 0.0)
    assert np.all(lay.terrain_loss_db[lay.los == 0] > 0.0)
    assert lay.rsrp_dbm[30, 45] < lay.rsrp_dbm[30, 15]  # shadowed vs same distance in the open


def hills(shape, seed):
    rng = np.random.default_rng(seed)
    rows, cols = shape
    yy, xx = np.mgrid[0:rows, 0:cols]
    z = np.zeros(shape)
    for _ in range(12):
        cy, cx = rng.uniform(0, rows), rng.uniform(0, cols)
        z += rng.uniform(20, 200) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(3, 15) ** 2))
    return z


def test_mirrored_terrain_gives_mirrored_signal():
    z = hills((81, 81), seed=3)
    dem = make_dem(z)
    dem_m = make_dem(z[:, ::-1])
    params = RadioParams(technologies=("4G",))
    kw = {"params": params, "thresholds": Thresholds(), "diagnostics": True}
    a = signal_from_towers(towers_at(dem, [(40, 25)], azimuth_deg=60.0, tilt_deg=2.0), dem, **kw)
    b = signal_from_towers(towers_at(dem_m, [(40, 80 - 25)], azimuth_deg=300.0, tilt_deg=2.0), dem_m, **kw)
    la, lb = a.layers["4G", "any"], b.layers["4G", "any"]
    np.testing.assert_array_equal(la.los, lb.los[:, ::-1])
    np.testing.assert_allclose(la.rsrp_dbm, lb.rsrp_dbm[:, ::-1], atol=1e-4)
    np.testing.assert_allclose(la.terrain_loss_db, lb.terrain_loss_db[:, ::-1], atol=1e-4)


def test_terrain_loss_is_continuous_and_nonnegative_on_hills():
    dem = make_dem(hills((101, 101), seed=7))
    res = signal_from_towers(
        towers_at(dem, [(50, 50)]), dem, params=RadioParams(technologies=("4G",)), thresholds=Thresholds(),
        diagnostics=True,
    )  # fmt: skip
    lay = res.layers["4G", "any"]
    assert np.nanmin(lay.terrain_loss_db) >= 0.0
    assert (lay.los == 0).any() and (lay.los == 1).any()
    assert np.all(lay.terrain_loss_db[lay.los == 1] == 0.0)


@pytest.mark.parametrize(
    "heights",
    [
        [100.0, 125.48182743909668, 120.96376082702398, 116.44580016378193, 111.92794544937051,
         107.41019668378975, 101.39255386703962],
        [100.0, 124.65336222374238, 119.30683039631539, 113.96040451771904, 108.61408458795334,
         103.26787060701827, 97.92176257491384, 92.57576049164005, 87.22986435719692, 81.88407417158439,
         76.53838993480251, 71.19281164685128, 65.84733930773069, 60.50197291744074, 55.156712475981415,
         49.81155798335274, 44.4665094395547, 39.1215668445873, 33.77673019845054, 28.431999501144418,
         21.587374752668925, 16.242855953024087, 10.898443102209875, 5.554136200226314, 0.20993524707336397,
         -5.134159757248919, -10.478148812740564],
    ],
    ids=["full-hull", "trimmed-hull"],
)  # fmt: skip
def test_receiver_ray_parallel_to_the_horizon_ray_by_rounding_is_grazing_not_a_crash(heights):
    """Profiles almost on a ray from the antenna (found by fuzzing): rounding gave ``sig == maxm``.

    The Bullington intersection then divided by zero (``ZeroDivisionError`` from numba);
    the edge is grazing: g = 1e-9, not line of sight.
    """
    los, g, _ = bullington_profile(heights, 30.0, 30.0, 1.5)
    assert np.isfinite(g).all()
    assert ((g == 0.0) == los).all()
