"""HTML-level tests of the web map: layers, legend, escaping, offline assets, size."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point, box

from coverage._errors import MissingCRSError
from coverage._map_layers import remote_references
from coverage._map_raster import hillshade, png_palette, rsrp_png, to_display_grid
from coverage._types import Raster
from coverage.maps import gap_map, map_html
from coverage.propagation import SignalLayer, SignalResult

EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
VENDOR = Path(__file__).resolve().parents[1] / "coverage" / "_vendor"
UTM = CRS.from_epsg(32648)
X0, Y0 = 580_000.0, 2_380_000.0


@pytest.fixture
def layers(villages, communes):
    """Small demo-like inputs: classed villages (one malicious name), towers, outages, gaps, signal, DEM."""
    v = villages.copy()
    v.loc[len(v)] = {
        "village_id": "00002-03",
        "name": EVIL,
        "commune_code": "00002",
        "population": 50,
        "has_grid_power": False,
        "geometry": Point(X0 + 15_000, Y0 + 2_000),
    }
    v = gpd.GeoDataFrame(v, geometry="geometry", crs=UTM)
    v["commune_name"] = ["Xã Một", "Xã Một", "Xã Hai", "Xã Hai", "Xã Hai"]
    v["class_4g_any"] = ["good", "weak", "none", None, "none"]
    v["class_4g_viettel"] = ["good", "none", "none", "no_data", "none"]
    v["class_5g_any"] = ["weak", "none", "none", "no_data", "none"]
    v["rsrp_centre_dbm_4g_any"] = [-90.0, -110.0, -200.0, np.nan, -130.0]
    v["covered_share_4g_any"] = [1.0, 0.5, 0.0, np.nan, 0.0]
    v["dist_site_km_4g_any"] = [1.2, 4.0, 9.5, np.nan, 8.0]
    priority = pd.DataFrame(
        {
            "village_id": ["00002-03", "00001-02"],
            "rank": [1, 2],
            "score": [0.8, 0.5],
            "recommended_action": ["new_site", "new_site"],
            "funding_route": ["power_first", "vtf"],
            "status": ["predicted_gap", "predicted_gap"],
        }
    )
    c = communes.copy()
    c.loc[1, "name"] = f"Xã {EVIL}"
    towers = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S1", "S2", "S3"],
            "sector_id": ["S1-1", "S1-2", "", "S3-1"],
            "operator": ["Viettel", "Viettel", "VNPT", EVIL],
            "technology": ["4G", "4G", "4G", "5G"],
            "band_mhz": [900.0, 900.0, 1800.0, 3500.0],
            "antenna_height_m": [30.0, 30.0, 25.0, 30.0],
            "azimuth_deg": [0.0, 120.0, np.nan, 240.0],
            "status": ["on_air", "on_air", "on_air", "planned"],
        },
        geometry=[Point(X0 + 3_000, Y0 + 3_000)] * 2
        + [Point(X0 + 12_000, Y0 + 5_000), Point(X0 + 9_000, Y0 + 1_000)],
        crs=UTM,
    )
    outages = gpd.GeoDataFrame(
        {
            "report_id": ["R1", "R2", "R3"],
            "reported_at": pd.to_datetime(["2026-01-02T08:00+07:00"] * 3),
            "village_id": [None, None, "00001-02"],
            "operator": ["VNPT", "Viettel", "VNPT"],
            "technology": ["4G", "4G", "4G"],
            "kind": ["no_signal", "weak", "power_cut"],
            "reporter_key": ["SECRETKEY0000001", "SECRETKEY0000002", None],
        },
        geometry=[Point(X0 + 15_100, Y0 + 2_100), Point(X0 + 15_200, Y0 + 2_000), None],
        crs=UTM,
    )
    gaps = gpd.GeoDataFrame(
        {
            "technology": ["4G", "4G", "5G"],
            "class": ["none", "no_data", "none"],
            "commune_code": ["00002", "00002", "00001"],
            "area_km2": [4.0, 1.0, 25.0],
            "population": [300.0, np.nan, 1000.0],
        },
        geometry=[
            box(X0 + 13_000, Y0 + 1_000, X0 + 15_000, Y0 + 3_000),
            box(X0 + 16_000, Y0 + 1_000, X0 + 17_000, Y0 + 2_000),
            box(X0, Y0, X0 + 5_000, Y0 + 5_000),
        ],
        crs=UTM,
    )
    transform = Affine(500.0, 0.0, X0 - 1_000, 0.0, -500.0, Y0 + 11_000)
    rows, cols = 24, 44
    rsrp = np.linspace(-140, -70, rows * cols, dtype="float32").reshape(rows, cols)
    rsrp[:4, :4] = np.nan
    rsrp[-4:, -4:] = -200.0
    sig_layers = {
        ("4G", "any"): SignalLayer(rsrp, np.zeros((rows, cols), "int32")),
        ("4G", "Viettel"): SignalLayer(rsrp - 5, np.zeros((rows, cols), "int32")),
        ("5G", "any"): SignalLayer(rsrp - 10, np.zeros((rows, cols), "int32")),
    }
    signal = SignalResult(transform, UTM, (rows, cols), sig_layers, pd.DataFrame(), pd.DataFrame(), [])
    yy, xx = np.mgrid[0:rows, 0:cols]
    dem = Raster((100 + 20 * np.sin(xx / 4) + 10 * yy).astype("float32"), transform, UTM, name="elevation_m")
    return {
        "villages": v,
        "communes": c,
        "towers": towers,
        "outages": outages,
        "gaps": gaps,
        "signal": signal,
        "dem": dem,
        "priority": priority,
    }


def _page(layers, **kwds) -> str:
    return map_html(
        gap_map(layers["villages"], **{k: v for k, v in layers.items() if k != "villages"}, **kwds)
    )


def _control_layers(page: str) -> dict[str, list[str]]:
    """Names of the base layers and overlays of the layer control (JSON-decoded)."""
    block = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},\s*\};", page, re.S)
    assert block, "no layer control in the page"
    return {
        kind: [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', text)]
        for kind, text in zip(("base", "overlays"), block.groups(), strict=True)
    }


def _village_data(page: str) -> dict:
    match = re.search(r"var cg_village_data = (\{.*?\});\n", page)
    assert match
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "vi",
            [
                "Thôn/bản theo sóng 4G",
                "Thôn/bản theo sóng 5G",
                "Phản ánh mất sóng",
                "Trạm BTS Viettel 4G",
                "Trạm BTS VNPT 4G",
                "Ranh giới xã",
                "Vùng lõm sóng 4G",
                "Vùng lõm sóng 5G",
                "Địa hình (bóng đồi, ngoại tuyến)",
                "Bản đồ nền OpenStreetMap (cần Internet)",
                "Cường độ tín hiệu 4G (RSRP)",
                "Cường độ tín hiệu 5G (RSRP)",
            ],
        ),
        (
            "en",
            [
                "Villages by 4G signal",
                "Outage reports",
                "Viettel 4G sites",
                "Commune boundaries",
                "4G gap areas",
                "Terrain (hillshade, offline)",
                "OpenStreetMap basemap (needs Internet)",
                "4G signal strength (RSRP)",
                "5G signal strength (RSRP)",
            ],
        ),
    ],
)
def test_layer_control_lists_every_layer(layers, lang, expected):
    control = _control_layers(_page(layers, lang=lang))
    assert control["base"] == []
    for name in expected:
        assert name in control["overlays"], (name, control["overlays"])
    assert not any("Viettel (RSRP)" in n or "Viettel signal" in n for n in control["overlays"])


def test_per_operator_rsrp_layers(layers):
    control = _control_layers(_page(layers, lang="en", per_operator=True))
    assert "4G Viettel signal strength (RSRP)" in control["overlays"]


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        (
            "vi",
            [
                "Cường độ tín hiệu RSRP (dBm)",
                "Trắng sóng",
                "Lõm sóng / sóng yếu",
                "Có sóng tốt",
                "Không có dữ liệu",
            ],
        ),
        ("en", ["Signal strength RSRP (dBm)", "No signal", "Weak signal", "Good signal", "No data"]),
    ],
)
def test_legend_and_popup_labels(layers, lang, texts):
    page = _page(layers, lang=lang)
    legend = re.search(r'CoverageMap\.legend\([^,]+, [^,]+, (".*?")\);', page)
    assert legend
    html = json.loads(legend.group(1))
    for text in texts:
        assert text in html
    for tick in ("-140", "-115", "-100", "-75"):
        assert f"<span>{tick}</span>" in html


def test_popup_shows_key_figures_and_priority(layers):
    data = _village_data(_page(layers, lang="vi"))
    i = data["name"].index(EVIL)
    popup = data["popup"][i]
    assert EVIL_ESCAPED in popup
    assert "Xây trạm BTS mới" in popup  # recommended_action, translated
    assert "Cấp điện trước" in popup  # funding_route
    assert "Thứ tự ưu tiên" in popup and "<td>1</td>" in popup
    assert data["rank"][i] == 1
    good = data["popup"][data["name"].index("Thôn Nà Lạ")]
    assert "Có sóng tốt" in good and "-90 dBm" in good and "1,2 km" in good and "1.200" in good
    assert "Viettel" in good


def test_every_input_string_is_escaped(layers):
    page = _page(layers)
    assert EVIL not in page
    assert "<img" not in page
    assert EVIL_ESCAPED in page
    assert f"Xã {EVIL_ESCAPED}" in page  # commune label and tooltip
    # Leaflet's layer control inserts layer names as HTML: operator names must be escaped too.
    assert f"Trạm BTS {EVIL_ESCAPED} 5G" in _control_layers(page)["overlays"]


def test_title_is_escaped(layers):
    page = _page(layers, title=f"Tỉnh {EVIL}")
    assert f"<title>Tỉnh {EVIL_ESCAPED}</title>" in page
    assert EVIL not in page


def test_no_personal_outage_fields(layers):
    page = _page(layers)
    assert "SECRETKEY" not in page
    assert "reporter" not in page


def test_offline_no_remote_assets(layers):
    page = _page(layers)
    assert remote_references(page) == []
    assert not re.search(r"<script[^>]*\ssrc=", page, re.I)
    assert not re.search(r"<link[^>]*\shref=", page, re.I)
    assert 'src="http' not in page and "src='http" not in page
    # Only clickable attribution anchors may name a web address: Leaflet's and OSM's.
    hrefs = set(re.findall(r'href=\\?"(https?://[^"\\]+)', page))
    assert hrefs <= {"https://leafletjs.com", "https://www.openstreetmap.org/copyright"}
    assert "sourceMappingURL" not in page
    assert "url(images/" not in page  # Leaflet CSS images are inlined
    assert "data:image/png;base64," in page
    for lib in ("jquery", "bootstrap", "awesome-markers", "font-awesome", "fontawesome"):
        assert lib not in page.lower()


def test_osm_layer_is_off_by_default(layers):
    page = _page(layers)
    name = re.search(r"var (tile_layer_\w+) = L\.tileLayer\(\s*\"https://tile\.openstreetmap\.org", page)
    assert name, "the OSM layer must be offered"
    assert f"{name.group(1)}.addTo(" not in page
    assert "L.tileLayer(" not in page.replace(name.group(0), "")


def test_page_size_bounds(layers):
    page = _page(layers)
    size = len(page.encode("utf-8"))
    assert 150_000 < size < 1_500_000  # vendored Leaflet is ~200 kB; the data here is tiny


def test_villages_reprojected_to_wgs84(layers):
    data = _village_data(_page(layers))
    expected = layers["villages"].to_crs(4326)
    assert data["lat"] == pytest.approx(expected.geometry.y.tolist(), abs=1e-6)
    assert data["lon"] == pytest.approx(expected.geometry.x.tolist(), abs=1e-6)
    assert 21.0 < min(data["lat"]) < 22.0 and 105.0 < min(data["lon"]) < 106.0


def test_village_classes_keep_no_data_apart(layers):
    page = _page(layers)
    calls = re.findall(r'CoverageMap\.villages\([^,]+, [^,]+, "(\w+)", cg_village_data, (\[.*?\]), ', page)
    classes = {key: json.loads(c) for key, c in calls}
    assert classes["4G"] == ["good", "weak", "none", "no_data", "none"]
    assert classes["5G"] == ["weak", "none", "none", "no_data", "none"]


def test_minimal_map_without_optional_layers(villages):
    page = map_html(gap_map(villages, lang="en"))
    control = _control_layers(page)
    assert control["overlays"] == ["Village", "OpenStreetMap basemap (needs Internet)"]
    assert "leaflet.markercluster.js (vendored)" not in page  # the plugin only comes with outages


def test_empty_villages():
    empty = gpd.GeoDataFrame({"village_id": [], "name": []}, geometry=[], crs=UTM)
    assert remote_references(map_html(gap_map(empty))) == []


def test_errors(villages):
    with pytest.raises(ValueError, match=r"`lang` was 'fr'"):
        gap_map(villages, lang="fr")  # type: ignore[arg-type]
    with pytest.raises(MissingCRSError):
        gap_map(villages.set_crs(None, allow_override=True))
    m = gap_map(villages)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        map_html(m)


def test_map_still_displays_online_in_a_notebook(villages):
    """Before map_html, folium writes the pinned CDN links (notebooks); map_html swaps them."""
    raw = gap_map(villages).get_root().render()
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js" in raw
    assert "jquery" not in raw.lower()


# --- rasters -------------------------------------------------------------------------


def _decode_png(png: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Decode an 8-bit palette PNG (filter 0) into (index, RGBA palette)."""
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        chunks[kind] = chunks.get(kind, b"") + png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 3)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert (raw[:, 0] == 0).all()
    rgb = np.frombuffer(chunks[b"PLTE"], np.uint8).reshape(-1, 3)
    alpha = np.frombuffer(chunks[b"tRNS"], np.uint8)
    return raw[:, 1:], np.column_stack([rgb, alpha])


def test_png_palette_round_trip():
    index = np.arange(12, dtype=np.uint8).reshape(3, 4)
    palette = np.column_stack([np.arange(12), np.arange(12) * 2, np.arange(12) * 3, np.full(12, 255)]).astype(
        np.uint8
    )
    got_index, got_palette = _decode_png(png_palette(index, palette))
    np.testing.assert_array_equal(got_index, index)
    np.testing.assert_array_equal(got_palette, palette)


def test_rsrp_png_keeps_no_signal_no_data_and_outside_apart():
    v = np.full((6, 6), -90.0, dtype=np.float32)
    v[0, :] = np.nan
    v[1, :] = -200.0
    inside = np.ones((6, 6), bool)
    inside[:, 5] = False
    index, palette = _decode_png(rsrp_png(v, inside))
    assert (palette[index[:, 5], 3] == 0).all()  # outside: clear
    assert set(index[0, :5].tolist()) == {0, 1}  # no data: grey stripes and clear pixels
    assert (palette[1] == [128, 128, 128, 255]).all()
    assert (index[1, :5] == 2).all()  # no signal: its own colour
    good = palette[index[3, 0]]
    assert good[3] == 255 and good[1] > good[0]  # -90 dBm is green-ish and opaque


def test_hillshade_lights_slopes_facing_the_sun():
    z = np.tile(np.arange(10, dtype=float) * 30.0, (10, 1))  # rises eastwards: faces west
    west_facing = hillshade(z, cell_size_m=30.0, azimuth_deg=270.0)
    east_lit = hillshade(z, cell_size_m=30.0, azimuth_deg=90.0)
    assert west_facing[5, 5] > 0.9 > 0.1 > east_lit[5, 5]
    z[0, 0] = np.nan
    assert np.isnan(hillshade(z, cell_size_m=30.0)[0, 0])


def test_display_grid_is_web_mercator_with_wgs84_bounds():
    transform = Affine(100.0, 0.0, X0, 0.0, -100.0, Y0 + 10_000)
    values, inside, ((south, west), (north, east)) = to_display_grid(
        np.ones((100, 100), "float32"), transform, UTM, max_px=40
    )
    assert max(values.shape) <= 40 and inside.any()
    assert 21.0 < south < north < 22.0 and 105.0 < west < east < 106.0


def test_vendored_files_match_vendor_md():
    text = (VENDOR / "VENDOR.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\| `([^`]+)` \| \d+ \| `([0-9a-f]{64})` \|", text))
    files = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "VENDOR.md"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert (VENDOR / "leaflet" / "LICENSE").exists()
    assert (VENDOR / "leaflet.markercluster" / "MIT-LICENCE.txt").exists()
    assert sum((VENDOR / f).stat().st_size for f in files) < 400_000
