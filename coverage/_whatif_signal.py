"""Incremental signal update of a what-if scenario (see :mod:`coverage.whatif` for the method)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from coverage._types import Raster
from coverage.params import RadioParams, Thresholds
from coverage.propagation import FLOOR_RSRP_DBM, RunnerUp, SignalLayer, SignalResult, signal_from_towers
from coverage.propagation.grid import _accumulate, _Raw

__all__ = ["SignalUpdate", "update_signal"]

# --------------------------------------------------------------------------- signal

_KEY_COLS = (
    "site_id",
    "sector_id",
    "technology",
    "operator",
    "band_mhz",
    "azimuth_deg",
    "eirp_dbm",
    "antenna_height_m",
    "tilt_deg",
    "bandwidth_mhz",
    "row",
    "col",
)


def _computed_rows(rows: gpd.GeoDataFrame, techs: Iterable[str]) -> gpd.GeoDataFrame:
    """Rows the engine computes: on air (when there is a status) and of ``techs``."""
    if "status" in rows.columns:
        rows = rows[(rows["status"] == "on_air").to_numpy()]
    return rows[rows["technology"].isin(list(techs)).to_numpy()]


def _row_key(r: pd.Series | dict) -> tuple:
    def norm(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return float(v) if isinstance(v, int | float | np.floating | np.integer) else str(v)

    return tuple(norm(r[c]) for c in _KEY_COLS)


def _tower_keys(rows: gpd.GeoDataFrame, dem: Raster, params: RadioParams) -> list[tuple]:
    """:func:`_row_key` of tower rows as the engine would plan them (defaults filled)."""
    if rows.empty:
        return []
    r, c = _cells(dem, np.column_stack([rows.geometry.x, rows.geometry.y]))
    keys = []
    for rec, rr, cc in zip(rows.to_dict("records"), r, c, strict=True):
        bw = rec.get("bandwidth_mhz")
        if bw is None or pd.isna(bw):
            bw = params.bandwidth_mhz_4g if rec["technology"] == "4G" else params.bandwidth_mhz_5g
        tilt = rec.get("tilt_deg")
        sec = rec.get("sector_id")
        rec = {
            **rec,
            "sector_id": None if sec is None or pd.isna(sec) or str(sec) == "" else sec,
            "bandwidth_mhz": bw,
            "tilt_deg": 0.0 if tilt is None or pd.isna(tilt) else tilt,
            "row": int(rr),
            "col": int(cc),
        }
        keys.append(_row_key(rec))
    return keys


def _sort_key(r: pd.Series | dict) -> tuple:
    """Return the order of ``plan_sites`` (tie-breaking of a full run)."""
    az = r["azimuth_deg"]
    return (
        str(r["site_id"]),
        "" if r["sector_id"] is None or pd.isna(r["sector_id"]) else str(r["sector_id"]),
        str(r["technology"]),
        str(r["operator"]),
        float(r["band_mhz"]),
        -1.0 if pd.isna(az) else float(az),
        float(r["eirp_dbm"]),
        float(r["x"]),
        float(r["y"]),
    )


@dataclass(frozen=True, eq=False)
class SignalUpdate:
    """Result of :func:`update_signal`.

    Parameters
    ----------
    signal
        The scenario's layers.
    windows
        Grid windows ``(row0, row1, col0, col1)`` (end exclusive) that were rewritten.
    sectors_computed
        Sectors the engine computed: changed and added ones, plus, with the runner-up
        state, the removed sites run alone (for their unknowns), or, without it, every
        sector reaching the removal window.
    """

    signal: SignalResult
    windows: tuple[tuple[int, int, int, int], ...]
    sectors_computed: int


def _cells(dem: Raster, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inv = ~dem.transform
    rows, cols = [], []
    for x, y in xy:  # the scalar Affine product of plan_sites, for identical snapping
        c, r = inv * (float(x), float(y))
        rows.append(math.floor(r))
        cols.append(math.floor(c))
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def _snap(towers: gpd.GeoDataFrame, dem: Raster) -> gpd.GeoDataFrame:
    """Move each row to the centre of its DEM cell (robust cell lookup on a sub-grid)."""
    if towers.empty:
        return towers
    geoms = towers.geometry
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    xy = np.column_stack([geoms.x.where(ok, 0.0), geoms.y.where(ok, 0.0)])
    r, c = _cells(dem, xy)
    t = dem.transform
    cx = t.c + (c + 0.5) * t.a
    cy = t.f + (r + 0.5) * t.e
    out = towers.copy()
    new = [Point(x, y) if k else g for x, y, k, g in zip(cx, cy, ok, geoms, strict=True)]
    out = out.set_geometry(gpd.GeoSeries(new, index=towers.index, crs=towers.crs))
    return out


def _subgrid(dem: Raster, box: tuple[int, int, int, int]) -> Raster:
    r0, r1, c0, c1 = box
    return Raster(
        dem.array[r0:r1, c0:c1], dem.transform * Affine.translation(c0, r0), dem.crs, dem.name, dem.source
    )


def _clip(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    r0, r1, c0, c1 = max(box[0], 0), min(box[1], shape[0]), max(box[2], 0), min(box[3], shape[1])
    return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None


def _disk_box(rows: np.ndarray, cols: np.ndarray, n: np.ndarray, pad: int = 0) -> tuple[int, int, int, int]:
    return (
        int((rows - n).min()) - pad,
        int((rows + n).max()) + 1 + pad,
        int((cols - n).min()) - pad,
        int((cols + n).max()) + 1 + pad,
    )


def _reaches(rows: np.ndarray, cols: np.ndarray, n: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    dr = np.maximum(np.maximum(box[0] - rows, 0), rows - (box[1] - 1))
    dc = np.maximum(np.maximum(box[2] - cols, 0), cols - (box[3] - 1))
    return dr * dr + dc * dc <= (n + 1) ** 2


class _Registry:
    """Rows of the scenario's site table: baseline rows first, new rows appended once."""

    def __init__(self, sites: pd.DataFrame) -> None:
        self.frame = sites
        self.extra: list[dict] = []
        self.keys: dict[tuple, int] = {}
        self.sort_keys: list[tuple] = []
        self._base_sort: dict[int, tuple] = {}

    def add_base(self, idx: Iterable[int]) -> None:
        for i in idx:
            r = self.frame.loc[int(i)]
            self.keys.setdefault(_row_key(r), int(i))

    def index_of(self, row: dict) -> int:
        key = _row_key(row)
        if key not in self.keys:
            self.keys[key] = len(self.frame) + len(self.extra)
            self.extra.append(row)
        return self.keys[key]

    def sort_key(self, i: int) -> tuple:
        if i < len(self.frame):
            if i not in self._base_sort:
                self._base_sort[i] = _sort_key(self.frame.loc[i])
            return self._base_sort[i]
        return _sort_key(self.extra[i - len(self.frame)])

    def table(self, removed: set[int]) -> pd.DataFrame:
        out = pd.concat([self.frame, pd.DataFrame(self.extra, columns=self.frame.columns)], ignore_index=True)
        flag = np.zeros(len(out), dtype=bool)
        flag[sorted(removed)] = True
        return out.assign(removed=flag)


def _map_window_sites(
    reg: _Registry, win_sites: pd.DataFrame, offset: tuple[int, int], xy: dict[tuple, tuple[float, float]]
) -> np.ndarray:
    """Index of each window sector in the scenario table (-1 stays -1 via the +1 shift)."""
    lut = np.full(len(win_sites) + 1, -1, dtype=np.int32)
    for j, r in enumerate(win_sites.to_dict("records")):
        r = dict(r)
        r["row"] = int(r["row"]) + offset[0]
        r["col"] = int(r["col"]) + offset[1]
        r["x"], r["y"] = xy.get(_ident(r), (r["x"], r["y"]))
        lut[j + 1] = reg.index_of(r)
    return lut


def _ident(r: dict | pd.Series) -> tuple:
    sec = r["sector_id"]
    az = r["azimuth_deg"]
    return (
        str(r["site_id"]),
        "" if sec is None or pd.isna(sec) else str(sec),
        str(r["technology"]),
        str(r["operator"]),
        None if pd.isna(az) else round(float(az), 6),
    )


def _empty_layer(dem_nodata: np.ndarray, diagnostics: bool) -> SignalLayer:
    rsrp = np.full(dem_nodata.shape, FLOOR_RSRP_DBM, dtype=np.float32)
    rsrp[dem_nodata] = np.nan
    serving = np.full(dem_nodata.shape, -1, dtype=np.int32)
    if not diagnostics:
        return SignalLayer(rsrp, serving)
    nan = np.full(dem_nodata.shape, np.nan, dtype=np.float32)
    return SignalLayer(rsrp, serving, nan, nan.copy(), np.full(dem_nodata.shape, 255, dtype=np.uint8))


def _copy_layer(layer: SignalLayer) -> SignalLayer:
    def cp(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a.copy()

    return SignalLayer(
        *(
            cp(a)
            for a in (
                layer.rsrp_dbm,
                layer.serving_site,
                layer.path_loss_db,
                layer.terrain_loss_db,
                layer.los,
            )
        )
    )


def _window_signal(
    towers: gpd.GeoDataFrame,
    dem: Raster,
    box: tuple[int, int, int, int],
    *,
    params: RadioParams,
    thresholds: Thresholds,
    technologies: tuple[str, ...],
    diagnostics: bool,
    itm_params: object,
    quiet: bool,
) -> SignalResult:
    sub = _subgrid(dem, box)
    with warnings.catch_warnings():
        if quiet:  # rows skipped here were already reported by the baseline run
            warnings.simplefilter("ignore")
        return signal_from_towers(
            towers.to_crs(dem.crs) if not _same_crs(towers.crs, dem.crs) else towers,
            sub,
            params=params,
            thresholds=thresholds,
            technologies=technologies,
            diagnostics=diagnostics,
            itm_params=itm_params,  # type: ignore[arg-type]
        )


def _same_crs(a: object, b: object) -> bool:
    return a is not None and CRS.from_user_input(a).equals(CRS.from_user_input(b), ignore_axis_order=True)


def update_signal(
    signal: SignalResult,
    dem: Raster,
    towers_before: gpd.GeoDataFrame,
    towers_after: gpd.GeoDataFrame,
    touched: Iterable[str],
    *,
    params: RadioParams,
    thresholds: Thresholds,
    itm_params: object = None,
) -> SignalUpdate:
    """Recompute the signal layers only where the touched sites changed them.

    See the module docstring for the method; the result equals a full
    :func:`~coverage.propagation.signal_from_towers` run on ``towers_after`` (values
    bit for bit, serving sectors by identity).

    Parameters
    ----------
    signal
        Baseline layers, computed from ``towers_before`` on ``dem`` with ``params`` and
        ``thresholds``; with ``runner_up=True`` (and no diagnostics) a removed or changed
        site costs one site computation instead of one per neighbour.
    dem
        The analysis-grid DEM of the baseline (projected metric CRS).
    towers_before, towers_after
        Tower layers before and after the scenario (:func:`apply_scenario`); any CRS.
    touched
        Site ids whose rows changed. Rows of other sites must be the same in both layers.
    params, thresholds, itm_params
        As for the baseline run.

    Returns
    -------
    SignalUpdate
        With the baseline ``signal`` itself when nothing computed changed.

    Examples
    --------
    >>> dem = Raster(np.zeros((3, 3), "float32"), Affine(30, 0, 0, 0, -30, 90), CRS.from_epsg(32648))
    >>> none = gpd.GeoDataFrame({"site_id": [], "technology": [], "status": []}, geometry=[], crs=dem.crs)
    >>> base = signal_from_towers(none, dem, params=RadioParams(), thresholds=Thresholds())
    >>> update_signal(base, dem, none, none, [], params=RadioParams(), thresholds=Thresholds()).signal is base
    True
    """
    touched = {str(s) for s in touched}
    techs = tuple(params.technologies)
    if not touched:
        return SignalUpdate(signal, (), 0)
    crs = CRS.from_user_input(dem.crs)
    after = towers_after if _same_crs(towers_after.crs, crs) else towers_after.to_crs(crs)
    res = abs(dem.transform.a)
    shape = dem.shape
    nodata = np.isnan(dem.array)
    diagnostics = any(lay.path_loss_db is not None for lay in signal.layers.values())
    max_n = math.ceil(params.max_radius_km * 1000.0 / res)
    sites = signal.sites
    sid = sites["site_id"].astype(str).to_numpy()
    n_cells = np.ceil(sites["radius_m"].to_numpy(dtype=float) / res).astype(np.int64)
    s_rows = sites["row"].to_numpy(dtype=np.int64)
    s_cols = sites["col"].to_numpy(dtype=np.int64)

    # Sectors really gone or changed (old) and really new: rows of the touched sites
    # that are identical before and after (e.g. the 4G sectors of a 5G upgrade) are neither.
    after_ids = after["site_id"].astype(str)
    cand = _computed_rows(after.loc[after_ids.isin(touched).to_numpy()], techs)
    cand_keys = _tower_keys(cand, dem, params)
    touched_idx = np.flatnonzero(np.isin(sid, list(touched)))
    base_keys = {_row_key(sites.loc[i]) for i in touched_idx}
    after_keys = set(cand_keys)
    old_idx = np.array([i for i in touched_idx if _row_key(sites.loc[i]) not in after_keys], dtype=np.int64)
    new_rows = cand[np.array([k not in base_keys for k in cand_keys], dtype=bool)]
    gone = np.zeros(len(sites), dtype=bool)
    gone[old_idx] = True

    # Which baseline sectors are really gone or changed, which rows are really new.
    xy: dict[tuple, tuple[float, float]] = {}
    if len(new_rows):
        g = new_rows.geometry
        for rec, x, y in zip(new_rows.to_dict("records"), g.x, g.y, strict=True):
            xy[_ident(rec)] = (float(x), float(y))
    affected: set[tuple[str, str]] = set()
    for tech, op in zip(
        sites["technology"].to_numpy()[old_idx], sites["operator"].to_numpy()[old_idx], strict=True
    ):
        affected |= {(tech, op), (tech, "any")}
    for tech, op in zip(new_rows["technology"].astype(str), new_rows["operator"].astype(str), strict=True):
        affected |= {(tech, op), (tech, "any")}
    runner = signal.runner_up is not None and not diagnostics
    if runner and len(old_idx):  # sites losing a sector are removed whole and added back
        rm_idx = np.flatnonzero(np.isin(sid, np.unique(sid[old_idx])))
        for tech, op in zip(
            sites["technology"].to_numpy()[rm_idx], sites["operator"].to_numpy()[rm_idx], strict=True
        ):
            affected |= {(tech, op), (tech, "any")}
    if not affected:
        return SignalUpdate(signal, (), 0)

    run_techs = tuple(t for t in techs if any(k[0] == t for k in affected))
    reg = _Registry(sites)
    layers = dict(signal.layers)
    for key in affected:
        base = signal.layers.get(key)
        layers[key] = _copy_layer(base) if base is not None else _empty_layer(nodata, diagnostics)
    windows: list[tuple[int, int, int, int]] = []
    computed = 0
    unchanged = np.flatnonzero(~gone)

    new_warnings: list[str] = []
    skipped_parts = []
    w_box = None
    if runner:
        # 0. runner-up: removed sites fall back to the best other site per cell, added
        # and re-added sectors are folded in; cells where the runner-up is removed too
        # are left to step 1.
        assert signal.runner_up is not None
        fast = _runner_up_update(
            signal.runner_up, signal.layers, layers, nodata, affected, reg, xy, dem, towers_before, after,
            touched, new_rows, cand, old_idx, sid, s_rows, s_cols, n_cells, max_n, params=params,
            thresholds=thresholds, techs=run_techs, itm_params=itm_params,
        )  # fmt: skip
        windows += fast.windows
        computed += fast.computed
        new_warnings += fast.warnings
        skipped_parts += fast.skipped
        w_box = fast.unresolved
    elif len(old_idx):
        w_box = _clip(_disk_box(s_rows[old_idx], s_cols[old_idx], n_cells[old_idx]), shape)

    # 1. removals: recompute the window of the old sectors with every sector reaching it
    if w_box is not None:
        near = unchanged[_reaches(s_rows[unchanged], s_cols[unchanged], n_cells[unchanged], w_box)]
        reg.add_base(near)
        ids = set(sid[near]) | touched
        rows = after.loc[after_ids.isin(ids).to_numpy()]
        rows = rows[rows["technology"].isin(techs).to_numpy()]
        nr, nc = _cells(dem, np.column_stack([rows.geometry.x, rows.geometry.y])) if len(rows) else ([], [])
        nr, nc = np.asarray(nr, dtype=np.int64), np.asarray(nc, dtype=np.int64)
        radius = np.full(len(rows), max_n, dtype=np.int64)
        keep = _reaches(nr, nc, radius, w_box) if len(rows) else np.zeros(0, bool)
        rows, nr, nc = rows[keep], nr[keep], nc[keep]
        # sub-grid: every computed sector's disk (baseline radius, or the cap for new rows)
        new_in = rows["site_id"].astype(str).isin(touched).to_numpy()
        parts = [w_box, _disk_box(s_rows[near], s_cols[near], n_cells[near], pad=2) if len(near) else w_box]
        if new_in.any():
            parts.append(_disk_box(nr[new_in], nc[new_in], np.full(int(new_in.sum()), max_n), pad=2))
        box = (
            min(p[0] for p in parts),
            max(p[1] for p in parts),
            min(p[2] for p in parts),
            max(p[3] for p in parts),
        )
        box = _clip(box, shape)
        assert box is not None
        win = _window_signal(
            _snap(rows, dem),
            dem,
            box,
            params=params,
            thresholds=thresholds,
            technologies=run_techs,
            diagnostics=diagnostics,
            itm_params=itm_params,
            quiet=True,
        )
        computed += len(win.sites)
        lut = _map_window_sites(reg, win.sites, (box[0], box[2]), xy)
        r0, r1, c0, c1 = w_box
        ws = (slice(r0 - box[0], r1 - box[0]), slice(c0 - box[2], c1 - box[2]))
        sub_nodata = nodata[box[0] : box[1], box[2] : box[3]]
        for key in affected:
            src = win.layers.get(key) or _empty_layer(sub_nodata, diagnostics)
            dst = layers[key]
            dst.rsrp_dbm[r0:r1, c0:c1] = src.rsrp_dbm[ws]
            dst.serving_site[r0:r1, c0:c1] = lut[src.serving_site[ws] + 1]
            if diagnostics:
                for a in ("path_loss_db", "terrain_loss_db", "los"):
                    getattr(dst, a)[r0:r1, c0:c1] = getattr(src, a)[ws]
        windows.append(w_box)

    # 2. additions: compute the new sectors alone and keep the best, outside the window
    for _, group in [] if runner else new_rows.groupby(new_rows["site_id"].astype(str), sort=True):
        new_rows_g = group
        nr, nc = _cells(dem, np.column_stack([new_rows_g.geometry.x, new_rows_g.geometry.y]))
        box = _clip(_disk_box(nr, nc, np.full(len(nr), max_n), pad=2), shape)
        if box is not None:
            win = _window_signal(
                _snap(new_rows_g, dem),
                dem,
                box,
                params=params,
                thresholds=thresholds,
                technologies=run_techs,
                diagnostics=diagnostics,
                itm_params=itm_params,
                quiet=False,
            )
            computed += len(win.sites)
            skipped_parts.append(win.skipped)
            if len(win.sites):
                lut = _map_window_sites(reg, win.sites, (box[0], box[2]), xy)
                n_new = np.ceil(win.sites["radius_m"].to_numpy(dtype=float) / res).astype(np.int64)
                ab = _disk_box(
                    win.sites["row"].to_numpy(np.int64) + box[0],
                    win.sites["col"].to_numpy(np.int64) + box[2],
                    n_new,
                )
                a_box = _clip(
                    (max(ab[0], box[0]), min(ab[1], box[1]), max(ab[2], box[2]), min(ab[3], box[3])), shape
                )
                assert a_box is not None
                new_warnings += win.warnings
                for key in affected:
                    src = win.layers.get(key)
                    if src is None:
                        continue
                    settled_dbm = thresholds.for_technology(key[0]).weak_dbm
                    _merge(layers[key], src, lut, a_box, box, w_box, reg, settled_dbm, diagnostics)
                windows.append(a_box)
    new_skipped = pd.concat(skipped_parts, ignore_index=True) if skipped_parts else signal.skipped.iloc[:0]
    skipped = signal.skipped
    if len(skipped):
        skipped = skipped[~skipped["site_id"].astype(str).isin(touched).to_numpy()]
    if len(new_skipped):
        skipped = pd.concat([skipped, new_skipped], ignore_index=True)
    table = reg.table({int(i) for i in old_idx})
    out = SignalResult(
        transform=signal.transform,
        crs=signal.crs,
        shape=signal.shape,
        layers=layers,
        sites=table,
        skipped=skipped.reset_index(drop=True),
        warnings=[w for w in signal.warnings if not any(f"site {s}/" in w for s in touched)] + new_warnings,
    )
    return SignalUpdate(out, tuple(windows), computed)


def _merge(
    dst: SignalLayer,
    src: SignalLayer,
    lut: np.ndarray,
    a_box: tuple[int, int, int, int],
    box: tuple[int, int, int, int],
    w_box: tuple[int, int, int, int] | None,
    reg: _Registry,
    lowest_dbm: float,
    diagnostics: bool,
) -> None:
    """Fold finished layer ``src`` (sub-grid ``box``) into ``dst`` over ``a_box``, outside ``w_box``."""
    r0, r1, c0, c1 = a_box
    ws = (slice(r0 - box[0], r1 - box[0]), slice(c0 - box[2], c1 - box[2]))
    b = dst.rsrp_dbm[r0:r1, c0:c1]
    bs = dst.serving_site[r0:r1, c0:c1]
    w = src.rsrp_dbm[ws]
    s_new = lut[src.serving_site[ws] + 1]
    bn, wn = np.isnan(b), np.isnan(w)
    bv = np.where(bs < 0, np.float32(-np.inf), b)  # FLOOR / NaN carry no value
    wv = np.where(s_new < 0, np.float32(-np.inf), w)
    m = np.maximum(bv, wv)
    with np.errstate(invalid="ignore"):
        take = wv > bv
        tie = (wv == bv) & np.isfinite(wv)
    for i, j in zip(*np.nonzero(tie), strict=True):  # rare: the sector sorting first wins
        if reg.sort_key(int(s_new[i, j])) < reg.sort_key(int(bs[i, j])):
            take[i, j] = True
    covered = m >= np.float32(lowest_dbm)
    res = np.where(covered, m, np.where(bn | wn, np.float32(np.nan), m))
    unreached = np.isneginf(res)
    res = np.where(unreached, np.float32(FLOOR_RSRP_DBM), res).astype(np.float32)
    serving = np.where(take, s_new, bs)
    serving = np.where(np.isnan(res) | unreached, -1, serving).astype(np.int32)
    upd = np.ones(res.shape, dtype=bool)
    if w_box is not None:  # the removal window is already exact
        rr = np.arange(r0, r1)[:, None]
        cc = np.arange(c0, c1)[None, :]
        upd &= ~((rr >= w_box[0]) & (rr < w_box[1]) & (cc >= w_box[2]) & (cc < w_box[3]))
    b[upd] = res[upd]
    bs[upd] = serving[upd]
    if diagnostics:
        pick = upd & take & ~np.isnan(res) & ~unreached
        for a in ("path_loss_db", "terrain_loss_db", "los"):
            getattr(dst, a)[r0:r1, c0:c1][pick] = getattr(src, a)[ws][pick]
        drop = upd & (np.isnan(res) | unreached)
        for a, v in (("path_loss_db", np.nan), ("terrain_loss_db", np.nan), ("los", 255)):
            getattr(dst, a)[r0:r1, c0:c1][drop] = v


# --------------------------------------------------------------------------- runner-up path


@dataclass
class _Fast:
    windows: list[tuple[int, int, int, int]]
    computed: int
    warnings: list[str]
    skipped: list[pd.DataFrame]
    unresolved: tuple[int, int, int, int] | None


def _overlap(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
    """Slices of the intersection of boxes ``a`` and ``b``, relative to each."""
    r0, r1, c0, c1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
    if r0 >= r1 or c0 >= c1:
        return None
    return (
        (slice(r0 - a[0], r1 - a[0]), slice(c0 - a[2], c1 - a[2])),
        (slice(r0 - b[0], r1 - b[0]), slice(c0 - b[2], c1 - b[2])),
    )


def _runner_up_update(
    runner_up: dict[tuple[str, str], RunnerUp],
    signal_layers: dict[tuple[str, str], SignalLayer],
    layers: dict[tuple[str, str], SignalLayer],
    nodata: np.ndarray,
    affected: set[tuple[str, str]],
    reg: _Registry,
    xy: dict[tuple, tuple[float, float]],
    dem: Raster,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    touched: set[str],
    new_rows: gpd.GeoDataFrame,
    cand: gpd.GeoDataFrame,
    old_idx: np.ndarray,
    sid: np.ndarray,
    s_rows: np.ndarray,
    s_cols: np.ndarray,
    n_cells: np.ndarray,
    max_n: int,
    *,
    params: RadioParams,
    thresholds: Thresholds,
    techs: tuple[str, ...],
    itm_params: object,
) -> _Fast:
    r"""Update ``layers`` (copies) from the baseline's runner-up state, in place.

    A site that loses or changes a sector is removed whole and its new rows are added
    back. Per cell of a removed site's disk, the best known value becomes

    .. math:: b'(x) = \begin{cases} b_2(x) & s(x) \in R \\ b(x) & \text{otherwise}\end{cases}

    where :math:`b_2` is the best value of the other sites (exact unless the runner-up
    sector is removed too: such cells are returned as ``unresolved`` for an exact
    recomputation), and the count of unknown sectors loses the removed sectors' unknowns
    (computed by running them alone). The added sectors, computed alone, are then folded
    in (max, ties to the sector sorting first, unknown counts added) and the cell is
    finished as in :func:`~coverage.propagation.grid.finish_layer`. Cost: one sweep per
    changed site, whatever the density of the neighbours.
    """
    shape = dem.shape
    rm_sites = sorted({str(v) for v in sid[old_idx]})
    rm_idx = np.flatnonzero(np.isin(sid, rm_sites))
    reg.add_base(rm_idx)
    before_m = before if _same_crs(before.crs, dem.crs) else before.to_crs(dem.crs)
    out_boxes: list[tuple[int, int, int, int]] = []
    minus: list[tuple[tuple[int, int, int, int], _Raw]] = []
    plus: list[tuple[tuple[int, int, int, int], _Raw, np.ndarray]] = []
    fast = _Fast([], 0, [], [], None)

    def run(rows: gpd.GeoDataFrame, quiet: bool) -> tuple[tuple[int, int, int, int], _Raw] | None:
        nr, nc = _cells(dem, np.column_stack([rows.geometry.x, rows.geometry.y]))
        box = _clip(_disk_box(nr, nc, np.full(len(nr), max_n), pad=2), shape)
        if box is None:
            return None
        with warnings.catch_warnings():
            if quiet:  # rows skipped here were already reported by the baseline run
                warnings.simplefilter("ignore")
            raw = _accumulate(
                _snap(rows, dem),
                _subgrid(dem, box),
                params=params,
                thresholds=thresholds,
                technologies=techs,
                itm_params=itm_params,  # type: ignore[arg-type]
                warn=not quiet,
            )
        fast.computed += len(raw.sites)
        return box, raw

    b_ids = before_m["site_id"].astype(str).to_numpy()
    for site in rm_sites:
        done = run(_computed_rows(before_m[b_ids == site], techs), quiet=True)
        if done is not None:
            minus.append(done)
        i = rm_idx[sid[rm_idx] == site]
        box = _clip(_disk_box(s_rows[i], s_cols[i], n_cells[i]), shape)
        if box is not None:
            out_boxes.append(box)
    a_ids = cand["site_id"].astype(str).to_numpy()
    n_ids = new_rows["site_id"].astype(str).to_numpy()
    for site in sorted(touched):
        rows = cand[a_ids == site] if site in rm_sites else new_rows[n_ids == site]
        if rows.empty:
            continue
        done = run(rows, quiet=False)
        if done is None:
            continue
        box, raw = done
        fast.skipped.append(raw.skipped)
        fast.warnings += raw.messages
        if len(raw.sites):
            win_sites = raw.sites.drop(columns=["p0_db"])
            plus.append((box, raw, _map_window_sites(reg, win_sites, (box[0], box[2]), xy)))
            n_new = np.ceil(win_sites["radius_m"].to_numpy(dtype=float) / abs(dem.transform.a)).astype(
                np.int64
            )
            a_box = _clip(
                _disk_box(
                    win_sites["row"].to_numpy(np.int64) + box[0],
                    win_sites["col"].to_numpy(np.int64) + box[2],
                    n_new,
                ),
                shape,
            )
            if a_box is not None:
                out_boxes.append(a_box)

    bad_r: list[int] = []
    bad_c: list[int] = []
    for ub in dict.fromkeys(out_boxes):  # a changed site has the same box twice
        r0, r1, c0, c1 = ub
        win = (slice(r0, r1), slice(c0, c1))
        for key in sorted(affected):
            ru = runner_up.get(key)
            if ru is None:
                b = np.full((r1 - r0, c1 - c0), -np.inf, dtype=np.float32)
                s = np.full(b.shape, -1, dtype=np.int32)
                unk = np.zeros(b.shape, dtype=np.int32)
            else:
                b, s = ru.best(signal_layers[key], ub)
                unk = ru.unknown[win].astype(np.int32)
                gone = np.isin(s, rm_idx)
                if gone.any():
                    s2 = ru.second_site[win]
                    rr, cc = np.nonzero(gone & np.isin(s2, rm_idx))
                    bad_r += [int(rr.min()) + r0, int(rr.max()) + r0] if len(rr) else []
                    bad_c += [int(cc.min()) + c0, int(cc.max()) + c0] if len(cc) else []
                    b[gone] = ru.second_dbm[win][gone]
                    s[gone] = s2[gone]
            if ru is not None:  # a saturated count cannot be decremented: recompute there
                sat = ru.unknown[win] == np.iinfo(ru.unknown.dtype).max
            for box, raw in minus:
                li = raw.index.get(key)
                ov = _overlap(ub, box)
                if li is not None and ov is not None:
                    unk[ov[0]] -= raw.unknown[li][ov[1]]
            if ru is not None:
                rr, cc = np.nonzero(sat | (unk < 0))  # (< 0 would be an engine inconsistency)
                if len(rr):
                    bad_r += [int(rr.min()) + r0, int(rr.max()) + r0]
                    bad_c += [int(cc.min()) + c0, int(cc.max()) + c0]
            for box, raw, lut in plus:
                li = raw.index.get(key)
                ov = _overlap(ub, box)
                if li is None or ov is None:
                    continue
                vb = raw.best[li][ov[1]]
                sb = lut[raw.serving[li][ov[1]] + 1]
                bu, su = b[ov[0]], s[ov[0]]
                take = vb > bu
                tie = (vb == bu) & np.isfinite(vb)
                for i, j in zip(*np.nonzero(tie), strict=True):  # rare: the sector sorting first wins
                    if su[i, j] < 0 or reg.sort_key(int(sb[i, j])) < reg.sort_key(int(su[i, j])):
                        take[i, j] = True
                bu[take] = vb[take]
                su[take] = sb[take]
                unk[ov[0]] += raw.unknown[li][ov[1]]
            covered = b >= np.float32(thresholds.for_technology(key[0]).weak_dbm)
            b[~covered & (unk > 0)] = np.nan
            unreached = np.isneginf(b)
            b[unreached] = FLOOR_RSRP_DBM
            b[nodata[win]] = np.nan
            s[np.isnan(b) | unreached] = -1
            layers[key].rsrp_dbm[win] = b
            layers[key].serving_site[win] = s
        fast.windows.append(ub)
    if bad_r:
        fast.unresolved = (min(bad_r), max(bad_r) + 1, min(bad_c), max(bad_c) + 1)
    return fast
