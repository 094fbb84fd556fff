"""ITM parameters, error codes and warning flags in readable form."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from coverage._errors import ConfigError
from coverage.propagation.itm import _core as c

__all__ = [
    "CLIMATES",
    "ERR_NOT_FINITE",
    "ITM_ERRORS",
    "ITM_WARNINGS",
    "ItmInputError",
    "ItmParams",
    "warning_messages",
]

ERR_NOT_FINITE = 1100
"""Error code (not the reference's) for inputs on which ITM's arithmetic breaks down."""

#: ITM radio climates (``climate`` code -> name), NTIA ``include/Enums.h``.
CLIMATES: dict[int, str] = {
    1: "equatorial",
    2: "continental subtropical",
    3: "maritime subtropical",
    4: "desert",
    5: "continental temperate",
    6: "maritime temperate over land",
    7: "maritime temperate over sea",
}

#: Warning flags of the reference (``include/Warnings.h``) -> message.
ITM_WARNINGS: dict[int, str] = {
    c.WARN_TX_HEIGHT: "TX terminal height is near its limits (1-1000 m)",
    c.WARN_RX_HEIGHT: "RX terminal height is near its limits (1-1000 m)",
    c.WARN_FREQUENCY: "frequency is near its limits (40-10000 MHz)",
    c.WARN_DIST_BIG_1: "path distance is near its upper limit (> 1000 km)",
    c.WARN_DIST_BIG_2: "path distance is large (> 2000 km); care must be taken with the result",
    c.WARN_DIST_SMALL_1: "path distance is near its lower limit (< |h_e,tx - h_e,rx| / 0.2)",
    c.WARN_DIST_SMALL_2: "path distance is small (< 1 km); care must be taken with the result",
    c.WARN_TX_HZN_ANGLE: "TX horizon angle is large (> 200 mrad); small-angle approximations may break down",
    c.WARN_RX_HZN_ANGLE: "RX horizon angle is large (> 200 mrad); small-angle approximations may break down",
    c.WARN_TX_HZN_DIST_1: "TX horizon distance is less than 1/10 of the smooth-earth horizon distance",
    c.WARN_RX_HZN_DIST_1: "RX horizon distance is less than 1/10 of the smooth-earth horizon distance",
    c.WARN_TX_HZN_DIST_2: "TX horizon distance is more than 3 times the smooth-earth horizon distance",
    c.WARN_RX_HZN_DIST_2: "RX horizon distance is more than 3 times the smooth-earth horizon distance",
    c.WARN_EXTREME_VAR: "a variability quantile is far in the tail of its distribution (|z| > 3.1)",
    c.WARN_NS_SMALL: "surface refractivity N_s is small (< 250 N-units); care must be taken with the result",
}

#: Error codes of the reference (``include/Errors.h``) -> message.
ITM_ERRORS: dict[int, str] = {
    c.ERR_TX_HEIGHT: "TX terminal height is out of range (0.5-3000 m)",
    c.ERR_RX_HEIGHT: "RX terminal height is out of range (0.5-3000 m)",
    c.ERR_CLIMATE: "invalid radio climate (expected 1-7)",
    c.ERR_TIME: "time percentage is out of range (0 < time < 100)",
    c.ERR_LOCATION: "location percentage is out of range (0 < location < 100)",
    c.ERR_SITUATION: "situation percentage is out of range (0 < situation < 100)",
    c.ERR_CONFIDENCE: "confidence percentage is out of range (0 < confidence < 100)",
    c.ERR_RELIABILITY: "reliability percentage is out of range (0 < reliability < 100)",
    c.ERR_REFRACTIVITY: "refractivity N_0 is out of range (250-400 N-units)",
    c.ERR_FREQUENCY: "frequency is out of range (20-20000 MHz)",
    c.ERR_POLARIZATION: "invalid polarization",
    c.ERR_EPSILON: "relative permittivity epsilon is out of range (>= 1)",
    c.ERR_SIGMA: "conductivity sigma is out of range (> 0 S/m)",
    c.ERR_GROUND_IMPEDANCE: "the imaginary part of the ground impedance exceeds its real part",
    c.ERR_MDVAR: "invalid mode of variability mdvar (0-3, +10, +20)",
    c.ERR_EFFECTIVE_EARTH: "internally computed effective earth radius is invalid",
    c.ERR_PATH_DISTANCE: "path distance is out of range (> 0)",
    c.ERR_DELTA_H: "terrain irregularity delta_h is out of range (>= 0)",
    c.ERR_TX_SITING: "invalid TX siting criteria (0 random, 1 careful, 2 very careful)",
    c.ERR_RX_SITING: "invalid RX siting criteria (0 random, 1 careful, 2 very careful)",
    c.ERR_NS_SMALL: "internally computed surface refractivity is too small (< 150 N-units)",
    c.ERR_NS_LARGE: "internally computed surface refractivity is too large (> 400 N-units)",
    ERR_NOT_FINITE: "no finite loss for these inputs (extreme distance, elevations or ground constants)",
}


class ItmInputError(ConfigError):
    """ITM rejected its inputs; ``code`` is the reference's error code (1000-1022).

    Code 1100 (:data:`ERR_NOT_FINITE`) is this package's own: inputs the reference accepts
    but on which its arithmetic breaks down (a division by zero, or a NaN or infinite
    loss), e.g. a spacing of 1e30 m or a ground of conductivity 1000 S/m at 100 MHz.
    """

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        text = ITM_ERRORS.get(code, "unknown error")
        super().__init__(f"ITM error {code}: {text}{detail}")


def warning_messages(flags: int) -> list[str]:
    """Decode ITM warning flags into messages (empty list when ``flags == 0``).

    Examples
    --------
    >>> for msg in warning_messages(0x0040 | 0x0004):
    ...     print(msg)
    frequency is near its limits (40-10000 MHz)
    path distance is small (< 1 km); care must be taken with the result
    >>> warning_messages(0)
    []
    """
    return [msg for bit, msg in ITM_WARNINGS.items() if flags & bit]


@dataclass(frozen=True)
class ItmParams:
    """Longley-Rice (ITM v1.3) parameters other than geometry and frequency.

    Defaults are for northern Viet Nam (hills and mountains around 21-23 N):

    * ``climate = 2`` continental subtropical. The region has a monsoon climate with a
      wet summer and a dry, cool winter (Koppen Cwa/Cwb), the seasonal contrast ITM's
      climate 2 describes (its type example is the Sudan); climate 1 (equatorial, Congo
      type) assumes uniformly humid air all year, and climate 3 (maritime subtropical)
      fits the coastal strip rather than the inland hill provinces where gaps are.
      The choice only changes the time-variability curves (median shift V_med and
      sigma_T); at 50 % time it moves the loss by at most about 1 dB under 20 km.
    * ``n0_n_units = 350``: sea-level surface refractivity of humid tropical air
      (ITU-R P.453 maps give about 350-370 N-units over South-East Asia; [M] value
      quoted from memory, not re-checked). ITM lowers it with the path's mean
      elevation (N_s = N_0 exp(-h/9460 m)).
    * ``epsilon = 15``, ``sigma_s_per_m = 0.005``: ITM's "average ground".
    * ``polarization = "vertical"``: mobile-network antennas (cross-polar panels
      behave close to vertical for ground reflection at low grazing angles).
    * ``mdvar = 12``: mobile variability (2) without location variability (+10): the
      engine adds its own location margin (``RadioParams.location_sigma_db``), so ITM
      must not add location spread on top; ``time_pct``, ``location_pct``,
      ``situation_pct`` = 50 give the median loss.

    Parameters
    ----------
    climate
        Radio climate code 1-7 (:data:`CLIMATES`).
    n0_n_units
        Sea-level surface refractivity, N-units (250-400).
    epsilon
        Relative permittivity of the ground.
    sigma_s_per_m
        Ground conductivity, S/m.
    polarization
        ``"vertical"`` or ``"horizontal"``.
    mdvar
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast;
        +10 no location variability, +20 no situation variability.
    time_pct, location_pct, situation_pct
        Percentages (0-100, exclusive) for time/location/situation variability.

    Examples
    --------
    >>> ItmParams().climate, ItmParams().pol
    (2, 1)
    >>> ItmParams(climate=9)
    Traceback (most recent call last):
    ...
    coverage._errors.ConfigError: ItmParams.climate was 9 but is expected to be one of [1, 2, 3, 4, 5, 6, 7]
    """

    climate: int = 2
    n0_n_units: float = 350.0
    epsilon: float = 15.0
    sigma_s_per_m: float = 0.005
    polarization: Literal["vertical", "horizontal"] = "vertical"
    mdvar: int = 12
    time_pct: float = 50.0
    location_pct: float = 50.0
    situation_pct: float = 50.0

    def __post_init__(self) -> None:
        if self.climate not in CLIMATES:
            raise ConfigError(
                f"ItmParams.climate was {self.climate!r} but is expected to be one of {list(CLIMATES)}"
            )
        if self.polarization not in ("vertical", "horizontal"):
            raise ConfigError(
                f"ItmParams.polarization was {self.polarization!r} "
                "but is expected to be 'vertical' or 'horizontal'"
            )
        checks = {
            "n0_n_units": (250.0, 400.0, True),
            "epsilon": (1.0, math.inf, True),
            "sigma_s_per_m": (0.0, math.inf, False),
            "time_pct": (0.0, 100.0, False),
            "location_pct": (0.0, 100.0, False),
            "situation_pct": (0.0, 100.0, False),
        }
        for name, (lo, hi, closed) in checks.items():
            v = getattr(self, name)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            ok = ok and ((lo <= v <= hi) if closed else (lo < v < hi))
            if not ok:
                rng = f"[{lo}, {hi}]" if closed else f"({lo}, {hi})"
                raise ConfigError(f"ItmParams.{name} must be a finite number in {rng}, got {v!r}")
        m = self.mdvar
        if not isinstance(m, int) or m < 0 or m > 33 or m % 10 > 3:
            raise ConfigError(f"ItmParams.mdvar was {m!r} but is expected to be 0-3, plus 10 and/or 20")

    @property
    def pol(self) -> int:
        """Polarization code of the reference: 0 horizontal, 1 vertical."""
        return 1 if self.polarization == "vertical" else 0
