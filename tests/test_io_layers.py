"""Readers: every format, the schema, and every problem reported at once."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon

from coverage._errors import (
    CoverageWarning,
    CRSMismatchError,
    GeometryRepairedWarning,
    InputSchemaError,
    MissingCRSError,
)
from coverage.io import read_communes, read_outages, read_villages


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_villages_vector_formats(tmp_path, villages, suffix):
    path = tmp_path / f"villages{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Shapefile truncates names to 10 characters
        villages.to_file(path)
    out = read_villages(path)
    assert list(out["village_id"]) == list(villages["village_id"])
    assert out.crs.to_epsg() == 32648
    assert out["population"].tolist() == [1200, 1800, 900, 1100]
    assert out["has_grid_power"].tolist() == [True, True, False, True]
    # optional columns exist, empty
    assert out["schools"].isna().all()


def test_villages_csv_lonlat_defaults_to_wgs84(tmp_path, villages):
    ll = villages.to_crs(4326)
    df = pd.DataFrame(ll.drop(columns="geometry"))
    df["lon"], df["lat"] = ll.geometry.x, ll.geometry.y
    df.to_csv(tmp_path / "v.csv", index=False)
    out = read_villages(tmp_path / "v.csv")
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(out.to_crs(32648).geometry.x, villages.geometry.x, atol=0.01)
    assert out["name"].iloc[0] == "Thôn Nà Lạ"


def test_villages_xlsx_and_column_mapping(tmp_path, villages):
    ll = villages.to_crs(4326)
    df = pd.DataFrame(
        {
            "Mã thôn": ll["village_id"],
            "Tên thôn": ll["name"],
            "commune_code": ll["commune_code"],
            "Kinh do": ll.geometry.x,
            "Vi do": ll.geometry.y,
        }
    )
    df.to_excel(tmp_path / "v.xlsx", index=False)
    out = read_villages(
        tmp_path / "v.xlsx",
        columns={"village_id": "Mã thôn", "name": "Tên thôn"},
        x_column="kinh_do",
        y_column="vi_do",
        crs="EPSG:4326",
    )
    assert out["name"].tolist() == ll["name"].tolist()


def test_vn2000_xy_needs_declared_crs_and_detects_swap(tmp_path, villages):
    vn = villages.to_crs(9213)
    df = pd.DataFrame(
        {
            "village_id": vn["village_id"],
            "name": vn["name"],
            "commune_code": vn["commune_code"],
            "x": vn.geometry.x,
            "y": vn.geometry.y,
        }
    )
    df.to_csv(tmp_path / "v.csv", index=False)
    with pytest.raises(MissingCRSError, match="no crs is declared"):
        read_villages(tmp_path / "v.csv")
    out = read_villages(tmp_path / "v.csv", crs="EPSG:9213")
    # round trip to the original UTM points within 1 m (datum transformation applied)
    back = out.to_crs(32648)
    assert np.hypot(back.geometry.x - villages.geometry.x, back.geometry.y - villages.geometry.y).max() < 1.0
    # Surveyor order: X = northing first.
    swapped = df.rename(columns={"x": "y", "y": "x"})
    swapped.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(InputSchemaError, match="look swapped"):
        read_villages(tmp_path / "s.csv", crs="EPSG:9213")


def test_swapped_lonlat(tmp_path, villages):
    ll = villages.to_crs(4326)
    df = pd.DataFrame(
        {
            "village_id": ll["village_id"],
            "name": ll["name"],
            "commune_code": ll["commune_code"],
            "lon": ll.geometry.y,
            "lat": ll.geometry.x,
        }
    )
    df.to_csv(tmp_path / "v.csv", index=False)
    with pytest.raises(InputSchemaError, match="'lon' and 'lat' look swapped"):
        read_villages(tmp_path / "v.csv")


def test_vector_without_crs(tmp_path, villages):
    path = tmp_path / "v.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        villages.to_file(path)
    (tmp_path / "v.prj").unlink()
    with pytest.raises(MissingCRSError, match="no coordinate reference system"):
        read_villages(path)
    assert read_villages(path, crs="EPSG:32648").crs.to_epsg() == 32648


def test_declared_crs_must_not_contradict_the_file(tmp_path, villages):
    villages.to_file(tmp_path / "v.gpkg")
    with pytest.raises(CRSMismatchError, match="differs from the declared crs"):
        read_villages(tmp_path / "v.gpkg", crs="EPSG:9213")


def test_every_problem_reported_at_once(tmp_path, villages):
    bad = villages.copy()
    bad.loc[1, "village_id"] = bad.loc[0, "village_id"]
    bad["population"] = bad["population"].astype(object)
    bad.loc[2, "population"] = "nhiều"
    bad.loc[3, "population"] = -5
    bad = bad.drop(columns="commune_code")
    bad.to_file(tmp_path / "v.gpkg")
    with pytest.raises(InputSchemaError) as info:
        read_villages(tmp_path / "v.gpkg")
    text = str(info.value)
    assert "required column 'commune_code'" in text
    assert "duplicate village_id (village_id='00001-01') in feature 1, feature 2" in text
    assert "feature 3" in text and "'population' is not a number" in text
    assert "'population' = -5 is outside the physical range" in text
    assert sum(p.severity == "error" for p in info.value.problems) == 4


def test_empty_layer_and_missing_file(tmp_path, villages):
    villages.iloc[:0].to_file(tmp_path / "v.gpkg")
    with pytest.raises(InputSchemaError, match="empty"):
        read_villages(tmp_path / "v.gpkg")
    with pytest.raises(InputSchemaError, match="file not found"):
        read_villages(tmp_path / "missing.gpkg")


def test_multilayer_gpkg_needs_a_layer(tmp_path, villages, communes):
    path = tmp_path / "all.gpkg"
    villages.to_file(path, layer="villages")
    communes.to_file(path, layer="communes")
    with pytest.raises(InputSchemaError, match="2 layers"):
        read_villages(path)
    assert len(read_villages(path, layer="villages")) == 4


def test_inputs_are_never_modified(tmp_path, villages):
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    before = path.read_bytes()
    read_villages(path)
    assert path.read_bytes() == before


def test_communes_invalid_polygon_repaired_with_warning(tmp_path, communes):
    bow = Polygon([(580_000, 2_390_000), (581_000, 2_391_000), (581_000, 2_390_000), (580_000, 2_391_000)])
    c = communes.copy()
    c.loc[0, "geometry"] = bow
    c.to_file(tmp_path / "c.gpkg")
    with pytest.warns(GeometryRepairedWarning):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            warnings.simplefilter("always", GeometryRepairedWarning)
            out = read_communes(tmp_path / "c.gpkg")
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].area == pytest.approx(500_000, rel=1e-6)


def test_communes_reject_points(tmp_path, villages):
    v = villages.rename(columns={"name": "name"}).assign(province="X")
    v.to_file(tmp_path / "c.gpkg")
    with pytest.raises(InputSchemaError, match="geometry type"):
        read_communes(tmp_path / "c.gpkg")


def _outages(tmp_path):
    rows = [
        {
            "report_id": "R1",
            "reported_at": "2026-09-01T08:00:00+07:00",
            "lon": 105.8,
            "lat": 21.6,
            "village_id": "",
            "operator": "VinaPhone",
            "technology": "4G",
            "kind": "no_signal",
            "reporter_name": "Nguyễn Văn A",
            "reporter_phone": "0912 345 678",
            "ghi_chu": "gọi 0912345678",
        },
        {
            "report_id": "R2",
            "reported_at": "2026-09-02T09:00:00+07:00",
            "lon": "",
            "lat": "",
            "village_id": "00001-01",
            "operator": "viettel",
            "technology": "4G",
            "kind": "weak",
            "reporter_name": "Nguyễn Văn A",
            "reporter_phone": "+84912345678",
            "ghi_chu": "",
        },
    ]
    path = tmp_path / "o.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_outages_drop_personal_data(tmp_path):
    path = _outages(tmp_path)
    with pytest.warns(CoverageWarning, match="ghi_chu"):
        out = read_outages(path)
    assert "reporter_name" not in out.columns and "reporter_phone" not in out.columns
    assert "ghi_chu" not in out.columns
    assert out["operator"].tolist() == ["VNPT", "Viettel"]
    # the same phone written two ways is the same reporter
    assert out["reporter_key"].iloc[0] == out["reporter_key"].iloc[1]
    assert "0912" not in "".join(out["reporter_key"])
    assert out.geometry.iloc[1] is None
    assert str(out["reported_at"].dt.tz) in ("UTC+07:00", "UTC")


def test_outage_without_place_or_bad_kind(tmp_path):
    df = pd.read_csv(_outages(tmp_path), dtype=str, keep_default_na=False).drop(columns="ghi_chu")
    df.loc[1, "village_id"] = ""
    df.loc[0, "kind"] = "mất sóng"
    df.to_csv(tmp_path / "o2.csv", index=False)
    with pytest.raises(InputSchemaError) as info:
        read_outages(tmp_path / "o2.csv")
    text = str(info.value)
    assert "neither coordinates nor a village_id" in text
    assert "'kind' = 'mất sóng' is not one of" in text


def test_unknown_operator_suggests(tmp_path):
    df = pd.read_csv(_outages(tmp_path), dtype=str, keep_default_na=False).drop(columns="ghi_chu")
    df.loc[0, "operator"] = "Viettell"
    df.to_csv(tmp_path / "o3.csv", index=False)
    with pytest.raises(InputSchemaError, match="Did you mean 'Viettel'"):
        read_outages(tmp_path / "o3.csv")


def test_gdf_types(tmp_path, villages):
    villages.to_file(tmp_path / "v.gpkg")
    out = read_villages(tmp_path / "v.gpkg")
    assert isinstance(out, gpd.GeoDataFrame)
    assert "_row" in out.columns


def test_outage_times_with_mixed_offsets(tmp_path):
    df = pd.read_csv(_outages(tmp_path), dtype=str, keep_default_na=False).drop(columns="ghi_chu")
    df.loc[0, "reported_at"] = "2026-09-14T08:30:00+07:00"
    df.loc[1, "reported_at"] = "2026-09-14T01:30:00Z"
    extra = df.iloc[[0]].assign(report_id="R3", reported_at="2026-09-14 08:30")
    pd.concat([df, extra]).to_csv(tmp_path / "o4.csv", index=False)
    with pytest.warns(CoverageWarning, match="no time-zone offset in 1 rows"):
        out = read_outages(tmp_path / "o4.csv")
    assert str(out["reported_at"].dt.tz) == "UTC"
    # the three forms denote the same instant
    assert out["reported_at"].nunique() == 1
    bad = pd.concat([df, extra.assign(report_id="R4", reported_at="14/09/2026")])
    bad.to_csv(tmp_path / "o5.csv", index=False)
    with pytest.raises(InputSchemaError, match="not an ISO 8601 date-time"):
        read_outages(tmp_path / "o5.csv")
