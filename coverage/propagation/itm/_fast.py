r"""ITM point-to-point loss along every radial of a site, without one profile pass per cell.

A per-cell ITM call re-reads the whole profile (horizons, least-squares fits, Δh), so a
coverage of radius R cells costs O(R^3). Here every radial is walked once and the
profile statistics ITM needs are carried along it:

* **Refractivity** N_s (mean elevation of the middle 80 % of the path): prefix sums,
  exact, O(1) per receiver.
* **TX horizon** (FindHorizons.cpp): running maximum of the elevation angle,
  O(1) per receiver. **RX horizon**: tangent from the receiver to the upper convex
  hull of the curved profile (the TX antenna point included), kept by a monotone chain,
  O(log h) per receiver. The horizon *point* is chosen in a curved-earth frame of one
  effective radius per site (the one of N_s at the site's ground); the angles and
  distances are then recomputed exactly with the receiver's own radius. Approximation:
  when two candidate points are within ~1 % of each other's curvature correction the
  chosen one can differ from the reference's (effect < 0.01 dB on the demo DEM).
* **Least-squares fits** for the effective heights (LinearLeastSquaresFit.cpp):
  trapezoid sums from prefix sums of z and i*z, exact, O(1).
* **Δh** (ComputeDeltaH.cpp, interdecile range of the detrended profile between the
  terminal exclusion zones): computed exactly at *knots*, every sample up to
  ``KNOT_FULL`` samples and then at distances growing by ``knot_ratio``, and
  interpolated linearly in distance between knots. Approximation; Δh is a path
  statistic that changes slowly once the path is more than a few hundred metres long.
  O(min(i, 245)) per knot, O(log R) knots per radial.
* **Reference attenuation and variability** (LongleyRice.cpp, Variability.cpp) are
  evaluated exactly at *anchors*: receivers (among those a grid cell maps to) at least
  ``stride`` samples apart. Between two anchors the excess loss A - A_fs is
  interpolated linearly in distance for a receiver whose regime matches both anchors
  (same QuickPfl branch, same TX and RX horizon points, effective RX height within
  ``max(1 m, 10 %)`` of the interpolated one) when the anchors differ by at most
  ``tol_db``; every other receiver is evaluated exactly. Ridges, shadow edges and
  knolls therefore get exact values; smooth stretches are interpolated.
* **Exact evaluations** use :func:`longley_rice_p2p`, bit-identical to the reference
  LongleyRice.cpp but with the distance-free diffraction terms shared between d_3 and
  d_4 and the troposcatter line skipped when the receiver is provably in diffraction
  (about 0.45 µs instead of 0.58 µs per receiver); free-space loss is tabulated per
  sample distance once per site.

Where the time goes (10 km site at 30 m, 2104 radials, 340k used samples, CPU time):
profile sampling ~5 ms, horizons and prefix sums ~25 ms, Δh knots ~100 ms, QuickPfl
values of the used receivers ~50 ms, exact evaluations ~150 ms (about 90 % of the
receivers on hilly terrain: loss there follows the receiver's own horizon angle and
effective height, which change from cell to cell, so interpolation in distance is
rarely admissible).

Cost per site: O(R^2 log R) for the sweep (n_radials ~ 2 pi R radials of R samples),
plus O(R log R) Δh knots of O(R) each, i.e. O(R^2 log R) overall, against O(R^3)
for one profile per cell.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.propagation._numba import nb
from coverage.propagation.itm import _core as c

KNOT_FULL = 8
N_FLAGS = 15


@nb.njit(cache=True, inline="always")
def _round_half_away(x):
    if x >= 0.0:
        return math.floor(x + 0.5)
    return -math.floor(-x + 0.5)


@nb.njit(cache=True)
def _fit_prefix(p0, p1, z, n, xi, d_start, d_end):
    """LinearLeastSquaresFit.cpp from prefix sums ``p0[k] = sum z[:k]``, ``p1[k] = sum j z[j]``."""
    i_s, i_e = c.fit_indices(n, xi, d_start, d_end)
    length = float(i_e - i_s)
    s0 = p0[i_e + 1] - p0[i_s] - 0.5 * (z[i_s] + z[i_e])
    s1 = p1[i_e + 1] - p1[i_s] - 0.5 * (i_s * z[i_s] + i_e * z[i_e])
    mid = 0.5 * (i_s + i_e)
    sum_y = s0 / length
    scaled = (s1 - mid * s0) * 12.0 / ((length * length + 2.0) * length)
    return sum_y - scaled * mid, sum_y + scaled * (n - mid)


@nb.njit(cache=True)
def _profile_pass(z, m, xi, h_tx, h_rx, n0, g_ref, p0, p1, jt, jr, geo, hx, hz, hi):
    """Prefix sums, horizon points and exact horizons for receivers ``1..m`` of one radial.

    ``geo[i]`` = (theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, N_s, gamma_e).
    """
    p0[0] = 0.0
    p1[0] = 0.0
    for i in range(m + 1):
        p0[i + 1] = p0[i] + z[i]
        p1[i + 1] = p1[i] + i * z[i]
    z_tx = z[0] + h_tx
    best_t = -np.inf
    j_best = -1
    hx[0] = 0.0
    hz[0] = z_tx
    hi[0] = 0
    hn = 1
    for i in range(1, m + 1):
        x = i * xi
        zc = z[i] - 0.5 * g_ref * x * x
        rx = zc + h_rx
        lo = 0
        top = hn - 1
        while lo < top:  # first hull edge the receiver is not below
            mid = (lo + top) // 2
            cross = (hx[mid + 1] - hx[mid]) * (rx - hz[mid]) - (hz[mid + 1] - hz[mid]) * (x - hx[mid])
            if cross < 0.0:
                lo = mid + 1
            else:
                top = mid
        jt[i] = j_best
        jr[i] = hi[lo]
        # exact horizons with this receiver's effective earth (N_s from its own path)
        p10 = int(0.1 * i)
        h_sys = (p0[i - p10 + 1] - p0[p10]) / (i - 2 * p10 + 1)
        n_s = n0 if h_sys == 0.0 else n0 * math.exp(-h_sys / 9460.0)
        g = 157e-9 * (1.0 - 0.04665 * math.exp(n_s / 179.3))
        z_rx = z[i] + h_rx
        th0 = (z_rx - z_tx) / x - 0.5 * x * g
        th1 = -(z_rx - z_tx) / x - 0.5 * x * g
        dh0 = x
        dh1 = x
        if j_best > 0:
            xt = j_best * xi
            t = (z[j_best] - z_tx) / xt - 0.5 * xt * g
            if t > th0:
                th0 = t
                dh0 = xt
        if jr[i] > 0:
            drx = x - jr[i] * xi
            t = -(z_rx - z[jr[i]]) / drx - 0.5 * drx * g
            if t > th1:
                th1 = t
                dh1 = drx
        geo[i, 0] = th0
        geo[i, 1] = th1
        geo[i, 2] = dh0
        geo[i, 3] = dh1
        geo[i, 4] = n_s
        geo[i, 5] = g
        # add point i to the TX running maximum and to the hull (candidates of later receivers)
        t = (z[i] - z_tx) / x - 0.5 * g_ref * x
        if t > best_t:
            best_t = t
            j_best = i
        while hn >= 2:
            cross = (hx[hn - 1] - hx[hn - 2]) * (zc - hz[hn - 2]) - (hz[hn - 1] - hz[hn - 2]) * (
                x - hx[hn - 2]
            )
            if cross >= 0.0:
                hn -= 1
            else:
                break
        hx[hn] = x
        hz[hn] = zc
        hi[hn] = i
        hn += 1


@nb.njit(cache=True)
def _delta_h_pass(z, m, xi, h_tx, h_rx, geo, dh, knot_ratio, s, diffs):
    """Exact Δh at knots, linear interpolation in between (``dh[i]`` for ``i = 1..m``)."""
    prev = 0
    dh[0] = 0.0
    i = 1
    while True:
        x = i * xi
        d_start = min(15.0 * h_tx, 0.1 * geo[i, 2])
        d_end = x - min(15.0 * h_rx, 0.1 * geo[i, 3])
        dh[i] = c.compute_delta_h_buf(z, i, xi, d_start, d_end, s, diffs)
        if prev > 0:
            for j in range(prev + 1, i):
                t = (j - prev) / (i - prev)
                dh[j] = dh[prev] * (1.0 - t) + dh[i] * t
        if i == m:
            break
        prev = i
        i = i + 1 if i < KNOT_FULL else min(m, max(i + 1, math.ceil(i * knot_ratio)))


@nb.njit(cache=True)
def _effective(i, z, xi, h_tx, h_rx, p0, p1, geo, dh, effs):
    """QuickPfl.cpp after the horizons: ``effs[i]`` = (branch, th0, th1, dh0, dh1, he0, he1)."""
    x = i * xi
    th0, th1, dh0, dh1 = geo[i, 0], geo[i, 1], geo[i, 2], geo[i, 3]
    a_e = 1.0 / geo[i, 5]
    d_start = min(15.0 * h_tx, 0.1 * dh0)
    d_end = x - min(15.0 * h_rx, 0.1 * dh1)
    if dh0 + dh1 > 1.5 * x:
        fit_tx, fit_rx = _fit_prefix(p0, p1, z, i, xi, d_start, d_end)
        he0 = h_tx + c._fdim(z[0], fit_tx)
        he1 = h_rx + c._fdim(z[i], fit_rx)
        he0, he1, dh0, dh1, th0, th1 = c.los_horizons(x, he0, he1, a_e, dh[i])
        branch = 1.0
    else:
        fit_tx, _ = _fit_prefix(p0, p1, z, i, xi, d_start, 0.9 * dh0)
        _, fit_rx = _fit_prefix(p0, p1, z, i, xi, x - 0.9 * dh1, d_end)
        he0 = h_tx + c._fdim(z[0], fit_tx)
        he1 = h_rx + c._fdim(z[i], fit_rx)
        branch = 0.0
    effs[i, 0] = branch
    effs[i, 1] = th0
    effs[i, 2] = th1
    effs[i, 3] = dh0
    effs[i, 4] = dh1
    effs[i, 5] = he0
    effs[i, 6] = he1


@nb.njit(cache=True, inline="always")
def _diffraction_at(d, f, a_e, theta_los, dh0, dh1, zg_abs, delta_h, f3, fm3, x1, x2, hf1, hf2, term1, a_fo):
    """Compute the distance-dependent part of DiffractionLoss.cpp (see :func:`_diffraction_pair`)."""
    d_ml = dh0 + dh1
    a_k = c.knife_edge_diffraction(d, f, a_e, theta_los, dh0, dh1)
    theta_nlos = d / a_e - theta_los
    a0 = (d - d_ml) / (d / a_e - theta_los)
    d_km0 = (a0 * theta_nlos) / 1000.0
    c0 = ((4.0 / 3.0) * c.A_0_M / a0) ** c.THIRD
    k0 = 0.017778 * c0 * fm3 / zg_abs
    x0 = (1.607 - k0) * c0**2 * f3 * d_km0 + x1 + x2
    g_x = 0.05751 * x0 - 10.0 * math.log10(x0)
    a_se = g_x - hf1 - hf2 - 20.0
    delta_h_d = c.terrain_roughness(d, delta_h)
    q = (term1 + (-theta_los * a_e + d_ml) / d) * min(delta_h_d * f / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * a_se + (1.0 - w) * a_k + a_fo


@nb.njit(cache=True)
def _diffraction_pair(d_3, d_4, f, a_e, theta_los, dh0, dh1, he0, he1, zg_abs, delta_h, h0, h1, d_sml):
    """DiffractionLoss.cpp (P2P mode) at ``d_3`` and at ``d_4``, distance-free terms shared.

    The same floating-point operations, in the same order, as two
    :func:`~coverage.propagation.itm._core.diffraction_loss` calls (bit-identical
    results); the terminal height functions, the clutter factor and the height term
    of the weighting are computed once instead of twice.
    """
    a1 = 0.5 * dh0**2 / he0
    a2 = 0.5 * dh1**2 / he1
    d_km1 = dh0 / 1000.0
    d_km2 = dh1 / 1000.0
    f3 = f**c.THIRD
    fm3 = f ** (-c.THIRD)
    c1 = ((4.0 / 3.0) * c.A_0_M / a1) ** c.THIRD
    c2 = ((4.0 / 3.0) * c.A_0_M / a2) ** c.THIRD
    k1 = 0.017778 * c1 * fm3 / zg_abs
    k2 = 0.017778 * c2 * fm3 / zg_abs
    x1 = (1.607 - k1) * c1**2 * f3 * d_km1
    x2 = (1.607 - k2) * c2**2 * f3 * d_km2
    hf1 = c.height_function(x1, k1)
    hf2 = c.height_function(x2, k2)
    sigma_h_d = c.sigma_h_function(c.terrain_roughness(d_sml, delta_h))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h0 * h1 * f * sigma_h_d))
    q = h0 * h1
    qk = he0 * he1 - q
    q += 10.0
    term1 = math.sqrt(1.0 + qk / q)
    a_3 = _diffraction_at(
        d_3, f, a_e, theta_los, dh0, dh1, zg_abs, delta_h, f3, fm3, x1, x2, hf1, hf2, term1, a_fo
    )
    a_4 = _diffraction_at(
        d_4, f, a_e, theta_los, dh0, dh1, zg_abs, delta_h, f3, fm3, x1, x2, hf1, hf2, term1, a_fo
    )
    return a_3, a_4


@nb.njit(cache=True)
def longley_rice_p2p(th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d):
    """:func:`~coverage.propagation.itm._core.longley_rice` in P2P mode, same results, less work.

    Two exact shortcuts: the diffraction losses at ``d_3`` and ``d_4`` share their
    distance-free terms (:func:`_diffraction_pair`), and the troposcatter line is not
    computed when ``d <= max(d_sml, d_ml + 1.088 (a_e^2/f)^(1/3) ln f)``: the reference's
    crossover distance ``d_x`` is at least that, so the receiver is in diffraction
    whatever the troposcatter losses are (at 1800 MHz that bound exceeds 25 km
    beyond the horizons, so a coverage of a few tens of km never needs them).
    Returns ``(error, A_ref, warnings)``.
    """
    warn = 0
    a_e = 1.0 / gamma_e
    zg_abs = abs(zg)
    dhs0 = math.sqrt(2.0 * he0 * a_e)
    dhs1 = math.sqrt(2.0 * he1 * a_e)
    d_sml = dhs0 + dhs1
    d_ml = dh0 + dh1
    theta_los = -max(th0 + th1, -d_ml / a_e)
    if abs(th0) > 200e-3:
        warn |= c.WARN_TX_HZN_ANGLE
    if abs(th1) > 200e-3:
        warn |= c.WARN_RX_HZN_ANGLE
    if dh0 < 0.1 * dhs0:
        warn |= c.WARN_TX_HZN_DIST_1
    if dh1 < 0.1 * dhs1:
        warn |= c.WARN_RX_HZN_DIST_1
    if dh0 > 3.0 * dhs0:
        warn |= c.WARN_TX_HZN_DIST_2
    if dh1 > 3.0 * dhs1:
        warn |= c.WARN_RX_HZN_DIST_2
    if n_s < 150.0 or n_s > 400.0 or a_e < 4000000.0 or a_e > 13333333.0 or zg.real <= abs(zg.imag):
        err, a_ref, warn, _ = c.longley_rice(
            th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, c.MODE_P2P
        )
        return err, a_ref, warn
    if n_s < 250.0:
        warn |= c.WARN_NS_SMALL
    scale = (a_e**2 / f) ** c.THIRD
    d_3 = max(d_sml, d_ml + 5.0 * scale)
    d_4 = d_3 + 10.0 * scale
    a_3, a_4 = _diffraction_pair(
        d_3, d_4, f, a_e, theta_los, dh0, dh1, he0, he1, zg_abs, delta_h, h0, h1, d_sml
    )
    m_d = (a_4 - a_3) / (d_4 - d_3)
    a_d0 = a_3 - m_d * d_3
    d_min = abs(he0 - he1) / 200e-3
    if d < d_min:
        warn |= c.WARN_DIST_SMALL_1
    if d < 1e3:
        warn |= c.WARN_DIST_SMALL_2
    if d > 1000e3:
        warn |= c.WARN_DIST_BIG_1
    if d > 2000e3:
        warn |= c.WARN_DIST_BIG_2
    if d < d_sml:  # line of sight, as LongleyRice.cpp
        a_sml = d_sml * m_d + a_d0
        d_0 = 0.04 * f * he0 * he1
        if a_d0 >= 0.0:
            d_0 = min(d_0, 0.5 * d_ml)
            d_1 = d_0 + 0.25 * (d_ml - d_0)
        else:
            d_1 = max(-a_d0 / m_d, 0.25 * d_ml)
        a_1 = c.line_of_sight_loss(d_1, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f)
        flag = False
        k1 = 0.0
        k2 = 0.0
        if d_0 < d_1:
            a_0 = c.line_of_sight_loss(d_0, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f)
            q = math.log(d_sml / d_0)
            k2 = max(
                0.0,
                ((d_sml - d_0) * (a_1 - a_0) - (d_1 - d_0) * (a_sml - a_0))
                / ((d_sml - d_0) * math.log(d_1 / d_0) - (d_1 - d_0) * q),
            )
            flag = a_d0 > 0.0 or k2 > 0.0
            if flag:
                k1 = (a_sml - a_0 - k2 * q) / (d_sml - d_0)
                if k1 < 0.0:
                    k1 = 0.0
                    k2 = c._fdim(a_sml, a_0) / q
                    if k2 == 0.0:
                        k1 = m_d
        if not flag:
            k1 = c._fdim(a_sml, a_1) / (d_sml - d_1)
            k2 = 0.0
            if k1 == 0.0:
                k1 = m_d
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        return c.SUCCESS, max(a_o + k1 * d + k2 * math.log(d), 0.0), warn
    if d > max(d_sml, d_ml + 1.088 * scale * math.log(f)):  # possibly troposcatter
        err, a_ref, warn2, _ = c.longley_rice(
            th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, c.MODE_P2P
        )
        return err, a_ref, warn2
    return c.SUCCESS, max(m_d * d + a_d0, 0.0), warn


@nb.njit(cache=True)
def _excess(i, xi, f, zg, h_tx, h_rx, geo, dh, effs, climate, mdvar, zt, zl, zs, counts):
    """Exact A - A_fs for receiver ``i`` from its QuickPfl values; counts warning bits."""
    x = i * xi
    err, a_ref, warn = longley_rice_p2p(
        effs[i, 1],
        effs[i, 2],
        f,
        zg,
        effs[i, 3],
        effs[i, 4],
        effs[i, 5],
        effs[i, 6],
        geo[i, 5],
        geo[i, 4],
        dh[i],
        h_tx,
        h_rx,
        x,
    )
    if err != c.SUCCESS:
        counts[N_FLAGS] += 1
        return np.nan
    v, w2 = c.variability(zt, zl, zs, effs[i, 5], effs[i, 6], dh[i], f, x, a_ref, climate, mdvar)
    warn |= w2
    for b in range(N_FLAGS):
        if warn & (1 << b):
            counts[b] += 1
    counts[N_FLAGS + 1] += 1
    return v


@nb.njit(cache=True)
def _similar(effs, dh, a, b, j, rel_tol):
    """Receiver j's ITM inputs are within tolerance of the linear interpolation of anchors a and b."""
    if effs[j, 0] != effs[a, 0] or effs[j, 0] != effs[b, 0]:
        return False
    t = (j - a) / (b - a)
    for q in range(1, 7):
        lin = effs[a, q] * (1.0 - t) + effs[b, q] * t
        v = effs[j, q]
        if q <= 2:  # horizon angles, rad
            if abs(v - lin) > 0.5e-3:
                return False
        elif abs(v - lin) > max(0.5, rel_tol * abs(v)):  # distances and heights, m
            return False
    lin = dh[a] * (1.0 - t) + dh[b] * t
    return abs(dh[j] - lin) <= max(1.0, rel_tol * dh[j])


@nb.njit(cache=True)
def _radial(
    z,
    m,
    xi,
    h_tx,
    h_rx,
    f,
    zg,
    n0,
    climate,
    mdvar,
    zt,
    zl,
    zs,
    g_ref,
    knot_ratio,
    stride,
    tol_db,
    rel_tol,
    used,
    out,
    counts,
    fbuf,
    geo,
    effs,
    sbuf,
    ibuf,
):
    """Excess loss A - A_fs for the used receivers ``1..m`` of one radial into ``out``."""
    p0, p1, dh, hx, hz, ex = fbuf[0], fbuf[1], fbuf[2], fbuf[3], fbuf[4], fbuf[5]
    s, diffs = sbuf[0], sbuf[1]
    jt, jr, hi = ibuf[0], ibuf[1], ibuf[2]
    _profile_pass(z, m, xi, h_tx, h_rx, n0, g_ref, p0, p1, jt, jr, geo, hx, hz, hi)
    _delta_h_pass(z, m, xi, h_tx, h_rx, geo, dh, knot_ratio, s, diffs)
    last_used = 0
    for i in range(1, m + 1):
        if used[i]:
            last_used = i
    anchor = -1
    first_pending = -1
    for i in range(1, last_used + 1):
        if not used[i]:
            continue
        _effective(i, z, xi, h_tx, h_rx, p0, p1, geo, dh, effs)
        if anchor >= 0 and i - anchor < stride and i != last_used:
            if first_pending < 0:
                first_pending = i
            continue
        ex[i] = _excess(i, xi, f, zg, h_tx, h_rx, geo, dh, effs, climate, mdvar, zt, zl, zs, counts)
        if first_pending > 0:  # resolve receivers between the two anchors
            a = anchor
            close = abs(ex[a] - ex[i]) <= tol_db
            for j in range(first_pending, i):
                if not used[j]:
                    continue
                if close and _similar(effs, dh, a, i, j, rel_tol):
                    t = (j - a) / (i - a)
                    ex[j] = ex[a] * (1.0 - t) + ex[i] * t
                else:
                    ex[j] = _excess(
                        j, xi, f, zg, h_tx, h_rx, geo, dh, effs, climate, mdvar, zt, zl, zs, counts
                    )
        anchor = i
        first_pending = -1
    for i in range(1, m + 1):
        out[i] = ex[i] if used[i] else np.nan


@nb.njit(cache=True)
def _sample(dem, r0, c0, dc, dr, n, z):
    """Nearest-cell profile along one radial; returns the last valid sample (before nodata/edge)."""
    rows, cols = dem.shape
    z[0] = dem[r0, c0]
    for i in range(1, n + 1):
        r = r0 + _round_half_away(i * dr)
        cc = c0 + _round_half_away(i * dc)
        # samples up to one cell outside the grid still serve edge cells: clamp
        if r < -1 or r > rows or cc < -1 or cc > cols:
            return i - 1
        z[i] = dem[min(max(r, 0), rows - 1), min(max(cc, 0), cols - 1)]
        if math.isnan(z[i]):
            return i - 1
    return n


@nb.njit(cache=True, parallel=True)
def itm_sweep(
    dem,
    r0,
    c0,
    h_tx,
    h_rx,
    step_m,
    dirs,
    n,
    used,
    f,
    zg,
    n0,
    climate,
    mdvar,
    zt,
    zl,
    zs,
    knot_ratio,
    stride,
    tol_db,
    rel_tol,
    out,
    counts,
):
    """ITM basic transmission loss ``out[k, i]`` (dB) for radial k, sample i (``i * step_m``).

    Samples are the DEM cell nearest to ``i * dirs[k]`` (as the terrain sweep). ``out``
    is NaN where the path crosses nodata or ``used[k, i] == 0``; ``out[k, 0]`` is the
    free-space loss at half a cell. ``counts[chunk, b]`` counts warning bit b among
    the exact evaluations, ``counts[chunk, 15]`` errors, ``counts[chunk, 16]`` the
    exact evaluations.
    """
    n_rad = dirs.shape[0]
    n_chunks = counts.shape[0]
    ground = float(dem[r0, c0])
    g_ref = 157e-9 * (1.0 - 0.04665 * math.exp(n0 * math.exp(-ground / 9460.0) / 179.3))
    fs0 = c.free_space_loss(0.5 * step_m, f)
    fs = np.empty(n + 1)  # free-space loss per sample distance, same for every radial
    for i in range(1, n + 1):
        fs[i] = c.free_space_loss(i * step_m, f)
    for ch in nb.prange(n_chunks):
        z = np.empty(n + 1)
        row = np.empty(n + 1)
        fbuf = np.empty((6, n + 2))
        geo = np.empty((n + 1, 6))
        sbuf = np.empty((2, 245))
        ibuf = np.empty((3, n + 2), dtype=np.int64)
        effs = np.empty((n + 1, 7))
        for k in range(ch * n_rad // n_chunks, (ch + 1) * n_rad // n_chunks):
            m = _sample(dem, r0, c0, dirs[k, 0], dirs[k, 1], n, z)
            out[k, 0] = fs0
            if m >= 1:
                _radial(
                    z,
                    m,
                    step_m,
                    h_tx,
                    h_rx,
                    f,
                    zg,
                    n0,
                    climate,
                    mdvar,
                    zt,
                    zl,
                    zs,
                    g_ref,
                    knot_ratio,
                    stride,
                    tol_db,
                    rel_tol,
                    used[k],
                    row,
                    counts[ch],
                    fbuf,
                    geo,
                    effs,
                    sbuf,
                    ibuf,
                )
                for i in range(1, m + 1):
                    out[k, i] = row[i] + fs[i] if used[k, i] else np.nan
            for i in range(m + 1, n + 1):
                out[k, i] = np.nan


@nb.njit(cache=True, parallel=True)
def itm_sweep_exact(
    dem,
    r0,
    c0,
    h_tx,
    h_rx,
    step_m,
    dirs,
    n,
    used,
    f,
    n0,
    climate,
    pol,
    epsilon,
    sigma,
    mdvar,
    time,
    location,
    situation,
    out,
    counts,
):
    """Run the reference ITM p2p for every used sample of every radial (one profile pass per cell, O(R^3))."""
    n_rad = dirs.shape[0]
    n_chunks = counts.shape[0]
    fs0 = c.free_space_loss(0.5 * step_m, f)
    for ch in nb.prange(n_chunks):
        z = np.empty(n + 1)
        res = np.zeros(13)
        for k in range(ch * n_rad // n_chunks, (ch + 1) * n_rad // n_chunks):
            m = _sample(dem, r0, c0, dirs[k, 0], dirs[k, 1], n, z)
            out[k, 0] = fs0
            for i in range(1, n + 1):
                out[k, i] = np.nan
                if i <= m and used[k, i]:
                    err, warn = c.p2p_tls(
                        h_tx,
                        h_rx,
                        z,
                        i,
                        step_m,
                        climate,
                        n0,
                        f,
                        pol,
                        epsilon,
                        sigma,
                        mdvar,
                        time,
                        location,
                        situation,
                        res,
                    )
                    if err == c.SUCCESS:
                        out[k, i] = res[0]
                        counts[ch, N_FLAGS + 1] += 1
                        for b in range(N_FLAGS):
                            if warn & (1 << b):
                                counts[ch, b] += 1
                    else:
                        counts[ch, N_FLAGS] += 1
