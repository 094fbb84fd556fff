"""What-if scenarios: incremental signal equals a full run; scenario files; village comparison."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point

from coverage._errors import NodataWarning
from coverage._types import Raster
from coverage._whatif_toml import scenario_from_toml
from coverage.gaps import village_signal
from coverage.params import RadioParams, Thresholds
from coverage.priority import priority_table
from coverage.propagation import signal_from_towers
from coverage.whatif import (
    AddSite,
    ModifySite,
    RemoveSite,
    Scenario,
    ScenarioError,
    UpgradeSite,
    apply_scenario,
    evaluate_scenario,
    update_signal,
)

N = 160
RES = 30.0
X0, Y0 = 500_000.0, 2_400_000.0
RADIO = RadioParams(max_radius_km=2.0)
TH = Thresholds()


@pytest.fixture(scope="module")
def dem() -> Raster:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:N, 0:N]
    arr = (200 + 80 * np.sin(xx / 15.0) * np.cos(yy / 18.0) + rng.normal(0, 3, (N, N))).astype("float32")
    arr[5:12, 100:110] = np.nan  # a void: unknown signal must stay unknown
    return Raster(arr, Affine(RES, 0, X0, 0, -RES, Y0 + N * RES), CRS.from_epsg(32648))


@pytest.fixture(scope="module")
def towers(dem: Raster) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for i in range(8):
        x, y = X0 + rng.uniform(300, N * RES - 300), Y0 + rng.uniform(300, N * RES - 300)
        op = ["Viettel", "VNPT", "MobiFone"][i % 3]
        for k, az in enumerate([0.0, 120.0, 240.0]):
            rows.append(
                {
                    "site_id": f"S{i:02d}",
                    "sector_id": f"S{i:02d}-{k}",
                    "operator": op,
                    "technology": "4G",
                    "band_mhz": 1800.0,
                    "antenna_height_m": 30.0,
                    "azimuth_deg": az,
                    "tilt_deg": 3.0,
                    "eirp_dbm": 62.5,
                    "status": "on_air",
                    "geometry": Point(x, y),
                }
            )
        if i % 3 == 0:
            rows.append(
                {
                    "site_id": f"S{i:02d}",
                    "sector_id": None,
                    "operator": op,
                    "technology": "5G",
                    "band_mhz": 3700.0,
                    "antenna_height_m": 30.0,
                    "azimuth_deg": np.nan,
                    "tilt_deg": 3.0,
                    "eirp_dbm": 77.0,
                    "status": "on_air",
                    "geometry": Point(x, y),
                }
            )
    return gpd.GeoDataFrame(rows, crs=dem.crs)


@pytest.fixture(scope="module")
def base(towers: gpd.GeoDataFrame, dem: Raster):
    return signal_from_towers(towers, dem, params=RADIO, thresholds=TH)


@pytest.fixture(scope="module")
def base_ru(towers: gpd.GeoDataFrame, dem: Raster):
    """Baseline keeping the runner-up state (incremental removals without the neighbours)."""
    return signal_from_towers(towers, dem, params=RADIO, thresholds=TH, runner_up=True)


@pytest.fixture(scope="module")
def villages(dem: Raster) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    n = 40
    pts = [Point(X0 + x, Y0 + y) for x, y in rng.uniform(100, N * RES - 100, (n, 2))]
    return gpd.GeoDataFrame(
        {
            "village_id": [f"V{i:02d}" for i in range(n)],
            "name": [f"Village {i}" for i in range(n)],
            "population": rng.integers(50, 2000, n),
            "has_grid_power": [True] * n,
        },
        geometry=pts,
        crs=dem.crs,
    )


def _ids(sig, layer):
    s = sig.sites
    names = (s["site_id"].astype(str) + "/" + s["sector_id"].fillna("").astype(str)).to_numpy()
    names = np.append(names, "")  # a layer without sectors serves none
    return np.where(layer.serving_site >= 0, names[np.maximum(layer.serving_site, 0)], "")


def assert_same_signal(got, full):
    for key, lay in full.layers.items():
        assert key in got.layers, key
        np.testing.assert_array_equal(got.layers[key].rsrp_dbm, lay.rsrp_dbm, err_msg=str(key))
        np.testing.assert_array_equal(_ids(got, got.layers[key]), _ids(full, lay), err_msg=str(key))


SCENARIOS = {
    "add": Scenario(
        (
            AddSite(
                "NEW",
                "VNPT",
                X0 + 2400,
                Y0 + 2500,
                crs="EPSG:32648",
                azimuth_deg=(0, 120, 240),
                antenna_height_m=35,
            ),
        )
    ),
    "add_new_operator": Scenario((AddSite("NEW", "Vietnamobile", X0 + 2400, Y0 + 2500, crs="EPSG:32648"),)),
    "remove": Scenario((RemoveSite("S03"),)),
    "remove_sector": Scenario((RemoveSite("S03", sector_id="S03-1"),)),
    "remove_5g": Scenario((RemoveSite("S00", technology="5G"),)),
    "height": Scenario((ModifySite("S05", antenna_height_m=50.0),)),
    "rotate": Scenario((ModifySite("S05", rotate_deg=45.0),)),
    "upgrade": Scenario((UpgradeSite("S01"),)),
    "mixed": Scenario(
        (
            RemoveSite("S00"),
            UpgradeSite("S02"),
            AddSite("N2", "Viettel", X0 + 600, Y0 + 600, crs="EPSG:32648"),
        )
    ),
}


SCENARIOS["remove_two"] = Scenario((RemoveSite("S03"), RemoveSite("S05"), RemoveSite("S06")))
SCENARIOS["remove_all"] = Scenario(tuple(RemoveSite(f"S{i:02d}") for i in range(8)))


@pytest.mark.parametrize("runner_up", [False, True], ids=["window", "runner_up"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_incremental_equals_full_recompute(name, runner_up, towers, dem, base, base_ru):
    after, touched = apply_scenario(towers, SCENARIOS[name])
    baseline = base_ru if runner_up else base
    upd = update_signal(baseline, dem, towers, after, touched, params=RADIO, thresholds=TH)
    full = signal_from_towers(after, dem, params=RADIO, thresholds=TH)
    assert_same_signal(upd.signal, full)
    assert upd.windows


def test_runner_up_is_the_best_other_site(towers, dem, base_ru):
    """Brute force: every site alone, then per cell the best site other than the serving one."""
    assert_same_signal(base_ru, signal_from_towers(towers, dem, params=RADIO, thresholds=TH))
    ids = sorted(towers["site_id"].unique())
    alone = {
        i: signal_from_towers(
            towers[towers["site_id"] == i], dem, params=RADIO, thresholds=TH, runner_up=True
        )
        for i in ids
    }
    sites = base_ru.sites["site_id"].astype(str).to_numpy()
    full_box = (0, dem.shape[0], 0, dem.shape[1])

    def raw(sig, key):
        if key not in sig.runner_up:
            return np.full(dem.shape, -np.inf, np.float32), np.full(dem.shape, -1)
        return sig.runner_up[key].best(sig.layers[key], full_box)

    for key, ru in base_ru.runner_up.items():
        per_site = np.stack([raw(alone[i], key)[0] for i in ids])
        best, serving = raw(base_ru, key)
        np.testing.assert_array_equal(best, per_site.max(axis=0))
        serving_site = np.where(serving >= 0, sites[np.maximum(serving, 0)], "")
        np.testing.assert_array_equal(serving_site[best == -np.inf], "")
        others = np.where(np.array(ids)[:, None, None] == serving_site[None], -np.inf, per_site)
        np.testing.assert_array_equal(ru.second_dbm, others.max(axis=0), err_msg=str(key))
        has = ru.second_site >= 0
        assert (sites[ru.second_site[has]] != serving_site[has]).all()
        unknown = sum(alone[i].runner_up[key].unknown.astype(int) for i in ids if key in alone[i].runner_up)
        np.testing.assert_array_equal(ru.unknown, unknown)
        assert len(ru.unresolved) == int(
            (np.isnan(base_ru.layers[key].rsrp_dbm) & ~np.isnan(dem.array)).sum()
        )
    assert base_ru.runner_up[("4G", "any")].unknown.max() > 0  # the void is on some paths


def test_runner_up_removal_computes_only_the_changed_site(towers, dem, base_ru):
    after, touched = apply_scenario(towers, SCENARIOS["remove"])
    upd = update_signal(base_ru, dem, towers, after, touched, params=RADIO, thresholds=TH)
    n_s03 = int((base_ru.sites["site_id"] == "S03").sum())
    assert upd.sectors_computed == n_s03  # the removed site alone, for its unknowns


def test_add_only_computes_the_new_sectors(towers, dem, base):
    after, touched = apply_scenario(towers, SCENARIOS["upgrade"])
    upd = update_signal(base, dem, towers, after, touched, params=RADIO, thresholds=TH)
    assert upd.sectors_computed == 3  # the three 5G sectors, not the 4G ones nor the neighbours


def test_empty_scenario_is_the_baseline_bit_for_bit(towers, dem, base, villages):
    before = priority_table(village_signal(villages, base, thresholds=TH, towers=towers).wide)
    res = evaluate_scenario(
        Scenario(),
        signal=base,
        dem=dem,
        towers=towers,
        villages=villages,
        baseline_priority=before,
        radio=RADIO,
        thresholds=TH,
    )
    assert res.signal is base
    for key, lay in base.layers.items():
        assert res.signal.layers[key].rsrp_dbm.tobytes() == lay.rsrp_dbm.tobytes()
    pd.testing.assert_frame_equal(res.priority, before)
    assert res.newly_covered_population == 0
    assert (res.comparison["change_4g"] == "").all()


def test_unknown_site_id_names_file_change_and_closest_ids(towers):
    s = Scenario((RemoveSite("S0", line=7),), source="plans/hill.toml")
    with pytest.raises(ScenarioError) as err:
        apply_scenario(towers, s)
    msg = str(err.value)
    assert "plans/hill.toml" in msg and "change 1" in msg and "line 7" in msg and "'S0'" in msg
    assert "closest existing ids: S0" in msg


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (RemoveSite("S01", sector_id="X"), "has no sector 'X'"),
        (RemoveSite("S01", technology="5G"), "has no 5G rows"),
        (AddSite("S01", "VNPT", 105.0, 21.0), "already exists"),
        (UpgradeSite("S00"), "already has 5G"),
        (ModifySite("S01", azimuth_deg=(10.0,)), "1 azimuth(s) given for 3 sector row(s)"),
    ],
)
def test_bad_changes_are_clear_errors(towers, change, text):
    with pytest.raises(ScenarioError, match=__import__("re").escape(text)):
        apply_scenario(towers, Scenario((change,)))


def test_upgrade_copies_the_mast(towers):
    after, touched = apply_scenario(towers, Scenario((UpgradeSite("S01", band_mhz=2600.0),)))
    new = after[(after["site_id"] == "S01") & (after["technology"] == "5G")]
    old = towers[(towers["site_id"] == "S01")]
    assert sorted(new["azimuth_deg"]) == sorted(old["azimuth_deg"]) and (new["band_mhz"] == 2600.0).all()
    assert (new["eirp_dbm"] == 77.0).all() and touched == {"S01"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    x=st.floats(200, N * RES - 200),
    y=st.floats(200, N * RES - 200),
    h=st.floats(10, 60),
    band=st.sampled_from([700.0, 1800.0, 2600.0]),
    op=st.sampled_from(["VNPT", "Viettel", "iTel"]),
)
def test_adding_a_site_never_increases_uncovered_population(towers, dem, base, villages, x, y, h, band, op):
    before = priority_table(village_signal(villages, base, thresholds=TH, towers=towers).wide)
    s = Scenario((AddSite("H", op, X0 + x, Y0 + y, crs="EPSG:32648", antenna_height_m=h, band_mhz=band),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NodataWarning)  # a site drawn on the DEM void is skipped
        res = evaluate_scenario(s, signal=base, dem=dem, towers=towers, villages=villages,
                                baseline_priority=before, radio=RADIO, thresholds=TH)  # fmt: skip
    # cell by cell: a covered cell stays covered, a known value never drops
    weak = TH.lte.weak_dbm
    b4, a4 = base.layers["4G", "any"].rsrp_dbm, res.signal.layers["4G", "any"].rsrp_dbm
    assert not ((b4 >= weak) & ~(a4 >= weak)).any()
    known = ~np.isnan(b4) & ~np.isnan(a4)
    assert (a4[known] >= b4[known]).all()
    # per village: no centre loses 4G, and uncovered population never grows. (An unknown cell is
    # only settled once a known value reaches the 4G weak threshold, so a new site can turn an
    # unknown cell into a covered one but never into a known gap.)
    assert not res.comparison["lost_4g"].any()
    b = before.set_index("village_id")
    a = res.priority.set_index("village_id").reindex(b.index)
    grew = a["uncovered_population"] > b["uncovered_population"] + 1e-9
    assert not grew.any(), a.loc[grew, ["uncovered_population"]].join(
        b[["uncovered_population"]], rsuffix="_before"
    )
    covered = lambda p: (p["population"] * p["class_4g_any"].isin(["weak", "good"])).sum()  # noqa: E731
    assert covered(res.priority) >= covered(before)


TOML = """
[scenario]
name = "demo"

[[change]]
action = "add"
site_id = "N1"
operator = "vinaphone"
lon = 105.5
lat = 21.7
azimuth_deg = [0, 120, 240]

[[change]]
action = "remove"
site_id = "S01"
"""


def test_scenario_toml_round_trip():
    s = scenario_from_toml(TOML, source="s.toml")
    assert s.name == "demo" and [c.action for c in s.changes] == ["add", "remove"]
    assert s.changes[0].operator == "VNPT" and s.changes[0].azimuth_deg == (0.0, 120.0, 240.0)
    assert [c.line for c in s.changes] == [5, 13]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            TOML.replace("operator =", "operater ="),
            "change 1 (line 8): unknown key 'operater' for action 'add'; did you mean 'operator'?",
        ),
        (TOML.replace('action = "remove"', 'action = "remvoe"'), "did you mean 'remove'?"),
        (TOML.replace("lat = 21.7\n", ""), "give lon and lat"),
        ("[scenari]\nname = 'x'\n", "did you mean 'scenario'?"),
        ("[[change]]\naction = 'add'\nsite_id = 'A'\noperator = 'VNPT'\nx = 1\ny = 2\n", "need a crs"),
        (
            "[[change]]\naction = 'add'\nsite_id = 'A'\noperator = 'Orange'\nlon = 1\nlat = 2\n",
            "unknown operator",
        ),
    ],
)
def test_scenario_toml_errors(text, expected):
    with pytest.raises(ScenarioError, match=__import__("re").escape(expected)):
        scenario_from_toml(text, source="s.toml")


@pytest.mark.parametrize("name", ["remove", "height", "mixed"])
def test_runner_up_with_itm_equals_full_recompute(name, towers, dem):
    """Longley-Rice layers (no pruning) take the same runner-up path."""
    radio = RadioParams(max_radius_km=1.2, model="itm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ITM validity messages of the short paths
        base = signal_from_towers(towers, dem, params=radio, thresholds=TH, runner_up=True)
        after, touched = apply_scenario(towers, SCENARIOS[name])
        upd = update_signal(base, dem, towers, after, touched, params=radio, thresholds=TH)
        full = signal_from_towers(after, dem, params=radio, thresholds=TH)
    assert_same_signal(upd.signal, full)


@pytest.mark.parametrize("runner_up", [False, True], ids=["window", "runner_up"])
def test_sector_values_do_not_depend_on_the_sectors_sharing_its_mast(runner_up, dem):
    """A 5G sector with a shorter radius than the 4G one on the same mast (another radial
    table): upgrading, or adding a co-located site, equals a full run."""
    from coverage.params import SignalThresholds

    th = Thresholds(SignalThresholds(-70.0, -80.0), SignalThresholds(-75.0, -85.0))  # 5G radius < 4G
    x, y = X0 + 60.5 * RES, Y0 + 60.5 * RES
    row = {"site_id": "A", "sector_id": "A1", "operator": "Viettel", "technology": "4G", "band_mhz": 900.0}
    row |= {
        "antenna_height_m": 30.0,
        "azimuth_deg": 0.0,
        "tilt_deg": 0.0,
        "eirp_dbm": 70.0,
        "status": "on_air",
    }
    towers = gpd.GeoDataFrame([{**row, "geometry": Point(x, y)}], crs=dem.crs)
    radio = RadioParams(max_radius_km=2.0)
    base = signal_from_towers(towers, dem, params=radio, thresholds=th, runner_up=runner_up)
    for sc in (
        Scenario((UpgradeSite("A"),)),
        Scenario((AddSite("B", "VNPT", x, y, crs="EPSG:32648", technology="5G", antenna_height_m=30.0),)),
    ):
        after, touched = apply_scenario(towers, sc)
        full = signal_from_towers(after, dem, params=radio, thresholds=th)
        radii = full.sites.groupby("technology")["radius_m"].max()
        bucket = np.ceil(np.ceil(radii / RES) / 32)  # radial-table buckets (grid._TABLE_STEP)
        assert bucket["5G"] < bucket["4G"]
        upd = update_signal(base, dem, towers, after, touched, params=radio, thresholds=th)
        assert_same_signal(upd.signal, full)
