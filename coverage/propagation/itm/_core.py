"""Scalar numba port of the NTIA/ITS Irregular Terrain Model (ITM) v1.3.

Each function ports one file of the NTIA reference C++ (public repository ``NTIA/itm``,
``src/*.cpp``; a US-government work released under the NTIA software disclaimer), keeping
its names, order of operations and constants, so results agree with the reference to
floating-point rounding. Terrain is passed as the elevations ``z`` (``z[i] = pfl[i + 2]``)
plus the sample spacing ``xi`` instead of the reference's ``pfl`` array.

Error codes (``ERR_*``) and warning flags (``WARN_*``) are the reference's values
(``include/Errors.h``, ``include/Warnings.h``).
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from coverage.propagation._numba import nb

PI = 3.1415926535897932384
SQRT2 = math.sqrt(2.0)
A_0_M = 6370e3
A_9000_M = 9000e3
THIRD = 1.0 / 3.0

MODE_P2P = 0
MODE_AREA = 1
PROP_LOS, PROP_DIFFRACTION, PROP_TROPOSCATTER = 1, 2, 3

SUCCESS = 0
ERR_TX_HEIGHT, ERR_RX_HEIGHT, ERR_CLIMATE = 1000, 1001, 1002
ERR_TIME, ERR_LOCATION, ERR_SITUATION = 1003, 1004, 1005
ERR_CONFIDENCE, ERR_RELIABILITY = 1006, 1007
ERR_REFRACTIVITY, ERR_FREQUENCY, ERR_POLARIZATION = 1008, 1009, 1010
ERR_EPSILON, ERR_SIGMA, ERR_GROUND_IMPEDANCE, ERR_MDVAR = 1011, 1012, 1013, 1014
ERR_EFFECTIVE_EARTH, ERR_PATH_DISTANCE, ERR_DELTA_H = 1016, 1017, 1018
ERR_TX_SITING, ERR_RX_SITING = 1019, 1020
ERR_NS_SMALL, ERR_NS_LARGE = 1021, 1022

WARN_TX_HEIGHT = 0x0001
WARN_RX_HEIGHT = 0x0002
WARN_FREQUENCY = 0x0004
WARN_DIST_BIG_1 = 0x0008
WARN_DIST_BIG_2 = 0x0010
WARN_DIST_SMALL_1 = 0x0020
WARN_DIST_SMALL_2 = 0x0040
WARN_TX_HZN_ANGLE = 0x0080
WARN_RX_HZN_ANGLE = 0x0100
WARN_TX_HZN_DIST_1 = 0x0200
WARN_RX_HZN_DIST_1 = 0x0400
WARN_TX_HZN_DIST_2 = 0x0800
WARN_RX_HZN_DIST_2 = 0x1000
WARN_EXTREME_VAR = 0x2000
WARN_NS_SMALL = 0x4000

# Variability.cpp tables (TN101 Fig 10.13 curve fits), climate 1..7 -> index 0..6
_ALL_YEAR = np.array(
    [
        [-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15],
        [12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9],
        [144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3],
        [190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3],
        [133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3],
    ]
)
_BSM = np.array(
    [
        [2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51],
        [159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8],
        [762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3],
        [123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3],
        [94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3],
    ]
)
_BSP = np.array(
    [
        [2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43],
        [102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19],
        [636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3],
        [134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3],
        [95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3],
    ]
)
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
_BFM = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0],
    ]
)
_BFP = np.array(
    [
        [1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0],
        [0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0],
        [0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0],
    ]
)
_H0_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H0_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])


@nb.njit(cache=True)
def _fdim(x, y):
    return x - y if x > y else 0.0


@nb.njit(cache=True)
def free_space_loss(d, f):
    """FreeSpaceLoss.cpp."""
    return 32.45 + 20.0 * math.log10(f) + 20.0 * math.log10(d / 1000.0)


@nb.njit(cache=True)
def fresnel_integral(v2):
    """FresnelIntegral.cpp: knife-edge loss A(v, 0) from v^2 [TN101v2 III.24]."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@nb.njit(cache=True)
def knife_edge_diffraction(d, f, a_e, theta_los, dh0, dh1):
    """KnifeEdgeDiffraction.cpp [TN101 I.7, I.1]."""
    d_ml = dh0 + dh1
    theta_nlos = d / a_e - theta_los
    d_nlos = d - d_ml
    v1 = 0.0795775 * (f / 47.7) * theta_nlos**2 * dh0 * d_nlos / (d_nlos + dh0)
    v2 = 0.0795775 * (f / 47.7) * theta_nlos**2 * dh1 * d_nlos / (d_nlos + dh1)
    return fresnel_integral(v1) + fresnel_integral(v2)


@nb.njit(cache=True)
def height_function(x_km, k):
    """SmoothEarthDiffraction.cpp HeightFunction: F(x, K) [Vogler 1964]."""
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w**3 > 5495.0:
            result = -117.0
            if x_km > 1.0:
                result = 17.372 * math.log(x_km) + result
        else:
            result = 2.5e-5 * x_km**2 / k - 8.686 * w - 15.0
    else:
        result = 0.05751 * x_km - 4.343 * math.log(x_km)
        if x_km < 2000.0:
            w = 0.0134 * x_km * math.exp(-0.005 * x_km)
            result = (1.0 - w) * result + w * (17.372 * math.log(x_km) - 117.0)
    return result


@nb.njit(cache=True)
def smooth_earth_diffraction(d, f, a_e, theta_los, dh0, dh1, he0, he1, zg_abs):
    """SmoothEarthDiffraction.cpp: Vogler three-radii method [Algorithm 4.20]."""
    theta_nlos = d / a_e - theta_los
    d_ml = dh0 + dh1
    a0 = (d - d_ml) / (d / a_e - theta_los)
    a1 = 0.5 * dh0**2 / he0
    a2 = 0.5 * dh1**2 / he1
    d_km0 = (a0 * theta_nlos) / 1000.0
    d_km1 = dh0 / 1000.0
    d_km2 = dh1 / 1000.0
    f3 = f**THIRD
    fm3 = f ** (-THIRD)
    c0 = ((4.0 / 3.0) * A_0_M / a0) ** THIRD
    c1 = ((4.0 / 3.0) * A_0_M / a1) ** THIRD
    c2 = ((4.0 / 3.0) * A_0_M / a2) ** THIRD
    k0 = 0.017778 * c0 * fm3 / zg_abs
    k1 = 0.017778 * c1 * fm3 / zg_abs
    k2 = 0.017778 * c2 * fm3 / zg_abs
    x1 = (1.607 - k1) * c1**2 * f3 * d_km1
    x2 = (1.607 - k2) * c2**2 * f3 * d_km2
    x0 = (1.607 - k0) * c0**2 * f3 * d_km0 + x1 + x2
    g_x = 0.05751 * x0 - 10.0 * math.log10(x0)
    return g_x - height_function(x1, k1) - height_function(x2, k2) - 20.0


@nb.njit(cache=True)
def terrain_roughness(d, delta_h):
    """TerrainRoughness.cpp [ERL 79-ITS 67 Eqn 3]."""
    return delta_h * (1.0 - 0.8 * math.exp(-d / 50e3))


@nb.njit(cache=True)
def sigma_h_function(delta_h):
    """SigmaHFunction.cpp [ERL 79-ITS 67 Eqn 3.6a]."""
    return 0.78 * delta_h * math.exp(-0.5 * delta_h**0.25)


@nb.njit(cache=True)
def diffraction_loss(d, dh0, dh1, he0, he1, zg_abs, a_e, delta_h, h0, h1, mode, theta_los, d_sml, f):
    """DiffractionLoss.cpp: weighted knife-edge / smooth-earth loss plus clutter factor."""
    a_k = knife_edge_diffraction(d, f, a_e, theta_los, dh0, dh1)
    a_se = smooth_earth_diffraction(d, f, a_e, theta_los, dh0, dh1, he0, he1, zg_abs)
    sigma_h_d = sigma_h_function(terrain_roughness(d_sml, delta_h))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h0 * h1 * f * sigma_h_d))
    delta_h_d = terrain_roughness(d, delta_h)
    q = h0 * h1
    qk = he0 * he1 - q
    if mode == MODE_P2P:
        q += 10.0
    term1 = math.sqrt(1.0 + qk / q)
    d_ml = dh0 + dh1
    q = (term1 + (-theta_los * a_e + d_ml) / d) * min(delta_h_d * f / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * a_se + (1.0 - w) * a_k + a_fo


@nb.njit(cache=True)
def line_of_sight_loss(d, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f):
    """LineOfSightLoss.cpp: two-ray loss blended with the extended diffraction line."""
    sigma_h_d = sigma_h_function(terrain_roughness(d, delta_h))
    wn = f / 47.7
    sin_psi = (he0 + he1) / math.sqrt(d**2 + (he0 + he1) ** 2)
    r_e = (sin_psi - zg) / (sin_psi + zg) * math.exp(-min(10.0, wn * sigma_h_d * sin_psi))
    q = r_e.real**2 + r_e.imag**2
    if q < 0.25 or q < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * he0 * he1 / d
    if delta_phi > PI / 2.0:
        delta_phi = PI - (PI / 2.0) ** 2 / delta_phi
    rr = complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e
    a_t = -10.0 * math.log10(rr.real**2 + rr.imag**2)
    a_d = m_d * d + a_d0
    w = 1.0 / (1.0 + f * delta_h / max(10e3, d_sml))
    return w * a_t + (1.0 - w) * a_d


@nb.njit(cache=True)
def h0_curve(j, r):
    """H0Function.cpp H0Curve [Algorithm 6.13]."""
    return 10.0 * math.log10(1.0 + _H0_A[j] * (1.0 / r) ** 4 + _H0_B[j] * (1.0 / r) ** 2)


@nb.njit(cache=True)
def h0_function(r, eta_s):
    """H0Function.cpp: troposcatter frequency gain H_0 [TN101v1 9.2]."""
    eta_s = min(max(eta_s, 1.0), 5.0)
    i = int(eta_s)
    q = eta_s - i
    result = h0_curve(i - 1, r)
    if q != 0.0:
        result = (1.0 - q) * result + q * h0_curve(i, r)
    return result


@nb.njit(cache=True)
def f_function(td):
    """TroposcatterLoss.cpp FFunction [Algorithm 6.9]."""
    if td <= 10e3:
        a, b, c = 133.4, 0.332e-3, -10.0
    elif td <= 70e3:
        a, b, c = 104.6, 0.212e-3, -2.5
    else:
        a, b, c = 71.8, 0.157e-3, 5.0
    return a + b * td + c * math.log10(td)


@nb.njit(cache=True)
def troposcatter_loss(d, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, h0):
    """TroposcatterLoss.cpp; returns ``(loss_db, h0)`` (``h0`` is the in/out H_0 value)."""
    wn = f / 47.7
    if h0 > 15.0:
        h_0 = h0
    else:
        ad = dh0 - dh1
        rr = he1 / he0
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = th0 + th1 + d / a_e
        r_1 = 2.0 * wn * theta * he0
        r_2 = 2.0 * wn * theta * he1
        if r_1 < 0.2 and r_2 < 0.2:
            return 1001.0, h0
        s = (d - ad) / (d + ad)
        q = min(max(0.1, rr / s), 10.0)
        s = max(0.1, s)
        h_0_m = (d - ad) * (d + ad) * theta * 0.25 / d
        z_0 = 1.7556e3
        z_1 = 8.0e3
        eta_s = (h_0_m / z_0) * (
            1.0 + (0.031 - n_s * 2.32e-3 + n_s**2 * 5.67e-6) * math.exp(-(min(1.7, h_0_m / z_1) ** 6))
        )
        h_00 = (h0_function(r_1, eta_s) + h0_function(r_2, eta_s)) / 2.0
        delta_h_0 = min(h_00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s) * math.log10(q))
        h_0 = max(h_00 + delta_h_0, 0.0)
        if eta_s < 1.0:
            h_0 = eta_s * h_0 + (1.0 - eta_s) * 10.0 * math.log10(
                ((1.0 + SQRT2 / r_1) * (1.0 + SQRT2 / r_2)) ** 2 * (r_1 + r_2) / (r_1 + r_2 + 2.0 * SQRT2)
            )
        if h_0 > 15.0 and h0 >= 0.0:
            h_0 = h0
    th = d / a_e - theta_los
    return (
        f_function(th * d)
        + 10.0 * math.log10(wn * 47.7 * th**4)
        - 0.1 * (n_s - 301.0) * math.exp(-th * d / 40e3)
        + h_0
    ), h_0


@nb.njit(cache=True, inline="always")
def los_distances(f, he0, he1, d_ml, m_d, a_d0):
    """LongleyRice.cpp: the distances ``d_0``, ``d_1`` where the line-of-sight loss is fitted.

    The fit uses ``d_0`` only when ``d_0 < d_1`` (see :func:`los_slopes`).
    """
    d_0 = 0.04 * f * he0 * he1
    if a_d0 >= 0.0:
        d_0 = min(d_0, 0.5 * d_ml)
        d_1 = d_0 + 0.25 * (d_ml - d_0)
    else:
        d_1 = max(-a_d0 / m_d, 0.25 * d_ml)
    return d_0, d_1


@nb.njit(cache=True, inline="always")
def los_slopes(d_0, d_1, a_0, a_1, a_sml, d_sml, m_d, a_d0):
    r"""LongleyRice.cpp: coefficients of the line-of-sight loss :math:`A = A_o + k_1 d + k_2 \ln d`.

    Fitted through the losses ``a_0``, ``a_1`` at ``d_0``, ``d_1`` and ``a_sml`` at the
    smooth-earth horizon distance ``d_sml``; ``a_0`` is read only when ``d_0 < d_1``.
    """
    flag = False
    k1 = 0.0
    k2 = 0.0
    if d_0 < d_1:
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
                k2 = _fdim(a_sml, a_0) / q
                if k2 == 0.0:
                    k1 = m_d
    if not flag:
        k1 = _fdim(a_sml, a_1) / (d_sml - d_1)
        k2 = 0.0
        if k1 == 0.0:
            k1 = m_d
    return k1, k2


@nb.njit(cache=True, inline="always")
def horizon_warnings(th0, th1, dh0, dh1, dhs0, dhs1):
    """LongleyRice.cpp warning bits on the horizon angles and distances (``dhs``: smooth-earth horizons)."""
    warn = 0
    if abs(th0) > 200e-3:
        warn |= WARN_TX_HZN_ANGLE
    if abs(th1) > 200e-3:
        warn |= WARN_RX_HZN_ANGLE
    if dh0 < 0.1 * dhs0:
        warn |= WARN_TX_HZN_DIST_1
    if dh1 < 0.1 * dhs1:
        warn |= WARN_RX_HZN_DIST_1
    if dh0 > 3.0 * dhs0:
        warn |= WARN_TX_HZN_DIST_2
    if dh1 > 3.0 * dhs1:
        warn |= WARN_RX_HZN_DIST_2
    return warn


@nb.njit(cache=True, inline="always")
def distance_warnings(d, he0, he1):
    """LongleyRice.cpp warning bits on the path distance."""
    warn = 0
    d_min = abs(he0 - he1) / 200e-3
    if d < d_min:
        warn |= WARN_DIST_SMALL_1
    if d < 1e3:
        warn |= WARN_DIST_SMALL_2
    if d > 1000e3:
        warn |= WARN_DIST_BIG_1
    if d > 2000e3:
        warn |= WARN_DIST_BIG_2
    return warn


@nb.njit(cache=True, inline="always")
def path_geometry(th0, th1, dh0, dh1, he0, he1, gamma_e):
    """Return the opening terms of LongleyRice.cpp: ``(a_e, d_sml, d_ml, theta_los, warning bits)``.

    Effective earth radius, smooth-earth horizon distance sum, horizon distance sum and
    the total horizon angle of the path.
    """
    a_e = 1.0 / gamma_e
    dhs0 = math.sqrt(2.0 * he0 * a_e)
    dhs1 = math.sqrt(2.0 * he1 * a_e)
    d_ml = dh0 + dh1
    theta_los = -max(th0 + th1, -d_ml / a_e)
    return a_e, dhs0 + dhs1, d_ml, theta_los, horizon_warnings(th0, th1, dh0, dh1, dhs0, dhs1)


@nb.njit(cache=True)
def longley_rice(th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, mode):
    """LongleyRice.cpp: reference attenuation; returns ``(error, A_ref, warnings, propmode)``."""
    zg_abs = abs(zg)
    a_e, d_sml, d_ml, theta_los, warn = path_geometry(th0, th1, dh0, dh1, he0, he1, gamma_e)
    if n_s < 150.0:
        return ERR_NS_SMALL, 0.0, warn, 0
    if n_s > 400.0:
        return ERR_NS_LARGE, 0.0, warn, 0
    if n_s < 250.0:
        warn |= WARN_NS_SMALL
    if a_e < 4000000.0 or a_e > 13333333.0:
        return ERR_EFFECTIVE_EARTH, 0.0, warn, 0
    if zg.real <= abs(zg.imag):
        return ERR_GROUND_IMPEDANCE, 0.0, warn, 0
    scale = (a_e**2 / f) ** THIRD
    d_3 = max(d_sml, d_ml + 5.0 * scale)
    d_4 = d_3 + 10.0 * scale
    a_3 = diffraction_loss(d_3, dh0, dh1, he0, he1, zg_abs, a_e, delta_h, h0, h1, mode, theta_los, d_sml, f)
    a_4 = diffraction_loss(d_4, dh0, dh1, he0, he1, zg_abs, a_e, delta_h, h0, h1, mode, theta_los, d_sml, f)
    m_d = (a_4 - a_3) / (d_4 - d_3)
    a_d0 = a_3 - m_d * d_3
    warn |= distance_warnings(d, he0, he1)
    if d < d_sml:
        a_sml = d_sml * m_d + a_d0
        d_0, d_1 = los_distances(f, he0, he1, d_ml, m_d, a_d0)
        a_1 = line_of_sight_loss(d_1, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f)
        a_0 = line_of_sight_loss(d_0, he0, he1, zg, delta_h, m_d, a_d0, d_sml, f) if d_0 < d_1 else 0.0
        k1, k2 = los_slopes(d_0, d_1, a_0, a_1, a_sml, d_sml, m_d, a_d0)
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        a_ref = a_o + k1 * d + k2 * math.log(d)
        prop = PROP_LOS
    else:
        d_5 = d_ml + 200e3
        d_6 = d_ml + 400e3
        a_6, h0v = troposcatter_loss(d_6, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, -1.0)
        a_5, h0v = troposcatter_loss(d_5, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, h0v)
        if a_5 < 1000.0:
            m_s = (a_6 - a_5) / 200e3
            d_x = max(
                d_sml,
                d_ml + 1.088 * scale * math.log(f),
                (a_5 - a_d0 - m_s * d_5) / (m_d - m_s),
            )
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d > d_x:
            a_ref = m_s * d + a_s0
            prop = PROP_TROPOSCATTER
        else:
            a_ref = m_d * d + a_d0
            prop = PROP_DIFFRACTION
    return SUCCESS, max(a_ref, 0.0), warn, prop


@nb.njit(cache=True)
def iccdf(q):
    """InverseComplementaryCumulativeDistributionFunction.cpp [Abramowitz & Stegun 26.2.23]."""
    x = q
    if q > 0.5:
        x = 1.0 - x
    t = math.sqrt(-2.0 * math.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
    out = t - zeta
    return -out if q > 0.5 else out


@nb.njit(cache=True)
def _curve(c1, c2, x1, x2, x3, d_e):
    """Variability.cpp Curve [TN101v2 III.69, III.70]."""
    return (c1 + c2 / (1.0 + ((d_e - x2) / x3) ** 2)) * ((d_e / x1) ** 2) / (1.0 + (d_e / x1) ** 2)


@nb.njit(cache=True)
def variability(z_t, z_l, z_s, he0, he1, delta_h, f, d, a_ref, climate, mdvar):
    """Variability.cpp with the standard normal deviates precomputed; returns ``(A, warnings)``.

    ``z_t, z_l, z_s`` are :func:`iccdf` of time, location and situation fractions.
    """
    warn = 0
    c = climate - 1
    wn = f / 47.7
    d_ex = math.sqrt(2.0 * A_9000_M * he0) + math.sqrt(2.0 * A_9000_M * he1) + (575.7e12 / wn) ** THIRD
    if d < d_ex:
        d_e = 130e3 * d / d_ex
    else:
        d_e = 130e3 + d - d_ex
    mdv = mdvar
    plus20 = mdv >= 20
    if plus20:
        mdv -= 20
    sigma_s = 0.0 if plus20 else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    plus10 = mdv >= 10
    if plus10:
        mdv -= 10
    v_med = _curve(_ALL_YEAR[0, c], _ALL_YEAR[1, c], _ALL_YEAR[2, c], _ALL_YEAR[3, c], _ALL_YEAR[4, c], d_e)
    if mdv == 0:
        z_t = z_s
        z_l = z_s
    elif mdv == 1:
        z_l = z_s
    elif mdv == 2:
        z_l = z_t
    if abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10:
        warn |= WARN_EXTREME_VAR
    if plus10:
        sigma_l = 0.0
    else:
        dhd = terrain_roughness(d, delta_h)
        sigma_l = 10.0 * wn * dhd / (wn * dhd + 13.0)
    y_l = sigma_l * z_l
    q = math.log(0.133 * wn)
    g_minus = _BFM[0, c] + _BFM[1, c] / ((_BFM[2, c] * q) ** 2 + 1.0)
    g_plus = _BFP[0, c] + _BFP[1, c] / ((_BFP[2, c] * q) ** 2 + 1.0)
    sigma_t_minus = _curve(_BSM[0, c], _BSM[1, c], _BSM[2, c], _BSM[3, c], _BSM[4, c], d_e) * g_minus
    sigma_t_plus = _curve(_BSP[0, c], _BSP[1, c], _BSP[2, c], _BSP[3, c], _BSP[4, c], d_e) * g_plus
    sigma_td = _C_D[c] * sigma_t_plus
    tgtd = (sigma_t_plus - sigma_td) * _Z_D[c]
    if z_t < 0.0:
        sigma_t = sigma_t_minus
    elif z_t <= _Z_D[c]:
        sigma_t = sigma_t_plus
    else:
        sigma_t = sigma_td + tgtd / z_t
    y_t = sigma_t * z_t
    y_s_temp = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)
    if mdv == 0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t**2 + sigma_l**2 + y_s_temp) * z_s
    elif mdv == 1:
        y_r = y_t
        y_s = math.sqrt(sigma_l**2 + y_s_temp) * z_s
    elif mdv == 2:
        y_r = math.sqrt(sigma_t**2 + sigma_l**2) * z_t
        y_s = math.sqrt(y_s_temp) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(y_s_temp) * z_s
    result = a_ref - v_med - y_r - y_s
    if result < 0.0:
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result, warn


@nb.njit(cache=True)
def initialize_p2p(f, h_sys, n_0, pol, epsilon, sigma):
    """InitializePointToPoint.cpp; returns ``(Z_g, gamma_e, N_s)``."""
    gamma_a = 157e-9
    n_s = n_0 if h_sys == 0.0 else n_0 * math.exp(-h_sys / 9460.0)
    gamma_e = gamma_a * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    ep_r = complex(epsilon, 18000.0 * sigma / f)
    zg = cmath.sqrt(ep_r - 1.0)
    if pol == 1:
        zg = zg / ep_r
    return zg, gamma_e, n_s


@nb.njit(cache=True)
def find_horizons(z, n, xi, a_e, h0, h1):
    """FindHorizons.cpp; returns ``(theta_tx, theta_rx, d_hzn_tx, d_hzn_rx)``."""
    d = n * xi
    z_tx = z[0] + h0
    z_rx = z[n] + h1
    th0 = (z_rx - z_tx) / d - d / (2.0 * a_e)
    th1 = -(z_rx - z_tx) / d - d / (2.0 * a_e)
    dh0 = d
    dh1 = d
    d_tx = 0.0
    d_rx = d
    for i in range(1, n):
        d_tx = d_tx + xi
        d_rx = d_rx - xi
        t_tx = (z[i] - z_tx) / d_tx - d_tx / (2.0 * a_e)
        t_rx = -(z_rx - z[i]) / d_rx - d_rx / (2.0 * a_e)
        if t_tx > th0:
            th0 = t_tx
            dh0 = d_tx
        if t_rx > th1:
            th1 = t_rx
            dh1 = d_rx
    return th0, th1, dh0, dh1


@nb.njit(cache=True)
def fit_indices(n, xi, d_start, d_end):
    """Index range of LinearLeastSquaresFit.cpp for a profile of ``n`` intervals."""
    i_start = int(_fdim(d_start / xi, 0.0))
    i_end = n - int(_fdim(n, d_end / xi))
    if i_end <= i_start:
        i_start = int(_fdim(i_start, 1.0))
        i_end = n - int(_fdim(n, i_end + 1.0))
    return i_start, i_end


@nb.njit(cache=True)
def linear_least_squares_fit(z, n, xi, d_start, d_end):
    """LinearLeastSquaresFit.cpp: fitted heights at the profile ends ``(fit_y1, fit_y2)``."""
    i_start, i_end = fit_indices(n, xi, d_start, d_end)
    x_length = float(i_end - i_start)
    mid = -0.5 * x_length
    mid_end = i_end + mid
    sum_y = 0.5 * (z[i_start] + z[i_end])
    scaled = 0.5 * (z[i_start] - z[i_end]) * mid
    i = 2
    while i <= x_length:
        i_start += 1
        mid += 1.0
        sum_y += z[i_start]
        scaled += z[i_start] * mid
        i += 1
    sum_y = sum_y / x_length
    scaled = scaled * 12.0 / ((x_length * x_length + 2.0) * x_length)
    return sum_y - scaled * mid_end, sum_y + scaled * (n - mid_end)


@nb.njit(cache=True)
def _select(a, lo, hi, k):
    """k-th smallest of ``a[lo..hi]`` (0-based k, lo <= k <= hi), partially reordering ``a``."""
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@nb.njit(cache=True)
def compute_delta_h(z, n, xi, d_start, d_end):
    """ComputeDeltaH.cpp: interdecile range of the detrended, resampled profile [ERL 79-ITS 67 Eqn 3]."""
    return compute_delta_h_buf(z, n, xi, d_start, d_end, np.empty(245), np.empty(245))


@nb.njit(cache=True)
def compute_delta_h_buf(z, n, xi, d_start, d_end, s, diffs):
    """:func:`compute_delta_h` with caller-provided work buffers (length >= 245)."""
    x_start = d_start / xi
    x_end = d_end / xi
    if x_end - x_start < 2.0:
        return 0.0
    p10 = int(0.1 * (x_end - x_start + 8.0))
    p10 = min(max(4, p10), 25)
    m = 10 * p10 - 5
    p90 = m - p10
    np_s = float(m - 1)
    x_end = (x_end - x_start) / np_s
    i = int(x_start)
    x_start -= float(i + 1.0)
    for j in range(m):
        while x_start > 0.0 and (i + 1) < n:
            x_start -= 1.0
            i += 1
        s[j] = z[i + 1] + (z[i + 1] - z[i]) * x_start
        x_start += x_end
    fit_y1, fit_y2 = linear_least_squares_fit(s, m - 1, 1.0, 0.0, np_s)
    fit_y2 = (fit_y2 - fit_y1) / np_s
    for j in range(m):
        diffs[j] = s[j] - fit_y1
        fit_y1 += fit_y2
    # nth_element as in the reference: q10 is the p10-th largest, q90 the (p90 + 1)-th largest
    q10 = _select(diffs, 0, m - 1, m - p10)
    q90 = _select(diffs, 0, m - p10 - 1, m - 1 - p90)
    return (q10 - q90) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


@nb.njit(cache=True)
def los_horizons(d, he0, he1, a_e, delta_h):
    """QuickPfl.cpp line-of-sight branch: smooth-earth horizons from effective heights.

    Returns ``(he0, he1, dh0, dh1, th0, th1)`` after the reference's rescaling.
    """
    dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he0, 5.0)))
    dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he1, 5.0)))
    comb = dh0 + dh1
    if comb <= d:
        q = (d / comb) ** 2
        he0 = he0 * q
        he1 = he1 * q
        dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he0, 5.0)))
        dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he1, 5.0)))
    q0 = math.sqrt(2.0 * he0 * a_e)
    q1 = math.sqrt(2.0 * he1 * a_e)
    th0 = (0.65 * delta_h * (q0 / dh0 - 1.0) - 2.0 * he0) / q0
    th1 = (0.65 * delta_h * (q1 / dh1 - 1.0) - 2.0 * he1) / q1
    return he0, he1, dh0, dh1, th0, th1


@nb.njit(cache=True)
def quick_pfl(z, n, xi, gamma_e, h0, h1):
    """QuickPfl.cpp; returns ``(th0, th1, dh0, dh1, he0, he1, delta_h, d)``.

    The receiver ground is ``z[n]`` (``pfl[np + 2]``) in both branches, as in the
    reference (one public port reads ``pfl[np + 1]`` in the line-of-sight branch).
    """
    d = n * xi
    a_e = 1.0 / gamma_e
    th0, th1, dh0, dh1 = find_horizons(z, n, xi, a_e, h0, h1)
    d_start = min(15.0 * h0, 0.1 * dh0)
    d_end = d - min(15.0 * h1, 0.1 * dh1)
    delta_h = compute_delta_h(z, n, xi, d_start, d_end)
    if dh0 + dh1 > 1.5 * d:
        fit_tx, fit_rx = linear_least_squares_fit(z, n, xi, d_start, d_end)
        he0 = h0 + _fdim(z[0], fit_tx)
        he1 = h1 + _fdim(z[n], fit_rx)
        he0, he1, dh0, dh1, th0, th1 = los_horizons(d, he0, he1, a_e, delta_h)
    else:
        fit_tx, _ = linear_least_squares_fit(z, n, xi, d_start, 0.9 * dh0)
        he0 = h0 + _fdim(z[0], fit_tx)
        _, fit_rx = linear_least_squares_fit(z, n, xi, d - 0.9 * dh1, d_end)
        he1 = h1 + _fdim(z[n], fit_rx)
    return th0, th1, dh0, dh1, he0, he1, delta_h, d


@nb.njit(cache=True)
def validate_inputs(h_tx, h_rx, climate, time, location, situation, n_0, f, pol, epsilon, sigma, mdvar):
    """ValidateInputs.cpp; returns ``(error, warnings)``."""
    warn = 0
    if h_tx < 1.0 or h_tx > 1000.0:
        warn |= WARN_TX_HEIGHT
    if h_tx < 0.5 or h_tx > 3000.0:
        return ERR_TX_HEIGHT, warn
    if h_rx < 1.0 or h_rx > 1000.0:
        warn |= WARN_RX_HEIGHT
    if h_rx < 0.5 or h_rx > 3000.0:
        return ERR_RX_HEIGHT, warn
    if climate < 1 or climate > 7:
        return ERR_CLIMATE, warn
    if n_0 < 250.0 or n_0 > 400.0:
        return ERR_REFRACTIVITY, warn
    if f < 40.0 or f > 10000.0:
        warn |= WARN_FREQUENCY
    if f < 20.0 or f > 20000.0:
        return ERR_FREQUENCY, warn
    if pol != 0 and pol != 1:
        return ERR_POLARIZATION, warn
    if epsilon < 1.0:
        return ERR_EPSILON, warn
    if sigma <= 0.0:
        return ERR_SIGMA, warn
    if mdvar < 0 or (3 < mdvar < 10) or (13 < mdvar < 20) or (23 < mdvar < 30) or mdvar > 33:
        return ERR_MDVAR, warn
    if situation <= 0.0 or situation >= 100.0:
        return ERR_SITUATION, warn
    if time <= 0.0 or time >= 100.0:
        return ERR_TIME, warn
    if location <= 0.0 or location >= 100.0:
        return ERR_LOCATION, warn
    return SUCCESS, warn


@nb.njit(cache=True)
def system_height(z, n):
    """Mean profile height between 10 % and 90 % of the path (itm_p2p.cpp)."""
    p10 = int(0.1 * n)
    acc = 0.0
    for i in range(p10, n - p10 + 1):
        acc += z[i]
    return acc / (n - 2 * p10 + 1)


@nb.njit(cache=True)
def _store(out, a, a_fs, a_ref, d_km, th0, th1, dh0, dh1, he0, he1, n_s, delta_h, prop):
    out[0] = a
    out[1] = a_fs
    out[2] = a_ref
    out[3] = d_km
    out[4] = th0
    out[5] = th1
    out[6] = dh0
    out[7] = dh1
    out[8] = he0
    out[9] = he1
    out[10] = n_s
    out[11] = delta_h
    out[12] = prop


@nb.njit(cache=True)
def p2p_tls(
    h_tx, h_rx, z, n, xi, climate, n_0, f, pol, epsilon, sigma, mdvar, time, location, situation, out
):
    """itm_p2p.cpp ITM_P2P_TLS_Ex; returns ``(error, warnings)``.

    ``out`` (length 12) receives A, A_fs, A_ref, d_km, theta_tx, theta_rx, d_hzn_tx,
    d_hzn_rx, h_e_tx, h_e_rx, N_s, delta_h and ``out[12]`` the propagation mode.
    """
    err, warn = validate_inputs(
        h_tx, h_rx, climate, time, location, situation, n_0, f, pol, epsilon, sigma, mdvar
    )
    if err != SUCCESS:
        return err, warn
    h_sys = system_height(z, n)
    zg, gamma_e, n_s = initialize_p2p(f, h_sys, n_0, pol, epsilon, sigma)
    th0, th1, dh0, dh1, he0, he1, delta_h, d = quick_pfl(z, n, xi, gamma_e, h_tx, h_rx)
    err, w2 = _loss(
        out, th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h_tx, h_rx, d, MODE_P2P,
        time, location, situation, climate, mdvar, d / 1000.0,
    )  # fmt: skip
    return err, warn | w2


@nb.njit(cache=True)
def _loss(
    out, th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, mode,
    time, location, situation, climate, mdvar, d_km,
):  # fmt: skip
    """Compute the common tail of ITM_P2P_TLS and ITM_AREA_TLS into ``out``.

    Reference attenuation, free space and variability at the requested quantiles;
    returns ``(error, warnings)``.
    """
    err, a_ref, warn, prop = longley_rice(
        th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h0, h1, d, mode
    )
    if err != SUCCESS:
        return err, warn
    a_fs = free_space_loss(d, f)
    v, w = variability(
        iccdf(time / 100.0), iccdf(location / 100.0), iccdf(situation / 100.0),
        he0, he1, delta_h, f, d, a_ref, climate, mdvar,
    )  # fmt: skip
    _store(out, v + a_fs, a_fs, a_ref, d_km, th0, th1, dh0, dh1, he0, he1, n_s, delta_h, prop)
    return SUCCESS, warn | w


@nb.njit(cache=True)
def initialize_area(site0, site1, gamma_e, delta_h, h0, h1):
    """InitializeArea.cpp; returns ``(he0, he1, dh0, dh1, th0, th1)``."""
    res = np.empty(6)
    for k in range(2):
        site = site0 if k == 0 else site1
        h = h0 if k == 0 else h1
        if site == 0:
            he = h
        else:
            b = 4.0 if site == 1 else 9.0
            if h < 5.0:
                b = b * math.sin(0.1 * PI * h)
            he = h + (1.0 + b) * math.exp(-min(20.0, 2.0 * h / max(1e-3, delta_h)))
        d_ls = math.sqrt(2.0 * he / gamma_e)
        dh = d_ls * math.exp(-0.07 * math.sqrt(delta_h / max(he, 5.0)))
        th = (0.65 * delta_h * (d_ls / dh - 1.0) - 2.0 * he) / d_ls
        res[k] = he
        res[2 + k] = dh
        res[4 + k] = th
    return res[0], res[1], res[2], res[3], res[4], res[5]


@nb.njit(cache=True)
def area_tls(
    h_tx,
    h_rx,
    site_tx,
    site_rx,
    d_km,
    delta_h,
    climate,
    n_0,
    f,
    pol,
    epsilon,
    sigma,
    mdvar,
    time,
    location,
    situation,
    out,
):
    """itm_area.cpp ITM_AREA_TLS_Ex; returns ``(error, warnings)``; ``out`` as :func:`p2p_tls`."""
    err, warn = validate_inputs(
        h_tx, h_rx, climate, time, location, situation, n_0, f, pol, epsilon, sigma, mdvar
    )
    if err != SUCCESS:
        return err, warn
    if d_km <= 0.0:
        return ERR_PATH_DISTANCE, warn
    if delta_h < 0.0:
        return ERR_DELTA_H, warn
    if site_tx < 0 or site_tx > 2:
        return ERR_TX_SITING, warn
    if site_rx < 0 or site_rx > 2:
        return ERR_RX_SITING, warn
    zg, gamma_e, n_s = initialize_p2p(f, 0.0, n_0, pol, epsilon, sigma)
    he0, he1, dh0, dh1, th0, th1 = initialize_area(site_tx, site_rx, gamma_e, delta_h, h_tx, h_rx)
    d = d_km * 1000.0
    err, w2 = _loss(
        out, th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, delta_h, h_tx, h_rx, d, MODE_AREA,
        time, location, situation, climate, mdvar, d_km,
    )  # fmt: skip
    return err, warn | w2
