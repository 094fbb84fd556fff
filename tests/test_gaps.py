"""Village signal statistics and gap polygons on hand-made rasters with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point, box

from coverage._types import Raster
from coverage.gaps import area_summary, classify_rsrp, gaps_from_signal, village_signal, wide_column
from coverage.params import GapParams, SignalThresholds, Thresholds
from coverage.propagation import FLOOR_RSRP_DBM, SignalLayer, SignalResult

CRS_M = CRS.from_epsg(32648)
X0, Y0 = 500_000.0, 2_400_000.0  # top-left corner of every test grid


def make_signal(layers: dict[tuple[str, str], np.ndarray], res: float = 30.0) -> SignalResult:
    shape = next(iter(layers.values())).shape
    return SignalResult(
        transform=Affine(res, 0, X0, 0, -res, Y0),
        crs=CRS_M,
        shape=shape,
        layers={
            k: SignalLayer(np.asarray(v, dtype=np.float32), np.zeros(shape, np.int32))
            for k, v in layers.items()
        },
        sites=pd.DataFrame(),
        skipped=pd.DataFrame(),
        warnings=[],
    )


def cell_box(r0: int, c0: int, r1: int, c1: int, res: float = 30.0):
    """Polygon covering rows r0..r1-1, cols c0..c1-1 exactly."""
    return box(X0 + c0 * res, Y0 - r1 * res, X0 + c1 * res, Y0 - r0 * res)


def villages_of(geoms, **cols) -> gpd.GeoDataFrame:
    data = {"village_id": [f"v{i}" for i in range(len(geoms))], **cols}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS_M)


@pytest.mark.parametrize(
    ("rsrp", "expected"),
    [
        (-100.0, "good"),
        (-99.99, "good"),
        (-100.01, "weak"),
        (-115.0, "weak"),
        (-115.01, "none"),
        (FLOOR_RSRP_DBM, "none"),
        (np.nan, "no_data"),
    ],
)
def test_class_edges_4g(rsrp, expected):
    t = Thresholds().lte
    assert classify_rsrp(np.array([rsrp], dtype=np.float32), t)[0] == expected
    # and the same through village_signal at the centre cell
    sig = make_signal({("4G", "any"): np.full((3, 3), rsrp)})
    out = village_signal(villages_of([Point(X0 + 45, Y0 - 45)]), sig, thresholds=Thresholds())
    assert out.wide.loc[0, "class_4g_any"] == expected


@pytest.mark.parametrize(("rsrp", "expected"), [(-105.0, "good"), (-120.0, "weak"), (-120.01, "none")])
def test_class_edges_5g(rsrp, expected):
    assert classify_rsrp(np.array([rsrp], dtype=np.float32), Thresholds().nr)[0] == expected


def test_half_covered_polygon_gives_50_percent():
    arr = np.full((10, 10), -130.0)
    arr[:, :5] = -90.0
    sig = make_signal({("4G", "any"): arr})
    out = village_signal(villages_of([cell_box(2, 1, 6, 9)]), sig, thresholds=Thresholds())
    w = out.wide.iloc[0]
    assert w["zone_cells"] == 32
    assert w["covered_share_4g_any"] == pytest.approx(0.5)
    assert w["good_share_4g_any"] == pytest.approx(0.5)
    assert w["nodata_share_4g_any"] == 0.0
    assert w["best_rsrp_dbm_4g_any"] == pytest.approx(-90.0)
    assert w["zone_area_km2"] == pytest.approx(32 * 900 / 1e6)


def test_weak_counts_as_covered_but_not_good():
    sig = make_signal({("4G", "any"): np.full((5, 5), -110.0)})
    w = village_signal(villages_of([cell_box(0, 0, 5, 5)]), sig, thresholds=Thresholds()).wide.iloc[0]
    assert w["class_4g_any"] == "weak"
    assert w["covered_share_4g_any"] == 1.0
    assert w["good_share_4g_any"] == 0.0


def test_nan_centre_is_no_data_and_nodata_is_left_out_of_the_share():
    arr = np.full((4, 4), -90.0)
    arr[1:3, 1:3] = np.nan  # the centre of the polygon below is unknown
    arr[0, :] = -130.0
    sig = make_signal({("4G", "any"): arr})
    w = village_signal(villages_of([cell_box(0, 0, 4, 4)]), sig, thresholds=Thresholds()).wide.iloc[0]
    assert w["class_4g_any"] == "no_data"
    assert np.isnan(w["rsrp_centre_dbm_4g_any"])
    assert w["nodata_share_4g_any"] == pytest.approx(4 / 16)
    assert w["covered_share_4g_any"] == pytest.approx(8 / 12)  # 4 gap cells of 12 known


def test_all_nodata_zone_has_unknown_share_not_zero():
    sig = make_signal({("4G", "any"): np.full((4, 4), np.nan)})
    w = village_signal(villages_of([cell_box(0, 0, 4, 4)]), sig, thresholds=Thresholds()).wide.iloc[0]
    assert w["class_4g_any"] == "no_data"
    assert np.isnan(w["covered_share_4g_any"])
    assert w["nodata_share_4g_any"] == 1.0


def test_village_outside_grid_is_no_data():
    sig = make_signal({("4G", "any"): np.full((4, 4), -80.0)})
    w = village_signal(villages_of([Point(X0 - 5000, Y0)]), sig, thresholds=Thresholds()).wide.iloc[0]
    assert w["zone_cells"] == 0
    assert w["class_4g_any"] == "no_data"
    assert w["nodata_share_4g_any"] == 1.0


def test_point_disc_area_and_overlapping_discs():
    sig = make_signal({("4G", "any"): np.full((100, 100), -80.0)})
    c = (X0 + 1500 + 15, Y0 - 1500 - 15)  # a cell centre
    v = villages_of([Point(*c), Point(c[0] + 90, c[1])])  # discs overlap
    out = village_signal(v, sig, thresholds=Thresholds(), params=GapParams(village_radius_m=300.0))
    counts = out.wide["zone_cells"].tolist()
    assert counts[0] == counts[1]  # each disc is complete despite the overlap
    assert counts[0] * 900 == pytest.approx(np.pi * 300**2, rel=0.05)


def test_overlapping_polygons_each_get_their_cells():
    arr = np.full((10, 10), -130.0)
    arr[:, :4] = -90.0
    sig = make_signal({("4G", "any"): arr})
    v = villages_of([cell_box(0, 0, 10, 8), cell_box(0, 2, 10, 10), cell_box(0, 0, 1, 1)])
    w = village_signal(v, sig, thresholds=Thresholds()).wide
    assert w["zone_cells"].tolist() == [80, 80, 1]
    assert w["covered_share_4g_any"].tolist() == pytest.approx([0.5, 0.25, 1.0])


def test_polygon_smaller_than_a_cell_uses_its_centre_cell():
    sig = make_signal({("4G", "any"): np.full((3, 3), -95.0)})
    tiny = box(X0 + 40, Y0 - 50, X0 + 45, Y0 - 40)
    w = village_signal(villages_of([tiny]), sig, thresholds=Thresholds()).wide.iloc[0]
    assert w["zone_cells"] == 1
    assert w["class_4g_any"] == "good"


def test_population_weighted_share():
    arr = np.full((4, 4), -130.0)
    arr[:, :2] = -90.0
    pop = np.zeros((4, 4))
    pop[:, :2] = 10.0
    pop[0, 0] = np.nan  # unknown population counts as zero
    sig = make_signal({("4G", "any"): arr})
    raster = Raster(pop.astype("float32"), sig.transform, CRS_M, "population")
    w = village_signal(villages_of([cell_box(0, 0, 4, 4)]), sig, thresholds=Thresholds(), population=raster)
    row = w.wide.iloc[0]
    assert row["covered_share_4g_any"] == pytest.approx(0.5)
    assert row["pop_covered_share_4g_any"] == pytest.approx(1.0)
    assert row["zone_population"] == pytest.approx(70.0)


def test_population_on_another_grid_is_refused():
    sig = make_signal({("4G", "any"): np.full((4, 4), -90.0)})
    raster = Raster(np.zeros((5, 5), "float32"), sig.transform, CRS_M)
    with pytest.raises(ValueError, match="warp it to the signal grid"):
        village_signal(
            villages_of([Point(X0 + 10, Y0 - 10)]), sig, thresholds=Thresholds(), population=raster
        )


def test_distances_per_operator_only_on_air_sites():
    sig = make_signal(
        {
            ("4G", "any"): np.full((3, 3), -90.0),
            ("4G", "Viettel"): np.full((3, 3), -90.0),
            ("4G", "VNPT"): np.full((3, 3), -120.0),
        }
    )
    v = villages_of([Point(X0, Y0)])
    towers = gpd.GeoDataFrame(
        {
            "site_id": ["a", "b", "c", "d"],
            "operator": ["Viettel", "VNPT", "VNPT", "Viettel"],
            "technology": ["4G", "4G", "4G", "5G"],
            "status": ["on_air", "down", "on_air", "on_air"],
        },
        geometry=[Point(X0 + 3000, Y0), Point(X0 + 500, Y0), Point(X0, Y0 + 4000), Point(X0 + 100, Y0)],
        crs=CRS_M,
    )
    w = village_signal(v, sig, thresholds=Thresholds(), towers=towers).wide.iloc[0]
    assert w["dist_site_km_4g_viettel"] == pytest.approx(3.0)
    assert w["dist_site_km_4g_vnpt"] == pytest.approx(4.0)  # the down site at 0.5 km is ignored
    assert w["dist_site_km_4g_any"] == pytest.approx(3.0)
    assert w["class_4g_viettel"] == "good"
    assert w["class_4g_vnpt"] == "none"


def test_long_and_wide_naming():
    sig = make_signal(
        {
            ("4G", "any"): np.full((3, 3), -90.0),
            ("4G", "MobiFone"): np.full((3, 3), -90.0),
            ("5G", "any"): np.full((3, 3), -125.0),
        }
    )
    out = village_signal(
        villages_of([Point(X0 + 45, Y0 - 45)], name=["Bản Nà"]), sig, thresholds=Thresholds()
    )
    assert set(out.long["operator"]) == {"any", "MobiFone"}
    assert len(out.long) == 3
    for col in [
        "rsrp_centre_dbm_4g_any",
        "class_5g_any",
        "covered_share_4g_any",
        "class_4g_mobifone",
        "dist_site_km_4g_mobifone",
        "pop_covered_share_5g_any",
    ]:
        assert col in out.wide.columns
    assert wide_column("covered_share", "5G", "VNPT") == "covered_share_5g_vnpt"
    assert out.wide.loc[0, "name"] == "Bản Nà"
    assert out.wide.crs == CRS_M


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    radius=st.floats(0.0, 200.0),
)
def test_vectorised_matches_brute_force(seed, radius):
    rng = np.random.default_rng(seed)
    res = 30.0
    arr = rng.uniform(-140, -80, size=(20, 25))
    arr[rng.random(arr.shape) < 0.15] = np.nan
    sig = make_signal({("4G", "any"): arr}, res)
    geoms = []
    for _ in range(6):
        x, y = X0 + rng.uniform(-50, 800), Y0 - rng.uniform(-50, 650)
        if rng.random() < 0.5:
            geoms.append(Point(x, y))
        else:
            geoms.append(box(x, y, x + rng.uniform(5, 300), y + rng.uniform(5, 300)))
    v = villages_of(geoms)
    got = village_signal(v, sig, thresholds=Thresholds(), params=GapParams(village_radius_m=radius)).wide
    rows, cols = np.indices(arr.shape)
    cx, cy = X0 + (cols + 0.5) * res, Y0 - (rows + 0.5) * res
    centres = shapely.points(cx.ravel(), cy.ravel())
    for i, g in enumerate(geoms):
        zone = g.buffer(radius, quad_segs=64) if g.geom_type == "Point" else g
        inside = (
            shapely.covers(zone, centres)
            if g.geom_type == "Point"
            else shapely.contains_properly(zone, centres)
        )
        ctr = g if g.geom_type == "Point" else g.representative_point()
        c, r = np.floor((ctr.x - X0) / res), np.floor((Y0 - ctr.y) / res)
        on_grid = 0 <= r < arr.shape[0] and 0 <= c < arr.shape[1]
        if on_grid and (g.geom_type == "Point" or not inside.any()):
            inside = inside.copy()
            inside[int(r) * arr.shape[1] + int(c)] = True
        vals = arr.ravel()[inside]
        known = vals[~np.isnan(vals)]
        assert got.loc[i, "zone_cells"] == pytest.approx(inside.sum(), abs=1 if g.geom_type == "Point" else 0)
        if g.geom_type != "Point" and len(known):
            assert got.loc[i, "covered_share_4g_any"] == pytest.approx((known >= -115).mean())
            assert got.loc[i, "best_rsrp_dbm_4g_any"] == pytest.approx(known.max(), abs=1e-3)
        centre = arr[int(r), int(c)] if on_grid else np.nan
        assert (
            got.loc[i, "class_4g_any"] == classify_rsrp(np.array([centre]), SignalThresholds(-100, -115))[0]
        )


def test_area_summary_per_commune_and_province():
    wide = pd.DataFrame(
        {
            "village_id": ["a", "b", "c", "d"],
            "commune_code": ["001", "001", "002", "003"],
            "commune_name": ["Xã A", "Xã A", "Xã B", "Xã C"],
            "province": ["Tuyên Quang", "Tuyên Quang", "Tuyên Quang", "Thái Nguyên"],
            "population": pd.array([100, 200, None, 50], dtype="Int64"),
            "class_4g_any": ["good", "weak", "none", "no_data"],
            "class_5g_any": ["none", "none", "none", "no_data"],
        }
    )
    s = area_summary(wide)
    assert s["commune_code"].tolist() == ["001", "002", "003"]
    assert s["villages"].tolist() == [2, 1, 1]
    assert s["villages_weak_4g"].tolist() == [1, 0, 0]
    assert s["population_without_good_4g"].tolist() == [200, 0, 0]  # unknown population counts 0
    assert s["population_no_data_4g"].tolist() == [0, 0, 50]
    assert s["villages_none_5g"].tolist() == [2, 1, 0]
    p = area_summary(wide, by="province")
    assert p.set_index("province")["villages"].to_dict() == {"Thái Nguyên": 1, "Tuyên Quang": 3}
    communes = pd.DataFrame(
        {"commune_code": ["001", "004"], "name": ["Xã A", "Xã D"], "province": ["x", "y"]}
    )
    with_all = area_summary(wide, communes=communes)
    assert with_all.set_index("commune_code").loc["004", "villages"] == 0
    with pytest.raises(ValueError, match="expected to be one of"):
        area_summary(wide, by="district")


def test_gap_polygons_classes_area_and_population():
    arr = np.full((10, 10), -90.0)
    arr[:4, :5] = -130.0  # 20 gap cells
    arr[8:, 8:] = np.nan  # 4 unknown cells
    arr[6, 0] = -110.0  # weak: not a gap
    sig = make_signal({("4G", "any"): arr, ("4G", "VNPT"): np.full((10, 10), -130.0)}, res=100.0)
    pop = Raster(np.full((10, 10), 2.0, "float32"), sig.transform, CRS_M)
    g = gaps_from_signal(sig, thresholds=Thresholds(), population=pop)
    assert sorted(g["class"]) == ["no_data", "none"]
    none = g[g["class"] == "none"].iloc[0]
    assert none["area_km2"] == pytest.approx(0.2)
    assert none["population"] == pytest.approx(40.0)
    assert g[g["class"] == "no_data"].iloc[0]["area_km2"] == pytest.approx(0.04)
    assert set(g["technology"]) == {"4G"}  # operator layers are not polygonised
    weak = gaps_from_signal(sig, thresholds=Thresholds(), include_weak=True)
    assert weak[weak["class"] == "weak"]["area_km2"].sum() == pytest.approx(0.01)


def test_gap_polygons_clipped_to_communes():
    arr = np.full((10, 10), -130.0)
    sig = make_signal({("4G", "any"): arr}, res=100.0)
    communes = gpd.GeoDataFrame(
        {"commune_code": ["01", "02"], "name": ["A", "B"], "province": ["P", "P"]},
        geometry=[box(X0, Y0 - 500, X0 + 500, Y0), box(X0 + 500, Y0 - 500, X0 + 700, Y0)],
        crs=CRS_M,
    )
    g = gaps_from_signal(sig, thresholds=Thresholds(), communes=communes)
    assert g.set_index("commune_code")["area_km2"].to_dict() == pytest.approx({"01": 0.25, "02": 0.1})
    assert g["population"].isna().all()


def test_full_coverage_has_no_gap_polygons_and_all_nodata_is_unknown():
    sig = make_signal({("4G", "any"): np.full((5, 5), -80.0)})
    assert len(gaps_from_signal(sig, thresholds=Thresholds())) == 0
    sig = make_signal({("4G", "any"): np.full((5, 5), np.nan)})
    g = gaps_from_signal(sig, thresholds=Thresholds())
    assert g["class"].tolist() == ["no_data"]


def test_no_villages():
    sig = make_signal({("4G", "any"): np.full((3, 3), -90.0)})
    out = village_signal(villages_of([]), sig, thresholds=Thresholds())
    assert len(out.wide) == 0
    assert len(out.long) == 0
    assert "class_4g_any" in out.wide.columns


def test_villages_in_another_crs_are_refused():
    from coverage._errors import CRSMismatchError

    sig = make_signal({("4G", "any"): np.full((3, 3), -90.0)})
    v = villages_of([Point(X0, Y0)]).set_crs("EPSG:9213", allow_override=True)
    with pytest.raises(CRSMismatchError, match="differs from the signal grid CRS"):
        village_signal(v, sig, thresholds=Thresholds())
