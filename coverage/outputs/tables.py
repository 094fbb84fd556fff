"""Writers for the priority list, the village table and the gap polygons.

Every writer writes atomically (into a temporary folder next to the target, then
``os.replace``), refuses to replace an existing file unless ``overwrite=True``
(:class:`~coverage._errors.OutputExistsError`), and drops any column that could hold
personal data (``reporter_key``, ``reporter_*``) before writing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage.evidence import UNMATCHED_COLUMNS
from coverage.io._atomic import atomic_file
from coverage.io.csvfile import spreadsheet_safe
from coverage.outputs._labels import (
    PRIORITY_SHEET_EN,
    PRIORITY_SHEET_VI,
    PROVINCE_SHEET_VI,
    SUMMARY_SHEET_VI,
    header_en,
    header_vi,
    operator_sheet_name,
    translate_values,
)
from coverage.outputs._xlsx import method_rows, write_sheet
from coverage.priority import PRIORITY_COLUMNS

__all__ = [
    "operator_list_columns",
    "priority_columns",
    "write_gaps_gpkg",
    "write_priority_csv",
    "write_priority_xlsx",
    "write_unmatched_outages_csv",
    "write_villages_gpkg",
]

_PERSONAL_PREFIXES = ("reporter",)


def _no_personal(df: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in df.columns if str(c).lower().startswith(_PERSONAL_PREFIXES)]
    return df.drop(columns=drop) if drop else df


def priority_columns(priority: pd.DataFrame) -> list[str]:
    """Return the columns of the written priority list.

    These are the :data:`PRIORITY_COLUMNS` present, with the per-operator 4G classes
    after ``class_5g_any``.

    Examples
    --------
    >>> priority_columns(pd.DataFrame(columns=["rank", "class_5g_any", "class_4g_vnpt", "x"]))
    ['rank', 'class_5g_any', 'class_4g_vnpt']
    """
    per_op = sorted(c for c in priority.columns if c.startswith("class_4g_") and c != "class_4g_any")
    cols: list[str] = []
    for c in PRIORITY_COLUMNS:
        if c in priority.columns:
            cols.append(c)
        if c == "class_5g_any":
            cols += per_op
    return cols


_OPERATOR_LIST_COLUMNS = (
    "operator_rank",
    "rank",
    "village_id",
    "name",
    "commune_code",
    "commune_name",
    "province",
    "population",
    "households",
    "has_grid_power",
    "extremely_difficult",
    "schools",
    "health_stations",
    "{class}",
    "{rsrp}",
    "{dist}",
    "class_4g_any",
    "status",
    "score",
    "recommended_action",
    "funding_route",
    "responsible_operator",
    "cost_vnd",
    "flags",
)


def operator_list_columns(table: pd.DataFrame, operator: str) -> list[str]:
    """Return the columns of an operator's request sheet: its own 4G figures first.

    Examples
    --------
    >>> operator_list_columns(pd.DataFrame(columns=["operator_rank", "village_id", "class_4g_vnpt"]), "VNPT")
    ['operator_rank', 'village_id', 'class_4g_vnpt']
    """
    slug = operator.lower()
    names = {
        "{class}": f"class_4g_{slug}",
        "{rsrp}": f"rsrp_centre_dbm_4g_{slug}",
        "{dist}": f"dist_site_km_4g_{slug}",
    }
    cols = [names.get(c, c) for c in _OPERATOR_LIST_COLUMNS]
    return [c for c in cols if c in table.columns]


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_float_dtype(out[c]):
            continue
        if c.endswith("_vnd"):
            out[c] = out[c].round(0).astype("Int64")
        elif "_dbm" in c or c.endswith("_db") or c == "uncovered_population":
            out[c] = out[c].round(1)
        elif "_km" in c:
            out[c] = out[c].round(3)
        else:
            out[c] = out[c].round(4)
    return out


def write_priority_csv(
    priority: pd.DataFrame, path: str | Path, *, columns: list[str] | None = None, overwrite: bool = False
) -> Path:
    """Write the priority list as CSV.

    UTF-8 with BOM (so Excel shows diacritics), English snake_case headers with units,
    sorted by ``rank``.

    Parameters
    ----------
    priority
        Table of :func:`coverage.priority.priority_table`.
    path
        Target ``.csv`` file.
    columns
        Columns to write (default :func:`priority_columns`).
    overwrite
        Replace an existing file.
    """
    cols = columns if columns is not None else priority_columns(priority)
    df = _no_personal(pd.DataFrame(priority)[cols])
    if "rank" in df.columns:
        df = df.sort_values("rank", kind="stable")
    with atomic_file(path, overwrite=overwrite) as tmp:
        spreadsheet_safe(_rounded(df)).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return Path(path)


def write_unmatched_outages_csv(
    unmatched: pd.DataFrame, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write the reports matching no village (``unmatched_outages.csv``).

    Columns ``report_id, reported_at, operator, technology, kind, village_id, lon, lat,
    reason`` only: nothing about the reporter.
    """
    df = pd.DataFrame(unmatched).reindex(columns=list(UNMATCHED_COLUMNS))
    if len(df) and isinstance(df["reported_at"].dtype, pd.DatetimeTZDtype):
        df["reported_at"] = df["reported_at"].map(lambda t: t.isoformat() if pd.notna(t) else "")
    with atomic_file(path, overwrite=overwrite) as tmp:
        spreadsheet_safe(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return Path(path)


def _gpkg_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = _no_personal(df).copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].map(lambda t: t.isoformat() if pd.notna(t) else None)
    return out


def write_villages_gpkg(
    villages: gpd.GeoDataFrame,
    path: str | Path,
    *,
    long: pd.DataFrame | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the per-village GeoPackage.

    Layer ``villages``: every per-village figure with its geometry; layer
    ``village_signal`` (when ``long`` is given): the village x technology x operator
    table without geometry.
    """
    import pyogrio

    with atomic_file(path, overwrite=overwrite) as tmp:
        gdf = _gpkg_ready(villages)
        gpd.GeoDataFrame(gdf, geometry=villages.geometry.name, crs=villages.crs).to_file(
            tmp, layer="villages", driver="GPKG", engine="pyogrio"
        )
        if long is not None:
            pyogrio.write_dataframe(
                _gpkg_ready(pd.DataFrame(long)), tmp, layer="village_signal", driver="GPKG"
            )
    return Path(path)


def write_gaps_gpkg(gaps: gpd.GeoDataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the gap and no-data polygons (layer ``gaps``)."""
    with atomic_file(path, overwrite=overwrite) as tmp:
        _gpkg_ready(gaps).to_file(tmp, layer="gaps", driver="GPKG", engine="pyogrio")
    return Path(path)


def write_priority_xlsx(
    priority: pd.DataFrame,
    path: str | Path,
    *,
    operator_lists: Mapping[str, pd.DataFrame] | None = None,
    commune_summary: pd.DataFrame | None = None,
    province_summary: pd.DataFrame | None = None,
    thresholds: object = None,
    weights: object = None,
    evidence_params: object = None,
    gap_params: object = None,
    costs: object = None,
    data_sources: Mapping[str, str] | None = None,
    run_date: dt.date | dt.datetime | str | None = None,
    tool_version: str | None = None,
    as_of: object = None,
    notes: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the priority workbook.

    Sheets: ``Danh sách ưu tiên`` (Vietnamese headers and values), ``Priority list``
    (English), one ``Đề xuất <operator>`` sheet per operator list, ``Tóm tắt theo xã``
    (commune summary) and ``Method`` (parameters, rules, data sources, run date, tool
    version). List sheets have a frozen header row (and the rank, id and name
    columns), an auto-filter, number formats and column widths.

    Parameters
    ----------
    priority
        Table of :func:`coverage.priority.priority_table`.
    path
        Target ``.xlsx`` file.
    operator_lists
        ``{operator: table}`` from :func:`coverage.priority.operator_requests`.
    commune_summary
        Table of :func:`coverage.gaps.area_summary` (``by="commune"``).
    province_summary
        The same rolled up per province (sheet ``Tóm tắt theo tỉnh``).
    thresholds, weights, evidence_params, gap_params, costs
        Parameter dataclasses (or mappings) listed on the Method sheet.
    data_sources
        ``{layer: description}`` listed on the Method sheet.
    run_date, tool_version, as_of
        Run metadata for the Method sheet.
    notes
        Extra ``{item: text}`` rules for the Method sheet.
    overwrite
        Replace an existing file.
    """
    try:
        from openpyxl import Workbook
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise ImportError("writing .xlsx needs openpyxl: pip install openpyxl") from exc

    cols = priority_columns(priority)
    main = _no_personal(pd.DataFrame(priority)[cols]).sort_values("rank", kind="stable")
    method = method_rows(
        thresholds=thresholds,
        weights=weights,
        evidence_params=evidence_params,
        gap_params=gap_params,
        costs=costs,
        data_sources=data_sources,
        run_date=run_date,
        tool_version=tool_version,
        as_of=as_of,
        notes=notes,
    )
    with atomic_file(path, overwrite=overwrite) as tmp:
        wb = Workbook(write_only=True)
        try:
            write_sheet(
                wb, PRIORITY_SHEET_VI, translate_values(main), [header_vi(c) for c in cols], freeze="D2"
            )
            write_sheet(wb, PRIORITY_SHEET_EN, main, [header_en(c) for c in cols], freeze="D2")
            for op, table in (operator_lists or {}).items():
                ocols = operator_list_columns(table, op)
                part = _no_personal(pd.DataFrame(table)[ocols])
                headers = [header_vi(c) for c in ocols]
                write_sheet(wb, operator_sheet_name(op), translate_values(part), headers, freeze="E2")
            if commune_summary is not None:
                summ = _no_personal(pd.DataFrame(commune_summary))
                write_sheet(wb, SUMMARY_SHEET_VI, summ, [header_vi(c) for c in summ.columns], freeze="C2")
            if province_summary is not None:
                prov = _no_personal(pd.DataFrame(province_summary))
                write_sheet(wb, PROVINCE_SHEET_VI, prov, [header_vi(c) for c in prov.columns], freeze="B2")
            write_sheet(wb, "Method", method, ["Section", "Item", "Value"])
            wb.save(tmp)
        finally:
            wb.close()
    return Path(path)
