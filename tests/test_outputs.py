"""Writers: CSV with BOM, the bilingual workbook, GeoPackages, atomic writes, no personal data."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from affine import Affine
from openpyxl import load_workbook

from coverage._errors import OutputExistsError
from coverage.evidence import outage_evidence
from coverage.gaps import gaps_from_signal, village_signal
from coverage.io import read_communes, read_outages, read_towers, read_villages
from coverage.outputs import (
    write_gaps_gpkg,
    write_priority_csv,
    write_priority_xlsx,
    write_unmatched_outages_csv,
    write_villages_gpkg,
)
from coverage.params import CostParams, EvidenceParams, GapParams, PriorityWeights, Thresholds
from coverage.priority import operator_requests, priority_summary, priority_table
from coverage.propagation import SignalLayer, SignalResult

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"


def synthetic_signal(bounds, crs, res: float = 500.0, seed: int = 7) -> SignalResult:
    x0, y0, x1, y1 = bounds
    x0, y1 = x0 - 2 * res, y1 + 2 * res
    shape = (int((y1 - y0) / res) + 3, int((x1 - x0) / res) + 3)
    rng = np.random.default_rng(seed)
    layers = {}
    for tech, ops in (("4G", ["any", "Viettel", "VNPT", "MobiFone"]), ("5G", ["any", "Viettel"])):
        for op in ops:
            arr = rng.uniform(-140, -70, size=shape).astype(np.float32)
            arr[rng.random(shape) < 0.05] = np.nan
            layers[(tech, op)] = SignalLayer(arr, np.zeros(shape, np.int32))
    return SignalResult(
        Affine(res, 0, x0, 0, -res, y1), crs, shape, layers, pd.DataFrame(), pd.DataFrame(), []
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("outputs")
    villages = read_villages(DEMO / "villages.gpkg", layer="villages")
    crs = villages.crs
    outages = read_outages(DEMO / "outages.csv").to_crs(crs)
    towers = read_towers(DEMO / "towers.csv").to_crs(crs)
    communes = read_communes(DEMO / "communes.geojson").to_crs(crs)
    signal = synthetic_signal(villages.total_bounds, crs)
    thresholds, gap_params = Thresholds(), GapParams()
    vs = village_signal(villages, signal, thresholds=thresholds, towers=towers, params=gap_params)
    ev = outage_evidence(
        outages, villages, params=EvidenceParams(), gap_params=gap_params, as_of="2026-11-01"
    )
    pr = priority_table(vs.wide, ev.villages, thresholds=thresholds, gap_params=gap_params)
    gaps = gaps_from_signal(signal, thresholds=thresholds, communes=communes)
    summary = priority_summary(pr, communes=communes)
    files = {
        "csv": write_priority_csv(pr, out / "priority.csv"),
        "xlsx": write_priority_xlsx(
            pr,
            out / "priority.xlsx",
            operator_lists=operator_requests(pr),
            commune_summary=summary,
            thresholds=thresholds,
            weights=PriorityWeights(),
            evidence_params=EvidenceParams(),
            gap_params=gap_params,
            costs=CostParams(),
            data_sources={"villages": "data/demo/villages.gpkg (synthetic)"},
            run_date="2026-11-01",
            tool_version="0.1.0",
            as_of=ev.as_of,
        ),
        "villages": write_villages_gpkg(pr, out / "villages.gpkg", long=vs.long),
        "gaps": write_gaps_gpkg(gaps, out / "gaps.gpkg"),
        "unmatched": write_unmatched_outages_csv(ev.unmatched, out / "unmatched_outages.csv"),
    }
    return {"dir": out, "files": files, "priority": pr, "outages": outages, "unmatched": ev.unmatched}


def test_csv_has_bom_rank_and_english_headers(outputs):
    raw = outputs["files"]["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(outputs["files"]["csv"], encoding="utf-8-sig", dtype={"village_id": str})
    assert df.columns[0] == "rank"
    assert df["rank"].tolist() == list(range(1, len(df) + 1))
    assert all(re.fullmatch(r"[a-z0-9_]+", c) for c in df.columns)
    for col in ["rsrp_centre_dbm_4g_any", "dist_site_km_4g_any", "cost_vnd", "score", "class_4g_viettel"]:
        assert col in df.columns
    assert "Thôn" in raw.decode("utf-8-sig") or "Xóm" in raw.decode("utf-8-sig")  # diacritics kept


def test_workbook_sheets_headers_panes_and_filters(outputs):
    wb = load_workbook(outputs["files"]["xlsx"])
    assert wb.sheetnames[:2] == ["Danh sách ưu tiên", "Priority list"]
    assert {"Đề xuất Viettel", "Đề xuất VNPT", "Đề xuất MobiFone", "Tóm tắt theo xã", "Method"} <= set(
        wb.sheetnames
    )
    assert all(len(name) <= 31 for name in wb.sheetnames)
    vi = wb["Danh sách ưu tiên"]
    headers = [c.value for c in vi[1]]
    for h in [
        "Hạng",
        "Mã thôn",
        "Tên thôn/bản",
        "Xã/phường",
        "Tỉnh",
        "Dân số",
        "Số hộ",
        "Lớp 4G",
        "Lớp 5G",
        "Điểm ưu tiên",
        "Giải pháp đề xuất",
        "Nguồn vốn",
        "Chi phí ước tính (VND)",
        "Lớp 4G Viettel",
    ]:
        assert h in headers, h
    assert vi.freeze_panes == "D2"
    assert vi.auto_filter.ref.startswith("A1:")
    assert vi.max_row == len(outputs["priority"]) + 1
    col = {h: i for i, h in enumerate(headers)}
    values = {r[col["Lớp 4G"]] for r in vi.iter_rows(min_row=2, values_only=True)}
    assert values <= {"có sóng tốt", "lõm sóng", "trắng sóng", "không có dữ liệu"}
    routes = {r[col["Nguồn vốn"]] for r in vi.iter_rows(min_row=2, values_only=True)}
    assert "Quỹ DVVTCI (VTF)" in routes or "doanh nghiệp đầu tư" in routes
    second = vi[2]
    assert second[col["Chi phí ước tính (VND)"]].number_format in ("#,##0", "General")
    assert second[col["Điểm ưu tiên"]].number_format == "0.000"
    share = next(c for c in second if c.column - 1 == col["Tỷ lệ diện tích có sóng 4G"])
    assert share.number_format == "0.0%" or share.value is None
    en = wb["Priority list"]
    en_headers = [c.value for c in en[1]]
    assert en_headers[:3] == ["Rank", "Village ID", "Village name"]
    assert "4G RSRP at centre (dBm)" in en_headers
    assert en.freeze_panes == "D2" and en.auto_filter.ref
    summary = [c.value for c in wb["Tóm tắt theo xã"][1]]
    assert summary[:3] == ["Mã xã", "Xã/phường", "Tỉnh"]
    assert "Số thôn cần xây trạm mới" in summary and "Số thôn 4G trắng sóng" in summary
    op = wb["Đề xuất Viettel"]
    op_headers = [c.value for c in op[1]]
    assert op_headers[:3] == ["Hạng theo doanh nghiệp", "Hạng", "Mã thôn"]
    assert "Lớp 4G Viettel" in op_headers and "Khoảng cách đến trạm 4G Viettel gần nhất (km)" in op_headers
    assert op.freeze_panes == "E2" and op.auto_filter.ref
    method = {r[1]: r[2] for r in wb["Method"].iter_rows(min_row=2, values_only=True)}
    assert method["run date"] == "2026-11-01"
    assert method["lte.good_dbm"] == -100.0
    assert method["uncovered_population"] == PriorityWeights().uncovered_population
    assert method["min_reports"] == 5
    assert method["site_vnd"] == CostParams().site_vnd
    assert "0.1.0" in method["tool version"]


def test_villages_and_gaps_geopackages(outputs):
    layers = dict(pyogrio.list_layers(outputs["files"]["villages"]))
    assert set(layers) == {"villages", "village_signal"}
    v = gpd.read_file(outputs["files"]["villages"], layer="villages")
    assert len(v) == len(outputs["priority"])
    assert {"rank", "score", "class_4g_any", "covered_share_4g_any", "funding_route"} <= set(v.columns)
    long = pyogrio.read_dataframe(outputs["files"]["villages"], layer="village_signal")
    assert {"village_id", "technology", "operator", "class"} <= set(long.columns)
    g = gpd.read_file(outputs["files"]["gaps"], layer="gaps")
    assert set(g["class"]) == {"none", "no_data"}
    assert {"technology", "area_km2", "population", "commune_code"} <= set(g.columns)


def test_unmatched_outages_csv(outputs):
    df = pd.read_csv(outputs["files"]["unmatched"], encoding="utf-8-sig")
    assert list(df.columns) == [
        "report_id",
        "reported_at",
        "operator",
        "technology",
        "kind",
        "village_id",
        "lon",
        "lat",
        "reason",
    ]
    assert len(df) == 4


def _text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def test_no_personal_data_in_any_output(outputs):
    with open(DEMO / "outages.csv", encoding="utf-8") as f:
        raw = list(csv.DictReader(f))
    names = {r["reporter_name"] for r in raw if r["reporter_name"]}
    phones = {r["reporter_phone"] for r in raw if r["reporter_phone"]}
    digits = {re.sub(r"\D", "", p) for p in phones}
    keys = set(outputs["outages"]["reporter_key"].dropna())
    assert names and phones and keys
    written = [p for p in outputs["dir"].rglob("*") if p.is_file()]
    assert len(written) == 5
    for path in written:
        text = _text_of(path)
        flat = re.sub(r"\s", "", text)
        for name in names:
            assert name not in text, (path.name, name)
        for phone in phones:
            assert phone not in text, (path.name, phone)
        for d in digits:
            assert d not in flat, (path.name, d)
        for key in keys:
            assert key not in text, (path.name, key)
        assert "reporter" not in text.lower(), path.name


def test_refuses_to_overwrite_and_writes_atomically(tmp_path, outputs):
    pr = outputs["priority"].head(3)
    target = tmp_path / "p.csv"
    write_priority_csv(pr, target)
    before = target.read_bytes()
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_priority_csv(pr.head(1), target)
    assert target.read_bytes() == before
    write_priority_csv(pr.head(1), target, overwrite=True)
    assert target.read_bytes() != before
    with pytest.raises(OutputExistsError):
        write_priority_xlsx(pr, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]  # no temporary files left


def test_failed_write_leaves_nothing(tmp_path):
    bad = pd.DataFrame({"rank": [1], "village_id": ["a"]})
    with pytest.raises(KeyError):
        write_priority_csv(bad, tmp_path / "x.csv", columns=["rank", "missing"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"])
def test_text_that_looks_like_a_formula_stays_text(tmp_path, outputs, name):
    pr = outputs["priority"].copy()
    pr.loc[pr.index[0], "name"] = name
    xlsx = write_priority_xlsx(pr, tmp_path / "p.xlsx")
    for sheet in ("Danh sách ưu tiên", "Priority list"):
        ws = load_workbook(xlsx)[sheet]
        cells = [c for row in ws.iter_rows() for c in row if c.value == name]
        assert cells and all(c.data_type == "s" for c in cells), sheet
    csv_path = write_priority_csv(pr, tmp_path / "p.csv")
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "'" + name.replace('"', '""') in text or "'" + name in text
    # numbers keep their sign: negative RSRP values are not touched
    assert re.search(r",-1\d\d\.\d", text)
