"""Tower (site/sector) reader, including OpenCelliD exports as they are.

A tower table has one row per sector (or per site for omni antennas) in the schema of
:data:`coverage.schema.TOWER_COLUMNS`. Missing power, tilt, status and power source are
filled from :class:`~coverage.params.TowerDefaults`; every filled value is listed in the
``filled_fields`` column so a planner can tell measured numbers from assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._validate import (
    Problems,
    check_geometries,
    check_required_columns,
    check_unique,
    coerce_columns,
)
from coverage.io._table import read_frame, restore_truncated_names, to_geoframe
from coverage.io.layers import normalise_operator_column, raise_or_warn
from coverage.params import TowerDefaults
from coverage.schema import MCC_VIETNAM, MNC_OPERATORS, OPENCELLID_RADIO, TOWER_COLUMNS

__all__ = ["OPENCELLID_COLUMNS", "load_towers", "read_towers"]

#: Columns of an OpenCelliD cell export, in file order.
OPENCELLID_COLUMNS = [
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averagesignal",
]


def _is_opencellid(frame: pd.DataFrame) -> bool:
    return {"radio", "mcc", "net", "cell", "lon", "lat"} <= set(frame.columns)


def _headerless_opencellid(path: Path) -> bool:
    """Tell whether a CSV starts with an OpenCelliD data row instead of a header."""
    try:
        import gzip

        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig") as fh:
            first = fh.readline().strip().split(",")
    except OSError:
        return False
    return len(first) >= 12 and first[0].upper() in OPENCELLID_RADIO and first[1].isdigit()


def _from_opencellid(
    frame: pd.DataFrame, problems: Problems, defaults: TowerDefaults, mnc_operators: Mapping[int, str]
) -> pd.DataFrame:
    """Turn OpenCelliD cells into one omni row per site, technology and band.

    OpenCelliD has no site id, azimuth, height, power or band. Cells are grouped into
    sites by eNodeB id for LTE (ECI // 256) and gNodeB id for NR (NCI // 4096, assuming
    a 24-bit gNB id); GSM/UMTS cells are grouped by position rounded to 1e-4° (~11 m).
    Positions are the mean of the cells' crowd-sourced estimates (not surveyed); the
    ``range`` column is an estimate of spread, not coverage, and is kept only as
    ``ocid_range_m``.
    """
    f = frame.copy()
    f["radio"] = f["radio"].str.strip().str.upper()
    for col in ("mcc", "net", "cell", "samples", "range"):
        f[col] = pd.to_numeric(f[col], errors="coerce")
    bad_radio = ~f["radio"].isin(list(OPENCELLID_RADIO))
    if bad_radio.any():
        problems.rows(
            f.loc[bad_radio, "_row"].tolist(),
            "OpenCelliD 'radio' is not GSM/CDMA/UMTS/LTE/NR",
            "fix or delete the row",
            column="radio",
        )
    foreign = f["mcc"] != MCC_VIETNAM
    if foreign.any():
        problems.warning(
            f"{int(foreign.sum())} OpenCelliD rows have an MCC other than {MCC_VIETNAM} (Viet Nam) "
            "and were ignored",
            "export only MCC 452 to silence this",
            column="mcc",
        )
    mapping = {
        int(k): v for k, v in {**MNC_OPERATORS, **{int(k): v for k, v in mnc_operators.items()}}.items()
    }
    f = f[~foreign & ~bad_radio].copy()
    f["operator"] = f["net"].map(lambda n: mapping.get(int(n)) if np.isfinite(n) else None)
    unknown = f["operator"].isna()
    if unknown.any():
        codes = sorted({int(n) for n in f.loc[unknown, "net"].dropna()})
        problems.warning(
            f"{int(unknown.sum())} OpenCelliD rows have network codes {codes} "
            "that map to no current operator "
            f"and were ignored (known: {mapping})",
            'map them in the project file: [inputs.towers] mnc_operators = { 8 = "Viettel" }',
            column="net",
        )
        f = f[~unknown].copy()
    f["technology"] = f["radio"].map(OPENCELLID_RADIO)
    cell = f["cell"].fillna(-1).astype("int64")
    net = f["net"].astype("int64").astype(str).str.zfill(2)
    lon = pd.to_numeric(f["lon"], errors="coerce")
    lat = pd.to_numeric(f["lat"], errors="coerce")
    pos_key = lon.round(4).astype(str) + "," + lat.round(4).astype(str)
    site = np.where(
        f["radio"] == "LTE",
        "452-" + net + "-enb" + (cell // 256).astype(str),
        np.where(
            f["radio"] == "NR",
            "452-" + net + "-gnb" + (cell // 4096).astype(str),
            "452-" + net + "-" + pos_key,
        ),
    )
    f["site_id"] = site
    f["lon_num"], f["lat_num"] = lon, lat
    grouped = f.groupby(["site_id", "technology"], sort=True)
    out = grouped.agg(
        operator=("operator", "first"),
        lon=("lon_num", "mean"),
        lat=("lat_num", "mean"),
        cells=("cell", "count"),
        ocid_samples=("samples", "sum"),
        ocid_range_m=("range", "max"),
        _row=("_row", "first"),
    ).reset_index()
    out["sector_id"] = None
    out["band_mhz"] = [defaults.band_mhz(t) for t in out["technology"]]
    out["antenna_height_m"] = defaults.antenna_height_m
    out["azimuth_deg"] = np.nan
    out["eirp_dbm"] = [defaults.eirp_dbm(t) for t in out["technology"]]
    out["filled_fields"] = "band_mhz;antenna_height_m;azimuth_deg;eirp_dbm"
    out["source_format"] = "opencellid"
    return out.astype({"lon": str, "lat": str})


def _fill_power(gdf: gpd.GeoDataFrame, defaults: TowerDefaults, problems: Problems) -> gpd.GeoDataFrame:
    out = gdf.copy()
    filled = (
        out["filled_fields"].fillna("").astype(str).tolist() if "filled_fields" in out else [""] * len(out)
    )

    def note(i: int, field: str) -> None:
        filled[i] = f"{filled[i]};{field}" if filled[i] else field

    eirp = out["eirp_dbm"].to_numpy(dtype=float, na_value=np.nan)
    tx = out["tx_power_dbm"].to_numpy(dtype=float, na_value=np.nan)
    gain = out["antenna_gain_dbi"].to_numpy(dtype=float, na_value=np.nan)
    both = np.isfinite(eirp) & np.isfinite(tx) & np.isfinite(gain)
    conflict = both & (np.abs(eirp - (tx + gain)) > 3.0)
    if conflict.any():
        problems.rows(
            out.loc[conflict, "_row"].astype(str).tolist(),
            "eirp_dbm differs from tx_power_dbm + antenna_gain_dbi by more than 3 dB "
            "(feeder loss is usually 0.5-3 dB)",
            "give either eirp_dbm or tx_power_dbm + antenna_gain_dbi, not both, or make them agree",
            column="eirp_dbm",
            severity="warning",
        )
    # EIRP = P_tx + G_ant (feeder/jumper losses are assumed included in tx_power_dbm).
    derive = ~np.isfinite(eirp) & np.isfinite(tx) & np.isfinite(gain)
    eirp = np.where(derive, tx + gain, eirp)
    techs = out["technology"].astype(str).tolist()
    for i in np.flatnonzero(~np.isfinite(eirp)):
        if techs[i] in ("2G", "3G", "4G", "5G"):
            eirp[i] = defaults.eirp_dbm(techs[i])
            note(int(i), "eirp_dbm")
    out["eirp_dbm"] = eirp
    for col, value in (
        ("tilt_deg", defaults.tilt_deg),
        ("status", defaults.status),
        ("power_source", defaults.power_source),
    ):
        empty = out[col].isna().to_numpy()
        for i in np.flatnonzero(empty):
            note(int(i), col)
        out[col] = out[col].where(~empty, value)
    n_power = sum("eirp_dbm" in f for f in filled)
    if n_power and not (out.get("source_format") == "opencellid").all():
        problems.warning(
            f"{n_power} tower rows have neither eirp_dbm nor tx_power_dbm + antenna_gain_dbi; "
            "the default EIRP of their technology was used (see filled_fields)",
            "add the sector EIRP for accurate coverage",
            column="eirp_dbm",
        )
    out["filled_fields"] = filled
    return out


def load_towers(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    fmt: str = "auto",
    defaults: TowerDefaults | None = None,
    mnc_operators: Mapping[int, str] | None = None,
) -> tuple[gpd.GeoDataFrame | None, Problems]:
    """Read and check towers; return ``(towers or None, problems)``. See :func:`read_towers`."""
    path = Path(path)
    defaults = defaults or TowerDefaults()
    problems = Problems("towers", str(path))
    header = OPENCELLID_COLUMNS if fmt in ("auto", "opencellid") and _headerless_opencellid(path) else None
    frame = read_frame(path, problems, layer=layer, columns=columns, header_names=header)
    if frame is None:
        return None, problems
    if len(frame) == 0:
        problems.error("the layer is empty (no rows or features)", "check that the right file/layer is named")
        return None, problems
    if fmt == "opencellid" or (fmt == "auto" and _is_opencellid(frame)):
        frame = _from_opencellid(frame, problems, defaults, mnc_operators or {})
        if frame.empty:
            problems.error("no usable OpenCelliD rows for Viet Nam (MCC 452)", "check the export")
            return None, problems
    frame = restore_truncated_names(frame, [c.name for c in TOWER_COLUMNS])
    missing = check_required_columns(frame, TOWER_COLUMNS, problems)
    gdf = to_geoframe(frame, problems, crs=crs, x_column=x_column, y_column=y_column)
    if gdf is None:
        return None, problems
    gdf = normalise_operator_column(gdf, problems)
    gdf = coerce_columns(gdf, [c for c in TOWER_COLUMNS if c.name not in missing], problems)
    if missing:
        return gdf, problems
    gdf = check_geometries(gdf, problems, allowed=("Point",))
    # Same site, technology, band and azimuth twice is a duplicate sector.
    key = gdf.assign(_az=gdf["azimuth_deg"].round(1).astype("string").fillna("omni"))
    check_unique(
        key,
        ["site_id", "technology", "band_mhz", "_az"],
        problems,
        what="sector (site, technology, band, azimuth)",
    )
    omni = gdf["azimuth_deg"].isna() & gdf.groupby(["site_id", "technology", "band_mhz"])[
        "azimuth_deg"
    ].transform(lambda s: s.notna().any())
    if omni.any():
        problems.rows(
            gdf.loc[omni, "_row"].astype(str).tolist(),
            "a site mixes omni (empty azimuth) and sector rows for the same technology and band",
            "give every sector its azimuth_deg",
            column="azimuth_deg",
        )
    if "source_format" not in gdf:
        gdf["source_format"] = "table"
    if "filled_fields" not in gdf:
        gdf["filled_fields"] = ""
    gdf = _fill_power(gdf, defaults, problems)
    if gdf.crs is not None and gdf.geometry.notna().all() and len(gdf) > 1:
        metric = gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs.is_geographic else gdf
        xy = np.column_stack([metric.geometry.x, metric.geometry.y])
        spread = pd.DataFrame(xy, columns=["x", "y"]).groupby(gdf["site_id"].to_numpy()).agg(["min", "max"])
        extent = np.hypot(
            spread[("x", "max")] - spread[("x", "min")], spread[("y", "max")] - spread[("y", "min")]
        )
        for site_id, dist in extent[extent > 50.0].items():
            problems.error(
                f"site '{site_id}' has sectors {dist:.0f} m apart",
                "sectors of one site share one position; check the coordinates or split the site id",
                column="site_id",
            )
    return gdf, problems


def read_towers(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    fmt: str = "auto",
    defaults: TowerDefaults | None = None,
    mnc_operators: Mapping[int, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read towers: one row per sector, or per site for omni antennas.

    Parameters
    ----------
    path
        A tower table (CSV/Excel with lon/lat or x/y, or any vector format), or an
        OpenCelliD export as downloaded (with or without its header line, ``.csv`` or
        ``.csv.gz``).
    fmt
        ``"auto"`` (detect OpenCelliD by its columns) or ``"opencellid"``.
    defaults
        Values for what the file lacks (height, EIRP, band for OpenCelliD; EIRP, tilt,
        status, power source otherwise). Each filled value is listed in
        ``filled_fields``.
    mnc_operators
        Extra MCC-452 network-code to operator mappings for OpenCelliD.
    layer, crs, x_column, y_column, columns
        As in :func:`~coverage.io.read_villages`.

    Returns
    -------
    geopandas.GeoDataFrame
        Schema :data:`coverage.schema.TOWER_COLUMNS` plus ``filled_fields``,
        ``source_format`` and ``_row``. ``eirp_dbm`` is always set: EIRP = P_tx + G_ant
        when only those are given.
    """
    gdf, problems = load_towers(
        path,
        layer=layer,
        crs=crs,
        x_column=x_column,
        y_column=y_column,
        columns=columns,
        fmt=fmt,
        defaults=defaults,
        mnc_operators=mnc_operators,
    )
    return raise_or_warn(gdf, problems, f"towers from {path}")
