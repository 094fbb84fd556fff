"""Render a :class:`~coverage.report.PeriodReport`: PNG charts, Excel workbook, HTML page.

Every header and label is Vietnamese (the steering committees' language). The HTML
page is self-contained: the charts are embedded as ``data:`` URIs, the style is inline,
there is no link or script, and every string is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from coverage._report_types import PeriodReport

__all__ = ["HEADERS", "SHEETS", "render"]

SHEETS: tuple[str, ...] = (
    "Tóm tắt",
    "Theo xã",
    "Theo nhà mạng",
    "Đã khắc phục",
    "Phát sinh mới",
    "Phương pháp",
)

CLASS_VI = {
    "good": "Sóng tốt",
    "weak": "Sóng yếu (lõm sóng)",
    "none": "Không có sóng (trắng sóng)",
    "no_data": "Không có dữ liệu",
    "gap": "Chưa có sóng tốt",
    "reported_gap": "Có phản ánh mất sóng (mô hình: có sóng)",
}
VALUES_VI = {
    **{k: v for k, v in CLASS_VI.items() if k in ("good", "weak", "none", "no_data")},
    "any": "Tất cả nhà mạng",
    "predicted_gap": "Lõm sóng (theo mô hình)",
    "reported_gap": "Có phản ánh mất sóng",
    "power_outage": "Mất điện",
    "covered": "Có sóng",
    "new_site": "Xây trạm mới",
    "upgrade_to_5g": "Nâng cấp 5G",
    "restore_power": "Khôi phục nguồn điện",
    "investigate_outage": "Kiểm tra phản ánh",
}
SIDES_VI = {"start": "đầu kỳ", "end": "cuối kỳ"}
HEADERS: dict[str, str] = {
    "technology": "Công nghệ",
    "operator": "Nhà mạng",
    "commune_code": "Mã xã",
    "commune_name": "Tên xã/phường",
    "village_id": "Mã thôn",
    "name": "Tên thôn/bản",
    "class_start": "Mức sóng đầu kỳ",
    "class_end": "Mức sóng cuối kỳ",
    "status": "Hiện trạng cuối kỳ",
    "recommended_action": "Đề xuất",
    "resolved": "Đã khắc phục",
    "new": "Phát sinh mới",
    **{f"{c}_{s}": f"{label} – {side}" for c, label in CLASS_VI.items() for s, side in SIDES_VI.items()},
}
LIST_COLUMNS = [
    "village_id",
    "name",
    "commune_code",
    "commune_name",
    "technology",
    "class_start",
    "class_end",
    "status",
    "recommended_action",
]


def _vi(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Select ``columns``, translate coded values and rename headers to Vietnamese."""
    out = frame[columns] if columns is not None else frame.copy()
    out = out.copy()
    for col in ("operator", "class_start", "class_end", "status", "recommended_action"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: VALUES_VI.get(v, v) if isinstance(v, str) else "")
    return out.rename(columns=HEADERS)


def _summary_sheet(report: PeriodReport) -> pd.DataFrame:
    rows = []
    for rec in report.summary.to_dict("records"):
        for key in ("good", "weak", "none", "no_data", "gap", "reported_gap"):
            start, end = rec[f"{key}_start"], rec[f"{key}_end"]
            rows.append([rec["technology"], CLASS_VI[key], start, end, end - start])
        rows.append([rec["technology"], "Đã khắc phục trong kỳ", None, None, rec["resolved"]])
        rows.append([rec["technology"], "Phát sinh mới trong kỳ", None, None, rec["new"]])
    return pd.DataFrame(rows, columns=["Công nghệ", "Chỉ tiêu", "Đầu kỳ", "Cuối kỳ", "Thay đổi"])


def _local(ts: pd.Timestamp) -> str:
    return ts.tz_convert("Asia/Ho_Chi_Minh").strftime("%Y-%m-%d %H:%M (+07:00)")


def _method_sheet(report: PeriodReport) -> pd.DataFrame:
    def run_text(run: pd.Series) -> str:
        return (
            f"Lần chạy số {int(run['run_id'])}, {_local(run['run_at'])}, "
            f"coverage-gaps {run['tool_version']}, {int(run['villages'])} thôn"
        )

    p = report.period
    end_label = (p.end - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    rows = [
        ("Dự án", report.project_name),
        ("Kỳ báo cáo", f"{p.label}: từ {p.start:%Y-%m-%d} đến hết {end_label} (giờ Việt Nam)"),
        ("Trạng thái đầu kỳ", run_text(report.start_run) if report.start_run is not None else "(không có)"),
        ("Trạng thái cuối kỳ", run_text(report.end_run)),
        ("Ghi chú", report.baseline_note or "Đầu kỳ: lần chạy cuối cùng trước ngày đầu kỳ."),
        ("Dữ liệu đầu vào thay đổi ở lần chạy cuối kỳ", str(report.end_run["changed_inputs"]) or "(không)"),
        (
            "Mức sóng",
            "Mức sóng tại trung tâm thôn (nhà văn hóa) theo mô hình truyền sóng của từng lần chạy: "
            "Sóng tốt, Sóng yếu (lõm sóng), Không có sóng (trắng sóng), Không có dữ liệu "
            "(không phải 'không có sóng'). 'Tất cả nhà mạng' là mức tốt nhất của mọi nhà mạng.",
        ),
        (
            "Chưa có sóng tốt",
            "Thôn có sóng yếu hoặc không có sóng; với 4G (tất cả nhà mạng) còn tính thôn có phản ánh "
            "mất sóng hoặc mất điện từ người dân, dù mô hình dự báo có sóng.",
        ),
        ("Đã khắc phục", "Thôn chưa có sóng tốt ở đầu kỳ và có sóng tốt ở cuối kỳ."),
        ("Phát sinh mới", "Thôn chưa có sóng tốt ở cuối kỳ nhưng không như vậy ở đầu kỳ (kể cả thôn mới)."),
        ("Biểu đồ", "Mỗi tháng một điểm: lần chạy cuối cùng của tháng, tối đa 24 tháng đến hết kỳ."),
        ("Dữ liệu cá nhân", "Báo cáo không chứa thông tin người phản ánh (tên, số điện thoại)."),
    ]
    return pd.DataFrame(rows, columns=["Mục", "Nội dung"])


def _sheets(report: PeriodReport) -> dict[str, pd.DataFrame]:
    return dict(
        zip(
            SHEETS,
            [
                _summary_sheet(report),
                _vi(report.by_commune),
                _vi(report.by_operator),
                _vi(report.resolved, LIST_COLUMNS),
                _vi(report.new, LIST_COLUMNS),
                _method_sheet(report),
            ],
            strict=True,
        )
    )


def _write_excel(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl.styles import Alignment, Font

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # text from the data that looks like a formula stays text
                        cell.data_type = "s"
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for i, col in enumerate(frame.columns, start=1):
                longest = max([len(str(col)) // 2, *(len(str(v)) for v in frame[col].head(200))], default=8)
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(10, longest + 2), 80)


def _charts(report: PeriodReport) -> dict[str, bytes]:
    """PNG charts: villages without good 4G / 5G per month, in total and by commune."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover
        raise ImportError("the report's charts need matplotlib: pip install matplotlib") from exc

    trend = report.trend
    months = sorted(trend["month"].unique())

    def png(fig: Figure) -> bytes:
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        return buf.getvalue()

    out = {}
    fig = Figure(figsize=(8, 4), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for tech in ("4G", "5G"):
        sel = trend[trend["technology"] == tech].groupby("month")["gaps"].sum().reindex(months)
        if sel.notna().any():
            ax.plot(months, sel.fillna(0).to_numpy(), marker="o", label=f"Chưa có sóng {tech} tốt")
    ax.set_title("Số thôn chưa có sóng tốt theo tháng")
    ax.set_ylabel("Số thôn")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.tick_params(axis="x", labelrotation=45)
    out["thon-chua-co-song-theo-thang.png"] = png(fig)
    for tech in ("4G", "5G"):
        sel = trend[trend["technology"] == tech]
        fig = Figure(figsize=(9, 4.5), dpi=110, layout="constrained")
        ax = fig.add_subplot()
        labels = sel["commune_name"].where(sel["commune_name"] != "", sel["commune_code"])
        table = sel.assign(label=labels).pivot_table(
            index="month", columns="label", values="gaps", aggfunc="sum"
        )
        table = table.reindex(months).fillna(0)
        top = table.max().sort_values(ascending=False).index[:10]
        for label in top:
            ax.plot(months, table[label].to_numpy(), marker="o", label=str(label) or "(chưa rõ xã)")
        if len(table.columns) > len(top):
            rest = table.drop(columns=top).sum(axis=1)
            ax.plot(months, rest.to_numpy(), marker="o", linestyle="--", color="grey", label="Các xã khác")
        title = f"Số thôn chưa có sóng {tech} tốt theo xã"
        ax.set_title(title + (f" ({len(top)} xã nhiều nhất)" if len(table.columns) > len(top) else ""))
        ax.set_ylabel("Số thôn")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=45)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        out[f"thon-chua-co-song-{tech.lower()}-theo-xa.png"] = png(fig)
    return out


def _html_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        return html.escape(f"{v:,}" if isinstance(v, int) else str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.astype(object).itertuples(index=False)
    )
    if frame.empty:
        body = f'<tr><td colspan="{len(frame.columns)}">(không có)</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.5em}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
    "th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#eef}img{max-width:100%;display:block;margin:1em 0}"
)


def _html(report: PeriodReport, sheets: dict[str, pd.DataFrame], charts: dict[str, bytes]) -> str:
    title = f"Báo cáo tiến độ xóa thôn lõm sóng – {report.project_name} – {report.period.label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for name, frame in sheets.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(_html_table(frame))
        if name == SHEETS[0]:
            for file, data in charts.items():
                uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
                parts.append(f'<img alt="{html.escape(file)}" src="{uri}">')
    parts.append("</body></html>")
    return "\n".join(parts)


def render(report: PeriodReport, folder: Path) -> list[Path]:
    """Write the workbook, the HTML page and the charts into ``folder``; return the files."""
    sheets = _sheets(report)
    charts = _charts(report)
    stem = f"bao-cao-{report.period.label}"
    files = []
    chart_dir = folder / "charts"
    chart_dir.mkdir(exist_ok=True)
    for name, data in charts.items():
        (chart_dir / name).write_bytes(data)
        files.append(chart_dir / name)
    xlsx = folder / f"{stem}.xlsx"
    _write_excel(sheets, xlsx)
    page = folder / f"{stem}.html"
    page.write_text(_html(report, sheets, charts), encoding="utf-8")
    return [xlsx, page, *files]
