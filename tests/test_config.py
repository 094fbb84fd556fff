from __future__ import annotations

from pathlib import Path

import pytest

from coverage._errors import ConfigError
from coverage.config import load_project

from .conftest import DEMO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
[inputs]
villages = "v.csv"
towers = "t.csv"
dem = "dem.tif"
"""


def test_demo_project_loads():
    project = load_project(DEMO / "project.toml")
    assert project.inputs["villages"].path == (DEMO / "villages.gpkg").resolve()
    assert project.inputs["villages"].layer == "villages"
    assert project.thresholds.lte.good_dbm == -100
    assert project.thresholds.nr.weak_dbm == -120
    assert project.radio.resolution_m == 30.0


def test_paths_are_relative_to_the_project_file(tmp_path):
    project = load_project(write(tmp_path, BASE))
    assert project.inputs["dem"].path == (tmp_path / "dem.tif").resolve()
    assert project.radio.k_factor == pytest.approx(4 / 3)


def test_unknown_key_suggests_the_closest(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown key 'resolution' in \[radio\]. Did you mean 'resolution_m'"
    ):
        load_project(write(tmp_path, BASE + "[radio]\nresolution = 30\n"))


def test_all_config_problems_are_reported_together(tmp_path):
    text = BASE.replace('towers = "t.csv"\n', "") + (
        "[radio]\nmax_radius_km = -3\n[thresholds.4G]\ngood_dbm = -120\nweak_dbm = -110\n[costz]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    message = str(info.value)
    assert "4 problem(s)" in message
    assert "towers is required" in message
    assert "max_radius_km must be between" in message
    assert "weak_dbm (-110) must be below good_dbm (-120)" in message
    assert "Did you mean 'costs'" in message


def test_layer_table_keys_are_checked(tmp_path):
    text = BASE.replace('villages = "v.csv"', 'villages = { path = "v.csv", crs = "EPSG:9213", colums = {} }')
    with pytest.raises(ConfigError, match="Did you mean 'columns'"):
        load_project(write(tmp_path, text))


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="project file not found"):
        load_project(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_project(write(tmp_path, "[inputs\n"))


def test_frozen_parameters(tmp_path):
    project = load_project(write(tmp_path, BASE))
    with pytest.raises(AttributeError):
        project.radio.resolution_m = 10  # type: ignore[misc]
