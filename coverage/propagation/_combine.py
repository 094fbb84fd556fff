"""Write sectors' RSRP into the best-server layers, and finish the layers.

Layer state is kept in stacked arrays ``[layer, row, col]`` whose size depends on the
grid and the number of (technology, operator) layers only, never on the number of
sites: each sector is folded into the running best as soon as it is computed.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.propagation._numba import nb
from coverage.propagation.terrain import _excess_scalar

FLOOR_RSRP_DBM = -200.0
_ROWS = 2  # _apply_cells: task t of _TASKS takes row blocks t, t + _TASKS, ... (balanced when clipped)
_TASKS = 32


# Tabulated excess knife-edge loss for 0 <= nu < 64 (linear interpolation, error below 1e-3 dB).
_NU_STEP = 1.0 / 64.0
_NU_TABLE = np.array([_excess_scalar(i * _NU_STEP) for i in range(4097)])


@nb.njit(cache=True, inline="always")
def _excess_db(nu, table):
    if nu <= 0.0:
        return 0.0
    x = nu * 64.0
    if x >= 4096.0:
        return _excess_scalar(nu)
    i = int(x)
    t = x - i
    return table[i] * (1.0 - t) + table[i + 1] * t


@nb.njit(cache=True, inline="always")
def _row_half_width(rad2, dr):
    """Largest ``cm`` with ``cm**2 + dr**2 <= rad2`` (cells of row offset ``dr`` in the disk), -1 if none."""
    w2 = rad2 - dr * dr
    if w2 < 0.0:
        return -1
    cm = int(math.sqrt(w2))
    while (cm + 1) * (cm + 1) <= w2:
        cm += 1
    while cm * cm > w2:
        cm -= 1
    return cm


@nb.njit(cache=True, inline="always")
def _segment(seg_lo, c_hi, skip, row, sh, tr0, tc0):
    """Last column of the run of a row that starts at ``seg_lo``, and whether to visit it.

    Without ``skip`` the run is the rest of the row; with it, the rest of the tile, not
    visited when the tile is flagged (:func:`_tile_skip`).
    """
    if skip is None:
        return c_hi, True
    seg_hi = min(c_hi, (((seg_lo >> sh) + 1) << sh) - 1)
    return seg_hi, skip[(row >> sh) - tr0, (seg_lo >> sh) - tc0] == 0


FOLD_SECTORS = 3
"""Sectors folded together in one :func:`_apply_cells` call (a mast's usual three); the
rest of a sweep's sectors go one at a time, so two variants are compiled, not one per count."""


@nb.njit(cache=True, inline="always")
def _count_unknown(unknown, layers, s, row, col):
    """One more unknown sector value at the cell, in each layer of sector ``s`` (saturating)."""
    for li in range(layers.shape[1]):
        lay = layers[s, li]
        if unknown[lay, row, col] < 65535:
            unknown[lay, row, col] += 1


@nb.njit(cache=True, parallel=True)
def _apply_cells(
    best, serving, unknown, diag_pl, diag_tl, diag_los, diagnostics, dem, r0, c0, cell_slot, half, g,
    depression_deg, slot_k, slot_i, layers, radius_s, pl_tables, a_h, p0_s, tilt_s, omni_s, inv_sqrt_lambda_s,
    site_index_s, loss_row_s, v_beamwidth_deg, sidelobe_db, front_to_back_db, nu_table, sample_loss=None,
    a_hb=None, second=None, second_srv=None, site_code=None, need=None, dead_at=None, skip=None, dirty=None,
    sh=3, tr0=0, tc0=0,
):  # fmt: skip
    """Fold one or :data:`FOLD_SECTORS` sectors of one sweep into the layers, reading the sweep per slot.

    Bit-identical to folding the sectors one after the other with the reference kernel
    ``_apply_sector`` in ``tests/reference_engine.py``: each cell of the union of their
    disks is visited once, nodata, unknown values and cells no sector can change
    (``need``) are settled for all of them at once, and the sectors are folded in order
    (no cell depends on another). :func:`fold_runs` builds the per-sector arguments.

    Per sector s: row s of ``layers`` (layer indices), ``pl_tables`` (path loss by
    distance in cells), ``a_h`` (horizontal gain per radial; not read for an omni
    sector) and ``a_hb``; item s of the tuples ``radius_s`` (cells), ``p0_s``, ``tilt_s``,
    ``omni_s``, ``inv_sqrt_lambda_s``, ``site_index_s`` and ``loss_row_s`` (row of
    ``sample_loss``). The tuples fix the sector count in the compiled type. The fold of
    one sector at one cell is a closure that numba inlines, called for sector 0 and then
    in a loop over the others: a lone sector then runs as fast as a kernel of its own,
    whereas a loop over all sectors cost it 30 % (measured; so did taking arrays out of a
    tuple inside the cell loop).

    The slots are those of :class:`~coverage.propagation.terrain.RadialTables`.

    ``cell_slot`` maps a cell offset to the slot of its radial sample; slots are numbered
    in row-major cell order, so rows of cells read ``g``/``depression_deg`` almost sequentially.
    The sweep writes the depression angle per slot (:meth:`RadialTables.sweep`), so the
    ``atan`` is taken once per radial sample, not once per cell and sector.
    ``sample_loss`` (ITM; one row per band) stays indexed by ``k * (half + 2) + i``.

    ``a_hb`` (empirical models only; per radial, see :func:`gain_bound`) enables pruning:
    a sector is skipped at a cell when its upper bound ``float32(p0 + a_hb - PL)`` is below
    every layer's best there, since the terrain loss is >= 0 and the antenna gain <= ``a_hb``
    (rounding is monotone), so the cell could not change; the result is bit-identical.
    Unknown flags are set before the test.

    ``need`` and ``dead_at`` (with ``a_hb``; see :meth:`RadialTables.sweep`): a cell whose
    slot is not needed is pruned at once, its unknown flag read from ``dead_at``.

    ``unknown`` counts the sectors whose value is unknown at the cell (saturating at
    65535).

    Runner-up mode (``second``, ``second_srv`` and ``site_code`` given, see
    ``signal_from_towers(runner_up=True)``): ``second``/``second_srv`` keep the best value among the sectors
    of every *other* site than the serving one (``site_code[sector]`` names the site), and
    pruning compares with ``second`` instead of the best.

    Tiles (``2**sh`` cells square, see :func:`_tile_skip`): ``skip[tr - tr0, tc - tc0]``
    set means no cell of tile ``(tr, tc)`` is needed and none can be unknown (pass it only
    when the DEM is clean around a site whose disk lies inside the grid); those cells are
    jumped over. ``dirty[l, tr, tc]`` is set where a best or runner-up value of layer l is written.
    """
    _, rows, cols = best.shape
    rad2 = 0.0
    for radius in radius_s:
        rad2 = max(rad2, radius * radius)
    n = int(math.sqrt(rad2))
    r_lo = max(0, r0 - n)
    r_hi = min(rows - 1, r0 + n)
    n_layers = layers.shape[1]
    stride = half + 2
    n_blk = (r_hi - r_lo + _ROWS) // _ROWS

    def fold(s, row, col, cs, k, rho2, rho, gv):
        # sector s at one cell whose sweep value gv is known; `return` ends this sector only
        if rho2 > radius_s[s] * radius_s[s]:
            return
        p0_db = p0_s[s]
        site_index = site_index_s[s]
        if sample_loss is not None:  # ITM: loss per radial sample, no Bullington excess
            i_s = slot_i[cs]
            pl = sample_loss[loss_row_s[s], k * stride + i_s]
            if i_s > 0:
                pl += 20.0 * math.log10(rho / i_s)
            tl = 0.0
            if math.isnan(pl):
                _count_unknown(unknown, layers, s, row, col)
                return
        else:
            i0 = int(rho)
            t = rho - i0
            pl = pl_tables[s, i0] * (1.0 - t) + pl_tables[s, i0 + 1] * t
            if a_hb is not None and rho2 > 0:
                bound = np.float32(p0_db + a_hb[s, k] - pl)
                beaten = True
                ref = best if second is None else second
                for li in range(n_layers):
                    if not bound < ref[layers[s, li], row, col]:
                        beaten = False
                        break
                if beaten:
                    return
            tl = _excess_db(gv * inv_sqrt_lambda_s[s], nu_table) if gv > 0.0 else 0.0
        gain = 0.0
        if not omni_s[s]:
            x = (depression_deg[cs] - tilt_s[s]) / v_beamwidth_deg
            a_v = -min(12.0 * x * x, sidelobe_db)
            a_hk = a_h[s, k] if rho2 > 0 else 0.0  # under the mast: no bearing
            gain = -min(-(a_hk + a_v), front_to_back_db)
        v = np.float32(p0_db + gain - pl - tl)
        for li in range(n_layers):
            lay = layers[s, li]
            b = best[lay, row, col]
            cur = serving[lay, row, col]
            if v > b or (v == b and site_index < cur):
                if second is not None and cur >= 0 and site_code[cur] != site_code[site_index]:
                    second[lay, row, col] = b  # the old best's site becomes the runner-up
                    second_srv[lay, row, col] = cur
                best[lay, row, col] = v
                serving[lay, row, col] = site_index
                if dirty is not None:
                    dirty[lay, row >> sh, col >> sh] = 1
                if diagnostics:
                    diag_pl[lay, row, col] = pl
                    diag_tl[lay, row, col] = tl
                    diag_los[lay, row, col] = 1 if gv == 0.0 else 0
            elif second is not None and cur >= 0 and site_code[cur] != site_code[site_index]:
                b2 = second[lay, row, col]
                if v > b2 or (v == b2 and site_index < second_srv[lay, row, col]):
                    second[lay, row, col] = v
                    second_srv[lay, row, col] = site_index
                    if dirty is not None:
                        dirty[lay, row >> sh, col >> sh] = 1

    for th in nb.prange(_TASKS):
        for blk in range(th, n_blk, _TASKS):
            for row in range(r_lo + blk * _ROWS, min(r_hi + 1, r_lo + (blk + 1) * _ROWS)):
                dr = row - r0
                cm = _row_half_width(rad2, dr)
                if cm < 0:
                    continue
                cs_row = cell_slot[dr + half]
                c_hi = min(cols - 1, c0 + cm)
                seg_lo = max(0, c0 - cm)
                while seg_lo <= c_hi:
                    col_lo = seg_lo
                    seg_hi, visit = _segment(seg_lo, c_hi, skip, row, sh, tr0, tc0)
                    seg_lo = seg_hi + 1
                    if not visit:
                        continue
                    for col in range(col_lo, seg_hi + 1):
                        dc = col - c0
                        cs = cs_row[dc + half]
                        if math.isnan(dem[row, col]):
                            continue
                        gv = np.float32(np.nan)  # unknown
                        if need is None or need[cs] != 0:
                            gv = g[cs]
                        elif slot_i[cs] < dead_at[slot_k[cs]]:  # every sector of the site is beaten
                            continue
                        if math.isnan(gv):
                            for s in range(len(radius_s)):
                                if dr * dr + dc * dc <= radius_s[s] * radius_s[s]:
                                    _count_unknown(unknown, layers, s, row, col)
                            continue
                        rho2 = dr * dr + dc * dc
                        rho = math.sqrt(rho2)
                        k = slot_k[cs]
                        fold(0, row, col, cs, k, rho2, rho, gv)
                        for s in range(1, len(radius_s)):
                            fold(s, row, col, cs, k, rho2, rho, gv)


def fold_runs(
    layers: np.ndarray,
    radius_cells: np.ndarray,
    pl_tables: np.ndarray,
    a_h: np.ndarray,
    p0_db: np.ndarray,
    tilt_deg: np.ndarray,
    omni: np.ndarray,
    inv_sqrt_lambda: np.ndarray,
    site_index: np.ndarray,
    loss_row: np.ndarray,
    a_hb: np.ndarray | None,
) -> list[tuple]:
    """Per-sector arguments of the :func:`_apply_cells` calls for the sectors of one sweep.

    Takes one row (or item) per sector, in folding order, and splits them into runs of
    :data:`FOLD_SECTORS`, then single sectors for the remainder. Each run gives
    ``layers .. loss_row_s`` in the order of :func:`_apply_cells`, then its rows of ``a_hb``
    (or None): array rows stay (C-contiguous) arrays, scalars become tuples.

    Examples
    --------
    >>> rows = np.zeros((4, 2))
    >>> zeros = [0.0] * 4
    >>> flags = [False] * 4
    >>> runs = fold_runs(rows, zeros, rows, rows, zeros, zeros, flags, zeros, range(4), [0] * 4, None)
    >>> [run[8] for run in runs]  # site_index_s
    [(0, 1, 2), (3,)]
    """
    n = len(radius_cells)
    bounds = [(a, a + FOLD_SECTORS) for a in range(0, n - n % FOLD_SECTORS, FOLD_SECTORS)]
    bounds += [(a, a + 1) for a in range(n - n % FOLD_SECTORS, n)]
    runs = []
    for a, b in bounds:
        runs.append(
            (
                np.ascontiguousarray(layers[a:b], dtype=np.int64),
                tuple(float(x) for x in radius_cells[a:b]),
                np.ascontiguousarray(pl_tables[a:b], dtype=np.float64),
                np.ascontiguousarray(a_h[a:b], dtype=np.float64),
                tuple(float(x) for x in p0_db[a:b]),
                tuple(float(x) for x in tilt_deg[a:b]),
                tuple(bool(x) for x in omni[a:b]),
                tuple(float(x) for x in inv_sqrt_lambda[a:b]),
                tuple(int(x) for x in site_index[a:b]),
                tuple(int(x) for x in loss_row[a:b]),
                None if a_hb is None else np.ascontiguousarray(a_hb[a:b], dtype=np.float64),
            )
        )
    return runs


def gain_bound(
    a_h: np.ndarray, n_rad: int, omni: bool, sidelobe_db: float, front_to_back_db: float
) -> np.ndarray:
    """Upper bound per radial of the antenna gain computed in :func:`_apply_cells` (0 for omni)."""
    if omni:
        return np.zeros(n_rad)
    return np.maximum(a_h + max(0.0, -sidelobe_db), -front_to_back_db)


@nb.njit(cache=True, parallel=True)
def _need_slots(
    need, best, dem, r0, c0, cell_slot, half, slot_k, layers, radius_cells, pl_tables, p0_db, a_hb,
    second=None, skip=None, sh=3, tr0=0, tc0=0,
):  # fmt: skip
    """Flag (1) in ``need`` the slots of the cells that :func:`_apply_cells` with ``a_hb`` would not skip.

    One row per sector of a site group: ``layers[s]``, ``radius_cells[s]``,
    ``pl_tables[s]``, ``p0_db[s]``, ``a_hb[s]``. Must run before any of the group's
    sectors is applied (best only grows, so a slot not flagged now stays unused).
    Flags every slot under the mast. Racing writes all store 1. With ``second`` (runner-up
    mode) the bound is compared with it instead of ``best``. Tiles flagged in ``skip``
    (:func:`_tile_skip`) are not visited: none of their cells can be needed.
    """
    need[:] = 0
    _, rows, cols = best.shape
    n_sec, n_layers = layers.shape
    n = 0
    for s in range(n_sec):
        n = max(n, int(radius_cells[s]))
    r_lo = max(0, r0 - n)
    r_hi = min(rows - 1, r0 + n)
    n_blk = (r_hi - r_lo + _ROWS) // _ROWS
    for th in nb.prange(_TASKS):
        for blk in range(th, n_blk, _TASKS):
            for row in range(r_lo + blk * _ROWS, min(r_hi + 1, r_lo + (blk + 1) * _ROWS)):
                dr = row - r0
                cs_row = cell_slot[dr + half]
                for s in range(n_sec):
                    cm = _row_half_width(radius_cells[s] * radius_cells[s], dr)
                    if cm < 0:
                        continue
                    c_hi = min(cols - 1, c0 + cm)
                    seg_lo = max(0, c0 - cm)
                    while seg_lo <= c_hi:
                        col_lo = seg_lo
                        seg_hi, visit = _segment(seg_lo, c_hi, skip, row, sh, tr0, tc0)
                        seg_lo = seg_hi + 1
                        if not visit:
                            continue
                        for col in range(col_lo, seg_hi + 1):
                            if math.isnan(dem[row, col]):
                                continue
                            dc = col - c0
                            cs = cs_row[dc + half]
                            if need[cs] != 0:
                                continue
                            rho2 = dr * dr + dc * dc
                            if rho2 == 0:
                                need[cs] = 1
                                continue
                            rho = math.sqrt(rho2)
                            i0 = int(rho)
                            t = rho - i0
                            pl = pl_tables[s, i0] * (1.0 - t) + pl_tables[s, i0 + 1] * t
                            bound = np.float32(p0_db[s] + a_hb[s, slot_k[cs]] - pl)
                            ref = best if second is None else second
                            for li in range(n_layers):
                                if not bound < ref[layers[s, li], row, col]:
                                    need[cs] = 1
                                    break


TILE_SHIFT = 3
"""Tiles of ``2**TILE_SHIFT`` cells square carry the minimum of the running best (tile pruning)."""
_BLOCK = 8  # radials per block of the per-block gain maximum (radial counts are multiples of 8)


def tile_bounds(a_hb: np.ndarray, pl_tables: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-sector inputs of :func:`_tile_skip`: gain maximum per block of 8 radials, path-loss floor.

    ``floor[s, i]`` is the least path loss of sector s at any distance >= i cells, less
    1e-6 dB so that the interpolation in :func:`_need_slots` cannot round below it. A NaN
    gain or loss (never produced by the models) makes the bound +inf: nothing is skipped.
    """
    n_sec, n_rad = a_hb.shape
    blocks = a_hb.reshape(n_sec, n_rad // _BLOCK, _BLOCK).max(axis=2)  # NaN propagates
    floor = np.full((n_sec, max(t.size for t in pl_tables)), -np.inf)
    for s, table in enumerate(pl_tables):
        floor[s, : table.size] = np.minimum.accumulate(table[::-1])[::-1] - 1e-6  # NaN propagates
    return np.where(np.isnan(blocks), np.inf, blocks), np.where(np.isnan(floor), -np.inf, floor)


@nb.njit(cache=True, parallel=True)
def _tile_skip(skip, tmin, r0, c0, sh, tr0, tc0, layers, radius_cells, p0_db, blocks, floor):
    r"""Flag the tiles of a site group's box where no sector can beat the running best.

    ``skip[a, b]`` covers tile ``(tr0 + a, tc0 + b)``. For each sector s reaching the tile,
    an upper bound of every cell's pruning bound in :func:`_need_slots` is

    .. math:: U_s = p_{0,s} + \max_{k \in K} a_{hb,s}(k) - \min_{i \ge \lfloor d_{min} \rfloor} PL_s(i)

    with :math:`d_{min}` the distance from the site to the tile's nearest cell and K the
    radials the tile's cells can map to (the tile's angular width seen from the site, plus
    two radials, widened to blocks of 8). When ``float32(U_s)`` is below the tile's
    minimum ``tmin`` of every layer of every sector, each cell's bound is too (float32
    rounding is monotone), so :func:`_need_slots` would leave every slot of the tile unset
    and :func:`_apply_cells` would skip every cell: the result is bit-identical. The tile
    holding the site is never flagged (its centre cell is always computed).
    """
    ntr, ntc = skip.shape
    tile = 1 << sh
    n_sec, n_layers = layers.shape
    n_blk = blocks.shape[1]
    n_rad = n_blk * _BLOCK
    for a in nb.prange(ntr):
        r_lo = (tr0 + a) << sh
        dr = max(0, r_lo - r0, r0 - (r_lo + tile - 1))
        for b in range(ntc):
            skip[a, b] = 0
            c_lo = (tc0 + b) << sh
            dc = max(0, c_lo - c0, c0 - (c_lo + tile - 1))
            if dr == 0 and dc == 0:
                continue
            d_min = math.sqrt(dr * dr + dc * dc)
            i_min = int(d_min)
            full = d_min < 2.0 * tile
            k_lo = 0
            k_hi = n_rad - 1
            if not full:
                ang = math.atan2(r_lo + 0.5 * tile - r0, c_lo + 0.5 * tile - c0)  # radial k at 2 pi k / n_rad
                kc = ang * n_rad / (2.0 * math.pi)
                w = 1.5 * tile / d_min * n_rad / (2.0 * math.pi) + 2.0
                if 2.0 * w + 1.0 >= n_rad:
                    full = True
                else:
                    k_lo = math.floor(kc - w)
                    k_hi = math.ceil(kc + w)
            beaten = True
            for s in range(n_sec):
                if i_min > radius_cells[s]:
                    continue  # the sector does not reach the tile
                g = -np.inf
                if full:
                    for j in range(n_blk):
                        g = max(g, blocks[s, j])
                else:
                    for j in range(k_lo // _BLOCK, k_hi // _BLOCK + 1):
                        g = max(g, blocks[s, j % n_blk])
                bound = np.float32(p0_db[s] + g - floor[s, i_min])
                for li in range(n_layers):
                    if not bound < tmin[layers[s, li], tr0 + a, tc0 + b]:
                        beaten = False
                        break
                if not beaten:
                    break
            if beaten:
                skip[a, b] = 1


@nb.njit(cache=True, parallel=True)
def _tile_refresh(tmin, ref, dirty, sh, tr0, tr1, tc0, tc1):
    """Recompute ``tmin[l, tr, tc]`` = minimum of ``ref[l]`` over the tile where ``dirty[l, tr, tc]``.

    Only tiles in the box ``tr0..tr1`` by ``tc0..tc1`` (inclusive); their flags are cleared.
    """
    n_layers, rows, cols = ref.shape
    tile = 1 << sh
    for tr in nb.prange(tr0, tr1 + 1):
        for li in range(n_layers):
            for tc in range(tc0, tc1 + 1):
                if dirty[li, tr, tc] == 0:
                    continue
                dirty[li, tr, tc] = 0
                m = np.inf
                for r in range(tr << sh, min(rows, (tr << sh) + tile)):
                    for c in range(tc << sh, min(cols, (tc << sh) + tile)):
                        v = ref[li, r, c]
                        if v < m:
                            m = v
                tmin[li, tr, tc] = m


def finish_layer(
    best: np.ndarray,
    serving: np.ndarray,
    unknown: np.ndarray,
    dem_nodata: np.ndarray,
    lowest_dbm: float,
) -> None:
    """Turn running state into the published layer, in place.

    ``best >= lowest_dbm`` is kept whatever the unknowns (covered anyway); otherwise a
    cell with any unknown site value becomes NaN; otherwise the best known value, or
    :data:`FLOOR_RSRP_DBM` where no site reaches. DEM nodata cells are NaN.
    """
    covered = best >= np.float32(lowest_dbm)
    unresolved = (~covered) & (unknown != 0)
    best[unresolved] = np.nan
    unreached = np.isneginf(best)
    best[unreached] = FLOOR_RSRP_DBM
    best[dem_nodata] = np.nan
    serving[np.isnan(best) | unreached] = -1
