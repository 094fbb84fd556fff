"""Straightforward reference kernels of the radio engine, kept for the equivalence tests.

The product uses the optimised ``RadialTables``/``_sweep_tree``/``_apply_cells``; these are
the original per-radial sweep and per-cell fold they must match bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.propagation._combine import _excess_db
from coverage.propagation._numba import nb
from coverage.propagation.terrain import _atan_deg, _round_half_away

__all__ = ["_apply_sector", "_profile_core", "_sweep"]


@nb.njit(cache=True)
def _profile_core(z, n, ht, hr, step_m, curv, out, hx, hz, used):
    """The original single-profile kernel: full upper hull, bisection for every tangent.

    The product's ``terrain._profile_core`` keeps only the hull from the antenna horizon
    point on and gallops from the receiver; both must give these values bit for bit.
    ``out[i] = (g, depression slope)``: g 0 in line of sight, > 0 shadowed, NaN unknown.
    """
    out[0, 0] = 0.0
    out[0, 1] = np.inf
    maxm = -np.inf
    hn = 0
    for i in range(1, n + 1):
        zi = z[i]
        if math.isnan(zi):
            for j in range(i, n + 1):
                out[j, 0] = np.nan
                out[j, 1] = np.nan
            return
        d = i * step_m
        zc = zi - d * d * curv
        rx = zc + hr
        mrx = (rx - ht) / d
        out[i, 1] = -mrx
        if mrx >= maxm:
            out[i, 0] = 0.0
        elif used[i] == 0:
            out[i, 0] = 1e-9
        else:
            lo = 0
            hi = hn - 1
            while lo < hi:  # first hull edge the receiver is not below
                mid = (lo + hi) // 2
                cross = (hx[mid + 1] - hx[mid]) * (rx - hz[mid]) - (hz[mid + 1] - hz[mid]) * (d - hx[mid])
                if cross < 0.0:
                    lo = mid + 1
                else:
                    hi = mid
            sig = (rx - hz[lo]) / (d - hx[lo])
            xb = (rx - sig * d - ht) / (maxm - sig) if sig != maxm else 0.0  # parallel rays: grazing
            d2 = d - xb
            g = 1e-9
            if xb > 0.0 and d2 > 0.0:
                g = max((maxm - mrx) * xb * math.sqrt(2.0 * d / (xb * d2)), 1e-9)
            out[i, 0] = g
        mt = (zc - ht) / d
        if mt > maxm:
            maxm = mt
        while hn >= 2:  # push (d, zc) on the upper hull
            dx, dz = hx[hn - 1] - hx[hn - 2], hz[hn - 1] - hz[hn - 2]
            if dx * (zc - hz[hn - 2]) - dz * (d - hx[hn - 2]) >= 0.0:
                hn -= 1
            else:
                break
        hx[hn] = d
        hz[hn] = zc
        hn += 1


@nb.njit(cache=True, parallel=True)
def _sweep(dem, r0, c0, h_ant, h_rx, step_m, curv, dirs, n, out, used):
    """Radial sweep from cell (r0, c0) over ``n`` samples for every direction in ``dirs``.

    ``used[k, i]`` flags the samples some grid cell maps to (about half of them: radials
    are denser than cells near the site); only those get the O(log h) edge search.

    ``out`` has shape ``(n_radials, >= n + 1, 2)``; radials are processed in chunks so
    each thread allocates its profile and hull buffers once.
    """
    rows, cols = dem.shape
    ground = float(dem[r0, c0])
    ht = ground + h_ant
    n_rad = dirs.shape[0]
    n_chunks = min(n_rad, 64)
    for ch in nb.prange(n_chunks):
        z = np.empty(n + 1)
        hx = np.empty(n + 1)
        hz = np.empty(n + 1)
        for k in range(ch * n_rad // n_chunks, (ch + 1) * n_rad // n_chunks):
            dc = dirs[k, 0]
            dr = dirs[k, 1]
            z[0] = ground
            m = n
            for i in range(1, n + 1):
                r = r0 + _round_half_away(i * dr)
                c = c0 + _round_half_away(i * dc)
                # samples up to one cell outside the grid still serve edge cells: clamp
                if r < -1 or r > rows or c < -1 or c > cols:
                    m = i - 1
                    break
                r = min(max(r, 0), rows - 1)
                c = min(max(c, 0), cols - 1)
                z[i] = dem[r, c]
            _profile_core(z, m, ht, h_rx, step_m, curv, out[k], hx, hz, used[k])
            for i in range(m + 1, n + 1):
                out[k, i, 0] = np.nan
                out[k, i, 1] = np.nan


@nb.njit(cache=True, parallel=True)
def _apply_sector(
    best,
    serving,
    unknown,
    diag_pl,
    diag_tl,
    diag_los,
    diagnostics,
    layers,
    dem,
    r0,
    c0,
    radius_cells,
    flat,
    half,
    samples,
    pl_table,
    a_h,
    p0_db,
    tilt_deg,
    v_beamwidth_deg,
    sidelobe_db,
    front_to_back_db,
    omni,
    inv_sqrt_lambda,
    site_index,
    nu_table,
    atan_table,
    sample_loss=None,
):
    """Fold one sector into ``layers`` over every cell within ``radius_cells``.

    Per cell: nearest radial sample from the lookup table ``flat`` (into ``samples``,
    shape ``(n_radials * (half + 2), 2)`` = (g, depression slope)), then
    ``RSRP = p0 + A(phi, theta) - PL(rho) - L_terrain`` with PL interpolated linearly in
    the cell-centre distance rho. Ties go to the lower ``site_index``.

    ``sample_loss`` (ITM, flat like ``samples``) replaces ``PL + L_terrain`` by the
    loss at the cell's radial sample i, moved to the cell distance by the free-space
    term ``20 log10(rho / i)``; no Bullington excess is added (ITM models terrain).
    """
    _, rows, cols = best.shape
    n = int(radius_cells)
    rad2 = radius_cells * radius_cells
    r_lo = max(0, r0 - n)
    r_hi = min(rows - 1, r0 + n)
    c_lo = max(0, c0 - n)
    c_hi = min(cols - 1, c0 + n)
    n_layers = layers.shape[0]
    stride = half + 2
    for row in nb.prange(r_lo, r_hi + 1):
        dr = row - r0
        for col in range(c_lo, c_hi + 1):
            dc = col - c0
            rho2 = dr * dr + dc * dc
            if rho2 > rad2:
                continue
            if math.isnan(dem[row, col]):
                continue
            j = flat[dr + half, dc + half]
            gv = samples[j, 0]
            if math.isnan(gv):
                for li in range(n_layers):
                    unknown[layers[li], row, col] = 1
                continue
            rho = math.sqrt(rho2)
            if sample_loss is not None:  # ITM: loss per radial sample, no Bullington excess
                pl = sample_loss[j]
                i_s = j % stride
                if i_s > 0:
                    pl += 20.0 * math.log10(rho / i_s)
                tl = 0.0
                if math.isnan(pl):
                    for li in range(n_layers):
                        unknown[layers[li], row, col] = 1
                    continue
            else:
                i0 = int(rho)
                t = rho - i0
                pl = pl_table[i0] * (1.0 - t) + pl_table[i0 + 1] * t
                tl = _excess_db(gv * inv_sqrt_lambda, nu_table) if gv > 0.0 else 0.0
            gain = 0.0
            if not omni:
                x = (_atan_deg(samples[j, 1], atan_table) - tilt_deg) / v_beamwidth_deg
                a_v = -min(12.0 * x * x, sidelobe_db)
                a_hk = a_h[j // stride] if rho2 > 0 else 0.0  # under the mast: no bearing
                gain = -min(-(a_hk + a_v), front_to_back_db)
            v = np.float32(p0_db + gain - pl - tl)
            for li in range(n_layers):
                lay = layers[li]
                b = best[lay, row, col]
                if v > b or (v == b and site_index < serving[lay, row, col]):
                    best[lay, row, col] = v
                    serving[lay, row, col] = site_index
                    if diagnostics:
                        diag_pl[lay, row, col] = pl
                        diag_tl[lay, row, col] = tl
                        diag_los[lay, row, col] = 1 if gv == 0.0 else 0
