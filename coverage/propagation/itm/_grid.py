"""ITM for the grid engine: per-radial-sample losses of one site and a radius estimate."""

from __future__ import annotations

import cmath
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverage.propagation.itm import _core as c
from coverage.propagation.itm import _fast
from coverage.propagation.itm._params import ItmInputError, ItmParams, warning_messages

__all__ = ["FastSettings", "itm_radial_loss_db", "smooth_earth_loss_db"]

#: Fast-path settings (see :mod:`coverage.propagation.itm._fast`): Δh knot ratio,
#: anchor stride (samples; 1 = every receiver evaluated exactly), largest
#: anchor-to-anchor difference interpolated (dB), relative tolerance on the
#: interpolated ITM inputs. Interpolating the loss between anchors is off by default:
#: on hilly terrain it applies to under 10 % of the receivers and saves no time.
FastSettings = tuple[float, int, float, float]
DEFAULT_FAST: FastSettings = (1.1, 1, 3.0, 0.05)


def _ground(params: ItmParams, freq_mhz: float) -> complex:
    ep_r = complex(params.epsilon, 18000.0 * params.sigma_s_per_m / freq_mhz)
    zg = cmath.sqrt(ep_r - 1.0)
    return zg / ep_r if params.pol == 1 else zg


def _validate(params: ItmParams, tx_h: float, rx_h: float, freq_mhz: float) -> int:
    err, warn = c.validate_inputs(
        float(tx_h),
        float(rx_h),
        params.climate,
        float(params.time_pct),
        float(params.location_pct),
        float(params.situation_pct),
        float(params.n0_n_units),
        float(freq_mhz),
        params.pol,
        float(params.epsilon),
        float(params.sigma_s_per_m),
        params.mdvar,
    )
    if err != c.SUCCESS:
        raise ItmInputError(int(err))
    return int(warn)


def itm_radial_loss_db(
    dem: NDArray[np.float32],
    row: int,
    col: int,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    step_m: float,
    dirs: NDArray[np.float64],
    n_samples: int,
    used: NDArray[np.uint8],
    params: ItmParams,
    exact: bool = False,
    fast: FastSettings = DEFAULT_FAST,
) -> tuple[NDArray[np.float64], list[str]]:
    """ITM p2p loss at every used sample of every radial from cell ``(row, col)``.

    Sample i of radial k is the DEM cell nearest to ``(row, col) + i * dirs[k]``
    (``dirs`` as :func:`~coverage.propagation.terrain.radial_directions`, steps of
    ``step_m``), the same sampling as the terrain sweep, so the result plugs into the
    grid engine's lookup table. ``exact=True`` runs the reference p2p on the profile of
    every used sample (O(R) each, for accuracy checks); otherwise the O(R^2 log R) fast
    path of :mod:`coverage.propagation.itm._fast`.

    Returns
    -------
    loss
        ``(n_radials, used.shape[1])`` basic transmission loss, dB; NaN where the path
        crosses nodata or the sample is not used; column 0 is free space at half a cell.
    messages
        ITM warnings met, with the share of evaluated receivers they concern.
    """
    warn_in = _validate(params, tx_height_m, rx_height_m, freq_mhz)
    n_rad = dirs.shape[0]
    out = np.full((n_rad, used.shape[1]), np.nan)
    counts = np.zeros((min(n_rad, 64), _fast.N_FLAGS + 2), dtype=np.int64)
    dem = np.ascontiguousarray(dem, dtype=np.float32)
    if exact:
        _fast.itm_sweep_exact(
            dem,
            int(row),
            int(col),
            float(tx_height_m),
            float(rx_height_m),
            float(step_m),
            dirs,
            int(n_samples),
            used,
            float(freq_mhz),
            float(params.n0_n_units),
            params.climate,
            params.pol,
            float(params.epsilon),
            float(params.sigma_s_per_m),
            params.mdvar,
            float(params.time_pct),
            float(params.location_pct),
            float(params.situation_pct),
            out,
            counts,
        )
    else:
        knot_ratio, stride, tol_db, rel_tol = fast
        zt, zl, zs = (
            c.iccdf(p / 100.0) for p in (params.time_pct, params.location_pct, params.situation_pct)
        )
        _fast.itm_sweep(
            dem,
            int(row),
            int(col),
            float(tx_height_m),
            float(rx_height_m),
            float(step_m),
            dirs,
            int(n_samples),
            used,
            float(freq_mhz),
            _ground(params, freq_mhz),
            float(params.n0_n_units),
            params.climate,
            params.mdvar,
            zt,
            zl,
            zs,
            float(knot_ratio),
            int(stride),
            float(tol_db),
            float(rel_tol),
            out,
            counts,
        )
    total = counts.sum(axis=0)
    evaluated = max(int(total[_fast.N_FLAGS + 1]), 1)
    messages = [f"ITM: {m} (all receivers)" for m in warning_messages(warn_in)]
    for b in range(_fast.N_FLAGS):
        if total[b]:
            msg = warning_messages(1 << b)[0]
            messages.append(f"ITM: {msg} ({100.0 * total[b] / evaluated:.1f} % of receivers evaluated)")
    if total[_fast.N_FLAGS]:
        messages.append(f"ITM: model error at {int(total[_fast.N_FLAGS])} receiver(s); their loss is unknown")
    return out, messages


def smooth_earth_loss_db(
    distance_m: ArrayLike, freq_mhz: float, tx_height_m: float, rx_height_m: float, params: ItmParams
) -> NDArray[np.float64]:
    """ITM area-mode median loss over smooth earth (Δh = 0), never below free space, dB.

    Used by the grid engine to size the computation radius of an ITM site (terrain
    can lower or raise the loss of a given cell; ``RadioParams.radius_margin_db``
    absorbs the difference) and for the loss of the site's own cell.

    Examples
    --------
    >>> smooth_earth_loss_db([1000.0, 10000.0], 1800.0, 30.0, 1.5, ItmParams()).round(1).tolist()
    [97.6, 127.7]
    """
    d = np.atleast_1d(np.asarray(distance_m, dtype=np.float64))
    _validate(params, tx_height_m, rx_height_m, freq_mhz)
    out = np.empty(d.shape)
    res = np.zeros(13)
    for k, dk in enumerate(d):
        fs = c.free_space_loss(max(math.hypot(dk, tx_height_m - rx_height_m), 1.0), freq_mhz)
        err, _ = c.area_tls(
            float(tx_height_m),
            float(rx_height_m),
            0,
            0,
            max(dk, 1.0) / 1000.0,
            0.0,
            params.climate,
            float(params.n0_n_units),
            float(freq_mhz),
            params.pol,
            float(params.epsilon),
            float(params.sigma_s_per_m),
            params.mdvar,
            float(params.time_pct),
            float(params.location_pct),
            float(params.situation_pct),
            res,
        )
        out[k] = max(res[0], fs) if err == c.SUCCESS else fs
    return out
