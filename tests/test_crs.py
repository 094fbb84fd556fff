"""VN-2000 handling: the EPSG:6960 datum transformation must be applied, never skipped."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Transformer

from coverage.crs import VN2000_PROVINCE_EPSG, lonlat_looks_swapped, utm_crs_for_lonlat, working_crs_for

# Thái Nguyên city centre, WGS 84.
LON, LAT = 105.8442, 21.5942


@pytest.mark.parametrize("epsg", [5899, 9211, 9209, 5897, 9206, 9213])
def test_vn2000_round_trip_within_1_m(epsg):
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    inv = Transformer.from_crs(epsg, 4326, always_xy=True)
    x, y = fwd.transform(LON, LAT)
    lon2, lat2 = inv.transform(x, y)
    metric = Transformer.from_crs(4326, 32648, always_xy=True)
    e1, n1 = metric.transform(LON, LAT)
    e2, n2 = metric.transform(lon2, lat2)
    assert np.hypot(e2 - e1, n2 - n1) < 1.0


def test_datum_shift_is_applied_not_a_bare_datum_swap():
    """Without EPSG:6960 a point moves ~224 m (dE +195, dN -109): DOMAIN.md §1.10."""
    fwd = Transformer.from_crs(4326, 9213, always_xy=True)
    assert "VN-2000 to WGS 84 (2)" in fwd.description
    x, y = fwd.transform(LON, LAT)
    bare = CRS.from_proj4(
        "+proj=tmerc +lat_0=0 +lon_0=106.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m"
    )
    xb, yb = Transformer.from_crs(4326, bare, always_xy=True).transform(LON, LAT)
    shift = np.hypot(xb - x, yb - y)
    assert 215 < shift < 235
    # The common 3-parameter shortcut agrees with EPSG:6960 to well under 1 m.
    three = CRS.from_proj4(
        "+proj=tmerc +lat_0=0 +lon_0=106.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
        "+towgs84=-191.904,-39.303,-111.450 +units=m"
    )
    x3, y3 = Transformer.from_crs(4326, three, always_xy=True).transform(LON, LAT)
    assert np.hypot(x3 - x, y3 - y) < 1.0


def test_province_table_matches_epsg_central_meridians():
    expected = {
        "Quảng Ninh": 107.75,
        "Tuyên Quang": 106.0,
        "Hà Giang": 105.5,
        "Thanh Hóa": 105.0,
        "Sơn La": 104.0,
        "Thái Nguyên": 106.5,
        "Bắc Kạn": 106.5,
    }
    for province, meridian in expected.items():
        crs = CRS.from_epsg(VN2000_PROVINCE_EPSG[province])
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        assert params["Longitude of natural origin"] == pytest.approx(meridian)
        assert params["Scale factor at natural origin"] == pytest.approx(0.9999)


def test_utm_zone_choice(villages):
    assert utm_crs_for_lonlat(104.0, 21.3).to_epsg() == 32648
    assert utm_crs_for_lonlat(109.2, 12.2).to_epsg() == 32649
    assert working_crs_for([villages]).to_epsg() == 32648
    assert working_crs_for([villages], "EPSG:9213").to_epsg() == 9213
    with pytest.raises(ValueError, match="geographic"):
        working_crs_for([villages], "EPSG:4326")


def test_swapped_detection():
    assert lonlat_looks_swapped(np.array([21.1, 22.0]), np.array([105.2, 106.0]))
    assert not lonlat_looks_swapped(np.array([105.2, 106.0]), np.array([21.1, 22.0]))
