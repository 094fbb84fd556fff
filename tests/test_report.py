"""The monthly / quarterly report from three simulated monthly runs."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import OutputExistsError
from coverage._report_render import SHEETS
from coverage.config import Project
from coverage.history import CLASSES, HistoryStoreError, import_outages, record_run
from coverage.report import changes, class_counts, gap_flags, parse_period, period_report, write_report

VILLAGES = {
    "village_id": ["v1", "v2", "v3", "v4", "v5", "v6"],
    "name": [
        "Thôn Nà Lạ",
        "Bản Khuổi Mạn",
        "Xóm Đồng Tâm",
        "Thôn <Làng> & Cốc",
        "Bản Pác Cúng",
        "Thôn Nà Hin",
    ],
    "commune_code": ["00001"] * 3 + ["00002"] * 3,
    "commune_name": ["Xã Một"] * 3 + ["Xã Hai"] * 3,
    "population": [120, 300, 450, 200, 80, 150],
}

# Three monthly runs (Viet Nam time):
# July: v1, v4 no signal; v2 weak; v6 unknown.
# August: a Viettel site serves v1 and v2 (4G) and v1 (5G); an outage is reported at v5.
# September: a VNPT site serves v4; the v5 outage is resolved; v6 is now known to be weak.
RUNS = [
    (
        "2026-07-15T10:00:00+07:00",
        {
            "class_4g_any": ["none", "weak", "good", "none", "good", "no_data"],
            "class_4g_viettel": ["none", "weak", "good", "none", "good", "no_data"],
            "class_4g_vnpt": ["none", "none", "weak", "none", "good", "no_data"],
            "class_5g_any": ["none", "none", "good", "none", "none", "none"],
            "status": ["predicted_gap", "predicted_gap", "covered", "predicted_gap", "covered", "no_data"],
        },
    ),
    (
        "2026-08-15T10:00:00+07:00",
        {
            "class_4g_any": ["good", "good", "good", "none", "good", "no_data"],
            "class_4g_viettel": ["good", "good", "good", "none", "good", "no_data"],
            "class_4g_vnpt": ["none", "none", "weak", "none", "good", "no_data"],
            "class_5g_any": ["good", "none", "good", "none", "none", "none"],
            "status": ["covered", "covered", "covered", "predicted_gap", "reported_gap", "no_data"],
        },
    ),
    (
        "2026-09-15T10:00:00+07:00",
        {
            "class_4g_any": ["good", "good", "good", "good", "good", "weak"],
            "class_4g_viettel": ["good", "good", "good", "none", "good", "weak"],
            "class_4g_vnpt": ["none", "none", "weak", "good", "good", "no_data"],
            "class_5g_any": ["good", "none", "good", "none", "none", "none"],
            "status": ["covered"] * 5 + ["predicted_gap"],
        },
    ),
]

REPORTER = "Hoàng Văn Thụ"
PHONE = "0915 246 813"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "project.history.sqlite"
    project = Project(tmp_path / "project.toml", "Thái Nguyên", None, {})
    for when, classes in RUNS:
        frame = pd.DataFrame({**VILLAGES, **classes})
        frame["rank"] = range(1, 7)
        frame["recommended_action"] = [
            "new_site" if s == "predicted_gap" else "none" for s in classes["status"]
        ]
        record_run(
            path,
            project=project,
            villages_table=frame,
            inputs_checksums={"project": "0" * 64},
            run_at=dt.datetime.fromisoformat(when),
        )
    return path


def by_tech(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["technology"]: r for r in frame.to_dict("records")}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q3", "2026-07-01", "2026-10-01"),
        ("2026q4", "2026-10-01", "2027-01-01"),
        ("2026-09", "2026-09-01", "2026-10-01"),
        (" 2026-01 ", "2026-01-01", "2026-02-01"),
    ],
)
def test_parse_period(text, start, end):
    p = parse_period(text)
    assert p.start == pd.Timestamp(start, tz="Asia/Ho_Chi_Minh")
    assert p.end == pd.Timestamp(end, tz="Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("text", ["2026-Q5", "2026-00", "2026", "Q3-2026", "2026-9-1", ""])
def test_parse_period_refuses(text):
    with pytest.raises(ValueError, match="quarter like 2026-Q3"):
        parse_period(text)


def test_quarter_counts(store):
    r = period_report(store, "2026-Q3")
    # No run before 1 July: the first run of the quarter is the baseline, and the report says so.
    assert (int(r.start_run["run_id"]), int(r.end_run["run_id"])) == (1, 3)
    assert "trước đầu kỳ" in r.baseline_note
    s = by_tech(r.summary)
    four, five = s["4G"], s["5G"]
    assert [four[f"{c}_start"] for c in CLASSES] == [2, 1, 2, 1]
    assert [four[f"{c}_end"] for c in CLASSES] == [5, 1, 0, 0]
    assert (four["gap_start"], four["gap_end"], four["resolved"], four["new"]) == (3, 1, 3, 1)
    assert [five[f"{c}_start"] for c in CLASSES] == [1, 0, 5, 0]
    assert [five[f"{c}_end"] for c in CLASSES] == [2, 0, 4, 0]
    assert (five["gap_start"], five["gap_end"], five["resolved"], five["new"]) == (5, 4, 1, 0)
    assert sorted(r.resolved[r.resolved["technology"] == "4G"]["village_id"]) == ["v1", "v2", "v4"]
    assert r.new[["village_id", "technology", "class_start", "class_end"]].values.tolist() == [
        ["v6", "4G", "no_data", "weak"]
    ]
    totals = r.trend.groupby(["technology", "month"])["gaps"].sum()
    assert totals["4G"].to_dict() == {"2026-07": 3, "2026-08": 2, "2026-09": 1}
    assert totals["5G"].to_dict() == {"2026-07": 5, "2026-08": 4, "2026-09": 4}


def test_august_counts_a_reported_outage_as_a_gap(store):
    r = period_report(store, "2026-08")
    assert (int(r.start_run["run_id"]), int(r.end_run["run_id"])) == (1, 2)
    assert r.baseline_note == ""
    four = by_tech(r.summary)["4G"]
    assert (four["gap_start"], four["gap_end"], four["resolved"], four["new"]) == (3, 2, 2, 1)
    assert (four["reported_gap_start"], four["reported_gap_end"]) == (0, 1)
    assert r.new["village_id"].tolist() == ["v5"]
    assert r.new["status"].tolist() == ["reported_gap"]


def test_september_counts_per_commune_and_operator(store):
    r = period_report(store, "2026-09")
    four = by_tech(r.summary)["4G"]
    assert (four["gap_start"], four["gap_end"], four["resolved"], four["new"]) == (2, 1, 2, 1)
    assert sorted(r.resolved[r.resolved["technology"] == "4G"]["village_id"]) == ["v4", "v5"]
    communes = r.by_commune.set_index(["commune_code", "technology"])
    assert communes.loc[("00001", "4G"), ["gap_start", "gap_end", "resolved", "new"]].tolist() == [0, 0, 0, 0]
    assert communes.loc[("00002", "4G"), ["gap_start", "gap_end", "resolved", "new"]].tolist() == [2, 1, 2, 1]
    assert communes.loc[("00002", "4G"), "commune_name"] == "Xã Hai"
    ops = r.by_operator.set_index(["operator", "technology"])
    assert ops.loc[("VNPT", "4G"), ["gap_start", "gap_end", "resolved", "new"]].tolist() == [4, 3, 1, 0]
    assert ops.loc[("Viettel", "4G"), ["gap_start", "gap_end", "resolved", "new"]].tolist() == [1, 2, 0, 1]
    assert ops.loc[("VNPT", "4G"), ["none_start", "weak_start", "good_start", "no_data_start"]].tolist() == [
        3,
        1,
        1,
        1,
    ]


def test_a_run_just_after_the_period_in_viet_nam_time_is_left_out(store, tmp_path):
    # 2026-09-30 18:00 UTC is 1 October 01:00 in Viet Nam: it belongs to Q4.
    frame = pd.DataFrame({**VILLAGES, "class_4g_any": ["good"] * 6, "class_5g_any": ["good"] * 6})
    record_run(
        store,
        project=Project(tmp_path / "project.toml", "Thái Nguyên", None, {}),
        villages_table=frame,
        inputs_checksums={},
        run_at=dt.datetime(2026, 9, 30, 18, tzinfo=dt.UTC),
    )
    assert int(period_report(store, "2026-Q3").end_run["run_id"]) == 3
    q4 = period_report(store, "2026-Q4")
    assert (int(q4.start_run["run_id"]), int(q4.end_run["run_id"])) == (3, 4)
    assert by_tech(q4.summary)["5G"]["resolved"] == 4


def test_a_period_before_any_run_is_a_clear_error(store):
    with pytest.raises(HistoryStoreError, match="no run recorded before the end of 2026-Q2"):
        period_report(store, "2026-Q2")


def test_write_report_excel_html_and_charts(store, tmp_path):
    out = tmp_path / "bao-cao"
    files = write_report(store, "2026-Q3", out)
    names = sorted(f.relative_to(out).as_posix() for f in files)
    assert names == [
        "bao-cao-2026-Q3.html",
        "bao-cao-2026-Q3.xlsx",
        "charts/thon-chua-co-song-4g-theo-xa.png",
        "charts/thon-chua-co-song-5g-theo-xa.png",
        "charts/thon-chua-co-song-theo-thang.png",
    ]
    for png in out.glob("charts/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    book = openpyxl.load_workbook(out / "bao-cao-2026-Q3.xlsx", read_only=True)
    try:
        assert book.sheetnames == list(SHEETS)
        headers = {name: [c.value for c in next(book[name].iter_rows(max_row=1))] for name in SHEETS}
        summary = [list(r) for r in book["Tóm tắt"].iter_rows(min_row=2, values_only=True)]
        communes = [list(r) for r in book["Theo xã"].iter_rows(min_row=2, values_only=True)]
        resolved = [list(r) for r in book["Đã khắc phục"].iter_rows(min_row=2, values_only=True)]
        method = dict(book["Phương pháp"].iter_rows(min_row=2, values_only=True))
    finally:
        book.close()
    assert headers["Tóm tắt"] == ["Công nghệ", "Chỉ tiêu", "Đầu kỳ", "Cuối kỳ", "Thay đổi"]
    assert headers["Theo xã"][:3] == ["Mã xã", "Tên xã/phường", "Công nghệ"]
    assert "Chưa có sóng tốt – cuối kỳ" in headers["Theo xã"]
    assert headers["Theo nhà mạng"][:2] == ["Nhà mạng", "Công nghệ"]
    assert headers["Đã khắc phục"][:2] == headers["Phát sinh mới"][:2] == ["Mã thôn", "Tên thôn/bản"]
    assert headers["Phương pháp"] == ["Mục", "Nội dung"]
    assert ["4G", "Chưa có sóng tốt", 3, 1, -2] in summary
    assert ["4G", "Đã khắc phục trong kỳ", None, None, 3] in summary
    assert ["5G", "Không có sóng (trắng sóng)", 5, 4, -1] in summary
    assert len(communes) == 4
    assert {r[0] for r in resolved} == {"v1", "v2", "v4"}
    assert "Thôn <Làng> & Cốc" in {r[1] for r in resolved}
    assert resolved[0][5:7] in (
        ["Không có sóng (trắng sóng)", "Sóng tốt"],
        ["Sóng yếu (lõm sóng)", "Sóng tốt"],
    )
    assert "Thái Nguyên" in method["Dự án"] and "2026-Q3" in method["Kỳ báo cáo"]

    page = (out / "bao-cao-2026-Q3.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert "Thôn &lt;Làng&gt; &amp; Cốc" in page and "<Làng>" not in page
    for external in ("http:", "https:", "href=", "<script", "<link", "url("):
        assert external not in page
    for sheet in SHEETS:
        assert f"<h2>{sheet}</h2>" in page


def test_write_report_refuses_to_overwrite(store, tmp_path):
    out = tmp_path / "bao-cao"
    write_report(store, "2026-09", out)
    with pytest.raises(OutputExistsError):
        write_report(store, "2026-09", out)
    assert write_report(store, "2026-09", out, overwrite=True)


def test_no_reporter_detail_in_any_report_file(store, tmp_path):
    outages = tmp_path / "outages.csv"
    outages.write_text(
        "report_id,reported_at,lon,lat,village_id,operator,technology,kind,reporter_name,reporter_phone\n"
        f"R1,2026-08-10T08:00:00+07:00,,,v5,Viettel,4G,no_signal,{REPORTER},{PHONE}\n",
        encoding="utf-8",
    )
    assert import_outages(store, outages).added == 1
    out = tmp_path / "bao-cao"
    write_report(store, "2026-Q3", out)
    secrets = [REPORTER, PHONE, PHONE.replace(" ", ""), PHONE.replace(" ", "")[1:]]
    for file in out.rglob("*"):
        if file.suffix == ".xlsx":
            with zipfile.ZipFile(file) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif file.is_file():
            text = file.read_bytes().decode("utf-8", "replace")
        else:
            continue
        for secret in secrets:
            assert secret not in text, (file, secret)


def test_gap_flags_without_status_use_classes_only():
    v = pd.DataFrame({"run_id": [1], "village_id": ["a"]})
    c = pd.DataFrame(
        {"run_id": [1], "village_id": ["a"], "technology": ["4G"], "operator": ["any"], "class": ["good"]}
    )
    assert gap_flags(v, c)[["gap", "covered"]].values.tolist() == [[False, True]]


classes = st.sampled_from(CLASSES)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(classes, classes), min_size=1, max_size=30))
def test_changes_balance_the_gap_counts(rows):
    """gaps at end = gaps at start - resolved + new - gaps that became unknown."""
    n = len(rows)
    key = {"run_id": [1] * n, "village_id": [f"v{i}" for i in range(n)], "technology": ["4G"] * n}
    key["operator"] = ["any"] * n
    start = gap_flags(pd.DataFrame(key), pd.DataFrame({**key, "class": [r[0] for r in rows]}))
    end = gap_flags(pd.DataFrame(key), pd.DataFrame({**key, "class": [r[1] for r in rows]}))
    moves = changes(start, end)
    resolved, new = (moves["change"] == "resolved").sum(), (moves["change"] == "new").sum()
    lost = sum(r[0] in ("weak", "none") and r[1] == "no_data" for r in rows)
    gaps = [class_counts(f, ["technology"])["gap"].sum() for f in (start, end)]
    assert gaps[1] == gaps[0] - resolved + new - lost
    resolved_ids = set(moves.loc[moves["change"] == "resolved", "village_id"])
    new_ids = set(moves.loc[moves["change"] == "new", "village_id"])
    assert resolved_ids <= set(start.loc[start["gap"], "village_id"]) - set(end.loc[end["gap"], "village_id"])
    assert new_ids <= set(end.loc[end["gap"], "village_id"]) - set(start.loc[start["gap"], "village_id"])


def test_names_that_look_like_formulas_stay_text(tmp_path):
    path = tmp_path / "s.sqlite"
    project = Project(tmp_path / "project.toml", "Thái Nguyên", None, {})
    names = ['=HYPERLINK("http://x","y")', "Thôn Nà Lạ"]
    for when, cls in (("2026-07-15T10:00:00+07:00", "none"), ("2026-08-15T10:00:00+07:00", "good")):
        frame = pd.DataFrame(
            {
                "village_id": ["v1", "v2"],
                "name": names,
                "commune_code": ["00001"] * 2,
                "commune_name": ["Xã Một"] * 2,
                "population": [100, 200],
                "class_4g_any": [cls, "good"],
                "class_5g_any": ["none", "none"],
            }
        )
        record_run(
            path,
            project=project,
            villages_table=frame,
            inputs_checksums={},
            run_at=dt.datetime.fromisoformat(when),
        )
    files = write_report(path, parse_period("2026-08"), tmp_path / "rep")
    xlsx = next(f for f in files if f.suffix == ".xlsx")
    wb = openpyxl.load_workbook(xlsx)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == names[0]]
    assert cells and all(c.data_type == "s" for c in cells)
