"""Tower tables and OpenCelliD exports."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from coverage._errors import CoverageWarning, InputSchemaError
from coverage.io import read_towers
from coverage.params import TowerDefaults

HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
OCID_ROWS = [
    # three LTE cells of Viettel eNB 100 (cell = eNB * 256 + local id)
    "LTE,452,4,12001,25601,0,105.8401,21.5901,1200,35,1,1500000000,1700000000,0",
    "LTE,452,4,12001,25602,0,105.8403,21.5899,1300,20,1,1500000000,1700000000,0",
    "LTE,452,4,12001,25603,0,105.8402,21.5900,900,11,1,1500000000,1700000000,0",
    # a VinaPhone GSM cell and a MobiFone NR cell
    "GSM,452,2,301,4211,0,105.9000,21.6500,2500,4,1,1500000000,1700000000,0",
    "NR,452,1,401,4096001,0,105.7000,21.5000,500,3,1,1500000000,1700000000,0",
    # a defunct network code and a foreign cell
    "GSM,452,8,301,77,0,105.9100,21.6600,2500,4,1,1500000000,1700000000,0",
    "LTE,310,260,1,1,0,-100.0,40.0,1000,3,1,1500000000,1700000000,0",
]


def _tower_frame() -> pd.DataFrame:
    base = {
        "operator": "Viettel",
        "technology": "4G",
        "band_mhz": 1800,
        "antenna_height_m": 35,
        "tilt_deg": 4,
        "status": "on_air",
        "power_source": "grid",
        "lon": 105.84,
        "lat": 21.59,
    }
    rows = [
        {**base, "site_id": "VT-1", "sector_id": "1", "azimuth_deg": 0, "eirp_dbm": 62.5},
        {
            **base,
            "site_id": "VT-1",
            "sector_id": "2",
            "azimuth_deg": 120,
            "tx_power_dbm": 46,
            "antenna_gain_dbi": 17,
        },
        {**base, "site_id": "VT-1", "sector_id": "3", "azimuth_deg": 240, "eirp_dbm": 62.5},
        {
            **base,
            "site_id": "VN-9",
            "operator": "Vinaphone",
            "technology": "5G",
            "band_mhz": 3700,
            "azimuth_deg": None,
            "eirp_dbm": 77,
            "lon": 105.9,
            "lat": 21.62,
            "power_source": "solar",
        },
    ]
    return pd.DataFrame(rows)


def test_tower_table(tmp_path):
    _tower_frame().to_csv(tmp_path / "t.csv", index=False)
    t = read_towers(tmp_path / "t.csv")
    assert t["eirp_dbm"].tolist() == [62.5, 63.0, 62.5, 77.0]  # EIRP = P_tx + G
    assert t["operator"].tolist() == ["Viettel"] * 3 + ["VNPT"]
    assert np.isnan(t["azimuth_deg"].iloc[3])
    assert t["filled_fields"].tolist() == ["", "", "", ""]
    assert t.crs.to_epsg() == 4326


def test_tower_problems_all_at_once(tmp_path):
    df = _tower_frame()
    df.loc[2, "azimuth_deg"] = 0  # same site, technology, band and azimuth as row 1
    df.loc[3, "operator"] = "Orange"
    df.loc[0, "antenna_height_m"] = 3500  # feet? mm? out of range
    df.loc[1, "technology"] = "LTE"
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputSchemaError) as info:
        read_towers(tmp_path / "t.csv")
    text = str(info.value)
    assert "'operator' = 'Orange' is not one of" in text
    assert "'antenna_height_m' = 3500 is outside the physical range" in text
    assert "'technology' = 'LTE' is not one of" in text
    assert "duplicate sector (site, technology, band, azimuth)" in text and "line 2, line 4" in text


def test_sectors_of_one_site_far_apart(tmp_path):
    df = _tower_frame()
    df.loc[2, "lon"] = 105.85
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputSchemaError, match=r"site 'VT-1' has sectors 1\d\d\d m apart"):
        read_towers(tmp_path / "t.csv")


def test_missing_power_is_filled_and_flagged(tmp_path):
    df = _tower_frame()
    df.loc[0, "eirp_dbm"] = None
    df.loc[0, "status"] = None
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.warns(CoverageWarning, match="default EIRP"):
        t = read_towers(tmp_path / "t.csv", defaults=TowerDefaults(eirp_dbm_4g=60.0))
    assert t["eirp_dbm"].iloc[0] == 60.0
    assert t["filled_fields"].iloc[0] == "eirp_dbm;status"
    assert t["status"].iloc[0] == "on_air"


@pytest.mark.parametrize("header", [True, False])
def test_opencellid_export_as_is(tmp_path, header):
    path = tmp_path / ("cells.csv.gz" if not header else "cells.csv")
    text = "\n".join(([HEADER] if header else []) + OCID_ROWS) + "\n"
    if header:
        path.write_text(text)
    else:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = read_towers(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "MCC other than 452" in messages
    assert "network codes [8]" in messages
    t = t.sort_values("site_id").reset_index(drop=True)
    assert t["site_id"].tolist() == ["452-01-gnb1000", "452-02-105.9,21.65", "452-04-enb100"]
    assert t["operator"].tolist() == ["MobiFone", "VNPT", "Viettel"]
    assert t["technology"].tolist() == ["5G", "2G", "4G"]
    enb = t.iloc[2]
    assert enb["cells"] == 3
    assert enb.geometry.x == pytest.approx(105.8402) and enb.geometry.y == pytest.approx(21.59)
    assert enb["antenna_height_m"] == 30.0 and enb["eirp_dbm"] == 62.5 and enb["band_mhz"] == 1800.0
    assert "antenna_height_m" in enb["filled_fields"]
    assert np.isnan(enb["azimuth_deg"])


def test_opencellid_mnc_override(tmp_path):
    path = tmp_path / "cells.csv"
    path.write_text("\n".join([HEADER, OCID_ROWS[5]]) + "\n")
    t = read_towers(path, mnc_operators={8: "Viettel"})
    assert t["operator"].tolist() == ["Viettel"]


def test_opencellid_nothing_usable(tmp_path):
    path = tmp_path / "cells.csv"
    path.write_text("\n".join([HEADER, OCID_ROWS[6]]) + "\n")
    with pytest.raises(InputSchemaError, match="no usable OpenCelliD rows"):
        read_towers(path)
