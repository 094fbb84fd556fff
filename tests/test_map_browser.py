"""The demo web map in headless Chromium (Playwright), with the network blocked.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` Python
package. Without them these tests fail with the reason; outside CI they can be skipped
on purpose with ``COVERAGE_GAPS_SKIP_BROWSER=1``.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import Point

from coverage._errors import CoverageWarning
from coverage.gaps import gaps_from_signal, village_signal
from coverage.io import (
    grid_for_bounds,
    read_communes,
    read_dem,
    read_outages,
    read_towers,
    read_villages,
    warp_to_grid,
)
from coverage.maps import gap_map, map_html
from coverage.params import RadioParams, Thresholds
from coverage.propagation import signal_from_towers

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
EVIL = "<img src=x onerror=alert(1)>"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("COVERAGE_GAPS_SKIP_BROWSER") and not os.environ.get("CI"):
        pytest.skip(reason=f"{reason} (skipped on request: COVERAGE_GAPS_SKIP_BROWSER is set)")
    pytest.fail(
        f"{reason}. The web-map browser tests need Debian's chromium (`apt-get install chromium`) "
        "and the playwright package (`pip install playwright`); set COVERAGE_GAPS_SKIP_BROWSER=1 "
        "to skip them outside CI.",
        pytrace=False,
    )


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    _unavailable("Chromium was not found at /usr/bin/chromium nor on PATH")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def demo_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The demo map on a coarse 300 m grid plus one malicious village; (path, villages, a name)."""
    crs = CRS.from_epsg(32648)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # demo data quirks are not under test here
        villages = read_villages(DEMO / "villages.gpkg", layer="villages").to_crs(crs)
        communes = read_communes(DEMO / "communes.geojson").to_crs(crs)
        towers = read_towers(DEMO / "towers.csv").to_crs(crs)
        outages = read_outages(DEMO / "outages.csv").to_crs(crs)
        dem = read_dem(DEMO / "dem" / "N21E105.hgt")
        first = villages.iloc[0]
        evil = {c: first[c] for c in villages.columns}
        evil.update(
            village_id="99999-01", name=EVIL, geometry=Point(first.geometry.x + 900, first.geometry.y)
        )
        villages = gpd.GeoDataFrame(
            pd.concat([villages, gpd.GeoDataFrame([evil], crs=crs)], ignore_index=True), crs=crs
        )
        left, bottom, right, top = communes.total_bounds
        transform, shape = grid_for_bounds((left - 5e3, bottom - 5e3, right + 5e3, top + 5e3), 300.0)
        grid_dem = warp_to_grid(dem, crs=crs, transform=transform, shape=shape)
        radio = RadioParams(max_radius_km=10.0)
        thresholds = Thresholds()
        signal = signal_from_towers(towers, grid_dem, params=radio, thresholds=thresholds)
        wide = village_signal(villages, signal, thresholds=thresholds, towers=towers).wide
        gaps = gaps_from_signal(signal, thresholds=thresholds, communes=communes)
        page = map_html(
            gap_map(
                wide,
                communes=communes,
                towers=towers,
                outages=outages,
                gaps=gaps,
                signal=signal,
                dem=grid_dem,
                lang="vi",
            )
        )
    path = tmp_path_factory.mktemp("map") / "map.html"
    path.write_text(page, encoding="utf-8")
    return path, len(villages), str(villages.loc[0, "name"])


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    executable = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def opened(browser, demo_map):
    """The demo map opened from file:// with every other request aborted and recorded."""
    path, _, _ = demo_map
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    log: dict[str, list] = {"requests": [], "console": [], "dialogs": []}

    def route(r):
        url = r.request.url
        if url.startswith(("file://", "data:")):
            r.continue_()
        else:
            log["requests"].append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log["console"].append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: log["console"].append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.CoverageMap && CoverageMap.registry.villages['4G']")
    _settled(page)  # fitBounds may still be animating the first zoom
    yield page, log
    page.close()


def _settled(page) -> None:
    page.wait_for_function("!CoverageMap.registry.map._animatingZoom")
    page.wait_for_timeout(100)


def _open_popup_by_click(page, index: int) -> str:
    """Centre the map on village ``index`` of the 4G layer, click it, return the popup text."""
    page.evaluate(
        """(i) => {
            const reg = CoverageMap.registry, it = reg.villages['4G'].items[i];
            reg.map.closePopup();
            reg.map.setView(it.latlng, 16, {animate: false});
        }""",
        index,
    )
    _settled(page)
    point = page.evaluate(
        """(i) => {
            const reg = CoverageMap.registry, m = reg.map, it = reg.villages['4G'].items[i];
            const p = m.latLngToContainerPoint(it.latlng), r = m.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        index,
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return page.inner_text(".leaflet-popup-content")


def test_loads_offline_without_errors(opened):
    page, log = opened
    page.wait_for_timeout(500)
    assert log["console"] == []
    assert log["requests"] == []
    assert page.evaluate("typeof window.L") == "object"
    assert page.evaluate("L.version") == "1.9.4"
    assert page.evaluate("typeof L.markerClusterGroup") == "function"


def test_village_layer_has_every_village(opened, demo_map):
    page, _ = opened
    _, n_villages, _ = demo_map
    count = page.evaluate(
        "CoverageMap.registry.villages['4G'].group.getLayers()"
        ".filter(l => l instanceof L.CircleMarker).length"
    )
    assert count == n_villages
    on_map = page.evaluate(
        """Object.values(CoverageMap.registry.map._layers)
            .filter(l => l instanceof L.CircleMarker && l.options.pane === 'cg-villages').length"""
    )
    assert on_map == n_villages  # only the 4G village layer is shown by default


def test_click_on_a_village_opens_its_popup(opened, demo_map):
    page, log = opened
    _, _, name = demo_map
    text = _open_popup_by_click(page, 0)
    assert name in text
    assert "Trắng sóng" in text or "Có sóng tốt" in text or "Lõm sóng" in text or "Không có dữ liệu" in text
    assert log["console"] == [] and log["requests"] == []


def test_malicious_name_is_text_and_runs_nothing(opened, demo_map):
    page, log = opened
    _, n_villages, _ = demo_map
    text = _open_popup_by_click(page, n_villages - 1)
    assert EVIL in text  # shown as text
    assert page.inner_text(".leaflet-popup-content h3") == EVIL
    page.fill(".cg-search input", "img src")  # the search box lists it as text too
    hits = page.locator(".cg-search li")
    assert hits.count() == 1 and hits.first.inner_text() == EVIL
    hits.first.click()
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    assert log["dialogs"] == []
    assert log["console"] == [] and log["requests"] == []


def test_search_is_diacritics_insensitive(opened, demo_map):
    page, _ = opened
    _, _, name = demo_map
    folded = page.evaluate("(s) => CoverageMap.fold(s)", name)
    page.fill(".cg-search input", folded)
    assert name in page.locator(".cg-search li").all_inner_texts()


def _png_idat_entropy(png: bytes) -> tuple[int, int, float]:
    """Width, height and the byte entropy (bits) of a PNG's decompressed (filtered) image data."""
    pos, idat = 8, b""
    width = height = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", png[pos + 8 : pos + 16])
        elif kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    counts = np.bincount(raw, minlength=256) / raw.size
    entropy = -sum(p * math.log2(p) for p in counts if p > 0)
    return width, height, entropy


def test_screenshot_is_not_blank(opened, tmp_path):
    page, _ = opened
    page.wait_for_timeout(500)
    shot = page.screenshot(path=str(tmp_path / "map.png"))
    width, height, entropy = _png_idat_entropy(shot)
    assert (width, height) == (1280, 860)
    # A blank page filters to almost only zero bytes (about 0.01 bit); the demo map gives ~2.4.
    assert entropy > 1.0, entropy
    assert len(shot) > 100_000
