"""Point-to-point and area-mode ITM calls with readable results, errors and warnings."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from coverage._errors import ModelValidityWarning
from coverage.propagation.itm import _core as c
from coverage.propagation.itm._params import ERR_NOT_FINITE, ItmInputError, ItmParams, warning_messages

__all__ = ["ItmResult", "itm_area_cr", "itm_area_tls", "itm_p2p_cr", "itm_p2p_tls"]

_MODES = {0: "not set", 1: "line of sight", 2: "diffraction", 3: "troposcatter"}
_SITING = {"random": 0, "careful": 1, "very_careful": 2}


@dataclass(frozen=True)
class ItmResult:
    """Basic transmission loss of one ITM call and the reference's intermediate values.

    Parameters
    ----------
    loss_db
        Basic transmission loss A, dB.
    free_space_db
        Free-space loss A_fs, dB.
    reference_db
        Reference attenuation A_ref (median excess over free space before variability), dB.
    distance_km
        Path distance, km.
    theta_hzn_rad, d_hzn_m, h_e_m
        Horizon angles (rad), horizon distances (m), effective heights (m), TX then RX.
    n_s_n_units
        Surface refractivity N_s, N-units.
    delta_h_m
        Terrain irregularity parameter, m.
    mode
        Propagation mode: ``"line of sight"``, ``"diffraction"`` or ``"troposcatter"``.
    warning_flags
        The reference's warning bit field (0 = none); :attr:`warnings` decodes it.
    """

    loss_db: float
    free_space_db: float
    reference_db: float
    distance_km: float
    theta_hzn_rad: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    n_s_n_units: float
    delta_h_m: float
    mode: str
    warning_flags: int

    @property
    def warnings(self) -> list[str]:
        """Decoded warning messages."""
        return warning_messages(self.warning_flags)


def _result(out: np.ndarray, flags: int) -> ItmResult:
    return ItmResult(
        loss_db=float(out[0]),
        free_space_db=float(out[1]),
        reference_db=float(out[2]),
        distance_km=float(out[3]),
        theta_hzn_rad=(float(out[4]), float(out[5])),
        d_hzn_m=(float(out[6]), float(out[7])),
        h_e_m=(float(out[8]), float(out[9])),
        n_s_n_units=float(out[10]),
        delta_h_m=float(out[11]),
        mode=_MODES[int(out[12])],
        warning_flags=int(flags),
    )


def _cr_code(err: int, cr: bool) -> int:
    """Name time and situation errors as reliability and confidence in the CR calls (the same inputs)."""
    if cr and err == c.ERR_TIME:
        return c.ERR_RELIABILITY
    if cr and err == c.ERR_SITUATION:
        return c.ERR_CONFIDENCE
    return err


def _require_finite(cr: bool, **values: object) -> None:
    """Reject non-numeric and non-finite scalar inputs with the code of the parameter.

    The reference's range checks (``x < lo || x > hi``) let NaN through, and infinities
    reach its arithmetic; both must be an input error, not a NaN loss.
    """
    codes = {
        "tx_height_m": c.ERR_TX_HEIGHT,
        "rx_height_m": c.ERR_RX_HEIGHT,
        "freq_mhz": c.ERR_FREQUENCY,
        "spacing_m": c.ERR_PATH_DISTANCE,
        "distance_km": c.ERR_PATH_DISTANCE,
        "delta_h_m": c.ERR_DELTA_H,
        "time_pct": c.ERR_TIME,
        "location_pct": c.ERR_LOCATION,
        "situation_pct": c.ERR_SITUATION,
    }
    names = {"time_pct": "reliability_pct", "situation_pct": "confidence_pct"} if cr else {}
    for name, v in values.items():
        ok = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        if not ok or not np.isfinite(v):
            raise ItmInputError(
                _cr_code(codes[name], cr), f"; {names.get(name, name)} must be a finite number, got {v!r}"
            )


def _run(core, *args):
    """Call a compiled entry point; arithmetic that breaks down is an input error, not a crash."""
    try:
        return core(*args)
    except ZeroDivisionError as exc:
        raise ItmInputError(ERR_NOT_FINITE, " (a division by zero)") from exc


def _finish(err: int, flags: int, out: np.ndarray, cr: bool, stacklevel: int) -> ItmResult:
    if err != c.SUCCESS:
        raise ItmInputError(_cr_code(int(err), cr))
    if not np.isfinite(out[0]):
        raise ItmInputError(ERR_NOT_FINITE, f" (loss {out[0]}, warning flags 0x{flags:04x})")
    res = _result(out, flags)
    if flags:
        warnings.warn(
            "ITM: " + "; ".join(res.warnings) + f" (warning flags 0x{flags:04x})",
            ModelValidityWarning,
            stacklevel=stacklevel,
        )
    return res


def _p2p(profile_m, spacing_m, tx_height_m, rx_height_m, freq_mhz, params, t, loc, sit, cr):
    z = np.ascontiguousarray(profile_m, dtype=np.float64)
    if z.ndim != 1 or z.size < 3 or not np.isfinite(z).all():
        raise ItmInputError(
            c.ERR_PATH_DISTANCE, f"; profile must be 1-D with >= 3 finite elevations, got shape {z.shape}"
        )
    _require_finite(
        cr, spacing_m=spacing_m, tx_height_m=tx_height_m, rx_height_m=rx_height_m, freq_mhz=freq_mhz,
        time_pct=t, location_pct=loc, situation_pct=sit,
    )  # fmt: skip
    if not spacing_m > 0:
        raise ItmInputError(c.ERR_PATH_DISTANCE, f"; spacing_m must be > 0, got {spacing_m!r}")
    out = np.zeros(13)
    err, flags = _run(
        c.p2p_tls,
        float(tx_height_m),
        float(rx_height_m),
        z,
        z.size - 1,
        float(spacing_m),
        params.climate,
        float(params.n0_n_units),
        float(freq_mhz),
        params.pol,
        float(params.epsilon),
        float(params.sigma_s_per_m),
        params.mdvar,
        float(t),
        float(loc),
        float(sit),
        out,
    )
    return _finish(err, flags, out, cr, 4)


def itm_p2p_tls(
    profile_m: ArrayLike,
    spacing_m: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    params: ItmParams | None = None,
    time_pct: float | None = None,
    location_pct: float | None = None,
    situation_pct: float | None = None,
) -> ItmResult:
    r"""ITM v1.3 point-to-point loss with time/location/situation variability.

    Port of NTIA ``ITM_P2P_TLS_Ex`` (``src/itm_p2p.cpp``): surface refractivity from
    the mean elevation of the middle 80 % of the profile (N_s = N_0 e^{-h/9460}),
    horizons, effective heights and Δh from the profile (``QuickPfl.cpp``), reference
    attenuation A_ref from the two-ray / diffraction / troposcatter lines
    (``LongleyRice.cpp``) and the variability of ``Variability.cpp``:

    .. math:: A = A_{fs} + A_{ref} - V_{med} - Y_R - Y_S

    Validity (reference limits): f 20-20000 MHz (warning outside 40-10000), heights
    0.5-3000 m (warning outside 1-1000), N_0 250-400; distances 1-2000 km (warning
    below 1 km). Warnings are emitted as :class:`~coverage._errors.ModelValidityWarning`
    and kept in :attr:`ItmResult.warning_flags`; errors raise :class:`ItmInputError`.

    Parameters
    ----------
    profile_m
        Terrain elevations from TX (first) to RX (last), equally spaced, metres.
    spacing_m
        Distance between profile samples, metres.
    tx_height_m, rx_height_m
        Antenna heights above ground, metres.
    freq_mhz
        Frequency, MHz.
    params
        Climate, refractivity, ground and variability mode; default :class:`ItmParams`.
    time_pct, location_pct, situation_pct
        Override the percentages of ``params``.

    Examples
    --------
    >>> flat = [100.0] * 101  # 10 km of flat ground, 100 m spacing
    >>> r = itm_p2p_tls(flat, 100.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=900.0)
    >>> round(r.loss_db, 1), r.mode
    (127.3, 'line of sight')
    """
    p = params or ItmParams()
    return _p2p(
        profile_m,
        spacing_m,
        tx_height_m,
        rx_height_m,
        freq_mhz,
        p,
        p.time_pct if time_pct is None else time_pct,
        p.location_pct if location_pct is None else location_pct,
        p.situation_pct if situation_pct is None else situation_pct,
        cr=False,
    )


def itm_p2p_cr(
    profile_m: ArrayLike,
    spacing_m: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    confidence_pct: float,
    reliability_pct: float,
    params: ItmParams | None = None,
) -> ItmResult:
    """ITM v1.3 point-to-point loss with confidence/reliability variability.

    As NTIA ``ITM_P2P_CR_Ex``: the TLS model with time = reliability, location = 50 %,
    situation = confidence. Parameters as :func:`itm_p2p_tls`.

    Examples
    --------
    >>> flat = [100.0] * 101
    >>> r = itm_p2p_cr(flat, 100.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=900.0,
    ...                confidence_pct=50.0, reliability_pct=50.0)
    >>> round(r.loss_db, 1)
    127.3
    """
    p = params or ItmParams()
    return _p2p(
        profile_m,
        spacing_m,
        tx_height_m,
        rx_height_m,
        freq_mhz,
        p,
        reliability_pct,
        50.0,
        confidence_pct,
        cr=True,
    )


def _area(tx_h, rx_h, siting, d_km, dh, f, p, t, loc, sit, cr):
    try:
        s_tx, s_rx = (_SITING[s] for s in siting)
    except (KeyError, TypeError, ValueError) as exc:
        raise ItmInputError(c.ERR_TX_SITING, f"; got siting {siting!r}, expected {list(_SITING)}") from exc
    _require_finite(
        cr, distance_km=d_km, tx_height_m=tx_h, rx_height_m=rx_h, freq_mhz=f, delta_h_m=dh, time_pct=t,
        location_pct=loc, situation_pct=sit,
    )  # fmt: skip
    out = np.zeros(13)
    err, flags = _run(
        c.area_tls,
        float(tx_h),
        float(rx_h),
        s_tx,
        s_rx,
        float(d_km),
        float(dh),
        p.climate,
        float(p.n0_n_units),
        float(f),
        p.pol,
        float(p.epsilon),
        float(p.sigma_s_per_m),
        p.mdvar,
        float(t),
        float(loc),
        float(sit),
        out,
    )
    return _finish(err, flags, out, cr, 4)


def itm_area_tls(
    distance_km: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    delta_h_m: float,
    siting: tuple[str, str] = ("random", "random"),
    params: ItmParams | None = None,
    time_pct: float | None = None,
    location_pct: float | None = None,
    situation_pct: float | None = None,
) -> ItmResult:
    """ITM v1.3 area-mode loss (no profile: terrain described by Δh) with TLS variability.

    Port of NTIA ``ITM_AREA_TLS_Ex`` (``src/itm_area.cpp``, ``InitializeArea.cpp``):
    effective heights from the siting criteria, horizons from Δh [Algorithm 3.2-3.4].

    Parameters
    ----------
    distance_km
        Path distance, km.
    tx_height_m, rx_height_m
        Antenna heights above ground, metres.
    freq_mhz
        Frequency, MHz.
    delta_h_m
        Terrain irregularity parameter Δh, metres (0 smooth, ~90 hills, ~200 mountains).
    siting
        TX and RX siting criteria: ``"random"``, ``"careful"`` or ``"very_careful"``.
    params, time_pct, location_pct, situation_pct
        As :func:`itm_p2p_tls`.

    Examples
    --------
    >>> r = itm_area_tls(10.0, tx_height_m=15.0, rx_height_m=3.0, freq_mhz=3500.0, delta_h_m=20.0,
    ...                  params=ItmParams(climate=5, n0_n_units=301.0, mdvar=1))
    >>> round(r.loss_db, 1)
    134.5
    """
    p = params or ItmParams()
    return _area(
        tx_height_m,
        rx_height_m,
        siting,
        distance_km,
        delta_h_m,
        freq_mhz,
        p,
        p.time_pct if time_pct is None else time_pct,
        p.location_pct if location_pct is None else location_pct,
        p.situation_pct if situation_pct is None else situation_pct,
        cr=False,
    )


def itm_area_cr(
    distance_km: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    delta_h_m: float,
    confidence_pct: float,
    reliability_pct: float,
    siting: tuple[str, str] = ("random", "random"),
    params: ItmParams | None = None,
) -> ItmResult:
    """ITM v1.3 area-mode loss with confidence/reliability variability (``ITM_AREA_CR_Ex``).

    Examples
    --------
    >>> r = itm_area_cr(1.0, tx_height_m=3.0, rx_height_m=3.0, freq_mhz=10000.0, delta_h_m=0.0,
    ...                 confidence_pct=77.0, reliability_pct=90.0,
    ...                 params=ItmParams(climate=5, n0_n_units=301.0, mdvar=3))
    >>> round(r.loss_db, 1), r.mode
    (118.3, 'line of sight')
    """
    p = params or ItmParams()
    return _area(
        tx_height_m,
        rx_height_m,
        siting,
        distance_km,
        delta_h_m,
        freq_mhz,
        p,
        reliability_pct,
        50.0,
        confidence_pct,
        cr=True,
    )
