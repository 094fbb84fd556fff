"""Shared fixtures: synthetic layers built in code, and a private copy of the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, box

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo project folder; returns its project.toml."""
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst)
    return dst / "project.toml"


@pytest.fixture
def fast_demo(demo_copy: Path) -> Path:
    """The demo project on a coarse grid (120 m, 10 km radius) for quick end-to-end tests."""
    text = demo_copy.read_text(encoding="utf-8")
    text = text.replace("resolution_m = 30", "resolution_m = 120").replace(
        "max_radius_km = 20", "max_radius_km = 10"
    )
    demo_copy.write_text(text, encoding="utf-8")
    return demo_copy


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run `coverage-gaps demo` once per session (the README's first command) and return its folder."""
    from click.testing import CliRunner

    from coverage.cli import main

    out = tmp_path_factory.mktemp("demo") / "demo-output"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    """Two 10 km square communes side by side in UTM 48N near Thái Nguyên."""
    x0, y0 = 580_000.0, 2_380_000.0
    return gpd.GeoDataFrame(
        {
            "commune_code": ["00001", "00002"],
            "name": ["Xã Một", "Xã Hai"],
            "province": ["Thái Nguyên", "Thái Nguyên"],
            "population": [3000, 2000],
        },
        geometry=[box(x0, y0, x0 + 10_000, y0 + 10_000), box(x0 + 10_000, y0, x0 + 20_000, y0 + 10_000)],
        crs="EPSG:32648",
    )


@pytest.fixture
def villages(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Four villages, two per commune, as points in UTM 48N."""
    x0, y0 = 580_000.0, 2_380_000.0
    pts = [(2_000, 3_000), (7_000, 6_000), (12_000, 4_000), (17_000, 8_000)]
    return gpd.GeoDataFrame(
        {
            "village_id": ["00001-01", "00001-02", "00002-01", "00002-02"],
            "name": ["Thôn Nà Lạ", "Bản Khuổi Mạn", "Xóm Đồng Tâm", "Thôn Làng Cốc"],
            "commune_code": ["00001", "00001", "00002", "00002"],
            "population": [1200, 1800, 900, 1100],
            "has_grid_power": [True, True, False, True],
        },
        geometry=[Point(x0 + dx, y0 + dy) for dx, dy in pts],
        crs="EPSG:32648",
    )


def write_tif(
    path: Path, array: np.ndarray, *, transform: Affine, crs: str | None, nodata: float | None
) -> Path:
    """Write a single-band GeoTIFF."""
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": str(array.dtype),
        "transform": transform,
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path
