"""`validate` collects every problem of every layer of a project in one run."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

from coverage.pipeline import validate_project

from .conftest import DEMO


def test_demo_is_clean():
    report = validate_project(DEMO / "project.toml")
    assert report.ok, [str(p) for p in report.errors]
    assert report.layers is not None
    assert report.layers.working_crs.to_epsg() == 32648
    assert len(report.layers.villages) == 821
    # The demo deliberately holds 4 outage reports whose village_id matches no village.
    assert sum("matches no village" in p.message for p in report.warnings) == 4


def test_broken_demo_reports_everything_at_once(demo_copy):
    folder = demo_copy.parent
    # 1. villages lose their CRS (written as a table of projected x/y without a crs)
    vil = gpd.read_file(folder / "villages.gpkg", layer="villages")
    table = pd.DataFrame(vil.drop(columns="geometry"))
    table["x"], table["y"] = vil.geometry.x, vil.geometry.y
    # 2. a duplicate village id
    table.loc[5, "village_id"] = table.loc[4, "village_id"]
    table.to_csv(folder / "villages.csv", index=False)
    text = demo_copy.read_text(encoding="utf-8")
    text = text.replace(
        'villages = { path = "villages.gpkg", layer = "villages" }', 'villages = "villages.csv"'
    )
    demo_copy.write_text(text, encoding="utf-8")
    # 3. swapped lat/lon in the outage reports, 4. an unknown operator in the towers
    out = pd.read_csv(folder / "outages.csv", dtype=str, keep_default_na=False)
    out = out.rename(columns={"lon": "lat", "lat": "lon"})
    out.to_csv(folder / "outages.csv", index=False)
    towers = pd.read_csv(folder / "towers.csv", dtype=str, keep_default_na=False)
    towers.loc[7, "operator"] = "Viettel Global"
    towers.to_csv(folder / "towers.csv", index=False)

    report = validate_project(demo_copy)
    assert not report.ok
    text = "\n".join(str(p) for p in report.errors)
    assert "hold projected coordinates but no crs is declared" in text
    assert "'lon' and 'lat' look swapped" in text
    assert "'operator' = 'Viettel Global' is not one of" in text
    assert "line 9" in text  # towers.csv row 7 is line 9 (header + 1-based)
    # the duplicate id is found even though the layer has no CRS
    assert re.search(r"duplicate village_id \(village_id='[0-9-]+'\) in line 6, line 7", text)
    layers = {p.layer for p in report.errors}
    assert {"villages", "outages", "towers"} <= layers


def test_far_away_points_and_dem_overlap(demo_copy):
    folder = demo_copy.parent
    towers = pd.read_csv(folder / "towers.csv", dtype=str, keep_default_na=False)
    site = towers.loc[0, "site_id"]
    towers.loc[towers["site_id"] == site, "lon"] = "108.2"  # Đà Nẵng: hundreds of km away
    towers.to_csv(folder / "towers.csv", index=False)
    report = validate_project(demo_copy)
    msgs = [str(p) for p in report.errors]
    assert any("more than 50 km from the villages" in m and "line 2" in m for m in msgs)
