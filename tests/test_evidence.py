"""Outage matching, de-duplication, the FCC-like evidence rule and village status."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from coverage._errors import CRSMismatchError
from coverage.evidence import (
    STATUSES,
    UNMATCHED_COLUMNS,
    deduplicate_outages,
    match_outages,
    outage_evidence,
    village_status,
)
from coverage.params import EvidenceParams, GapParams

REPO = Path(__file__).resolve().parents[1]
CRS_M = "EPSG:32648"
AS_OF = "2026-06-30T12:00:00+07:00"


@pytest.fixture
def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_id": ["a", "b", "poly"]},
        geometry=[Point(0, 0), Point(10_000, 0), box(20_000, 0, 22_000, 2_000)],
        crs=CRS_M,
    )


def reports(times, *, village="a", kind="no_signal", keys=None, geometry=None, operator="Viettel"):
    n = len(times)
    return gpd.GeoDataFrame(
        {
            "report_id": [f"r{i:03d}" for i in range(n)],
            "reported_at": pd.to_datetime(list(times)),
            "village_id": [village] * n if isinstance(village, str) or village is None else list(village),
            "operator": operator,
            "technology": "4G",
            "kind": [kind] * n if isinstance(kind, str) else list(kind),
            "reporter_key": [f"k{i}" for i in range(n)] if keys is None else list(keys),
        },
        geometry=[None] * n if geometry is None else list(geometry),
        crs=CRS_M,
    )


def day(d: str, hh: str = "08:00") -> str:
    return f"2026-06-{d}T{hh}:00+07:00"


def test_four_reports_on_one_day_are_not_evidence(villages):
    ev = outage_evidence(reports([day("10")] * 4), villages, as_of=AS_OF).villages.set_index("village_id")
    assert ev.loc["a", "reports"] == 4
    assert ev.loc["a", "report_days"] == 1
    assert not ev.loc["a", "has_evidence"]


def test_five_reports_on_three_days_are_evidence(villages):
    times = [day("10"), day("10", "09:00"), day("12"), day("12", "10:00"), day("15")]
    ev = outage_evidence(reports(times), villages, as_of=AS_OF).villages.set_index("village_id")
    assert (ev.loc["a", "reports"], ev.loc["a", "report_days"]) == (5, 3)
    assert ev.loc["a", "has_evidence"]
    assert not ev.loc["b", "has_evidence"]
    assert ev.loc["b", "reports"] == 0


def test_five_reports_on_two_days_are_not_evidence(villages):
    times = [day("10")] * 3 + [day("11")] * 2
    ev = outage_evidence(reports(times), villages, as_of=AS_OF).villages
    assert not ev.loc[0, "has_evidence"]


def test_same_reporter_village_and_local_day_collapse(villages):
    # One reporter, three reports on 10 June local time (23:30 is still the 10th in Viet Nam),
    # one just after midnight (the 11th locally, but the same UTC day as 23:30).
    times = [day("10", "08:00"), day("10", "08:05"), day("10", "23:30"), day("11", "00:30")]
    df = deduplicate_outages(match_outages(reports(times, keys=["k"] * 4), villages).matched)
    assert df["duplicate"].tolist() == [False, True, True, False]
    ev = outage_evidence(reports(times, keys=["k"] * 4), villages, as_of=AS_OF).villages
    assert ev.loc[0, "reports"] == 2
    assert ev.loc[0, "report_days"] == 2
    assert ev.loc[0, "duplicates_dropped"] == 2


def test_same_reporter_other_village_counts(villages):
    times = [day("10"), day("10")]
    ev = outage_evidence(reports(times, keys=["k", "k"], village=["a", "b"]), villages, as_of=AS_OF).villages
    assert ev["reports"].tolist() == [1, 1, 0]


def test_exact_duplicates_without_reporter_collapse(villages):
    times = [day("10"), day("10"), day("10", "09:00")]
    ev = outage_evidence(reports(times, keys=[None] * 3), villages, as_of=AS_OF).villages
    assert ev.loc[0, "reports"] == 2
    assert ev.loc[0, "duplicates_dropped"] == 1


def test_power_cut_reports_are_counted_separately(villages):
    times = [day("10"), day("11"), day("12"), day("13"), day("14")]
    o = reports(times + times[:2], kind=["power_cut"] * 5 + ["no_signal"] * 2, keys=["k"] * 7)
    ev = outage_evidence(o, villages, as_of=AS_OF).villages
    # the same reporter may report a power cut and a signal loss on the same day
    assert (ev.loc[0, "power_cut_reports"], ev.loc[0, "reports"]) == (5, 2)
    assert ev.loc[0, "has_power_evidence"]
    assert not ev.loc[0, "has_evidence"]


def test_reports_outside_the_window_are_ignored(villages):
    params = EvidenceParams(window_days=30)
    times = ["2026-05-01T08:00:00+07:00", day("10"), day("20"), "2026-07-05T08:00:00+07:00"]
    ev = outage_evidence(reports(times), villages, params=params, as_of=AS_OF)
    assert ev.villages.loc[0, "reports"] == 2  # too old and after as_of are left out
    assert ev.reports["in_window"].tolist() == [False, True, True, False]


def test_recency_weight_halves_every_half_life(villages):
    params = EvidenceParams(half_life_days=10.0)
    ev = outage_evidence(reports(["2026-06-20T12:00:00+07:00"]), villages, params=params, as_of=AS_OF)
    assert ev.villages.loc[0, "evidence_weight"] == pytest.approx(0.5)


def test_default_as_of_is_now(villages):
    recent = pd.Timestamp.now(tz="Asia/Ho_Chi_Minh") - pd.Timedelta(days=1)
    ev = outage_evidence(reports([recent.isoformat()]), villages)
    assert ev.villages.loc[0, "reports"] == 1


def test_matching_rules_and_unmatched_table(villages):
    geoms = [None, None, Point(150, 0), Point(21_000, 1_000), Point(19_900, 0), Point(5_000, 0), None]
    vids = ["b", "nope", None, None, None, None, None]
    o = reports([day("10")] * 7, village=vids, geometry=geoms)
    m = match_outages(o, villages, params=GapParams(outage_match_radius_m=2_000))
    got = m.matched.set_index("report_id")
    assert got.loc["r000", ["village_id", "match"]].tolist() == ["b", "village_id"]
    assert got.loc["r002", ["village_id", "match"]].tolist() == ["a", "nearest"]
    assert got.loc["r002", "match_distance_m"] == pytest.approx(150)
    assert got.loc["r003", ["village_id", "match"]].tolist() == ["poly", "polygon"]
    # outside the polygon, but within 2 km of its representative point (21000, 1000)? no: 1.4 km
    assert got.loc["r004", "match"] == "nearest"
    assert len(m.matched) + len(m.unmatched) == len(o)  # nothing dropped silently
    un = m.unmatched.set_index("report_id")
    assert list(m.unmatched.columns) == list(UNMATCHED_COLUMNS)
    assert un.loc["r001", "reason"] == "unknown village_id and no coordinates"
    assert un.loc["r001", "village_id"] == "nope"
    assert un.loc["r005", "reason"].startswith("no village within 2000 m")
    lon, lat = Transformer.from_crs(CRS_M, "EPSG:4326", always_xy=True).transform(5_000, 0)
    assert (un.loc["r005", "lon"], un.loc["r005", "lat"]) == pytest.approx((lon, lat), abs=1e-6)
    assert un.loc["r006", "reason"] == "no coordinates and no village_id"
    assert "reporter_key" not in m.unmatched.columns


def test_unknown_id_with_coordinates_falls_back_to_the_point(villages):
    o = reports([day("10")], village="zz", geometry=[Point(10, 10)])
    assert match_outages(o, villages).matched["village_id"].tolist() == ["a"]


def test_crs_mismatch_is_refused(villages):
    o = reports([day("10")]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(CRSMismatchError, match="differs from the villages CRS"):
        match_outages(o, villages)


def test_no_outages_gives_zero_evidence(villages):
    ev = outage_evidence(None, villages, as_of=AS_OF)
    assert ev.villages["reports"].tolist() == [0, 0, 0]
    assert not ev.villages["has_evidence"].any()
    assert len(ev.unmatched) == 0


def test_village_status_each_village_gets_exactly_one():
    ev = pd.DataFrame(
        {
            "reports": [0, 0, 6, 0, 6, 0, 2, 6],
            "has_evidence": [False, False, True, False, True, False, False, True],
            "power_cut_reports": [0, 0, 0, 6, 9, 0, 0, 0],
            "has_power_evidence": [False, False, False, True, True, False, False, False],
        }
    )
    cls = ["none", "weak", "good", "good", "none", "no_data", "good", "no_data"]
    got = village_status(cls, ev).tolist()
    assert got == [
        "predicted_gap",
        "predicted_gap",
        "reported_gap",
        "power_outage",
        "predicted_gap",
        "no_data",
        "covered",
        "reported_gap",
    ]
    assert set(got) <= set(STATUSES)


def test_demo_outages_duplicates_and_unmatched():
    from coverage.io import read_outages, read_villages

    villages = read_villages(REPO / "data/demo/villages.gpkg", layer="villages")
    outages = read_outages(REPO / "data/demo/outages.csv").to_crs(villages.crs)
    ev = outage_evidence(outages, villages, as_of="2026-11-01")
    assert len(ev.reports) + len(ev.unmatched) == len(outages) == 326
    assert len(ev.unmatched) == 4  # documented in data/README.md
    assert int(ev.reports["duplicate"].sum()) >= 10  # the 10 repeated submissions
    assert "reporter_key" not in ev.reports.columns
    assert np.all(ev.villages["village_id"].to_numpy() == villages["village_id"].to_numpy())
