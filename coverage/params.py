"""Frozen, validated parameter sets passed explicitly to the analysis core.

Every field carries its unit in its name. Each class validates itself in
``__post_init__`` and raises :class:`~coverage._errors.ConfigError` with the field,
the value received and the valid range, so a bad project file fails early and clearly.
Defaults are documented with their source (``../docs`` in the repository README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Literal

from coverage._errors import ConfigError

__all__ = [
    "CostParams",
    "EvidenceParams",
    "GapParams",
    "PriorityWeights",
    "RadioParams",
    "SignalThresholds",
    "Thresholds",
    "TowerDefaults",
]

Environment = Literal["urban", "suburban", "rural"]
ModelName = Literal["auto", "free_space", "hata", "cost231", "rma", "uma", "itm"]
ENVIRONMENTS: tuple[str, ...] = ("urban", "suburban", "rural")
MODELS: tuple[str, ...] = ("auto", "free_space", "hata", "cost231", "rma", "uma", "itm")


def _check_range(obj: object, name: str, lo: float, hi: float) -> None:
    value = getattr(obj, name)
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise ConfigError(f"{type(obj).__name__}.{name} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{type(obj).__name__}.{name} must be between {lo} and {hi}, got {value!r}")


def _check_choice(obj: object, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(obj, name)
    if value not in choices:
        raise ConfigError(
            f"{type(obj).__name__}.{name} was {value!r} but is expected to be one of {list(choices)}"
        )


@dataclass(frozen=True)
class RadioParams:
    """How signal is predicted.

    Parameters
    ----------
    resolution_m
        Analysis grid cell size in metres (working CRS). Default 30 m, the SRTM1 scale.
    max_radius_km
        Hard cap on the distance computed around any site.
    radius_margin_db
        A site is computed out to where its RSRP falls below the lowest class threshold
        minus this margin (then capped by ``max_radius_km``).
    k_factor
        Effective earth radius factor (4/3 = standard radio atmosphere, ITU-R P.453).
    receiver_height_m
        Receiver height above ground (1.5 m handset, FCC BDC and 3GPP default).
    environment
        Clutter class for Hata/COST-231 corrections and the default model choice.
    model
        ``"auto"`` picks per band: Okumura-Hata below 1500 MHz, COST-231 Hata 1500–2000 MHz,
        3GPP TR 38.901 RMa (rural) or UMa (urban/suburban) above.
    location_sigma_db
        Standard deviation of log-normal location variability (shadow fading), dB.
    cell_edge_probability
        Probability that a cell predicted at the threshold really is above it. The margin
        is ``sigma * Phi^-1(p)``: 0 dB at 0.5, 10.3 dB at 0.9 with sigma 8 dB (FCC BDC 90 %).
    technologies
        Technologies to compute (``"4G"``, ``"5G"``).
    bandwidth_mhz_4g, bandwidth_mhz_5g
        Channel bandwidth when a tower row has none, for the RSRP-per-resource-element
        conversion.
    subcarrier_khz_5g
        NR subcarrier spacing (30 kHz for mid-band TDD).
    dem_void_fill_m
        DEM voids (nodata) up to this distance from valid terrain are filled by
        inverse-distance interpolation (GDAL ``FillNodata``) before computing, as SRTM
        users routinely do; larger voids stay nodata and their shadow stays *unknown*.
        0 disables filling. The number of filled cells is reported.
    horizontal_beamwidth_deg, vertical_beamwidth_deg, front_to_back_db, sidelobe_db
        Sector antenna pattern (3GPP TR 38.901 Table 7.3-1 form): 65 degrees horizontal,
        30 dB front-to-back; vertical 10 degrees and 20 dB side-lobe level are typical
        of a macro panel (the 3GPP element pattern uses 65/30 for a single element).
    """

    resolution_m: float = 30.0
    max_radius_km: float = 20.0
    radius_margin_db: float = 10.0
    k_factor: float = 4.0 / 3.0
    receiver_height_m: float = 1.5
    environment: Environment = "rural"
    model: ModelName = "auto"
    location_sigma_db: float = 0.0
    cell_edge_probability: float = 0.5
    technologies: tuple[str, ...] = ("4G", "5G")
    bandwidth_mhz_4g: float = 10.0
    bandwidth_mhz_5g: float = 100.0
    subcarrier_khz_5g: float = 30.0
    dem_void_fill_m: float = 500.0
    horizontal_beamwidth_deg: float = 65.0
    vertical_beamwidth_deg: float = 10.0
    front_to_back_db: float = 30.0
    sidelobe_db: float = 20.0

    def __post_init__(self) -> None:
        _check_range(self, "resolution_m", 1.0, 1000.0)
        _check_range(self, "max_radius_km", 0.1, 200.0)
        _check_range(self, "radius_margin_db", 0.0, 60.0)
        _check_range(self, "k_factor", 0.3, 10.0)
        _check_range(self, "receiver_height_m", 0.5, 100.0)
        _check_choice(self, "environment", ENVIRONMENTS)
        _check_choice(self, "model", MODELS)
        _check_range(self, "location_sigma_db", 0.0, 20.0)
        _check_range(self, "cell_edge_probability", 0.01, 0.999)
        _check_range(self, "bandwidth_mhz_4g", 1.4, 20.0)
        _check_range(self, "bandwidth_mhz_5g", 5.0, 400.0)
        _check_range(self, "subcarrier_khz_5g", 15.0, 120.0)
        _check_range(self, "dem_void_fill_m", 0.0, 10_000.0)
        _check_range(self, "horizontal_beamwidth_deg", 5.0, 360.0)
        _check_range(self, "vertical_beamwidth_deg", 1.0, 90.0)
        _check_range(self, "front_to_back_db", 0.0, 60.0)
        _check_range(self, "sidelobe_db", 0.0, 60.0)
        techs = tuple(self.technologies)
        object.__setattr__(self, "technologies", techs)
        if not techs:
            raise ConfigError("RadioParams.technologies must name at least one of ['4G', '5G']")
        for tech in techs:
            if tech not in ("4G", "5G"):
                raise ConfigError(f"RadioParams.technologies has {tech!r}; expected '4G' and/or '5G'")


@dataclass(frozen=True)
class SignalThresholds:
    """RSRP class limits for one technology, dBm.

    ``good`` when RSRP >= ``good_dbm``; ``weak`` when ``weak_dbm`` <= RSRP < ``good_dbm``;
    ``none`` below ``weak_dbm``; ``no_data`` where the prediction is unknown.
    """

    good_dbm: float
    weak_dbm: float

    def __post_init__(self) -> None:
        _check_range(self, "good_dbm", -150.0, -40.0)
        _check_range(self, "weak_dbm", -160.0, -40.0)
        if self.weak_dbm >= self.good_dbm:
            raise ConfigError(
                f"SignalThresholds: weak_dbm ({self.weak_dbm}) must be below good_dbm ({self.good_dbm})"
            )


@dataclass(frozen=True)
class Thresholds:
    """Class limits per technology.

    Defaults follow the classes recommended in DOMAIN.md §3.8 (an assumption, not an
    official Vietnamese rule: Letter 1603/BTTTT-CVT was not found): 4G good >= -100 dBm,
    weak -100 to -115, none below -115; 5G SS-RSRP good >= -105, weak -105 to -120.
    """

    lte: SignalThresholds = field(default_factory=lambda: SignalThresholds(-100.0, -115.0))
    nr: SignalThresholds = field(default_factory=lambda: SignalThresholds(-105.0, -120.0))

    def for_technology(self, technology: str) -> SignalThresholds:
        """Return the thresholds of ``"4G"`` or ``"5G"``."""
        if technology == "4G":
            return self.lte
        if technology == "5G":
            return self.nr
        raise ConfigError(f"no thresholds for technology {technology!r}; expected '4G' or '5G'")

    @property
    def lowest_dbm(self) -> float:
        """The lowest threshold of any technology (sets the computation radius)."""
        return min(self.lte.weak_dbm, self.nr.weak_dbm)


@dataclass(frozen=True)
class TowerDefaults:
    """Values filled in where a tower row (e.g. from OpenCelliD) has none.

    Each filled value is flagged in the tower table (``filled_fields``) so a planner can
    see which numbers are assumptions. Heights: 30 m is a typical rural mast (DOMAIN.md
    §3.7 uses 35 m). EIRP: 4G 46 dBm + 17 dBi - 0.5 dB = 62.5 dBm; 5G 53 dBm + 24 dBi = 77.
    """

    antenna_height_m: float = 30.0
    eirp_dbm_2g: float = 58.0
    eirp_dbm_3g: float = 60.0
    eirp_dbm_4g: float = 62.5
    eirp_dbm_5g: float = 77.0
    band_mhz_2g: float = 900.0
    band_mhz_3g: float = 2100.0
    band_mhz_4g: float = 1800.0
    band_mhz_5g: float = 3700.0
    tilt_deg: float = 3.0
    status: str = "on_air"
    power_source: str = "unknown"

    def __post_init__(self) -> None:
        _check_range(self, "antenna_height_m", 1.0, 300.0)
        for f in fields(self):
            if f.name.startswith("eirp_dbm"):
                _check_range(self, f.name, 10.0, 90.0)
            elif f.name.startswith("band_mhz"):
                _check_range(self, f.name, 400.0, 7125.0)
        _check_range(self, "tilt_deg", -10.0, 30.0)
        _check_choice(self, "status", ("on_air", "planned", "down"))
        _check_choice(self, "power_source", ("grid", "solar", "none", "unknown"))

    def eirp_dbm(self, technology: str) -> float:
        """Default EIRP for a technology."""
        return float(getattr(self, f"eirp_dbm_{technology.lower()}"))

    def band_mhz(self, technology: str) -> float:
        """Default band for a technology."""
        return float(getattr(self, f"band_mhz_{technology.lower()}"))


@dataclass(frozen=True)
class GapParams:
    """How village statistics are taken from the signal rasters.

    Parameters
    ----------
    village_radius_m
        Villages given as points are represented by a disc of this radius for the
        covered-area share (the centre-point rule uses the point itself).
    outage_match_radius_m
        An outage report with coordinates belongs to the nearest village centre within
        this distance (or the village polygon containing it); otherwise it is unmatched.
    severity_cap_db
        Gap severity (dB below the "good" threshold) is normalised by this cap.
    distance_cap_km
        Distance to the nearest on-air site is normalised by this cap (cost proxy).
    """

    village_radius_m: float = 300.0
    outage_match_radius_m: float = 2000.0
    severity_cap_db: float = 30.0
    distance_cap_km: float = 20.0

    def __post_init__(self) -> None:
        _check_range(self, "village_radius_m", 0.0, 10_000.0)
        _check_range(self, "outage_match_radius_m", 0.0, 50_000.0)
        _check_range(self, "severity_cap_db", 1.0, 100.0)
        _check_range(self, "distance_cap_km", 0.1, 500.0)


@dataclass(frozen=True)
class EvidenceParams:
    """When reported outages count as evidence of a gap (FCC-challenge-like rule).

    A village has evidence when it has at least ``min_reports`` de-duplicated reports on at
    least ``min_distinct_days`` days within ``window_days`` before ``as_of`` (run date by
    default). Recency weight halves every ``half_life_days``.
    """

    window_days: int = 180
    min_reports: int = 5
    min_distinct_days: int = 3
    half_life_days: float = 60.0

    def __post_init__(self) -> None:
        _check_range(self, "window_days", 1, 3650)
        _check_range(self, "min_reports", 1, 10_000)
        _check_range(self, "min_distinct_days", 1, 3650)
        _check_range(self, "half_life_days", 1.0, 3650.0)


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the normalised score components (they need not sum to 1)."""

    uncovered_population: float = 0.35
    gap_severity: float = 0.20
    evidence: float = 0.15
    facilities: float = 0.15
    distance_to_site: float = 0.10
    five_g_only_gap: float = 0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(self, f.name, 0.0, 100.0)
        if sum(getattr(self, f.name) for f in fields(self)) <= 0:
            raise ConfigError("PriorityWeights: at least one weight must be positive")


@dataclass(frozen=True)
class CostParams:
    """Rough costs in VND (DOMAIN.md §3.6: rural BTS VND 0.5-1 bn; line ~0.5 bn/km)."""

    site_vnd: float = 750_000_000.0
    upgrade_5g_vnd: float = 300_000_000.0
    power_line_vnd_per_km: float = 500_000_000.0
    solar_power_vnd: float = 400_000_000.0

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(self, f.name, 0.0, 1e13)
