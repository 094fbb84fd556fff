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
  interpolated linearly in distance between knots. Approximation, and the main source
  of error of this path (Δh wobbles by a few % from sample to sample; with
  ``knot_ratio = 1.1`` the interpolated Δh is off by ~2 % on average, which gives the
  ~0.08-0.1 dB mean error against per-cell p2p). Each knot (:func:`_delta_h_knot`)
  resamples directly, sums the fit in the same loop and selects the deciles among the
  values beyond the previous knot's deciles: O(min(i, 245)) with a small constant,
  O(log R) knots per radial.
* **Reference attenuation and variability** (LongleyRice.cpp, Variability.cpp) are
  evaluated exactly for every used receiver (:func:`_reference_loss`,
  :func:`_median_variability`). Optionally (``stride > 1``) only at *anchors*:
  receivers at least ``stride`` samples apart, the excess loss A - A_fs being
  interpolated linearly in distance for a receiver whose inputs match both anchors
  (same QuickPfl branch, horizon angles within 0.5 mrad and distances, heights and Δh
  within ``max(0.5 m, rel_tol)`` of the interpolated ones) when the anchors differ by
  at most ``tol_db``. Off by default: on hilly terrain the loss follows the receiver's own
  horizon angle and effective height, which change from cell to cell, so under 10 % of
  the receivers qualify and the bookkeeping costs what the interpolation saves.
* **Exact evaluations** use :func:`_reference_loss`: the line-of-sight-region branch
  of LongleyRice.cpp (``d < d_sml``, the smooth-earth horizon distance: about 25 km
  for a 30 m mast, so every receiver of a usual coverage) with the frequency, ground
  and antenna terms computed once per site (:func:`site_constants`), the TX
  terminal's smooth-earth terms cached while the TX horizon stays, ``x**0.25`` as two
  square roots and ``log10`` as ``log``: equal to :func:`longley_rice_p2p` to ~1e-12
  dB, about 0.3 µs per receiver. Other receivers
  go to :func:`longley_rice_p2p`, bit-identical to the reference LongleyRice.cpp with
  the distance-free diffraction terms shared between d_3 and d_4 and the troposcatter
  line skipped when the receiver is provably in diffraction. With 50 % time, location
  and situation, Variability.cpp reduces to its median term
  (:func:`_median_variability`, same value). Free-space loss is tabulated per sample
  distance once per site.

Where the time goes (10 km site at 30 m, 2104 radials, 340k used receivers, CPU time
on one core, synthetic hills and demo DEM alike; ~270 ms in all, ~135 ms wall on two
cores): profile sampling ~3 ms, horizons and prefix sums ~23 ms, Δh knots ~57 ms,
QuickPfl values (least-squares fits) ~47 ms, exact evaluations ~140 ms (0.3 µs of
LongleyRice.cpp and 0.1 µs of bookkeeping per receiver). The exact evaluations are
the floor of this design: about 40 transcendental functions per receiver, none
shared with its neighbours (every receiver has its own horizon angle, effective
height and Δh).

Cost per site: O(R^2 log R) for the sweep (n_radials ~ 2 pi R radials of R samples),
plus O(R log R) Δh knots of O(R) each, i.e. O(R^2 log R) overall, against O(R^3)
for one profile per cell.
"""

from __future__ import annotations

import math

import numpy as np

from coverage.propagation._numba import nb
from coverage.propagation.itm import _core as c
from coverage.propagation.terrain import _hull_push, _hull_tangent

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
        lo = _hull_tangent(hx, hz, hn, x, rx)
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
        hn = _hull_push(hx, hz, hn, x, zc)
        hi[hn - 1] = i


@nb.njit(cache=True)
def _delta_h_knot(z, n, xi, d_start, d_end, s, top, bot, guess):
    """ComputeDeltaH.cpp, the same value up to rounding (relative 1e-13), about 2x faster.

    The resampling positions are computed directly (not accumulated), the least-squares
    fit is summed in the resampling loop, and the two deciles are selected among the
    detrended values beyond thresholds ``guess`` (the previous knot's deciles minus a
    margin, updated here): Δh changes little from one knot to the next, so about 15 % of
    the values are candidates; when a threshold proves too tight the whole set is used.
    """
    x_start = d_start / xi
    x_end = d_end / xi
    if x_end - x_start < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x_end - x_start + 8.0))), 25)
    m = 10 * p10 - 5
    length = float(m - 1)
    step = (x_end - x_start) / length
    half = 0.5 * length
    a0 = 0.0
    a1 = 0.0
    for j in range(m):
        p = x_start + j * step
        k = int(p)
        if p > k:
            k += 1
        k = min(max(k, 1), n)
        v = z[k] + (z[k] - z[k - 1]) * (p - k)
        s[j] = v
        a0 += v
        a1 += v * (j - half)
    # trapezoid weights at the ends, as LinearLeastSquaresFit.cpp
    a0 -= 0.5 * (s[0] + s[m - 1])
    a1 -= 0.5 * half * (s[m - 1] - s[0])
    mean = a0 / length
    slope = a1 * 12.0 / ((length * length + 2.0) * length)
    t_hi = guess[0]
    t_lo = guess[1]
    nt = 0
    nl = 0
    for j in range(m):
        v = s[j] - mean - slope * (j - half)
        s[j] = v
        top[nt] = v
        nt += v >= t_hi
        bot[nl] = v
        nl += v <= t_lo
    # q10 is the p10-th largest, q90 the p10-th smallest (nth_element in the reference)
    if nt < p10:
        nt = m
        top[:m] = s[:m]
    q10 = c._select(top, 0, nt - 1, nt - p10)
    if nl < p10:
        nl = m
        bot[:m] = s[:m]
    q90 = c._select(bot, 0, nl - 1, p10 - 1)
    margin = 0.05 * (q10 - q90)
    guess[0] = q10 - margin
    guess[1] = q90 + margin
    return (q10 - q90) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


@nb.njit(cache=True)
def _delta_h_pass(z, m, xi, h_tx, h_rx, geo, dh, knot_ratio, sbuf):
    """Exact Δh at knots, linear interpolation in between (``dh[i]`` for ``i = 1..m``)."""
    s, top, bot = sbuf[0], sbuf[1], sbuf[2]
    guess = sbuf[3, :2]
    guess[0] = -np.inf
    guess[1] = np.inf
    prev = 0
    dh[0] = 0.0
    i = 1
    while True:
        x = i * xi
        d_start = min(15.0 * h_tx, 0.1 * geo[i, 2])
        d_end = x - min(15.0 * h_rx, 0.1 * geo[i, 3])
        dh[i] = _delta_h_knot(z, i, xi, d_start, d_end, s, top, bot, guess)
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
    zg_abs = abs(zg)
    a_e, d_sml, d_ml, theta_los, warn = c.path_geometry(th0, th1, dh0, dh1, he0, he1, gamma_e)
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
    warn |= c.distance_warnings(d, he0, he1)
    if d < d_sml:  # line of sight, as LongleyRice.cpp
        a_sml = d_sml * m_d + a_d0
        d_0, d_1 = c.los_distances(f, he0, he1, d_ml, m_d, a_d0)
        a_1 = c.line_of_sight_loss(d_1, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f)
        a_0 = c.line_of_sight_loss(d_0, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f) if d_0 < d_1 else 0.0
        k1, k2 = c.los_slopes(d_0, d_1, a_0, a_1, a_sml, d_sml, m_d, a_d0)
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        return c.SUCCESS, max(a_o + k1 * d + k2 * math.log(d), 0.0), warn
    if d > max(d_sml, d_ml + 1.088 * scale * math.log(f)):  # possibly troposcatter
        err, a_ref, warn2, _ = c.longley_rice(
            th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, c.MODE_P2P
        )
        return err, a_ref, warn2
    return c.SUCCESS, max(m_d * d + a_d0, 0.0), warn


# site constants of the coverage path (see :func:`site_constants`)
SC_F, SC_F3, SC_FM3, SC_ZG_ABS, SC_H0, SC_H1, SC_WN, SC_FO, SC_QH = 0, 1, 2, 3, 4, 5, 6, 7, 8
SC_DEX, SC_V0, SC_V1, SC_V2, SC_V3, SC_V4, SC_MEDIAN = 9, 10, 11, 12, 13, 14, 15
N_SC = 16
_INV_LN10 = 1.0 / math.log(10.0)


@nb.njit(cache=True)
def site_constants(f, zg, h0, h1, climate, zt, zl, zs):
    """Receiver-independent terms of :func:`_reference_loss` and of the median variability."""
    sc = np.zeros(N_SC)
    sc[SC_F] = f
    sc[SC_F3] = f**c.THIRD
    sc[SC_FM3] = f ** (-c.THIRD)
    sc[SC_ZG_ABS] = abs(zg)
    sc[SC_H0] = h0
    sc[SC_H1] = h1
    sc[SC_WN] = f / 47.7
    sc[SC_FO] = 1e-5 * h0 * h1 * f
    sc[SC_QH] = h0 * h1
    sc[SC_DEX] = (575.7e12 / (f / 47.7)) ** c.THIRD
    for q in range(5):
        sc[SC_V0 + q] = c._ALL_YEAR[q, climate - 1]
    sc[SC_MEDIAN] = 1.0 if zt == 0.0 and zl == 0.0 and zs == 0.0 else 0.0
    return sc


@nb.njit(cache=True, inline="always")
def _log10(x):
    return math.log(x) * _INV_LN10


@nb.njit(cache=True, inline="always")
def _sigma_h(delta_h):
    """SigmaHFunction.cpp with ``x**0.25`` as two square roots."""
    return 0.78 * delta_h * math.exp(-0.5 * math.sqrt(math.sqrt(delta_h)))


@nb.njit(cache=True, inline="always")
def _fresnel(v2):
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * _log10(v2)


@nb.njit(cache=True, inline="always")
def _diffraction_d(d, sc, a_e, theta_los, dh0, dh1, delta_h, x12, hf12, term1, a_fo):
    """DiffractionLoss.cpp at distance ``d`` with the distance-free terms given."""
    wn = sc[SC_WN]
    d_ml = dh0 + dh1
    theta_nlos = d / a_e - theta_los
    d_nlos = d - d_ml
    tt = 0.0795775 * wn * theta_nlos**2
    a_k = _fresnel(tt * dh0 * d_nlos / (d_nlos + dh0)) + _fresnel(tt * dh1 * d_nlos / (d_nlos + dh1))
    a0 = d_nlos / theta_nlos
    c0 = ((4.0 / 3.0) * c.A_0_M / a0) ** c.THIRD
    k0 = 0.017778 * c0 * sc[SC_FM3] / sc[SC_ZG_ABS]
    x0 = (1.607 - k0) * c0**2 * sc[SC_F3] * (a0 * theta_nlos / 1000.0) + x12
    a_se = 0.05751 * x0 - 10.0 * _log10(x0) - hf12 - 20.0
    delta_h_d = delta_h * (1.0 - 0.8 * math.exp(-d / 50e3))
    q = (term1 + (-theta_los * a_e + d_ml) / d) * min(delta_h_d * wn, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * a_se + (1.0 - w) * a_k + a_fo


@nb.njit(cache=True, inline="always")
def _height_terms(dh, he, sc):
    """SmoothEarthDiffraction.cpp terminal terms: ``(x, F(x, K))`` of one terminal."""
    a = 0.5 * dh**2 / he
    cc = ((4.0 / 3.0) * c.A_0_M / a) ** c.THIRD
    k = 0.017778 * cc * sc[SC_FM3] / sc[SC_ZG_ABS]
    x = (1.607 - k) * cc**2 * sc[SC_F3] * (dh / 1000.0)
    return x, c.height_function(x, k)


@nb.njit(cache=True)
def _los_loss(d, he0, he1, zg, delta_h, m_d, a_d0, d_sml, sc):
    """LineOfSightLoss.cpp (same operations up to rounding)."""
    x = delta_h * (1.0 - 0.8 * math.exp(-d / 50e3))
    sigma_h_d = _sigma_h(x)
    wn = sc[SC_WN]
    hs = he0 + he1
    sin_psi = hs / math.sqrt(d**2 + hs**2)
    r_e = (sin_psi - zg) / (sin_psi + zg) * math.exp(-min(10.0, wn * sigma_h_d * sin_psi))
    q = r_e.real**2 + r_e.imag**2
    if q < 0.25 or q < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * he0 * he1 / d
    if delta_phi > c.PI / 2.0:
        delta_phi = c.PI - (c.PI / 2.0) ** 2 / delta_phi
    re = math.cos(delta_phi) + r_e.real
    im = -math.sin(delta_phi) + r_e.imag
    a_t = -10.0 * _log10(re * re + im * im)
    w = 1.0 / (1.0 + sc[SC_F] * delta_h / max(10e3, d_sml))
    return w * a_t + (1.0 - w) * (m_d * d + a_d0)


@nb.njit(cache=True)
def _reference_loss(th0, th1, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, d, sc, tx):
    """:func:`longley_rice_p2p` to rounding (relative 1e-12), with site constants hoisted.

    ``sc`` from :func:`site_constants`; ``tx`` caches the TX terminal's smooth-earth
    terms, ``(he0, dh0, x1, F(x1))``, which stay the same along a radial while the TX
    horizon does. Square roots replace ``x**0.25`` and ``log`` replaces ``log10``.
    Line-of-sight-region receivers (``d < d_sml``, every receiver of a coverage of a
    few km to a few tens of km) take this path; others go to :func:`longley_rice_p2p`.
    """
    a_e, d_sml, d_ml, theta_los, warn = c.path_geometry(th0, th1, dh0, dh1, he0, he1, gamma_e)
    if (
        d >= d_sml
        or n_s < 150.0
        or n_s > 400.0
        or a_e < 4000000.0
        or a_e > 13333333.0
        or zg.real <= abs(zg.imag)
    ):
        return longley_rice_p2p(
            th0, th1, sc[SC_F], zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, sc[SC_H0], sc[SC_H1], d
        )
    if n_s < 250.0:
        warn |= c.WARN_NS_SMALL
    warn |= c.distance_warnings(d, he0, he1)  # the "big" bits never apply for d < d_sml
    f = sc[SC_F]
    scale = (a_e**2 / f) ** c.THIRD
    d_3 = max(d_sml, d_ml + 5.0 * scale)
    d_4 = d_3 + 10.0 * scale
    # distance-free terms of DiffractionLoss.cpp
    if tx[0] != he0 or tx[1] != dh0:
        tx[0] = he0
        tx[1] = dh0
        tx[2], tx[3] = _height_terms(dh0, he0, sc)
    x2, hf2 = _height_terms(dh1, he1, sc)
    x12 = tx[2] + x2
    hf12 = tx[3] + hf2
    a_fo = min(
        15.0, 5.0 * _log10(1.0 + sc[SC_FO] * _sigma_h(delta_h * (1.0 - 0.8 * math.exp(-d_sml / 50e3))))
    )
    term1 = math.sqrt(1.0 + (he0 * he1 - sc[SC_QH]) / (sc[SC_QH] + 10.0))
    a_3 = _diffraction_d(d_3, sc, a_e, theta_los, dh0, dh1, delta_h, x12, hf12, term1, a_fo)
    a_4 = _diffraction_d(d_4, sc, a_e, theta_los, dh0, dh1, delta_h, x12, hf12, term1, a_fo)
    m_d = (a_4 - a_3) / (d_4 - d_3)
    a_d0 = a_3 - m_d * d_3
    # LongleyRice.cpp, line-of-sight region
    a_sml = d_sml * m_d + a_d0
    d_0, d_1 = c.los_distances(f, he0, he1, d_ml, m_d, a_d0)
    a_1 = _los_loss(d_1, he0, he1, zg, delta_h, m_d, a_d0, d_sml, sc)
    a_0 = _los_loss(d_0, he0, he1, zg, delta_h, m_d, a_d0, d_sml, sc) if d_0 < d_1 else 0.0
    k1, k2 = c.los_slopes(d_0, d_1, a_0, a_1, a_sml, d_sml, m_d, a_d0)
    if k2 == 0.0:
        return c.SUCCESS, max(a_sml + k1 * (d - d_sml), 0.0), warn
    return c.SUCCESS, max(a_sml + k1 * (d - d_sml) + k2 * math.log(d / d_sml), 0.0), warn


@nb.njit(cache=True)
def _median_variability(he0, he1, d, a_ref, sc):
    """Variability.cpp when all three deviates are 0 (50 % time, location, situation).

    Only the median term remains: the same value as :func:`~coverage.propagation.itm._core.variability`.
    """
    d_ex = math.sqrt(2.0 * c.A_9000_M * he0) + math.sqrt(2.0 * c.A_9000_M * he1) + sc[SC_DEX]
    d_e = 130e3 * d / d_ex if d < d_ex else 130e3 + d - d_ex
    r = d_e / sc[SC_V2]
    v_med = (sc[SC_V0] + sc[SC_V1] / (1.0 + ((d_e - sc[SC_V3]) / sc[SC_V4]) ** 2)) * (r * r) / (1.0 + r * r)
    result = a_ref - v_med
    if result < 0.0:
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result


@nb.njit(cache=True)
def _excess(i, xi, zg, geo, dh, effs, climate, mdvar, zt, zl, zs, sc, tx, counts):
    """Exact A - A_fs for receiver ``i`` from its QuickPfl values; counts warning bits."""
    x = i * xi
    err, a_ref, warn = _reference_loss(
        effs[i, 1],
        effs[i, 2],
        zg,
        effs[i, 3],
        effs[i, 4],
        effs[i, 5],
        effs[i, 6],
        geo[i, 5],
        geo[i, 4],
        dh[i],
        x,
        sc,
        tx,
    )
    if err != c.SUCCESS:
        counts[N_FLAGS] += 1
        return np.nan
    if sc[SC_MEDIAN] != 0.0:
        v = _median_variability(effs[i, 5], effs[i, 6], x, a_ref, sc)
    else:
        v, w2 = c.variability(zt, zl, zs, effs[i, 5], effs[i, 6], dh[i], sc[SC_F], x, a_ref, climate, mdvar)
        warn |= w2
    b = 0
    while warn:
        if warn & 1:
            counts[b] += 1
        warn >>= 1
        b += 1
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
    sc,
    tx,
):
    """Excess loss A - A_fs for the used receivers ``1..m`` of one radial into ``out``."""
    p0, p1, dh, hx, hz, ex = fbuf[0], fbuf[1], fbuf[2], fbuf[3], fbuf[4], fbuf[5]
    jt, jr, hi = ibuf[0], ibuf[1], ibuf[2]
    _profile_pass(z, m, xi, h_tx, h_rx, n0, g_ref, p0, p1, jt, jr, geo, hx, hz, hi)
    _delta_h_pass(z, m, xi, h_tx, h_rx, geo, dh, knot_ratio, sbuf)
    if stride <= 1:  # every receiver exact
        for i in range(1, m + 1):
            if used[i]:
                _effective(i, z, xi, h_tx, h_rx, p0, p1, geo, dh, effs)
                out[i] = _excess(i, xi, zg, geo, dh, effs, climate, mdvar, zt, zl, zs, sc, tx, counts)
            else:
                out[i] = np.nan
        return
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
        ex[i] = _excess(i, xi, zg, geo, dh, effs, climate, mdvar, zt, zl, zs, sc, tx, counts)
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
                    ex[j] = _excess(j, xi, zg, geo, dh, effs, climate, mdvar, zt, zl, zs, sc, tx, counts)
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
    sc = site_constants(f, zg, h_tx, h_rx, climate, zt, zl, zs)
    for ch in nb.prange(n_chunks):
        tx = np.full(4, np.nan)
        z = np.empty(n + 1)
        row = np.empty(n + 1)
        fbuf = np.empty((6, n + 2))
        geo = np.empty((n + 1, 6))
        sbuf = np.empty((4, 245))
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
                    sc,
                    tx,
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
