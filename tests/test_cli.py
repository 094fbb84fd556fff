"""The command line: help, version, exit codes, outputs, refusal to overwrite."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner

import coverage
from coverage.cli import main

from .conftest import DEMO


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_and_version(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "run", "demo"):
        assert command in result.output
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and coverage.__version__ in result.output
    for command in ("validate", "run", "demo"):
        assert runner.invoke(main, [command, "--help"]).exit_code == 0


def test_validate_demo_is_clean(runner):
    result = runner.invoke(main, ["validate", str(DEMO / "project.toml")])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "821 villages" in result.output


def test_validate_errors_exit_1(runner, demo_copy):
    towers = pd.read_csv(demo_copy.parent / "towers.csv", dtype=str, keep_default_na=False)
    towers.loc[0, "technology"] = "6G"
    towers.to_csv(demo_copy.parent / "towers.csv", index=False)
    result = runner.invoke(main, ["validate", str(demo_copy)])
    assert result.exit_code == 1
    assert "'technology' = '6G' is not one of" in result.output
    assert "line 2" in result.output


def test_bad_project_file_exit_2(runner, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[inputz]\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Did you mean 'inputs'" in result.output
    assert "Traceback" not in result.output


def test_demo_writes_every_output(demo_output):
    out = demo_output
    layers = {name for name, _ in pyogrio.list_layers(out / "inputs.gpkg")}
    assert layers == {"villages", "communes", "towers", "outages"}
    villages = gpd.read_file(out / "inputs.gpkg", layer="villages")
    assert villages.crs.to_epsg() == 32648 and len(villages) == 821
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["villages"] == 821 and summary["working_crs"] == "EPSG:32648"
    for tech in ("4G", "5G"):
        for op in ("any", "Viettel", "VNPT", "MobiFone"):
            assert (out / "signal" / f"signal_{tech}_{op}.tif").exists()
    with rasterio.open(out / "signal" / "signal_4G_any.tif") as src:
        assert src.crs.to_epsg() == 32648 and src.res == (30.0, 30.0)
        assert src.descriptions[:2] == ("rsrp_dbm", "serving_site")
        rsrp = src.read(1)
    assert np.isfinite(rsrp).mean() > 0.8
    assert (rsrp >= -100).mean() > 0.1  # some good 4G coverage ...
    assert (rsrp < -115).mean() > 0.1  # ... and real gaps
    for name in (
        "priority.csv",
        "priority.xlsx",
        "map.html",
        "villages.gpkg",
        "gaps.gpkg",
        "unmatched_outages.csv",
        "summary.md",
    ):
        assert (out / name).is_file(), name
    assert (out / "map.html").stat().st_size < 25_000_000
    ranked = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert sorted(ranked["rank"]) == list(range(1, 822))
    assert (out / "priority.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert summary["village_status"]["predicted_gap"] > 0
    from openpyxl import load_workbook

    sheets = load_workbook(out / "priority.xlsx", read_only=True).sheetnames
    assert {"Danh sách ưu tiên", "Priority list", "Tóm tắt theo xã", "Tóm tắt theo tỉnh", "Method"} <= set(
        sheets
    )
    provinces = pd.read_excel(out / "priority.xlsx", sheet_name="Tóm tắt theo tỉnh")
    assert len(provinces) == 2  # Thái Nguyên and Tuyên Quang


def test_run_refuses_to_overwrite(runner, fast_demo, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(fast_demo), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    marker = out / "summary.json"
    before = marker.read_bytes()
    again = runner.invoke(main, ["run", str(fast_demo), "--out", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert marker.read_bytes() == before
    over = runner.invoke(main, ["run", str(fast_demo), "--out", str(out), "--overwrite"])
    assert over.exit_code == 0, over.output
    assert marker.read_bytes() != before  # replaced (new run time)
    # no temporary folders are left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "out"]


def test_signal_command(runner, tmp_path):
    out = tmp_path / "sig"
    args = [
        "signal",
        "--towers",
        str(DEMO / "towers.csv"),
        "--dem",
        str(DEMO / "dem" / "N21E105.hgt"),
        "--out",
        str(out),
        "--resolution-m",
        "150",
        "--tech",
        "4G",
        "--max-radius-km",
        "8",
        "--diagnostics",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "signal_4G_any.tif" in names and "signal_5G_any.tif" not in names
    with rasterio.open(out / "signal_4G_any.tif") as src:
        assert src.descriptions == ("rsrp_dbm", "serving_site", "path_loss_db", "terrain_loss_db", "los")
        assert src.res == (150.0, 150.0)
    bad = runner.invoke(main, [*args[:-1], "--overwrite", "--tech", "6G"])
    assert bad.exit_code == 2 and "expected 4G, 5G" in bad.output


def test_no_personal_data_in_outputs(demo_output):
    out = demo_output
    raw = pd.read_csv(DEMO / "outages.csv", dtype=str, keep_default_na=False)
    secrets = set(raw["reporter_phone"]) | set(raw["reporter_name"])
    secrets |= {"".join(ch for ch in s if ch.isdigit()) for s in raw["reporter_phone"]}
    pattern = re.compile(
        b"|".join(re.escape(s.encode()) for s in sorted(secrets, key=len, reverse=True) if s)
    )
    scanned = 0
    for path in out.rglob("*"):
        if path.is_file():
            found = pattern.search(path.read_bytes())
            assert found is None, (path, found.group() if found else None)
            scanned += 1
    assert scanned >= 15


def test_out_folder_holding_inputs_is_refused(runner, demo_copy):
    result = runner.invoke(main, ["run", str(demo_copy), "--out", str(demo_copy.parent), "--overwrite"])
    assert result.exit_code == 1
    assert "contains the input" in result.output
    assert (demo_copy.parent / "towers.csv").exists()


def test_failed_run_leaves_nothing(runner, demo_copy, tmp_path):
    (demo_copy.parent / "towers.csv").write_text("site_id\n", encoding="utf-8")
    out = tmp_path / "never"
    result = runner.invoke(main, ["run", str(demo_copy), "--out", str(out)])
    assert result.exit_code == 1
    assert "the layer is empty" in result.output
    assert not out.exists()


def test_history_import_and_report_commands(runner, fast_demo, tmp_path):
    store = tmp_path / "h.sqlite"
    out = tmp_path / "run1"
    result = runner.invoke(main, ["run", str(fast_demo), "--out", str(out), "--store", str(store)])
    assert result.exit_code == 0, result.output
    hist = runner.invoke(main, ["history", str(fast_demo), "--store", str(store)])
    assert hist.exit_code == 0 and "821" in hist.output
    outages = fast_demo.parent / "outages.csv"
    first = runner.invoke(main, ["import-outages", str(fast_demo), str(outages), "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "326 reports: 326 new, 0 corrected, 0 already in the history" in first.output
    again = runner.invoke(main, ["import-outages", str(fast_demo), str(outages), "--store", str(store)])
    assert "0 new, 0 corrected, 326 already in the history" in again.output
    import datetime as dt

    today = dt.date.today()
    period = f"{today.year}-{today.month:02d}"
    rep = runner.invoke(
        main,
        ["report", str(fast_demo), "--period", period, "--out", str(tmp_path / "rep"), "--store", str(store)],
    )
    assert rep.exit_code == 0, rep.output
    assert any(p.suffix == ".xlsx" for p in (tmp_path / "rep").iterdir())
    bad = runner.invoke(main, ["report", str(fast_demo), "--period", "2026-Q5", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2


def test_map_command_in_english(runner, fast_demo, tmp_path):
    page = tmp_path / "map-en.html"
    result = runner.invoke(main, ["map", str(fast_demo), "--out", str(page), "--lang", "en"])
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert '<script src="http' not in html and "Villages" in html
    again = runner.invoke(main, ["map", str(fast_demo), "--out", str(page)])
    assert again.exit_code == 1 and "--overwrite" in again.output


def test_itm_model_from_the_project_file(runner, fast_demo, tmp_path):
    text = fast_demo.read_text(encoding="utf-8").replace('model = "auto"', 'model = "itm"')
    text = text.replace("[thresholds.4G]", "[radio.itm]\nclimate = 2\nn0_n_units = 350\n\n[thresholds.4G]")
    fast_demo.write_text(text, encoding="utf-8")
    out = tmp_path / "itm"
    result = runner.invoke(main, ["run", str(fast_demo), "--out", str(out), "--no-history"])
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(out / "signal" / "sites.csv")
    assert set(sites["model"]) == {"itm"}
    ranked = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert len(ranked) == 821


def test_whatif_command(runner, fast_demo, tmp_path):
    scenario = fast_demo.parent / "scenario_example.toml"
    out = tmp_path / "wi"
    result = runner.invoke(main, ["whatif", str(fast_demo), "--scenario", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"villages_before_after.csv", "priority_after.csv", "map_before.html", "map_after.html"} <= names
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n\n[[change]]\naction = "remove"\nsite_id = "VT-TN-9999"\n')
    err = runner.invoke(
        main, ["whatif", str(fast_demo), "--scenario", str(bad), "--out", str(tmp_path / "x")]
    )
    assert err.exit_code != 0 and "VT-TN-9999" in err.output and "closest existing ids" in err.output


def test_optimize_command(runner, fast_demo, tmp_path):
    out = tmp_path / "opt"
    result = runner.invoke(main, ["optimize", str(fast_demo), "--sites", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    chosen = pd.read_csv(out / "chosen_sites.csv", encoding="utf-8-sig")
    assert 1 <= len(chosen) <= 3
    assert (out / "map.html").exists() and (out / "chosen_sites.gpkg").exists()
    both = runner.invoke(main, ["optimize", str(fast_demo), "--out", str(tmp_path / "o2")])
    assert both.exit_code == 2 and "--sites" in both.output
