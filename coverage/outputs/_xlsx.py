"""Excel sheet mechanics of the priority workbook (openpyxl, write-only mode).

Number formats by column name (shares 0.0 %, dBm 0.0, km #,##0.0, VND #,##0), column
widths from the header and the first 200 values, frozen panes and auto-filter, and the
Method sheet rows built from the parameter dataclasses.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass

import numpy as np
import pandas as pd

from coverage.io.csvfile import FORMULA_PREFIXES

__all__ = ["method_rows", "write_sheet"]

_NUMBER_FORMATS = (
    (lambda c: c.endswith("_share") or "_share_" in c, "0.0%"),
    (lambda c: "_dbm" in c or c.endswith("_db"), "0.0"),
    (lambda c: "_km" in c, "#,##0.0"),
    (lambda c: c.startswith("component_") or c == "score", "0.000"),
    (lambda c: c.endswith("_vnd"), "#,##0"),
    (lambda c: c == "uncovered_population", "#,##0"),
)


def _number_format(column: str, series: pd.Series) -> str | None:
    for test, fmt in _NUMBER_FORMATS:
        if test(column):
            return fmt
    if pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "#,##0"
    return None


def _cell_value(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.replace(tzinfo=None) if v.tzinfo else v
    return v


def write_sheet(wb: object, title: str, df: pd.DataFrame, headers: list[str], *, freeze: str = "A2") -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=title[:31])
    formats = [_number_format(c, df[c]) for c in df.columns]
    widths = []
    for i, c in enumerate(df.columns):
        sample = df[c].head(200).astype(str).str.len()
        width = max(len(headers[i]) * 0.9, float(sample.max()) if len(sample) else 0.0) + 2
        widths.append(min(max(width, 8.0), 45.0))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = freeze
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
        head.append(cell)
    ws.append(head)
    columns = [df[c].to_numpy(dtype=object) for c in df.columns]
    for r in range(len(df)):
        row = []
        for j, col in enumerate(columns):
            v = _cell_value(col[r])
            if formats[j] and isinstance(v, int | float) and not isinstance(v, bool):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = formats[j]
                row.append(cell)
            elif isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
                # Input text such as a village named "=HYPERLINK(...)" must stay text:
                # openpyxl would otherwise store it as a formula that Excel runs.
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(v)
        ws.append(row)


def method_rows(
    *,
    thresholds: object,
    weights: object,
    evidence_params: object,
    gap_params: object,
    costs: object,
    data_sources: Mapping[str, str] | None,
    run_date: dt.date | dt.datetime | str | None,
    tool_version: str | None,
    as_of: object,
    notes: Mapping[str, str] | None,
) -> pd.DataFrame:
    """Return the Method sheet as ``section, item, value`` rows."""
    rows: list[tuple[str, str, object]] = [
        ("run", "run date", str(run_date or dt.date.today().isoformat())),
        ("run", "tool version", f"coverage-gaps {tool_version}" if tool_version else "coverage-gaps"),
    ]
    if as_of is not None:
        rows.append(("run", "evidence window ends (as_of)", str(as_of)))

    def flat(section: str, obj: object) -> None:
        if obj is None:
            return
        data = asdict(obj) if is_dataclass(obj) and not isinstance(obj, type) else dict(obj)  # type: ignore[arg-type]
        for k, v in data.items():
            if isinstance(v, dict):
                for k2, v2 in v.items():
                    rows.append((section, f"{k}.{k2}", v2))
            else:
                rows.append((section, k, v if isinstance(v, int | float | str) else str(v)))

    flat("thresholds (dBm)", thresholds)
    flat("priority weights", weights)
    flat("evidence rule", evidence_params)
    flat("village statistics", gap_params)
    flat("costs (VND)", costs)
    rules = {
        "class": "good >= good_dbm; weak >= weak_dbm; none below; no_data = unknown prediction",
        "village class": "class of the cell holding the village centre (polygon: representative point)",
        "covered share": "cells with RSRP >= weak_dbm / known cells of the village zone (nodata excluded)",
        "evidence": "at least min_reports de-duplicated reports on at least min_distinct_days days "
        "within window_days (power cuts counted separately); weight 0.5^(age/half_life)",
        "score": "sum of weight x component, each component in [0, 1] (see component_* columns)",
        "funding route": "new site: no grid -> power first; extremely difficult -> VTF; else operator",
    }
    rows += [("rules", k, v) for k, v in {**rules, **(notes or {})}.items()]
    rows += [("data sources", k, v) for k, v in (data_sources or {}).items()]
    return pd.DataFrame(rows, columns=["section", "item", "value"])
