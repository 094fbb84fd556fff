"""Turn the tower table into the list of sectors to compute (and the ones skipped)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coverage._errors import ConfigError
from coverage._types import Raster
from coverage.params import RadioParams, Thresholds
from coverage.propagation.budget import location_margin_db, rsrp_offset_db
from coverage.propagation.itm._grid import smooth_earth_loss_db
from coverage.propagation.itm._params import ItmParams
from coverage.propagation.pathloss import choose_model, model_loss_db, validity_messages

SITE_COLUMNS = [
    "site_id",
    "sector_id",
    "operator",
    "technology",
    "band_mhz",
    "model",
    "radius_m",
    "eirp_dbm",
    "antenna_height_m",
    "azimuth_deg",
    "tilt_deg",
    "bandwidth_mhz",
    "x",
    "y",
    "row",
    "col",
    "ground_m",
]
SKIPPED_COLUMNS = ["site_id", "sector_id", "operator", "technology", "band_mhz", "x", "y", "reason"]


@dataclass
class SitePlan:
    """Sectors to compute (index = serving-site id), rows skipped, messages, layer keys."""

    sites: pd.DataFrame
    skipped: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    operators: dict[str, list[str]] = field(default_factory=dict)


def _float(value: object, default: float = math.nan) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _distance_loss_db(model, d, band_mhz, h_ant, params: RadioParams) -> np.ndarray:
    if model == "itm":  # smooth-earth ITM: radius sizing only, cells use the terrain profile
        return smooth_earth_loss_db(d, band_mhz, h_ant, params.receiver_height_m, ItmParams())
    return model_loss_db(model, d, band_mhz, h_ant, params.receiver_height_m, params.environment)


def pathloss_table(row: pd.Series, n_samples: int, res_m: float, params: RadioParams) -> np.ndarray:
    """Path loss at sample distances ``i * res_m`` for ``i = 0..n_samples`` (i = 0 at half a cell)."""
    d = np.arange(n_samples + 1, dtype=np.float64) * res_m
    d[0] = 0.5 * res_m
    if row["model"] == "itm":
        return _distance_loss_db("itm", d, row["band_mhz"], row["antenna_height_m"], params)
    return model_loss_db(
        row["model"],
        d,
        row["band_mhz"],
        row["antenna_height_m"],
        params.receiver_height_m,
        params.environment,
    )


def _radius_m(
    p0_db: float, model: str, row: dict, res_m: float, params: RadioParams, limit_dbm: float
) -> float:
    n_max = max(1, math.ceil(params.max_radius_km * 1000.0 / res_m))
    d = np.arange(1, n_max + 1, dtype=np.float64) * res_m
    loss = _distance_loss_db(model, d, row["band_mhz"], row["antenna_height_m"], params)
    ok = np.nonzero(p0_db - loss >= limit_dbm)[0]
    if ok.size == 0:
        return res_m
    return float(min(d[ok[-1]] + res_m, params.max_radius_km * 1000.0))


def plan_sites(
    towers: pd.DataFrame,
    dem: Raster,
    params: RadioParams,
    thresholds: Thresholds,
    technologies: Sequence[str],
) -> SitePlan:
    """Select on-air rows of the requested technologies, locate them on the DEM grid.

    Rows that cannot be computed go to ``skipped`` with a reason; the rest are sorted
    by ``(site_id, sector_id, technology, operator, band, azimuth)`` so the serving-site
    index, and thus tie-breaking, does not depend on the input row order.
    """
    rows, cols = dem.shape
    inv = ~dem.transform
    res_m = abs(dem.transform.a)
    margin = location_margin_db(params.location_sigma_db, params.cell_edge_probability)
    limit_dbm = thresholds.lowest_dbm - params.radius_margin_db
    kept: list[dict] = []
    skipped: list[dict] = []
    operators: dict[str, set[str]] = {t: set() for t in technologies}
    status = towers["status"] if "status" in towers else pd.Series("on_air", index=towers.index)
    sel = towers[(status == "on_air") & towers["technology"].isin(list(technologies))]
    for (_, t), geom in zip(sel.iterrows(), sel.geometry, strict=True):
        rec = {
            "site_id": _text(t.get("site_id")),
            "sector_id": _text(t.get("sector_id")) or None,
            "operator": _text(t.get("operator")),
            "technology": t["technology"],
            "band_mhz": _float(t.get("band_mhz")),
            "x": math.nan,
            "y": math.nan,
        }
        operators[rec["technology"]].add(rec["operator"])

        def skip(reason: str, rec: dict = rec) -> None:
            skipped.append({**rec, "reason": reason})

        if geom is None or geom.is_empty:
            skip("no geometry")
            continue
        rec["x"], rec["y"] = float(geom.x), float(geom.y)
        col_f, row_f = inv * (rec["x"], rec["y"])
        r, c = math.floor(row_f), math.floor(col_f)
        if not (0 <= r < rows and 0 <= c < cols):
            skip("outside the DEM")
            continue
        ground = float(dem.array[r, c])
        if math.isnan(ground):
            skip("DEM nodata at the site")
            continue
        h = _float(t.get("antenna_height_m"))
        eirp = _float(t.get("eirp_dbm"))
        if math.isnan(rec["band_mhz"]) or math.isnan(h) or math.isnan(eirp):
            skip("missing band_mhz, antenna_height_m or eirp_dbm")
            continue
        tech = rec["technology"]
        bw = _float(
            t.get("bandwidth_mhz"), params.bandwidth_mhz_4g if tech == "4G" else params.bandwidth_mhz_5g
        )
        try:
            offset = rsrp_offset_db(tech, bw, params.subcarrier_khz_5g)
        except ConfigError as exc:
            skip(str(exc))
            continue
        # ITM (issue 7) needs the terrain: the grid engine runs it per radial, not choose_model
        model = (
            "itm"
            if params.model == "itm"
            else choose_model(rec["band_mhz"], params.environment, params.model)
        )
        geo = {"band_mhz": rec["band_mhz"], "antenna_height_m": h}
        p0 = eirp + offset - margin
        radius = _radius_m(p0, model, geo, res_m, params, limit_dbm)
        kept.append(
            {
                **rec,
                "model": model,
                "radius_m": radius,
                "eirp_dbm": eirp,
                "antenna_height_m": h,
                "azimuth_deg": _float(t.get("azimuth_deg")),
                "tilt_deg": _float(t.get("tilt_deg"), 0.0),
                "bandwidth_mhz": bw,
                "row": r,
                "col": c,
                "ground_m": ground,
                "p0_db": p0,
            }
        )
    sites = pd.DataFrame(kept, columns=[*SITE_COLUMNS, "p0_db"])
    if len(sites):
        keys = sites.assign(
            _sec=sites["sector_id"].fillna(""),
            _az=sites["azimuth_deg"].fillna(-1.0),
        )
        order = keys.sort_values(
            ["site_id", "_sec", "technology", "operator", "band_mhz", "_az", "eirp_dbm", "x", "y"],
            kind="mergesort",
        ).index
        sites = sites.loc[order].reset_index(drop=True)
    messages = []
    for s in sites.itertuples():
        if s.model == "itm":  # ITM reports its own warnings per site (grid engine)
            continue
        for msg in validity_messages(
            s.model, s.band_mhz, s.radius_m, s.antenna_height_m, params.receiver_height_m
        ):
            messages.append(f"site {s.site_id}/{s.sector_id or '-'}: {msg}")
    skipped_df = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
    if len(skipped_df):  # independent of the input row order
        order = skipped_df.assign(_sec=skipped_df["sector_id"].fillna("")).sort_values(
            ["site_id", "_sec", "technology", "operator", "reason"], kind="mergesort"
        )
        skipped_df = skipped_df.loc[order.index].reset_index(drop=True)
    return SitePlan(
        sites=sites,
        skipped=skipped_df,
        messages=messages,
        operators={t: sorted(v) for t, v in operators.items()},
    )
