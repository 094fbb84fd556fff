"""Empirical path-loss models: free space, Okumura-Hata, COST-231 Hata, 3GPP TR 38.901.

All functions are vectorised over numpy arrays, take distances in metres, frequencies
in MHz and antenna heights **above local ground** in metres, and return the median
basic transmission loss in dB. Using heights above sea level instead (a bug seen in
one open engine) makes Hata predict less loss than free space on hills.

Outside a model's published validity range the formula is still evaluated (the tool
has to predict something everywhere) and a :class:`~coverage._errors.ModelValidityWarning`
is emitted. :func:`validity_messages` returns the same checks as text, for callers that
collect them instead of warning (the grid engine records them per site).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverage._errors import ConfigError, ModelValidityWarning

__all__ = [
    "MODEL_RANGES",
    "choose_model",
    "cost231_loss_db",
    "free_space_loss_db",
    "hata_loss_db",
    "model_loss_db",
    "rma_loss_db",
    "uma_loss_db",
    "validity_messages",
]

Environment = Literal["urban", "suburban", "rural"]
SPEED_OF_LIGHT_M_S = 299_792_458.0

#: Published validity ranges: frequency MHz, distance m, base height m, mobile height m.
#: 38.901 ranges are Table 7.4.1-1 (RMa NLOS 10 m-5 km, LOS to 10 km; UMa 10 m-5 km);
#: the 38.901 frequency range is the 0.5-100 GHz scope of clause 7.4 (RMa was
#: validated to 30 GHz, a statement quoted from memory of the TR, not re-checked).
MODEL_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "free_space": {"freq_mhz": (1.0, 1e6), "distance_m": (0.0, 1e9)},
    "hata": {
        "freq_mhz": (150.0, 1500.0),
        "distance_m": (1000.0, 20000.0),
        "base_height_m": (30.0, 200.0),
        "mobile_height_m": (1.0, 10.0),
    },
    "cost231": {
        "freq_mhz": (1500.0, 2000.0),
        "distance_m": (1000.0, 20000.0),
        "base_height_m": (30.0, 200.0),
        "mobile_height_m": (1.0, 10.0),
    },
    "rma": {
        "freq_mhz": (500.0, 30000.0),
        "distance_m": (10.0, 5000.0),
        "base_height_m": (10.0, 150.0),
        "mobile_height_m": (1.0, 10.0),
    },
    "uma": {
        "freq_mhz": (500.0, 100000.0),
        "distance_m": (10.0, 5000.0),
        "base_height_m": (10.0, 150.0),
        "mobile_height_m": (1.5, 22.5),
    },
}


def validity_messages(
    model: str,
    freq_mhz: float,
    max_distance_m: float,
    base_height_m: float,
    mobile_height_m: float,
) -> list[str]:
    """List how a model use falls outside its validity range (empty when inside).

    Only the upper distance limit is checked: every model is used down to the site
    itself, where the free-space floor of :func:`model_loss_db` takes over.

    Examples
    --------
    >>> validity_messages("hata", 900.0, 25_000.0, 30.0, 1.5)
    ['hata used to 25.0 km, beyond its 20.0 km validity limit']
    """
    ranges = MODEL_RANGES[model]
    out: list[str] = []
    lo, hi = ranges["freq_mhz"]
    if not lo <= freq_mhz <= hi:
        out.append(f"{model} used at {freq_mhz:g} MHz, outside {lo:g}-{hi:g} MHz")
    if max_distance_m > ranges["distance_m"][1]:
        out.append(
            f"{model} used to {max_distance_m / 1000:.1f} km, beyond its "
            f"{ranges['distance_m'][1] / 1000:.1f} km validity limit"
        )
    for key, label, value in (
        ("base_height_m", "base antenna height", base_height_m),
        ("mobile_height_m", "mobile height", mobile_height_m),
    ):
        if key in ranges:
            lo, hi = ranges[key]
            if not lo <= value <= hi:
                out.append(f"{model} used with {label} {value:g} m, outside {lo:g}-{hi:g} m")
    return out


def _warn_range(model: str, name: str, values: NDArray[np.float64], lo: float, hi: float) -> None:
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < lo or finite.max() > hi):
        warnings.warn(
            f"{model}: {name} in [{finite.min():g}, {finite.max():g}] is outside the model's "
            f"validity range [{lo:g}, {hi:g}]; the formula is extrapolated.",
            ModelValidityWarning,
            stacklevel=3,
        )


def _check(model: str, **arrays: NDArray[np.float64]) -> None:
    for name, values in arrays.items():
        lo, hi = MODEL_RANGES[model][name]
        _warn_range(model, name, values, lo, hi)


def _f64(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def free_space_loss_db(distance_m: ArrayLike, freq_mhz: ArrayLike) -> NDArray[np.float64]:
    r"""Free-space basic transmission loss (Friis), dB.

    .. math:: FSPL = 20 \log_{10} d_{km} + 20 \log_{10} f_{MHz} + 32.44

    Valid in the far field at any distance and frequency (ITU-R P.525-4, eq. 4 with
    32.4; 32.44 is the value more commonly quoted with d in km and f in MHz).

    Parameters
    ----------
    distance_m
        Distance between the antennas (3-D), metres; must be > 0.
    freq_mhz
        Carrier frequency, MHz.

    Examples
    --------
    >>> round(float(free_space_loss_db(1000.0, 900.0)), 2)
    91.52
    """
    d_km = _f64(distance_m) / 1000.0
    return 20.0 * np.log10(d_km) + 20.0 * np.log10(_f64(freq_mhz)) + 32.44


def _a_hm_medium_city(freq_mhz: NDArray[np.float64], mobile_height_m: NDArray[np.float64]):
    log_f = np.log10(freq_mhz)
    return (1.1 * log_f - 0.7) * mobile_height_m - (1.56 * log_f - 0.8)


def _environment_correction(freq_mhz: NDArray[np.float64], environment: str) -> NDArray[np.float64]:
    log_f = np.log10(freq_mhz)
    if environment == "urban":
        return np.zeros_like(log_f)
    if environment == "suburban":
        return -2.0 * np.log10(freq_mhz / 28.0) ** 2 - 5.4
    if environment == "rural":
        return -4.78 * log_f**2 + 18.33 * log_f - 40.94
    raise ConfigError(f"environment was {environment!r} but is expected to be urban, suburban or rural")


def hata_loss_db(
    distance_m: ArrayLike,
    freq_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: Environment = "urban",
) -> NDArray[np.float64]:
    r"""Okumura-Hata median path loss, dB.

    .. math::

        L_u = 69.55 + 26.16 \log f - 13.82 \log h_b - a(h_m)
              + (44.9 - 6.55 \log h_b) \log d_{km}

    with the small/medium-city correction
    :math:`a(h_m) = (1.1 \log f - 0.7) h_m - (1.56 \log f - 0.8)`; suburban
    :math:`L_u - 2 [\log(f/28)]^2 - 5.4`; rural (open area)
    :math:`L_u - 4.78 (\log f)^2 + 18.33 \log f - 40.94`.

    Validity: f 150-1500 MHz, d 1-20 km, h_b 30-200 m, h_m 1-10 m (Hata 1980, IEEE
    Trans. Veh. Technol. 29(3); COST 231 Final Report ch. 4.4). Heights are above
    local ground.

    Parameters
    ----------
    distance_m
        Horizontal distance, metres.
    freq_mhz
        Carrier frequency, MHz.
    base_height_m, mobile_height_m
        Antenna heights above ground, metres.
    environment
        ``"urban"``, ``"suburban"`` or ``"rural"`` (open area).

    Examples
    --------
    >>> round(float(hata_loss_db(1000.0, 900.0, 30.0, 1.5)), 2)
    126.4
    """
    d, f, hb, hm = (_f64(x) for x in (distance_m, freq_mhz, base_height_m, mobile_height_m))
    _check("hata", freq_mhz=f, distance_m=d, base_height_m=hb, mobile_height_m=hm)
    log_hb = np.log10(hb)
    urban = (
        69.55
        + 26.16 * np.log10(f)
        - 13.82 * log_hb
        - _a_hm_medium_city(f, hm)
        + (44.9 - 6.55 * log_hb) * np.log10(d / 1000.0)
    )
    return urban + _environment_correction(f, environment)


def cost231_loss_db(
    distance_m: ArrayLike,
    freq_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: Environment = "urban",
    *,
    metropolitan: bool = False,
) -> NDArray[np.float64]:
    r"""COST-231 Hata median path loss, dB.

    .. math::

        L = 46.3 + 33.9 \log f - 13.82 \log h_b - a(h_m)
            + (44.9 - 6.55 \log h_b) \log d_{km} + C_m

    with the medium-city :math:`a(h_m)` of :func:`hata_loss_db`, :math:`C_m = 0` dB
    (medium city, suburban centre) or 3 dB (``metropolitan=True``). COST-231 defines
    only the urban form; for ``"suburban"`` and ``"rural"`` the Hata suburban and
    open-area corrections are added (a common extension that keeps the model
    continuous with Hata at 1500 MHz). The constants are floats: Signal-Server stores
    46.3/33.9 in ``int`` and is 3.2 dB optimistic at 1800 MHz.

    Validity: f 1500-2000 MHz, d 1-20 km, h_b 30-200 m, h_m 1-10 m (COST 231 Final
    Report, 1999, §4.4.3). Heights are above local ground.

    Parameters
    ----------
    distance_m
        Horizontal distance, metres.
    freq_mhz
        Carrier frequency, MHz.
    base_height_m, mobile_height_m
        Antenna heights above ground, metres.
    environment
        ``"urban"``, ``"suburban"`` or ``"rural"``.
    metropolitan
        Add :math:`C_m = 3` dB for dense metropolitan centres.

    Examples
    --------
    >>> round(float(cost231_loss_db(1000.0, 1800.0, 30.0, 1.5)), 2)
    136.2
    """
    d, f, hb, hm = (_f64(x) for x in (distance_m, freq_mhz, base_height_m, mobile_height_m))
    _check("cost231", freq_mhz=f, distance_m=d, base_height_m=hb, mobile_height_m=hm)
    log_hb = np.log10(hb)
    urban = (
        46.3
        + 33.9 * np.log10(f)
        - 13.82 * log_hb
        - _a_hm_medium_city(f, hm)
        + (44.9 - 6.55 * log_hb) * np.log10(d / 1000.0)
        + (3.0 if metropolitan else 0.0)
    )
    return urban + _environment_correction(f, environment)


def _d3d(d2d: NDArray[np.float64], hb: NDArray[np.float64], hm: NDArray[np.float64]):
    return np.sqrt(d2d**2 + (hb - hm) ** 2)


def rma_loss_db(
    distance_m: ArrayLike,
    freq_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    *,
    los: bool = False,
    building_height_m: float = 5.0,
    street_width_m: float = 20.0,
) -> NDArray[np.float64]:
    r"""3GPP TR 38.901 rural macro (RMa) path loss, dB (Table 7.4.1-1, no shadow fading).

    With :math:`f_c` in GHz, :math:`h` the building height, :math:`W` the street width:

    .. math::

        PL_1(d) = 20\log(40\pi d f_c/3) + \min(0.03h^{1.72}, 10)\log d
                  - \min(0.044h^{1.72}, 14.77) + 0.002\log(h)\, d

        PL_{LOS} = PL_1(d_{3D}) \text{ for } d_{2D} \le d_{BP},\quad
                   PL_1(d_{BP}) + 40\log(d_{3D}/d_{BP}) \text{ beyond}

        PL'_{NLOS} = 161.04 - 7.1\log W + 7.5\log h
                     - (24.37 - 3.7(h/h_{BS})^2)\log h_{BS}
                     + (43.42 - 3.1\log h_{BS})(\log d_{3D} - 3)
                     + 20\log f_c - (3.2(\log(11.75 h_{UT}))^2 - 4.97)

        PL_{NLOS} = \max(PL_{LOS}, PL'_{NLOS})

    with the breakpoint :math:`d_{BP} = 2\pi h_{BS} h_{UT} f_c / c` (f_c in Hz).
    Validity: d_2D 10 m-10 km (LOS), 10 m-5 km (NLOS); h_BS 10-150 m; h_UT 1-10 m;
    h 5-50 m; W 5-50 m. Defaults h = 5 m, W = 20 m as in the TR.

    Parameters
    ----------
    distance_m
        Horizontal (2-D) distance, metres.
    freq_mhz
        Carrier frequency, MHz.
    base_height_m, mobile_height_m
        Antenna heights above ground (h_BS, h_UT), metres.
    los
        ``True`` for the LOS formula, ``False`` (default) for NLOS.
    building_height_m, street_width_m
        Average building height h and street width W, metres.

    Examples
    --------
    >>> round(float(rma_loss_db(1000.0, 3500.0, 35.0, 1.5)), 2)
    130.42
    """
    d2d, f, hb, hm = (_f64(x) for x in (distance_m, freq_mhz, base_height_m, mobile_height_m))
    _check("rma", freq_mhz=f, distance_m=d2d, base_height_m=hb, mobile_height_m=hm)
    fc = f / 1000.0
    h = building_height_m
    d3d = _d3d(d2d, hb, hm)
    d_bp = 2.0 * math.pi * hb * hm * (f * 1e6) / SPEED_OF_LIGHT_M_S

    def pl1(d: NDArray[np.float64]) -> NDArray[np.float64]:
        return (
            20.0 * np.log10(40.0 * math.pi * d * fc / 3.0)
            + min(0.03 * h**1.72, 10.0) * np.log10(d)
            - min(0.044 * h**1.72, 14.77)
            + 0.002 * math.log10(h) * d
        )

    pl_los = np.where(d2d <= d_bp, pl1(d3d), pl1(d_bp) + 40.0 * np.log10(d3d / d_bp))
    if los:
        return pl_los
    log_hb = np.log10(hb)
    pl_nlos = (
        161.04
        - 7.1 * math.log10(street_width_m)
        + 7.5 * math.log10(h)
        - (24.37 - 3.7 * (h / hb) ** 2) * log_hb
        + (43.42 - 3.1 * log_hb) * (np.log10(d3d) - 3.0)
        + 20.0 * np.log10(fc)
        - (3.2 * np.log10(11.75 * hm) ** 2 - 4.97)
    )
    return np.maximum(pl_los, pl_nlos)


def uma_loss_db(
    distance_m: ArrayLike,
    freq_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    *,
    los: bool = False,
    effective_env_height_m: float = 1.0,
) -> NDArray[np.float64]:
    r"""3GPP TR 38.901 urban macro (UMa) path loss, dB (Table 7.4.1-1, no shadow fading).

    .. math::

        PL_1 = 28.0 + 22\log d_{3D} + 20\log f_c

        PL_2 = 28.0 + 40\log d_{3D} + 20\log f_c - 9\log(d'^2_{BP} + (h_{BS}-h_{UT})^2)

        PL_{LOS} = PL_1 \text{ for } d_{2D} \le d'_{BP}, \text{ else } PL_2

        PL'_{NLOS} = 13.54 + 39.08\log d_{3D} + 20\log f_c - 0.6(h_{UT} - 1.5)

        PL_{NLOS} = \max(PL_{LOS}, PL'_{NLOS})

    with :math:`d'_{BP} = 4 h'_{BS} h'_{UT} f_c/c`, :math:`h' = h - h_E`. The TR draws
    :math:`h_E` at random for :math:`h_{UT} > 13` m; this is the deterministic form
    with :math:`h_E = 1` m (TR 38.901 note 1). Validity: d_2D 10 m-5 km, h_UT 1.5-22.5 m,
    nominal h_BS 25 m.

    Parameters
    ----------
    distance_m
        Horizontal (2-D) distance, metres.
    freq_mhz
        Carrier frequency, MHz.
    base_height_m, mobile_height_m
        Antenna heights above ground (h_BS, h_UT), metres.
    los
        ``True`` for the LOS formula, ``False`` (default) for NLOS.
    effective_env_height_m
        h_E, metres (1 m).

    Examples
    --------
    >>> round(float(uma_loss_db(1000.0, 3500.0, 25.0, 1.5)), 2)
    141.67
    """
    d2d, f, hb, hm = (_f64(x) for x in (distance_m, freq_mhz, base_height_m, mobile_height_m))
    _check("uma", freq_mhz=f, distance_m=d2d, base_height_m=hb, mobile_height_m=hm)
    fc = f / 1000.0
    d3d = _d3d(d2d, hb, hm)
    he = effective_env_height_m
    d_bp = 4.0 * (hb - he) * (hm - he) * (f * 1e6) / SPEED_OF_LIGHT_M_S
    pl1 = 28.0 + 22.0 * np.log10(d3d) + 20.0 * np.log10(fc)
    pl2 = 28.0 + 40.0 * np.log10(d3d) + 20.0 * np.log10(fc) - 9.0 * np.log10(d_bp**2 + (hb - hm) ** 2)
    pl_los = np.where(d2d <= d_bp, pl1, pl2)
    if los:
        return pl_los
    pl_nlos = 13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(fc) - 0.6 * (hm - 1.5)
    return np.maximum(pl_los, pl_nlos)


def choose_model(freq_mhz: float, environment: str, model: str = "auto") -> str:
    """Pick the empirical model for a band: ``params.model`` or the ``"auto"`` rule.

    ``"auto"``: Okumura-Hata below 1500 MHz, COST-231 Hata for 1500-2000 MHz, above
    2000 MHz 3GPP TR 38.901 RMa in ``"rural"`` and UMa in ``"urban"``/``"suburban"``.

    Examples
    --------
    >>> [choose_model(f, "rural") for f in (900.0, 1800.0, 2100.0, 3500.0)]
    ['hata', 'cost231', 'rma', 'rma']
    >>> choose_model(3500.0, "urban")
    'uma'
    """
    if model == "itm":
        raise ConfigError(
            "model 'itm' is not an empirical distance model: it needs the terrain profile "
            "(coverage.propagation.itm; the grid engine runs it when RadioParams.model == 'itm')"
        )
    if model != "auto":
        if model not in MODEL_RANGES:
            raise ConfigError(f"model was {model!r} but is expected to be one of {['auto', *MODEL_RANGES]}")
        return model
    if freq_mhz < 1500.0:
        return "hata"
    if freq_mhz <= 2000.0:
        return "cost231"
    return "rma" if environment == "rural" else "uma"


def model_loss_db(
    model: str,
    distance_m: ArrayLike,
    freq_mhz: float,
    base_height_m: float,
    mobile_height_m: float,
    environment: Environment = "rural",
) -> NDArray[np.float64]:
    r"""Median path loss of a named model, never below free space, dB.

    .. math:: L = \max(L_{model}(d), FSPL(d_{3D}))

    The free-space floor matters below the models' minimum distance (e.g. Hata's
    open-area form at 100 m gives less than free space). 38.901 models are used in
    their NLOS form (clutter-obstructed median); the grid engine adds terrain
    diffraction on top. No validity warnings are emitted here: callers check
    :func:`validity_messages`.

    Parameters
    ----------
    model
        ``"free_space"``, ``"hata"``, ``"cost231"``, ``"rma"`` or ``"uma"``.
    distance_m
        Horizontal distance, metres (> 0).
    freq_mhz
        Carrier frequency, MHz.
    base_height_m, mobile_height_m
        Antenna heights above ground, metres.
    environment
        Clutter class for Hata/COST-231.

    Examples
    --------
    >>> model_loss_db("hata", [100.0, 1000.0], 900.0, 30.0, 1.5, "rural").round(1)
    array([71.9, 97.9])
    """
    d = _f64(distance_m)
    d3d = np.sqrt(d**2 + (base_height_m - mobile_height_m) ** 2)
    fspl = free_space_loss_db(d3d, freq_mhz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        if model == "free_space":
            return fspl
        if model == "hata":
            loss = hata_loss_db(d, freq_mhz, base_height_m, mobile_height_m, environment)
        elif model == "cost231":
            loss = cost231_loss_db(d, freq_mhz, base_height_m, mobile_height_m, environment)
        elif model == "rma":
            loss = rma_loss_db(d, freq_mhz, base_height_m, mobile_height_m)
        elif model == "uma":
            loss = uma_loss_db(d, freq_mhz, base_height_m, mobile_height_m)
        else:
            raise ConfigError(f"unknown path-loss model {model!r}")
    return np.maximum(loss, fspl)
