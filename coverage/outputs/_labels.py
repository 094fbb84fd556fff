"""Bilingual column headers and value labels of the priority workbook.

Vietnamese first (DOMAIN.md §3.4, glossary §1.1). Terms: *trắng sóng* = no signal,
*lõm sóng* = weak signal, *Quỹ DVVTCI (VTF)* = the public-utility telecom fund.
"""

from __future__ import annotations

import re

import pandas as pd

from coverage.schema import OPERATORS

__all__ = [
    "PRIORITY_SHEET_EN",
    "PRIORITY_SHEET_VI",
    "PROVINCE_SHEET_VI",
    "SUMMARY_SHEET_VI",
    "header_en",
    "header_vi",
    "operator_sheet_name",
    "translate_values",
]

PRIORITY_SHEET_VI = "Danh sách ưu tiên"
PRIORITY_SHEET_EN = "Priority list"
SUMMARY_SHEET_VI = "Tóm tắt theo xã"
PROVINCE_SHEET_VI = "Tóm tắt theo tỉnh"

# column: (Vietnamese, English)
_HEADERS: dict[str, tuple[str, str]] = {
    "rank": ("Hạng", "Rank"),
    "operator_rank": ("Hạng theo doanh nghiệp", "Rank for operator"),
    "village_id": ("Mã thôn", "Village ID"),
    "name": ("Tên thôn/bản", "Village name"),
    "commune_code": ("Mã xã", "Commune code"),
    "commune_name": ("Xã/phường", "Commune"),
    "province": ("Tỉnh", "Province"),
    "population": ("Dân số", "Population"),
    "households": ("Số hộ", "Households"),
    "has_grid_power": ("Điện lưới quốc gia", "Grid power"),
    "extremely_difficult": ("Thôn/xã ĐBKK", "Extremely difficult"),
    "schools": ("Trường học", "Schools"),
    "health_stations": ("Trạm y tế", "Health stations"),
    "status": ("Hiện trạng", "Status"),
    "class_4g_any": ("Lớp 4G", "4G class"),
    "class_5g_any": ("Lớp 5G", "5G class"),
    "rsrp_centre_dbm_4g_any": ("RSRP 4G tại trung tâm (dBm)", "4G RSRP at centre (dBm)"),
    "rsrp_centre_dbm_5g_any": ("RSRP 5G tại trung tâm (dBm)", "5G RSRP at centre (dBm)"),
    "covered_share_4g_any": ("Tỷ lệ diện tích có sóng 4G", "4G covered area share"),
    "nodata_share_4g_any": ("Tỷ lệ diện tích không có dữ liệu 4G", "4G no-data area share"),
    "pop_covered_share_4g_any": ("Tỷ lệ dân số có sóng 4G", "4G covered population share"),
    "dist_site_km_4g_any": ("Khoảng cách đến trạm 4G gần nhất (km)", "Distance to nearest 4G site (km)"),
    "reports": ("Số phản ánh mất sóng", "Outage reports"),
    "report_days": ("Số ngày có phản ánh", "Days with reports"),
    "power_cut_reports": ("Số phản ánh mất điện", "Power-cut reports"),
    "has_evidence": ("Đủ minh chứng", "Evidence rule met"),
    "uncovered_population": ("Dân số chưa có sóng", "Uncovered population"),
    "gap_severity_db": ("Mức thiếu hụt tín hiệu (dB)", "Gap severity (dB)"),
    "component_uncovered_population": ("Điểm: dân số chưa có sóng", "Component: uncovered population"),
    "component_gap_severity": ("Điểm: mức thiếu hụt", "Component: gap severity"),
    "component_evidence": ("Điểm: minh chứng phản ánh", "Component: evidence"),
    "component_facilities": ("Điểm: trường học, trạm y tế", "Component: schools and health stations"),
    "component_distance_to_site": ("Điểm: khoảng cách đến trạm", "Component: distance to site"),
    "component_five_g_only_gap": ("Điểm: chỉ thiếu 5G", "Component: 5G-only gap"),
    "score": ("Điểm ưu tiên", "Priority score"),
    "recommended_action": ("Giải pháp đề xuất", "Recommended action"),
    "funding_route": ("Nguồn vốn", "Funding route"),
    "responsible_operator": ("Doanh nghiệp thực hiện", "Responsible operator"),
    "cost_vnd": ("Chi phí ước tính (VND)", "Estimated cost (VND)"),
    "cost_basis": ("Cơ sở ước tính chi phí", "Cost basis"),
    "flags": ("Ghi chú dữ liệu", "Data flags"),
    "villages": ("Số thôn", "Villages"),
    "population_without_good_4g": ("Dân số chưa có sóng 4G tốt", "Population without good 4G"),
    "population_no_data_4g": ("Dân số không có dữ liệu 4G", "Population with no 4G data"),
    "villages_new_site": ("Số thôn cần xây trạm mới", "Villages needing a new site"),
    "villages_upgrade_to_5g": ("Số thôn cần nâng cấp 5G", "Villages needing a 5G upgrade"),
    "villages_restore_power": ("Số thôn cần khắc phục nguồn điện", "Villages needing power restored"),
    "villages_investigate_outage": ("Số thôn cần kiểm tra phản ánh", "Villages with outages to investigate"),
}

_CLASS_VI = {"good": "có sóng tốt", "weak": "lõm sóng", "none": "trắng sóng", "no_data": "không có dữ liệu"}
_CLASS_EN = {"good": "good", "weak": "weak", "none": "none", "no_data": "no data"}

_VALUES_VI: dict[str, dict[str, str]] = {
    "status": {
        "predicted_gap": "lõm/trắng sóng (dự báo)",
        "reported_gap": "có phản ánh mất sóng",
        "power_outage": "mất sóng do mất điện",
        "covered": "có sóng",
        "no_data": "không có dữ liệu",
    },
    "recommended_action": {
        "new_site": "xây trạm BTS mới",
        "upgrade_to_5g": "nâng cấp 5G",
        "restore_power": "khắc phục nguồn điện",
        "investigate_outage": "kiểm tra phản ánh mất sóng",
        "none": "không",
    },
    "funding_route": {
        "vtf": "Quỹ DVVTCI (VTF)",
        "operator": "doanh nghiệp đầu tư",
        "power_first": "cấp điện trước (EVN/điện mặt trời)",
        "unknown_power": "chưa rõ điện lưới",
        "none": "không",
    },
}

_FLAGS_VI = {
    "population_unknown": "chưa rõ dân số",
    "signal_no_data": "không có dữ liệu sóng",
    "distance_unknown": "chưa rõ khoảng cách",
    "grid_power_unknown": "chưa rõ điện lưới",
}

_BASIS_VI = (
    (r"^site \+ power line ([\d.]+) km$", r"trạm + đường điện \1 km"),
    (r"^site \+ solar power$", "trạm + điện mặt trời"),
    (r"^site$", "trạm BTS"),
    (r"^5G upgrade$", "nâng cấp 5G"),
    (r"^not estimated$", "chưa ước tính"),
)

_OPERATOR_BY_SLUG = {op.lower(): op for op in OPERATORS}
_CLASS_SUMMARY = re.compile(r"^villages_(good|weak|none|no_data)_(4g|5g)$")
_OP_CLASS = re.compile(r"^class_(4g|5g)_(\w+)$")
_OP_RSRP = re.compile(r"^rsrp_centre_dbm_(4g|5g)_(\w+)$")
_OP_DIST = re.compile(r"^dist_site_km_(4g|5g)_(\w+)$")


def _dynamic(column: str, lang: int) -> str | None:
    m = _CLASS_SUMMARY.match(column)
    if m:
        cls = (_CLASS_VI if lang == 0 else _CLASS_EN)[m.group(1)]
        tech = m.group(2).upper()
        return f"Số thôn {tech} {cls}" if lang == 0 else f"Villages {tech} {cls}"
    for pattern, vi, en in (
        (_OP_CLASS, "Lớp {tech} {op}", "{tech} class {op}"),
        (_OP_RSRP, "RSRP {tech} {op} tại trung tâm (dBm)", "{tech} RSRP {op} at centre (dBm)"),
        (
            _OP_DIST,
            "Khoảng cách đến trạm {tech} {op} gần nhất (km)",
            "Distance to nearest {tech} {op} site (km)",
        ),
    ):
        m = pattern.match(column)
        if m:
            op = _OPERATOR_BY_SLUG.get(m.group(2), m.group(2))
            return (vi if lang == 0 else en).format(tech=m.group(1).upper(), op=op)
    return None


def header_vi(column: str) -> str:
    """Vietnamese header of a column (the column name itself when unknown).

    Examples
    --------
    >>> header_vi("class_4g_viettel"), header_vi("villages_none_4g")
    ('Lớp 4G Viettel', 'Số thôn 4G trắng sóng')
    """
    return _HEADERS[column][0] if column in _HEADERS else (_dynamic(column, 0) or column)


def header_en(column: str) -> str:
    """English header of a column (the column name itself when unknown)."""
    return _HEADERS[column][1] if column in _HEADERS else (_dynamic(column, 1) or column)


def operator_sheet_name(operator: str) -> str:
    """Sheet name of an operator's investment request list (at most 31 characters).

    Examples
    --------
    >>> operator_sheet_name("MobiFone")
    'Đề xuất MobiFone'
    """
    return f"Đề xuất {operator}"[:31]


def _basis_vi(text: object) -> object:
    if not isinstance(text, str):
        return text
    for pattern, repl in _BASIS_VI:
        if re.match(pattern, text):
            return re.sub(pattern, repl, text)
    return text


def translate_values(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with categorical values, yes/no and flags in Vietnamese.

    Examples
    --------
    >>> df = pd.DataFrame({"class_4g_any": ["none", "weak"], "has_grid_power": [True, False]})
    >>> translate_values(df).values.tolist()
    [['trắng sóng', 'Có'], ['lõm sóng', 'Không']]
    """
    out = df.copy()
    for c in out.columns:
        if c.startswith("class_"):
            out[c] = out[c].map(lambda v: _CLASS_VI.get(v, v)).astype(object)
        elif c in _VALUES_VI:
            out[c] = out[c].map(lambda v, m=_VALUES_VI[c]: m.get(v, v)).astype(object)
        elif c in ("has_grid_power", "extremely_difficult", "has_evidence"):
            out[c] = out[c].astype(object).map(lambda v: None if pd.isna(v) else ("Có" if v else "Không"))
        elif c == "flags":
            out[c] = (
                out[c]
                .map(
                    lambda v: (
                        "; ".join(_FLAGS_VI.get(f, f) for f in v.split(";") if f) if isinstance(v, str) else v
                    )
                )
                .astype(object)
            )
        elif c == "cost_basis":
            out[c] = out[c].map(_basis_vi).astype(object)
    return out
