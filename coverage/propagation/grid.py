r"""Best-server RSRP grids from a tower table over a DEM: :func:`signal_from_towers`.

Model
-----
For every sector s and cell x within the sector's computation radius:

.. math::

    RSRP_s(x) = EIRP_s - 10\log_{10}(12 N_{RB}) + A_s(\varphi, \theta)
                - PL_s(d) - L_{terrain}(x) - \sigma\Phi^{-1}(p)

* :math:`PL_s` is the empirical median model picked per band (``params.model``, see
  :func:`~coverage.propagation.pathloss.choose_model`), never below free space, with
  antenna heights above ground; 38.901 models in their NLOS form.
* :math:`L_{terrain}` is the *excess* Bullington knife-edge loss over the bare-earth
  profile with effective earth radius k R: :math:`\max(0, J(\nu) - J(0))` for ν > 0.
  The empirical models already contain the average loss of terrain around grazing
  incidence (J(0) = 6 dB); adding only the part beyond grazing avoids double counting,
  gives 0 dB in line of sight, and leaves flat ground equal to the empirical model.
* :math:`A_s` is the 3GPP sector pattern; omni rows (no azimuth) are isotropic (0 dB).

Each sector is computed only out to the distance where its best case (main beam, no
terrain loss) falls below ``thresholds.lowest_dbm - params.radius_margin_db``, capped at
``params.max_radius_km``. Sites are snapped to the centre of the DEM cell that contains
them (error <= 0.71 cell); distances are between cell centres.

Combination per cell and layer: best = max of known values; the output is best when
best >= the layer technology's ``weak_dbm`` (covered whatever the unknowns); otherwise NaN if any
site's value there was unknown (DEM nodata at the cell or on its path); otherwise best,
or :data:`FLOOR_RSRP_DBM` when no site reaches the cell.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS

from coverage._errors import (
    ConfigError,
    CoverageWarning,
    CRSMismatchError,
    InputError,
    NodataWarning,
    Problem,
)
from coverage._types import Raster
from coverage.params import RadioParams, Thresholds
from coverage.propagation._combine import (
    _NU_TABLE,
    FLOOR_RSRP_DBM,
    TILE_SHIFT,
    _apply_cells,
    _need_slots,
    _tile_refresh,
    _tile_skip,
    finish_layer,
    fold_runs,
    gain_bound,
    tile_bounds,
)
from coverage.propagation._sites import SitePlan, pathloss_table, plan_sites
from coverage.propagation.antenna import horizontal_gain_db
from coverage.propagation.itm import ItmParams
from coverage.propagation.itm._grid import itm_radial_loss_db
from coverage.propagation.terrain import EARTH_RADIUS_M, RING_LEVELS, RadialTables

__all__ = ["FLOOR_RSRP_DBM", "RunnerUp", "SignalLayer", "SignalResult", "signal_from_towers"]

logger = logging.getLogger(__name__)
_TABLE_STEP = 32  # radius buckets (cells) sharing one lookup table and radial set


@dataclass(frozen=True, eq=False)
class SignalLayer:
    """Predicted signal of one (technology, operator) on the analysis grid.

    Parameters
    ----------
    rsrp_dbm
        Best-server RSRP, dBm, ``float32``. ``NaN`` = unknown (DEM nodata on the
        path); :data:`FLOOR_RSRP_DBM` (-200) = below the computation floor, i.e. no
        signal (no site reaches the cell).
    serving_site
        ``int32`` index into :attr:`SignalResult.sites`, -1 = none.
    path_loss_db, terrain_loss_db
        Serving sector's empirical path loss and excess terrain loss, dB (diagnostics).
    los
        Serving sector's line of sight: 1 yes, 0 no, 255 unknown (diagnostics).
    """

    rsrp_dbm: np.ndarray
    serving_site: np.ndarray
    path_loss_db: np.ndarray | None = None
    terrain_loss_db: np.ndarray | None = None
    los: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SignalResult:
    """Signal layers of a run with their grid, sector index and skipped rows.

    Parameters
    ----------
    transform, crs, shape
        The analysis grid (the DEM's).
    layers
        ``{(technology, operator): SignalLayer}``, plus ``(technology, "any")``.
    sites
        One row per computed sector; its index is the ``serving_site`` value.
    skipped
        Tower rows not computed, with a ``reason``.
    warnings
        Model-validity messages per sector.
    runner_up
        Unfinished per-cell state per layer when computed with ``runner_up=True``.
    """

    transform: Affine
    crs: CRS
    shape: tuple[int, int]
    layers: dict[tuple[str, str], SignalLayer]
    sites: pd.DataFrame
    skipped: pd.DataFrame
    warnings: list[str]
    runner_up: dict[tuple[str, str], RunnerUp] | None = None


@dataclass(frozen=True, eq=False)
class RunnerUp:
    """Unfinished state of one layer, for incremental removal of sites (what-if).

    Together with the finished :class:`SignalLayer` it gives, per cell, the running state
    of the engine (:meth:`best`); 10 bytes per cell plus 16 per unresolved (NaN) cell.

    Parameters
    ----------
    second_dbm, second_site
        Best value and sector among the sectors of every other site than the serving
        one (-inf / -1 if none); ties go to the lower sector index, as for the best.
    unknown
        Number of sectors whose value at the cell is unknown (``uint16``, saturating).
    unresolved, unresolved_dbm, unresolved_site
        Flat indices (sorted) of the cells published as NaN although their DEM is valid
        (best below the weak threshold and some value unknown), with their best value
        and sector before settling.
    """

    second_dbm: np.ndarray
    second_site: np.ndarray
    unknown: np.ndarray
    unresolved: np.ndarray
    unresolved_dbm: np.ndarray
    unresolved_site: np.ndarray

    def best(self, layer: SignalLayer, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Best value (-inf where no sector reaches) and sector (-1) before settling, in ``box``.

        ``box`` is ``(row0, row1, col0, col1)``, end exclusive; returns new arrays.
        """
        r0, r1, c0, c1 = box
        b = layer.rsrp_dbm[r0:r1, c0:c1].astype(np.float32, copy=True)
        s = layer.serving_site[r0:r1, c0:c1].copy()
        b[(s < 0) | np.isnan(b)] = -np.inf  # unreached, DEM nodata, unresolved (below)
        cols = layer.rsrp_dbm.shape[1]
        lo, hi = np.searchsorted(self.unresolved, [r0 * cols, r1 * cols])
        idx = self.unresolved[lo:hi]
        rr, cc = np.divmod(idx, cols)
        m = (cc >= c0) & (cc < c1)
        b[rr[m] - r0, cc[m] - c0] = self.unresolved_dbm[lo:hi][m]
        s[rr[m] - r0, cc[m] - c0] = self.unresolved_site[lo:hi][m]
        return b, s


def _check_inputs(towers: pd.DataFrame, dem: Raster) -> None:
    crs = CRS.from_user_input(dem.crs) if dem.crs is not None else None
    if crs is None or crs.is_geographic or not crs.is_projected:
        raise InputError(
            [
                Problem(
                    "error",
                    "dem",
                    f"the analysis grid must be in a projected metric CRS, got {crs!r}",
                    "reproject the DEM to a UTM zone (e.g. EPSG:32648) before computing signal",
                )
            ],
            "Cannot compute signal",
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise InputError(
            [Problem("error", "dem", f"CRS unit is {unit!r}, expected metres")], "Cannot compute signal"
        )
    tcrs = getattr(towers, "crs", None)
    if tcrs is None or not CRS.from_user_input(tcrs).equals(crs, ignore_axis_order=True):
        raise CRSMismatchError(
            [
                Problem(
                    "error",
                    "towers",
                    f"towers CRS {getattr(tcrs, 'name', tcrs)!r} differs from the DEM CRS {crs.name!r}",
                    "reproject the towers to the analysis grid CRS (towers.to_crs(dem.crs))",
                )
            ],
            "Towers and DEM are not in the same CRS",
        )
    t = dem.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0 or not math.isclose(t.a, -t.e, rel_tol=1e-6):
        raise InputError(
            [
                Problem(
                    "error", "dem", f"grid must be north-up with square cells, got transform {tuple(t)[:6]}"
                )
            ],
            "Cannot compute signal",
        )


_POOL: dict[tuple[int, int], RadialTables] = {}  # the last run's tables, for the next run
_POOL_LOCK = threading.Lock()


class _Tables:
    """Radial tables and sweep buffers per radius bucket (few distinct sizes); see :class:`RadialTables`.

    Holds one bucket at a time (bounded memory). Tables are site-independent and take
    0.1-0.5 s to build, so :meth:`release` hands the last one to a one-entry module pool
    that the next run takes it from (incremental what-if runs are short); a concurrent
    run builds its own.
    """

    def __init__(self, levels: int = RING_LEVELS) -> None:
        self._cache: dict[int, RadialTables] = {}
        self.levels = levels

    def get(self, n_cells: int) -> RadialTables:
        half = max(_TABLE_STEP, _TABLE_STEP * math.ceil(n_cells / _TABLE_STEP))
        if half not in self._cache:
            with _POOL_LOCK:
                tab = _POOL.pop((half, self.levels), None)
            self._cache = {half: tab if tab is not None else RadialTables(half, self.levels)}
        return self._cache[half]

    def release(self) -> None:
        """Give the current tables to the pool (replacing what it held)."""
        with _POOL_LOCK:
            for half, tab in self._cache.items():
                _POOL.clear()
                _POOL[half, self.levels] = tab
        self._cache = {}


def _nodata_free(nan: np.ndarray) -> Callable[[int, int, int], bool]:
    """``f(r, c, n)``: no True of ``nan`` (DEM nodata) within ``n`` cells (Chebyshev) of ``(r, c)``; O(1)."""
    if not nan.any():
        return lambda r, c, n: True
    counts = np.zeros((nan.shape[0] + 1, nan.shape[1] + 1), dtype=np.int64)
    counts[1:, 1:] = nan.cumsum(axis=0).cumsum(axis=1)

    def free(r: int, c: int, n: int) -> bool:
        r0, r1 = max(r - n, 0), min(r + n + 1, nan.shape[0])
        c0, c1 = max(c - n, 0), min(c + n + 1, nan.shape[1])
        if r0 >= r1 or c0 >= c1:
            return True
        return int(counts[r1, c1] - counts[r0, c1] - counts[r1, c0] + counts[r0, c0]) == 0

    return free


def _layer_keys(plan: SitePlan, technologies: Sequence[str]) -> list[tuple[str, str]]:
    keys = []
    for tech in technologies:
        keys += [(tech, op) for op in plan.operators.get(tech, []) if op and op != "any"]
        keys.append((tech, "any"))
    return keys


def _site_groups(sites: pd.DataFrame, res_m: float) -> list[tuple[tuple, np.ndarray]]:
    """Sectors sharing a cell, antenna height and radius bucket share one sweep.

    The bucket (radius rounded up to ``_TABLE_STEP`` cells) picks the radial table, so a
    sector's values depend on its own radius only, never on the sectors that happen to
    share its mast (an incremental what-if run computes sectors alone and must agree).

    Returns ``(key, positions)`` with the positions (= index, a ``RangeIndex``) of the
    group's rows in their original order.
    """
    if sites.empty:
        return []
    cells = np.ceil(sites["radius_m"].to_numpy(dtype=float) / res_m)
    buckets = np.maximum(1, np.ceil(cells / _TABLE_STEP)).astype(np.int64)
    keyed = sites.assign(_bucket=buckets)
    groups = list(keyed.groupby(["row", "col", "antenna_height_m", "_bucket"], sort=True).indices.items())
    bucket = [int(key[3]) for key, _ in groups]
    if (sites["model"] == "itm").any():  # keep the order of the ITM messages
        rank = np.arange(len(groups))
    else:
        # The fold does not depend on the order. A scattered order fills the running best
        # everywhere early, so more cells of later sites are pruned (see _apply_cells).
        rank = np.random.default_rng(0).permutation(len(groups))
    order = sorted(range(len(groups)), key=lambda i: (bucket[i], rank[i]))
    return [groups[i] for i in order]


def _warn_skipped(skipped: pd.DataFrame) -> None:
    if skipped.empty:
        return
    counts = skipped["reason"].value_counts()
    text = ", ".join(f"{n} {reason}" for reason, n in counts.items())
    dem_related = skipped["reason"].isin(["outside the DEM", "DEM nodata at the site"]).any()
    warnings.warn(
        f"{len(skipped)} on-air tower row(s) were not computed ({text}); see SignalResult.skipped.",
        NodataWarning if dem_related else CoverageWarning,
        stacklevel=3,
    )


def signal_from_towers(
    towers: pd.DataFrame,
    dem: Raster,
    *,
    params: RadioParams,
    thresholds: Thresholds,
    technologies: Sequence[str] | None = None,
    diagnostics: bool = False,
    progress: Callable[[int], None] | None = None,
    itm_params: ItmParams | None = None,
    runner_up: bool = False,
) -> SignalResult:
    """Predict best-server RSRP per (technology, operator) over the DEM grid.

    See the module docstring for the model. Runs in O(sectors x radius^2 x log h) time
    with numba on all cores; memory depends on the grid and layer count only.

    Parameters
    ----------
    towers
        GeoDataFrame of Points in the DEM's CRS, one row per sector (or per omni site),
        columns as in :data:`coverage.schema.TOWER_COLUMNS`; only ``status == "on_air"``
        rows of the requested technologies are used.
    dem
        Elevation on the analysis grid (projected metric CRS, north-up, square cells,
        ``NaN`` = nodata), metres.
    params
        Radio parameters.
    thresholds
        RSRP class limits; ``thresholds.lowest_dbm`` sets the computation radius.
    technologies
        Technologies to compute (``"4G"``, ``"5G"``); default ``params.technologies``.
    diagnostics
        Also return the serving sector's path loss, terrain loss and LoS flag.
    progress
        Called with the number of sectors done so far, after each site location.
    itm_params
        Longley-Rice parameters when ``params.model == "itm"`` (default
        :class:`~coverage.propagation.itm.ItmParams`). ITM then replaces the empirical
        loss and the Bullington excess per cell (:mod:`coverage.propagation.itm`), and
        its warnings are added to :attr:`SignalResult.warnings` per sector.
    runner_up
        Also keep, per cell and layer, the best value of another site than the serving
        one and the count of unknown sectors (:attr:`SignalResult.runner_up`), so that a
        what-if can remove a site without recomputing its neighbours
        (:func:`coverage.whatif.update_signal`). Costs 10 bytes per cell and layer.

    Returns
    -------
    SignalResult

    Raises
    ------
    InputError
        The DEM is not in a projected metric CRS or not north-up with square cells.
    CRSMismatchError
        The towers are not in the DEM's CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from affine import Affine
    >>> dem = Raster(np.zeros((4, 4), "float32"), Affine(30, 0, 0, 0, -30, 120), CRS.from_epsg(32648))
    >>> none = gpd.GeoDataFrame({"technology": [], "status": []}, geometry=[], crs=dem.crs)
    >>> result = signal_from_towers(none, dem, params=RadioParams(), thresholds=Thresholds())
    >>> sorted(result.layers), float(result.layers["4G", "any"].rsrp_dbm.max())
    ([('4G', 'any'), ('5G', 'any')], -200.0)
    """
    raw = _accumulate(
        towers,
        dem,
        params=params,
        thresholds=thresholds,
        technologies=technologies,
        diagnostics=diagnostics,
        progress=progress,
        itm_params=itm_params,
        runner_up=runner_up,
    )
    return _finish(raw, dem, thresholds, diagnostics)


@dataclass(eq=False)
class _Raw:
    """Running state of a run before the layers are finished (see :func:`_accumulate`)."""

    sites: pd.DataFrame
    skipped: pd.DataFrame
    messages: list[str]
    index: dict[tuple[str, str], int]
    best: np.ndarray
    serving: np.ndarray
    unknown: np.ndarray
    diag_pl: np.ndarray
    diag_tl: np.ndarray
    diag_los: np.ndarray
    second: np.ndarray | None
    second_srv: np.ndarray | None
    nodata: np.ndarray


def _accumulate(
    towers: pd.DataFrame,
    dem: Raster,
    *,
    params: RadioParams,
    thresholds: Thresholds,
    technologies: Sequence[str] | None = None,
    diagnostics: bool = False,
    progress: Callable[[int], None] | None = None,
    itm_params: ItmParams | None = None,
    runner_up: bool = False,
    warn: bool = True,
) -> _Raw:
    """Fold every sector into the running best, runner-up and unknown counts (unfinished)."""
    techs = tuple(params.technologies if technologies is None else technologies)
    for tech in techs:
        if tech not in ("4G", "5G"):
            raise ConfigError(f"technology {tech!r} cannot be computed; expected '4G' and/or '5G'")
    _check_inputs(towers, dem)
    arr = np.ascontiguousarray(dem.array, dtype=np.float32)
    res_m = abs(dem.transform.a)
    plan = plan_sites(towers, dem, params, thresholds, techs)
    if warn:
        _warn_skipped(plan.skipped)
        if plan.messages:
            logger.warning("%d model-validity message(s), e.g. %s", len(plan.messages), plan.messages[0])
    keys = _layer_keys(plan, techs)
    index = {k: i for i, k in enumerate(keys)}
    shape3 = (len(keys), *arr.shape)
    best = np.full(shape3, -np.inf, dtype=np.float32)
    serving = np.full(shape3, -1, dtype=np.int32)
    unknown = np.zeros(shape3, dtype=np.uint16)
    dshape = shape3 if diagnostics else (1, 1, 1)
    diag_pl = np.full(dshape, np.nan, dtype=np.float32)
    diag_tl = np.full(dshape, np.nan, dtype=np.float32)
    diag_los = np.full(dshape, 255, dtype=np.uint8)
    sites = plan.sites
    second = second_srv = site_code = None
    if runner_up:
        second = np.full(shape3, -np.inf, dtype=np.float32)
        second_srv = np.full(shape3, -1, dtype=np.int32)
        site_code = pd.factorize(sites["site_id"].astype(str))[0].astype(np.int64) if len(sites) else None
    tables = _Tables()
    # tile pruning (see _tile_skip): minimum of the pruning reference per tile, kept exact
    sh = TILE_SHIFT
    tmin = np.full((len(keys), -(-arr.shape[0] >> sh), -(-arr.shape[1] >> sh)), -np.inf, dtype=np.float32)
    dirty = np.zeros(tmin.shape, dtype=np.uint8)
    ref = best if second is None else second
    nodata = np.isnan(arr)
    nodata_free = _nodata_free(nodata)
    curv = 1.0 / (2.0 * params.k_factor * EARTH_RADIUS_M)
    messages = list(plan.messages)
    done = 0
    pl_cache: dict[tuple, np.ndarray] = {}  # path loss per (model, band, height, radius)
    records = sites.to_dict("records")  # once: per-group DataFrame access dominated with many sites
    for (r0, c0, h_ant, _), pos in _site_groups(sites, res_m):
        group = [records[i] for i in pos]
        n_group = math.ceil(max(s["radius_m"] for s in group) / res_m)
        tab = tables.get(n_group)
        dirs = tab.dirs
        bearing = np.degrees(np.arctan2(dirs[:, 0] * dem.transform.a, dirs[:, 1] * dem.transform.e))
        itm_cache: dict[float, tuple[np.ndarray, list[str]]] = {}  # per band: ITM loss per radial sample
        gain_cache: dict[float, np.ndarray] = {}
        # per-sector rows of the group, in folding order (see _apply_cells, _need_slots, _tile_skip)
        gains, layer_rows, pl_rows, radii = [], [], [], []
        for s in group:
            if math.isnan(s["azimuth_deg"]):  # omni: the gain row is never read
                gains.append(np.zeros(tab.n_rad))
            else:
                if s["azimuth_deg"] not in gain_cache:
                    gain_cache[s["azimuth_deg"]] = horizontal_gain_db(
                        bearing - s["azimuth_deg"], params.horizontal_beamwidth_deg, params.front_to_back_db
                    )
                gains.append(gain_cache[s["azimuth_deg"]])
            layer_rows.append([index[(s["technology"], s["operator"])], index[(s["technology"], "any")]])
            if s["model"] == "itm":  # issue 7: Longley-Rice along the radials
                if s["band_mhz"] not in itm_cache:
                    itm_cache[s["band_mhz"]] = itm_radial_loss_db(
                        arr, int(r0), int(c0), tx_height_m=float(h_ant), rx_height_m=params.receiver_height_m,
                        freq_mhz=float(s["band_mhz"]), step_m=res_m, dirs=dirs, n_samples=n_group,
                        used=tab.used,
                        params=itm_params or ItmParams(),
                    )  # fmt: skip
                sector = f"site {s['site_id']}/{s['sector_id'] or '-'}"
                messages += [f"{sector}: {m}" for m in itm_cache[s["band_mhz"]][1]]
            n_s = min(n_group, math.ceil(s["radius_m"] / res_m))
            pl_key = (s["model"], s["band_mhz"], s["antenna_height_m"], n_s)
            if pl_key not in pl_cache:
                if len(pl_cache) > 256:
                    pl_cache.clear()
                pl_cache[pl_key] = pathloss_table(pd.Series(s), n_s + 1, res_m, params)
            pl_rows.append(pl_cache[pl_key])
            radii.append(float(n_s))
        radii = np.array(radii)
        omni = np.array([math.isnan(s["azimuth_deg"]) for s in group])
        p0 = np.array([float(s["p0_db"]) for s in group])
        layers = np.array(layer_rows)
        pl_tables = np.full((len(group), max(t.size for t in pl_rows)), np.nan)
        for i, table in enumerate(pl_rows):
            pl_tables[i, : table.size] = table
        bands = list(itm_cache)  # ITM: one row of sample_loss per band
        # params.model decides ITM for every sector (plan_sites), so a group never mixes the two
        assert all((s["model"] == "itm") == bool(bands) for s in group)
        sample_loss = np.array([itm_cache[band][0].reshape(-1) for band in bands]) if bands else None
        loss_row = np.array([bands.index(s["band_mhz"]) if bands else 0 for s in group])
        a_hb = None  # empirical models: prune cells an earlier site already beats
        if not bands:
            a_hb = np.array(
                [
                    gain_bound(g, tab.n_rad, o, params.sidelobe_db, params.front_to_back_db)
                    for g, o in zip(gains, omni, strict=True)
                ]
            )
        need = skip = None
        rows, cols = arr.shape
        tr0, tr1 = max(0, int(r0) - n_group) >> sh, min(rows - 1, int(r0) + n_group) >> sh
        tc0, tc1 = max(0, int(c0) - n_group) >> sh, min(cols - 1, int(c0) + n_group) >> sh
        if a_hb is not None:
            blocks, floor = tile_bounds(a_hb, pl_rows)
            skip = np.empty((tr1 - tr0 + 1, tc1 - tc0 + 1), dtype=np.uint8)
            _tile_skip(skip, tmin, int(r0), int(c0), sh, tr0, tc0, layers, radii, p0, blocks, floor)
            need = np.empty(tab.g.size, dtype=np.uint8)
            _need_slots(
                need, best, arr, int(r0), int(c0), tab.cell_slot, tab.half, tab.slot_k, layers, radii,
                pl_tables, p0, a_hb, second, skip, sh, tr0, tc0,
            )  # fmt: skip
        clean = need is not None and nodata_free(int(r0), int(c0), n_group + 1)
        inside = (
            n_group + 1 <= min(int(r0), int(c0))
            and int(r0) + n_group + 1 < rows
            and int(c0) + n_group + 1 < cols
        )
        # tiles are jumped over only where no unknown value can arise; else none is (all zero
        # flags rather than None: one compiled variant of _apply_cells fewer)
        apply_skip = skip if skip is None or (clean and inside) else np.zeros_like(skip)
        tab.sweep(
            arr, int(r0), int(c0), float(h_ant), params.receiver_height_m, res_m, curv, n_group, need, clean
        )
        dead_at = tab.dead_at if need is not None else None
        tilt = np.array([float(s["tilt_deg"]) for s in group])
        inv_sqrt_lambda = np.sqrt(np.array([s["band_mhz"] for s in group]) * 1e6 / 299_792_458.0)
        runs = fold_runs(
            layers, radii, pl_tables, np.array(gains), p0, tilt, omni, inv_sqrt_lambda, pos, loss_row, a_hb
        )
        for *per_sector, run_hb in runs:
            _apply_cells(
                best, serving, unknown, diag_pl, diag_tl, diag_los, diagnostics, arr, int(r0), int(c0),
                tab.cell_slot, tab.half, tab.g, tab.depression_deg, tab.slot_k, tab.slot_i, *per_sector,
                params.vertical_beamwidth_deg, params.sidelobe_db, params.front_to_back_db, _NU_TABLE,
                sample_loss, run_hb, second, second_srv, site_code, need, dead_at, apply_skip, dirty, sh, tr0,
                tc0,
            )  # fmt: skip
        _tile_refresh(tmin, ref, dirty, sh, tr0, tr1, tc0, tc1)
        done += len(group)
        if progress is not None:
            progress(done)
    tables.release()
    return _Raw(
        sites,
        plan.skipped,
        messages,
        index,
        best,
        serving,
        unknown,
        diag_pl,
        diag_tl,
        diag_los,
        second,
        second_srv,
        nodata,
    )


def _finish(raw: _Raw, dem: Raster, thresholds: Thresholds, diagnostics: bool) -> SignalResult:
    """Publish the layers of a run (in place: ``raw`` is spent)."""
    layers_out: dict[tuple[str, str], SignalLayer] = {}
    kept: dict[tuple[str, str], RunnerUp] | None = None if raw.second is None else {}
    for key, li in raw.index.items():
        best, serving, unknown = raw.best[li], raw.serving[li], raw.unknown[li]
        if kept is not None:
            assert raw.second is not None and raw.second_srv is not None
            weak = np.float32(thresholds.for_technology(key[0]).weak_dbm)
            idx = np.flatnonzero(~(best >= weak) & (unknown != 0))  # what finish_layer makes NaN
            kept[key] = RunnerUp(
                raw.second[li], raw.second_srv[li], unknown, idx, best.ravel()[idx], serving.ravel()[idx]
            )
        # A cell is settled as covered once its best known value reaches its own technology's
        # weak threshold: unknown paths can only add signal, never remove it.
        finish_layer(best, serving, unknown, raw.nodata, thresholds.for_technology(key[0]).weak_dbm)
        if diagnostics:
            none = serving < 0
            raw.diag_pl[li][none] = np.nan
            raw.diag_tl[li][none] = np.nan
            raw.diag_los[li][none] = 255
            layers_out[key] = SignalLayer(best, serving, raw.diag_pl[li], raw.diag_tl[li], raw.diag_los[li])
        else:
            layers_out[key] = SignalLayer(best, serving)
    return SignalResult(
        transform=dem.transform,
        crs=CRS.from_user_input(dem.crs),
        shape=dem.shape,
        layers=layers_out,
        sites=raw.sites.drop(columns=["p0_db"]),
        skipped=raw.skipped,
        warnings=raw.messages,
        runner_up=kept,
    )
