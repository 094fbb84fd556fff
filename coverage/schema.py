"""Vocabulary and column schemas of every input layer.

This module is the single source of truth for what the readers accept, what the
validator checks and what the README documents. Units are in the column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMMUNE_COLUMNS",
    "MCC_VIETNAM",
    "MNC_OPERATORS",
    "OPENCELLID_RADIO",
    "OPERATORS",
    "OPERATOR_ALIASES",
    "OUTAGE_COLUMNS",
    "OUTAGE_KINDS",
    "POWER_SOURCES",
    "REPORTER_COLUMNS",
    "STATUSES",
    "TECHNOLOGIES",
    "TOWER_COLUMNS",
    "VILLAGE_COLUMNS",
    "Column",
    "Technology",
    "normalise_operator",
]

Technology = Literal["2G", "3G", "4G", "5G"]
TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G")
STATUSES: tuple[str, ...] = ("on_air", "planned", "down")
POWER_SOURCES: tuple[str, ...] = ("grid", "solar", "none", "unknown")
OUTAGE_KINDS: tuple[str, ...] = ("no_signal", "weak", "no_data", "power_cut")

#: Canonical operator names. VNPT's mobile brand is VinaPhone.
OPERATORS: tuple[str, ...] = ("Viettel", "VNPT", "MobiFone", "Vietnamobile", "Gmobile", "iTel")

#: Lower-cased spellings accepted for each operator (diacritics and brand names).
OPERATOR_ALIASES: dict[str, str] = {
    "viettel": "Viettel",
    "viettel telecom": "Viettel",
    "vnpt": "VNPT",
    "vinaphone": "VNPT",
    "vnpt-vinaphone": "VNPT",
    "vnpt vinaphone": "VNPT",
    "mobifone": "MobiFone",
    "mobi": "MobiFone",
    "vietnamobile": "Vietnamobile",
    "vnmobile": "Vietnamobile",
    "gmobile": "Gmobile",
    "beeline": "Gmobile",
    "itel": "iTel",
    "itelecom": "iTel",
}

#: ITU-T E.212 mobile country code of Viet Nam.
MCC_VIETNAM = 452

#: Mobile network codes under MCC 452, checked against the Wikipedia-derived PLMN
#: table in ``Midas-Mainline/android_external_libsamsung-ril:include/plmn_list.h``
#: (ITU-T E.212 assignments): 01 MobiFone, 02 VinaPhone (VNPT), 04 Viettel,
#: 05 Vietnamobile, 07 G-Mobile. Codes of defunct networks (03 S-Fone, 06/08
#: EVNTelecom) are left out on purpose: rows with them are reported, and a project
#: file can map them (``[inputs.towers] mnc_operators = { 8 = "Viettel" }``).
MNC_OPERATORS: dict[int, str] = {
    1: "MobiFone",
    2: "VNPT",
    4: "Viettel",
    5: "Vietnamobile",
    7: "Gmobile",
}

#: OpenCelliD ``radio`` values and the technology they stand for.
OPENCELLID_RADIO: dict[str, str] = {"GSM": "2G", "CDMA": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}

#: Columns that may identify a person; used only for de-duplication, never output.
REPORTER_COLUMNS: tuple[str, ...] = ("reporter_name", "reporter_phone")


def normalise_operator(value: object) -> str | None:
    """Return the canonical operator name for ``value``, or ``None`` if unknown.

    Examples
    --------
    >>> normalise_operator(" VinaPhone ")
    'VNPT'
    >>> normalise_operator("Orange") is None
    True
    """
    if value is None:
        return None
    key = " ".join(str(value).strip().lower().split())
    if key in OPERATOR_ALIASES:
        return OPERATOR_ALIASES[key]
    for name in OPERATORS:
        if key == name.lower():
            return name
    return None


Kind = Literal["str", "int", "float", "bool", "datetime"]


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    Parameters
    ----------
    name
        Column name after normalisation (units in the name).
    kind
        Value type after parsing.
    required
        Whether a file must have the column.
    description
        Meaning and unit, for documentation and error messages.
    choices
        Allowed values for a closed set, if any.
    min_value, max_value
        Physical range (inclusive) for numbers.
    """

    name: str
    kind: Kind
    required: bool
    description: str
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None


VILLAGE_COLUMNS: tuple[Column, ...] = (
    Column("village_id", "str", True, "unique village id (e.g. commune code + index)"),
    Column("name", "str", True, "village name (thôn/bản), with diacritics"),
    Column("commune_code", "str", True, "post-2025 GSO commune code"),
    Column("commune_name", "str", False, "commune name"),
    Column("province", "str", False, "province name"),
    Column("population", "int", False, "residents (people)", min_value=0, max_value=200_000),
    Column("households", "int", False, "households", min_value=0, max_value=50_000),
    Column("has_grid_power", "bool", False, "village is on the national grid"),
    Column("extremely_difficult", "bool", False, "extremely difficult village/commune (612/861)"),
    Column("schools", "int", False, "number of schools", min_value=0, max_value=100),
    Column("health_stations", "int", False, "number of health stations", min_value=0, max_value=100),
)

COMMUNE_COLUMNS: tuple[Column, ...] = (
    Column("commune_code", "str", True, "post-2025 GSO commune code"),
    Column("name", "str", True, "commune name"),
    Column("province", "str", True, "province name"),
    Column("population", "int", False, "residents (people)", min_value=0, max_value=5_000_000),
)

TOWER_COLUMNS: tuple[Column, ...] = (
    Column("site_id", "str", True, "site id, unique per operator site"),
    Column("sector_id", "str", False, "sector id within the site (empty for omni)"),
    Column("operator", "str", True, "operator", choices=OPERATORS),
    Column("technology", "str", True, "radio technology", choices=TECHNOLOGIES),
    Column("band_mhz", "float", True, "carrier frequency band in MHz", min_value=400, max_value=7125),
    Column("antenna_height_m", "float", True, "antenna height above ground, m", min_value=1, max_value=300),
    Column(
        "azimuth_deg",
        "float",
        False,
        "sector azimuth, degrees from north; empty = omni",
        min_value=0,
        max_value=360,
    ),
    Column(
        "tilt_deg", "float", False, "total downtilt, degrees (positive = down)", min_value=-10, max_value=30
    ),
    Column("eirp_dbm", "float", False, "sector EIRP over the whole channel, dBm", min_value=10, max_value=90),
    Column(
        "tx_power_dbm",
        "float",
        False,
        "transmitter power at the antenna port, dBm",
        min_value=0,
        max_value=65,
    ),
    Column("antenna_gain_dbi", "float", False, "antenna gain, dBi", min_value=-5, max_value=35),
    Column("status", "str", False, "on_air / planned / down", choices=STATUSES),
    Column("power_source", "str", False, "grid / solar / none / unknown", choices=POWER_SOURCES),
    Column("bandwidth_mhz", "float", False, "channel bandwidth, MHz", min_value=1.4, max_value=400),
)

OUTAGE_COLUMNS: tuple[Column, ...] = (
    Column("report_id", "str", True, "unique report id"),
    Column("reported_at", "datetime", True, "when reported, ISO 8601"),
    Column("village_id", "str", False, "village id, when the report has no coordinates"),
    Column("operator", "str", False, "operator", choices=OPERATORS),
    Column("technology", "str", False, "technology", choices=TECHNOLOGIES),
    Column("kind", "str", True, "no_signal / weak / no_data / power_cut", choices=OUTAGE_KINDS),
    Column("reporter_name", "str", False, "reporter name: de-duplication only, never output"),
    Column("reporter_phone", "str", False, "reporter phone: de-duplication only, never output"),
)
