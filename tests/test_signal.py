"""signal_from_towers: combination rules, bookkeeping, invariants; write_signal."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point

from coverage._errors import CoverageWarning, CRSMismatchError, InputError, NodataWarning
from coverage._types import Raster
from coverage.io.signal import signal_file_name, write_signal
from coverage.params import RadioParams, Thresholds
from coverage.propagation import FLOOR_RSRP_DBM, model_loss_db, rsrp_offset_db, signal_from_towers

CRS_UTM = CRS.from_epsg(32648)
RES = 30.0
P4G = RadioParams(technologies=("4G",))
TH = Thresholds()


def make_dem(array, res=RES):
    return Raster(
        np.asarray(array, dtype=np.float32),
        Affine(res, 0, 500_000.0, 0, -res, 2_300_000.0),
        CRS_UTM,
        "elevation_m",
    )


def centre(dem, row, col):
    return dem.transform * (col + 0.5, row + 0.5)


def tower(dem, row, col, **kw):
    rec = {
        "site_id": "S1",
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
        "geometry": Point(*centre(dem, row, col)),
    }
    rec.update(kw)
    return rec


def frame(recs, crs=CRS_UTM):
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=crs)


def run(towers, dem, params=P4G, **kw):
    return signal_from_towers(towers, dem, params=params, thresholds=TH, **kw)


# ---------------------------------------------------------------- physics on flat ground


def test_flat_ground_equals_the_empirical_model():
    dem = make_dem(np.zeros((41, 201)))
    res = run(frame([tower(dem, 20, 20)]), dem, diagnostics=True)
    lay = res.layers["4G", "any"]
    d = np.arange(1, 150) * RES
    expected = 62.5 + rsrp_offset_db("4G", 10.0) - model_loss_db("cost231", d, 1800.0, 30.0, 1.5, "rural")
    np.testing.assert_allclose(lay.rsrp_dbm[20, 21:170], expected, atol=2e-3)
    assert np.all(lay.terrain_loss_db[20, 21:170] == 0.0)
    assert res.sites.loc[0, "model"] == "cost231"


def test_plateau_gives_the_same_signal_as_sea_level():
    # heights above ground, not above sea level
    flat0 = run(frame([tower(make_dem(np.zeros((41, 41))), 20, 20)]), make_dem(np.zeros((41, 41))))
    dem500 = make_dem(np.full((41, 41), 500.0))
    flat500 = run(frame([tower(dem500, 20, 20)]), dem500)
    np.testing.assert_allclose(
        flat0.layers["4G", "any"].rsrp_dbm, flat500.layers["4G", "any"].rsrp_dbm, atol=1e-3
    )


@settings(max_examples=25, deadline=None)
@given(
    band=st.sampled_from([700.0, 900.0, 1800.0, 2100.0, 2600.0, 3500.0]),
    height=st.floats(10.0, 60.0),
    env=st.sampled_from(["urban", "suburban", "rural"]),
    eirp=st.floats(40.0, 70.0),
)
def test_rsrp_decreases_with_distance_on_flat_ground(band, height, env, eirp):
    dem = make_dem(np.zeros((3, 400)))
    tech = "5G" if band >= 3000 else "4G"
    params = RadioParams(environment=env, technologies=(tech,))
    rec = tower(dem, 1, 0, band_mhz=band, antenna_height_m=height, eirp_dbm=eirp, technology=tech)
    res = run(frame([rec]), dem, params=params)
    row = res.layers[tech, "any"].rsrp_dbm[1]
    reached = row[row > FLOOR_RSRP_DBM]
    assert reached.size > 3
    assert np.all(np.diff(reached) < 0)


def test_sector_front_and_back_on_flat_ground():
    dem = make_dem(np.zeros((81, 81)))
    res = run(frame([tower(dem, 40, 40, azimuth_deg=90.0, tilt_deg=0.0)]), dem)
    r = res.layers["4G", "any"].rsrp_dbm
    # east = boresight, west = behind: A = -min(-(A_H + A_V), 30) gives A_V in front and
    # -30 dB behind (the front-to-back floor swallows A_V)
    d = 30 * RES
    theta = math.degrees(math.atan((30.0 - 1.5 + d * d / (2 * 4 / 3 * 6_371_000.0)) / d))
    a_v = -12 * (theta / 10.0) ** 2
    assert r[40, 70] - r[40, 10] == pytest.approx(30.0 + a_v, abs=1e-3)
    # north is 90 degrees off axis: 12 * (90/65)^2 = 23.0 dB below boresight
    assert r[40, 70] - r[10, 40] == pytest.approx(12 * (90 / 65) ** 2, abs=1e-3)


# ---------------------------------------------------------------- combination and bookkeeping


def test_site_lands_in_its_cell_and_beyond_radius_is_floor():
    dem = make_dem(np.zeros((300, 300)))
    x, y = dem.transform * (123.4, 45.6)  # inside cell row 45, col 123
    res = run(frame([tower(dem, 0, 0, geometry=Point(x, y))]), dem)
    site = res.sites.iloc[0]
    assert (site["row"], site["col"]) == (45, 123)
    lay = res.layers["4G", "any"]
    assert np.unravel_index(np.argmax(lay.rsrp_dbm), lay.rsrp_dbm.shape) == (45, 123)
    rr, cc = np.mgrid[0:300, 0:300]
    dist = np.hypot(rr - 45, cc - 123) * RES
    assert np.all(lay.rsrp_dbm[dist > site["radius_m"]] == FLOOR_RSRP_DBM)
    assert np.all(lay.serving_site[dist > site["radius_m"]] == -1)
    assert np.all(lay.serving_site[dist < site["radius_m"] - RES] == 0)


def test_radius_is_where_best_case_falls_below_the_floor():
    dem = make_dem(np.zeros((10, 10)))
    res = run(frame([tower(dem, 5, 5)]), dem)
    r = res.sites.loc[0, "radius_m"]
    best = (
        62.5 + rsrp_offset_db("4G", 10.0) - model_loss_db("cost231", [r - RES, r], 1800.0, 30.0, 1.5, "rural")
    )
    limit = TH.lowest_dbm - P4G.radius_margin_db
    assert best[0] >= limit > best[1] or r == P4G.max_radius_km * 1000.0


def test_site_outside_dem_and_on_nodata_are_reported():
    z = np.zeros((20, 20))
    z[5, 5] = np.nan
    dem = make_dem(z)
    recs = [
        tower(dem, 10, 10, site_id="OK"),
        tower(dem, 5, 5, site_id="HOLE"),
        tower(dem, 0, 0, site_id="FAR", geometry=Point(0.0, 0.0)),
        tower(dem, 10, 10, site_id="PLANNED", status="planned"),
        tower(dem, 10, 10, site_id="G2", technology="2G"),
    ]
    with pytest.warns(NodataWarning, match="2 on-air tower row"):
        res = run(frame(recs), dem)
    assert res.sites["site_id"].tolist() == ["OK"]
    reasons = dict(zip(res.skipped["site_id"], res.skipped["reason"], strict=True))
    assert reasons == {"HOLE": "DEM nodata at the site", "FAR": "outside the DEM"}


def test_unknown_bandwidth_is_skipped_with_a_coverage_warning():
    dem = make_dem(np.zeros((10, 10)))
    with pytest.warns(CoverageWarning, match="1 on-air"):
        res = run(frame([tower(dem, 5, 5, bandwidth_mhz=7.0)]), dem)
    assert "7.0 MHz is not one of" in res.skipped.loc[0, "reason"]


def test_nodata_on_the_path_is_nan_not_floor():
    z = np.zeros((61, 200))
    z[:, 60] = np.nan  # a nodata strip 30 cells east of the site
    dem = make_dem(z)
    res = run(frame([tower(dem, 30, 30, eirp_dbm=20.0)]), dem)
    row = res.layers["4G", "any"].rsrp_dbm[30]
    r_cells = res.sites.loc[0, "radius_m"] / RES
    assert np.all(np.isfinite(row[:59]))
    assert np.isnan(row[60])  # nodata cell itself
    behind = np.arange(62, 200)
    inside = behind[behind - 30 < r_cells - 1]
    outside = behind[behind - 30 > r_cells + 1]
    assert inside.size and outside.size
    assert np.all(np.isnan(row[inside]))  # unknown: the path crosses nodata
    assert np.all(row[outside] == FLOOR_RSRP_DBM)  # no site reaches: no signal


def test_covered_cells_stay_covered_despite_unknowns():
    z = np.zeros((41, 120))
    z[:, 40] = np.nan
    dem = make_dem(z)
    recs = [tower(dem, 20, 20, site_id="A"), tower(dem, 20, 60, site_id="B")]
    res = run(frame(recs), dem)
    lay = res.layers["4G", "any"]
    # cells east of the strip are unknown for A but strongly covered by B
    assert np.all(np.isfinite(lay.rsrp_dbm[20, 45:80]))
    assert np.all(lay.serving_site[20, 45:80] == 1)


def test_layers_per_operator_plus_any_and_best_server():
    dem = make_dem(np.zeros((41, 81)))
    recs = [
        tower(dem, 20, 20, site_id="V1", operator="Viettel"),
        tower(dem, 20, 60, site_id="M1", operator="MobiFone"),
        tower(dem, 20, 60, site_id="M2", operator="MobiFone", status="down"),
    ]
    res = run(frame(recs), dem)
    assert sorted(res.layers) == [("4G", "MobiFone"), ("4G", "Viettel"), ("4G", "any")]
    v, m, a = (res.layers["4G", k] for k in ("Viettel", "MobiFone", "any"))
    np.testing.assert_array_equal(a.rsrp_dbm, np.maximum(v.rsrp_dbm, m.rsrp_dbm))
    sites = res.sites
    assert a.serving_site[20, 20] == sites.index[sites.site_id == "V1"][0]
    assert a.serving_site[20, 60] == sites.index[sites.site_id == "M1"][0]
    assert v.path_loss_db is None and v.los is None


def test_results_do_not_depend_on_row_order_and_ties_go_to_lowest_id():
    rng = np.random.default_rng(1)
    z = rng.uniform(0, 80, (60, 60))
    dem = make_dem(z)
    recs = [tower(dem, 30, 30, site_id="B", sector_id="1"), tower(dem, 30, 30, site_id="A", sector_id="2")]
    recs += [tower(dem, int(r), int(c), site_id=f"X{i}", azimuth_deg=float(a))
             for i, (r, c, a) in enumerate(rng.integers(0, 60, (6, 3)) * [1, 1, 6])]  # fmt: skip
    a = run(frame(recs), dem, diagnostics=True)
    b = run(frame(recs[::-1]), dem, diagnostics=True)
    pd.testing.assert_frame_equal(a.sites, b.sites)
    la, lb = a.layers["4G", "any"], b.layers["4G", "any"]
    np.testing.assert_array_equal(la.rsrp_dbm, lb.rsrp_dbm)
    np.testing.assert_array_equal(la.serving_site, lb.serving_site)
    # A/2 and B/1 are identical: A wins the tie
    assert la.serving_site[30, 30] == a.sites.index[a.sites.site_id == "A"][0]


def test_progress_is_incremental():
    dem = make_dem(np.zeros((30, 30)))
    recs = [tower(dem, 5, 5, site_id="A"), tower(dem, 20, 20, site_id="B"), tower(dem, 20, 20, site_id="C")]
    calls: list[int] = []
    run(frame(recs), dem, progress=calls.append)
    assert calls == [1, 3] or calls == [2, 3]
    assert calls == sorted(calls)


def test_crs_checks():
    dem = make_dem(np.zeros((10, 10)))
    with pytest.raises(CRSMismatchError, match="same CRS"):
        run(frame([tower(dem, 5, 5)], crs=CRS.from_epsg(32647)), dem)
    geo = Raster(np.zeros((10, 10), "float32"), Affine(0.001, 0, 105, 0, -0.001, 21), CRS.from_epsg(4326))
    with pytest.raises(InputError, match="projected metric CRS"):
        run(gpd.GeoDataFrame({"technology": []}, geometry=[], crs=CRS.from_epsg(4326)), geo)


def test_location_margin_lowers_rsrp():
    dem = make_dem(np.zeros((21, 21)))
    base = run(frame([tower(dem, 10, 10)]), dem)
    params = RadioParams(technologies=("4G",), location_sigma_db=8.0, cell_edge_probability=0.9)
    low = run(frame([tower(dem, 10, 10)]), dem, params=params)
    diff = base.layers["4G", "any"].rsrp_dbm - low.layers["4G", "any"].rsrp_dbm
    np.testing.assert_allclose(diff, 8.0 * 1.2815516, atol=1e-3)


# ---------------------------------------------------------------- GeoTIFF writer


def test_write_signal_round_trip(tmp_path):
    z = np.zeros((40, 300))
    z[0, 0] = np.nan
    dem = make_dem(z)
    recs = [tower(dem, 20, 20, operator="Viettel"), tower(dem, 20, 250, site_id="S2", operator="VNPT")]
    with pytest.warns(NodataWarning):
        res = run(
            frame([*recs, tower(dem, 0, 0, site_id="OUT", geometry=Point(0, 0))]), dem, diagnostics=True
        )
    paths = write_signal(res, tmp_path / "out", diagnostics=True)
    names = sorted(p.name for p in paths)
    assert names == [
        "signal_4G_VNPT.tif", "signal_4G_Viettel.tif", "signal_4G_any.tif", "sites.csv", "skipped_sites.csv",
    ]  # fmt: skip
    with rasterio.open(tmp_path / "out" / "signal_4G_any.tif") as src:
        assert src.descriptions == ("rsrp_dbm", "serving_site", "path_loss_db", "terrain_loss_db", "los")
        assert src.crs == res.crs and src.transform == res.transform
        assert math.isnan(src.nodata) and src.dtypes[0] == "float32"
        assert src.block_shapes[0] == (256, 256) and src.compression.name == "deflate"
        rsrp, serving = src.read(1), src.read(2)
    lay = res.layers["4G", "any"]
    np.testing.assert_array_equal(rsrp, lay.rsrp_dbm)
    np.testing.assert_array_equal(serving.astype(np.int32), lay.serving_site)
    sites = pd.read_csv(tmp_path / "out" / "sites.csv", index_col="serving_site")
    assert sites["site_id"].tolist() == res.sites["site_id"].tolist()
    skipped = pd.read_csv(tmp_path / "out" / "skipped_sites.csv")
    assert skipped["reason"].tolist() == ["outside the DEM"]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left


def test_write_signal_without_diagnostics_refuses_diag_bands(tmp_path):
    dem = make_dem(np.zeros((10, 10)))
    res = run(frame([tower(dem, 5, 5)]), dem)
    assert len(write_signal(res, tmp_path)) == 4
    with pytest.raises(ValueError, match="diagnostics=True"):
        write_signal(res, tmp_path, diagnostics=True)


def test_signal_file_names_are_safe():
    assert signal_file_name("4G", "Điện Biên / Mobi") == "signal_4G_Dien_Bien_Mobi.tif"


def test_writer_floor_constant_matches_engine():
    from coverage.io import signal as io_signal

    assert io_signal.FLOOR_RSRP_DBM == FLOOR_RSRP_DBM
