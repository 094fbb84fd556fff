r"""What-if tower placement: apply a :class:`Scenario` to the tower layer and recompute incrementally.

A scenario is an ordered list of changes to the tower layer:

* :class:`AddSite` - a new mast (position, height, operator, technology, band, sector
  azimuths or omni, EIRP, power source; unset values come from
  :class:`~coverage.params.TowerDefaults`);
* :class:`RemoveSite` - a site, or some of its sectors (by ``sector_id`` and/or
  ``technology``);
* :class:`ModifySite` - new height, azimuths (absolute, or a rotation), tilt, EIRP or band;
* :class:`UpgradeSite` - add sectors of a new technology (e.g. 5G) on the same mast, at the
  positions, heights and azimuths of its existing sectors, with the default band and EIRP
  of that technology unless given.

Incremental recomputation (:func:`update_signal`)
-------------------------------------------------
Best-server RSRP is a maximum over sectors, so the layers change only within the
computation radius of the sectors that changed. Let :math:`R` be the removed sectors
(removed rows and the old version of modified rows) and :math:`A` the added ones (new
rows, upgrades and the new version of modified rows).

*With the runner-up state* (a baseline computed with ``runner_up=True``, as
:func:`coverage.scenarios.load_baseline` does): the engine kept per cell the best value
:math:`b_2` of every site other than the serving one, and the number of sectors whose
value is unknown there. A site losing or changing a sector is removed whole and its
remaining rows join :math:`A`. In the disk of a removed site, a cell served by it falls
back to :math:`b_2` (exact: the other sites did not change), and the unknown count
loses the removed sectors' unknowns (the removed site is run alone to find them). The
sectors of :math:`A`, run alone, are folded in with the engine's rules (maximum, ties
to the sector sorting first, unknown counts added) and each cell is finished as in a
full run. Only where the runner-up is itself removed (two changed sites overlapping)
is the bounding box of those cells recomputed as in step 1 below. Cost: one sweep per
changed site, whatever the density of its neighbours.

*Without it* (or with diagnostics layers):

1. *Removals.* The window :math:`W` is the bounding box of the disks of :math:`R`. The
   engine recomputes :math:`W` with every sector of the scenario whose disk reaches it, on
   a sub-grid of the DEM covering their disks, and the result replaces :math:`W` in copies
   of the affected baseline layers. Outside :math:`W`, removed sectors contributed nothing.
2. *Additions.* The engine computes :math:`A` alone on a sub-grid around them; outside
   :math:`W` each affected cell becomes the best of the baseline and the new value:

   .. math:: RSRP'(x) = \max(RSRP(x), RSRP_A(x))

   with the engine's rules for unknowns: a value >= the lowest threshold wins whatever is
   unknown; otherwise an unknown (NaN) on either side gives NaN; ties go to the sector
   that sorts first, as in a full run.

Every path gives exactly what a full recomputation of the scenario gives (tested). Only
the layers of the changed (technology, operator) and their ``"any"`` layer are copied;
the others are shared with the baseline (treat layers as read-only). Sector rows are
appended to :attr:`SignalResult.sites`, so baseline ``serving_site`` indices stay valid;
removed rows stay in the table, flagged ``removed``. An empty scenario returns the
baseline signal itself. The scenario's result carries no runner-up state: evaluate
every scenario against the baseline.

Cost without the runner-up state: additions cost one site computation; removals cost
every sector reaching the window, i.e. grow with the site density times the squared
computation radius.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from shapely.geometry import Point

from coverage._errors import ConfigError
from coverage._types import Raster
from coverage._whatif_signal import SignalUpdate, update_signal
from coverage.gaps import VillageSignal, village_signal
from coverage.params import (
    CostParams,
    EvidenceParams,
    GapParams,
    PriorityWeights,
    RadioParams,
    Thresholds,
    TowerDefaults,
)
from coverage.priority import priority_table
from coverage.propagation import SignalResult
from coverage.schema import POWER_SOURCES, TECHNOLOGIES, normalise_operator

__all__ = [
    "AddSite",
    "ModifySite",
    "RemoveSite",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SignalUpdate",
    "UpgradeSite",
    "apply_scenario",
    "compare_villages",
    "evaluate_scenario",
    "update_signal",
]

Action = Literal["add", "remove", "modify", "upgrade"]


class ScenarioError(ConfigError):
    """A scenario is malformed or names a site, sector or technology that does not exist."""


def _where(change: object, source: str, index: int | None) -> str:
    line = getattr(change, "line", None)
    action = getattr(change, "action", "?")
    parts = [source]
    if index is not None:
        parts.append(f"change {index + 1}")
    if line is not None:
        parts.append(f"line {line}")
    return f"{', '.join(parts)} ({action})"


def _check_number(owner: str, name: str, value: float | None, lo: float, hi: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ScenarioError(f"{owner}: {name} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ScenarioError(f"{owner}: {name} must be between {lo} and {hi}, got {value!r}")


def _technology(owner: str, value: str) -> str:
    tech = str(value).upper()
    if tech not in TECHNOLOGIES:
        raise ScenarioError(
            f"{owner}: technology was {value!r} but is expected to be one of {list(TECHNOLOGIES)}"
        )
    return tech


@dataclass(frozen=True)
class AddSite:
    """Add a new mast: one row per azimuth (sector), or one omni row.

    Parameters
    ----------
    site_id
        New, unique site id.
    operator
        Operator (any spelling accepted by :func:`coverage.schema.normalise_operator`).
    x, y
        Position in ``crs`` (default lon/lat, EPSG:4326).
    technology
        ``"4G"`` (default) or ``"5G"`` (also ``"2G"``/``"3G"``, which are not computed).
    antenna_height_m, band_mhz, eirp_dbm, tilt_deg, bandwidth_mhz
        Sector values; ``None`` = the :class:`~coverage.params.TowerDefaults` value of the
        technology (bandwidth: the radio default).
    azimuth_deg
        Sector azimuths, degrees from north; empty = one omni row.
    power_source
        ``grid``, ``solar``, ``none`` or ``unknown``.
    line
        Line of the change in its scenario file (for messages only).
    """

    site_id: str
    operator: str
    x: float
    y: float
    crs: str = "EPSG:4326"
    technology: str = "4G"
    antenna_height_m: float | None = None
    band_mhz: float | None = None
    azimuth_deg: tuple[float, ...] = ()
    eirp_dbm: float | None = None
    tilt_deg: float | None = None
    bandwidth_mhz: float | None = None
    power_source: str = "unknown"
    line: int | None = field(default=None, compare=False, repr=False)

    action = "add"

    def __post_init__(self) -> None:
        owner = f"add site {self.site_id!r}"
        if not str(self.site_id).strip():
            raise ScenarioError("add site: site_id must not be empty")
        op = normalise_operator(self.operator)
        if op is None:
            raise ScenarioError(f"{owner}: unknown operator {self.operator!r}")
        object.__setattr__(self, "operator", op)
        object.__setattr__(self, "technology", _technology(owner, self.technology))
        az = tuple(float(a) for a in np.atleast_1d(np.asarray(self.azimuth_deg, dtype=float)))
        object.__setattr__(self, "azimuth_deg", az)
        for a in az:
            _check_number(owner, "azimuth_deg", a, 0.0, 360.0)
        _check_number(owner, "x", self.x, -1e8, 1e8)
        _check_number(owner, "y", self.y, -1e8, 1e8)
        _check_number(owner, "antenna_height_m", self.antenna_height_m, 1.0, 300.0)
        _check_number(owner, "band_mhz", self.band_mhz, 400.0, 7125.0)
        _check_number(owner, "eirp_dbm", self.eirp_dbm, 10.0, 90.0)
        _check_number(owner, "tilt_deg", self.tilt_deg, -10.0, 30.0)
        _check_number(owner, "bandwidth_mhz", self.bandwidth_mhz, 1.4, 400.0)
        if self.power_source not in POWER_SOURCES:
            raise ScenarioError(
                f"{owner}: power_source was {self.power_source!r} but is expected to be one of "
                f"{list(POWER_SOURCES)}"
            )
        try:
            CRS.from_user_input(self.crs)
        except Exception as exc:
            raise ScenarioError(f"{owner}: crs {self.crs!r} is not a valid CRS ({exc})") from None


@dataclass(frozen=True)
class RemoveSite:
    """Remove a site, or only its rows of one ``sector_id`` and/or ``technology``."""

    site_id: str
    sector_id: str | None = None
    technology: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)

    action = "remove"

    def __post_init__(self) -> None:
        if self.technology is not None:
            object.__setattr__(self, "technology", _technology(f"remove {self.site_id!r}", self.technology))


@dataclass(frozen=True)
class ModifySite:
    """Change the sectors of a site (all rows, or those of ``sector_id``/``technology``).

    ``azimuth_deg`` gives one azimuth per selected row (rows ordered by ``sector_id``),
    ``rotate_deg`` turns every selected row; the other values replace the row values.
    """

    site_id: str
    sector_id: str | None = None
    technology: str | None = None
    antenna_height_m: float | None = None
    azimuth_deg: tuple[float, ...] = ()
    rotate_deg: float | None = None
    tilt_deg: float | None = None
    eirp_dbm: float | None = None
    band_mhz: float | None = None
    line: int | None = field(default=None, compare=False, repr=False)

    action = "modify"

    def __post_init__(self) -> None:
        owner = f"modify site {self.site_id!r}"
        if self.technology is not None:
            object.__setattr__(self, "technology", _technology(owner, self.technology))
        az = tuple(float(a) for a in np.atleast_1d(np.asarray(self.azimuth_deg, dtype=float)))
        object.__setattr__(self, "azimuth_deg", az)
        for a in az:
            _check_number(owner, "azimuth_deg", a, 0.0, 360.0)
        _check_number(owner, "antenna_height_m", self.antenna_height_m, 1.0, 300.0)
        _check_number(owner, "rotate_deg", self.rotate_deg, -360.0, 360.0)
        _check_number(owner, "tilt_deg", self.tilt_deg, -10.0, 30.0)
        _check_number(owner, "eirp_dbm", self.eirp_dbm, 10.0, 90.0)
        _check_number(owner, "band_mhz", self.band_mhz, 400.0, 7125.0)
        if az and self.rotate_deg is not None:
            raise ScenarioError(f"{owner}: give azimuth_deg or rotate_deg, not both")
        if not any(
            v is not None and v != ()
            for v in (
                self.antenna_height_m,
                az,
                self.rotate_deg,
                self.tilt_deg,
                self.eirp_dbm,
                self.band_mhz,
            )
        ):
            raise ScenarioError(
                f"{owner}: nothing to change; give antenna_height_m, azimuth_deg, rotate_deg, "
                "tilt_deg, eirp_dbm or band_mhz"
            )


@dataclass(frozen=True)
class UpgradeSite:
    """Add ``technology`` sectors (default 5G) on the mast of a site's ``from_technology`` sectors."""

    site_id: str
    technology: str = "5G"
    from_technology: str = "4G"
    band_mhz: float | None = None
    eirp_dbm: float | None = None
    line: int | None = field(default=None, compare=False, repr=False)

    action = "upgrade"

    def __post_init__(self) -> None:
        owner = f"upgrade site {self.site_id!r}"
        object.__setattr__(self, "technology", _technology(owner, self.technology))
        object.__setattr__(self, "from_technology", _technology(owner, self.from_technology))
        if self.technology == self.from_technology:
            raise ScenarioError(f"{owner}: technology and from_technology are both {self.technology!r}")
        _check_number(owner, "band_mhz", self.band_mhz, 400.0, 7125.0)
        _check_number(owner, "eirp_dbm", self.eirp_dbm, 10.0, 90.0)


Change = AddSite | RemoveSite | ModifySite | UpgradeSite


@dataclass(frozen=True)
class Scenario:
    """An ordered list of changes to the tower layer.

    Parameters
    ----------
    changes
        Applied in order; a later change may refer to a site added earlier.
    name, description
        Free text for reports.
    source
        Where the scenario came from (its file), quoted in error messages.

    Examples
    --------
    >>> s = Scenario((AddSite("NEW-1", "vnpt", 105.8, 21.7, antenna_height_m=35),), name="hill mast")
    >>> s.changes[0].operator, len(Scenario())
    ('VNPT', 0)
    """

    changes: tuple[Change, ...] = ()
    name: str = ""
    description: str = ""
    source: str = "<scenario>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(self.changes))
        for i, c in enumerate(self.changes):
            if not isinstance(c, AddSite | RemoveSite | ModifySite | UpgradeSite):
                raise ScenarioError(f"{self.source}, change {i + 1}: not a scenario change: {c!r}")

    def __len__(self) -> int:
        return len(self.changes)


# --------------------------------------------------------------------------- towers


def _unknown_site(scenario: Scenario, i: int, change: Change, ids: Iterable[str]) -> ScenarioError:
    pool = sorted(set(ids))
    near = difflib.get_close_matches(change.site_id, pool, n=3, cutoff=0.5)
    hint = f"closest existing ids: {', '.join(near)}" if near else f"{len(pool)} site ids exist"
    return ScenarioError(
        f"{_where(change, scenario.source, i)}: site_id {change.site_id!r} is not in the tower layer; {hint}"
    )


def _select(towers: gpd.GeoDataFrame, scenario: Scenario, i: int, change: Change) -> np.ndarray:
    ids = towers["site_id"].astype(str)
    mask = (ids == str(change.site_id)).to_numpy()
    if not mask.any():
        raise _unknown_site(scenario, i, change, ids)
    where = _where(change, scenario.source, i)
    sector = getattr(change, "sector_id", None)
    if sector is not None:
        secs = towers["sector_id"].astype(str).to_numpy()
        m2 = mask & (secs == str(sector))
        if not m2.any():
            have = sorted(set(secs[mask]))
            raise ScenarioError(
                f"{where}: site {change.site_id!r} has no sector {sector!r}; its sectors are {have}"
            )
        mask = m2
    tech = getattr(change, "technology", None) if not isinstance(change, UpgradeSite) else None
    if tech is not None:
        techs = towers["technology"].astype(str).to_numpy()
        m2 = mask & (techs == tech)
        if not m2.any():
            have = sorted(set(techs[mask]))
            raise ScenarioError(f"{where}: site {change.site_id!r} has no {tech} rows; it has {have}")
        mask = m2
    return mask


def _new_rows(template: gpd.GeoDataFrame, records: list[dict], geoms: list) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(records)
    for col in template.columns:
        if col not in frame.columns and col != template.geometry.name:
            frame[col] = pd.Series(
                [None] * len(frame), dtype=template[col].dtype if len(template) else object
            )
    frame = frame[[c for c in template.columns if c != template.geometry.name]]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=template.crs)


def _sort_sectors(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        rows.assign(_sec=rows["sector_id"].astype(str))
        .sort_values("_sec", kind="mergesort")
        .drop(columns="_sec")
    )


def apply_scenario(
    towers: gpd.GeoDataFrame,
    scenario: Scenario,
    *,
    defaults: TowerDefaults | None = None,
) -> tuple[gpd.GeoDataFrame, frozenset[str]]:
    """Apply the changes of a scenario to a tower layer.

    Parameters
    ----------
    towers
        Tower rows (:data:`coverage.schema.TOWER_COLUMNS`) with a CRS; never modified.
    scenario
        The changes, applied in order.
    defaults
        Values for what an added or upgraded sector does not give.

    Returns
    -------
    (GeoDataFrame, frozenset)
        The scenario's tower layer (same CRS and columns; changed rows get
        ``source_format = "scenario"`` and the defaults used in ``filled_fields``), and the
        ids of the sites touched.

    Raises
    ------
    ScenarioError
        A change names a site id (with the closest existing ids), sector or technology that
        does not exist, adds an id that exists, or upgrades a site that has no sectors of
        ``from_technology`` or already has the new technology.

    Examples
    --------
    >>> t = gpd.GeoDataFrame({"site_id": ["A"], "sector_id": ["A1"], "operator": ["VNPT"],
    ...     "technology": ["4G"], "band_mhz": [900.0], "antenna_height_m": [30.0],
    ...     "azimuth_deg": [0.0], "eirp_dbm": [62.5], "status": ["on_air"]},
    ...     geometry=[Point(0, 0)], crs="EPSG:32648")
    >>> after, touched = apply_scenario(t, Scenario((UpgradeSite("A"),)))
    >>> after[["site_id", "technology", "band_mhz"]].values.tolist(), sorted(touched)
    ([['A', '4G', 900.0], ['A', '5G', 3700.0]], ['A'])
    >>> apply_scenario(t, Scenario((RemoveSite("B"),), source="s.toml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coverage.whatif.ScenarioError: s.toml, change 1 (remove): site_id 'B' is not in the tower layer; ...
    """
    defaults = TowerDefaults() if defaults is None else defaults
    out = towers.copy()
    if "filled_fields" not in out.columns:
        out["filled_fields"] = ""
    if "source_format" not in out.columns:
        out["source_format"] = ""
    touched: set[str] = set()
    for i, change in enumerate(scenario.changes):
        where = _where(change, scenario.source, i)
        if isinstance(change, AddSite):
            if (out["site_id"].astype(str) == change.site_id).any():
                raise ScenarioError(
                    f"{where}: site_id {change.site_id!r} already exists; use action 'modify' "
                    "or 'upgrade' to change it, or choose a new id"
                )
            pt = gpd.GeoSeries([Point(change.x, change.y)], crs=change.crs).to_crs(out.crs).iloc[0]
            filled = []
            if change.antenna_height_m is None:
                filled.append("antenna_height_m")
            if change.band_mhz is None:
                filled.append("band_mhz")
            if change.eirp_dbm is None:
                filled.append("eirp_dbm")
            azs: Sequence[float] = change.azimuth_deg or (math.nan,)
            records = []
            for k, az in enumerate(azs):
                records.append(
                    {
                        "site_id": change.site_id,
                        "sector_id": f"{change.site_id}-{k + 1}" if change.azimuth_deg else None,
                        "operator": change.operator,
                        "technology": change.technology,
                        "band_mhz": change.band_mhz or defaults.band_mhz(change.technology),
                        "antenna_height_m": change.antenna_height_m or defaults.antenna_height_m,
                        "azimuth_deg": az,
                        "tilt_deg": defaults.tilt_deg if change.tilt_deg is None else change.tilt_deg,
                        "eirp_dbm": change.eirp_dbm or defaults.eirp_dbm(change.technology),
                        "bandwidth_mhz": math.nan if change.bandwidth_mhz is None else change.bandwidth_mhz,
                        "status": "on_air",
                        "power_source": change.power_source,
                        "source_format": "scenario",
                        "filled_fields": ";".join(filled),
                    }
                )
            added = _new_rows(out, records, [pt] * len(records))
            out = pd.concat([out, added], ignore_index=True)
            touched.add(change.site_id)
        elif isinstance(change, RemoveSite):
            mask = _select(out, scenario, i, change)
            out = out.loc[~mask].reset_index(drop=True)
            touched.add(change.site_id)
        elif isinstance(change, ModifySite):
            mask = _select(out, scenario, i, change)
            idx = _sort_sectors(out.loc[mask]).index
            if change.azimuth_deg and len(change.azimuth_deg) != len(idx):
                raise ScenarioError(
                    f"{where}: {len(change.azimuth_deg)} azimuth(s) given for {len(idx)} sector row(s) of "
                    f"site {change.site_id!r} (ordered by sector_id: {out.loc[idx, 'sector_id'].tolist()})"
                )
            out = out.copy()
            for col in ("antenna_height_m", "tilt_deg", "eirp_dbm", "band_mhz"):
                value = getattr(change, col)
                if value is not None:
                    out.loc[idx, col] = float(value)
            if change.azimuth_deg:
                out.loc[idx, "azimuth_deg"] = list(change.azimuth_deg)
            if change.rotate_deg is not None:
                out.loc[idx, "azimuth_deg"] = (
                    out.loc[idx, "azimuth_deg"].astype(float) + change.rotate_deg
                ) % 360
            out.loc[idx, "source_format"] = "scenario"
            touched.add(change.site_id)
        else:  # UpgradeSite
            mask = _select(out, scenario, i, change)
            techs = out["technology"].astype(str).to_numpy()
            if (mask & (techs == change.technology)).any():
                raise ScenarioError(
                    f"{where}: site {change.site_id!r} already has {change.technology} sectors"
                )
            base = out.loc[mask & (techs == change.from_technology)]
            if "status" in base.columns:
                base = base[base["status"].astype(str) == "on_air"]
            if base.empty:
                raise ScenarioError(
                    f"{where}: site {change.site_id!r} has no on-air {change.from_technology} sectors "
                    "to upgrade; "
                    f"it has {sorted(set(techs[mask]))}"
                )
            new = _sort_sectors(base).copy()
            new["technology"] = change.technology
            new["sector_id"] = [
                None if s is None or pd.isna(s) else f"{s}-{change.technology}" for s in new["sector_id"]
            ]
            new["band_mhz"] = change.band_mhz or defaults.band_mhz(change.technology)
            new["eirp_dbm"] = change.eirp_dbm or defaults.eirp_dbm(change.technology)
            for col in ("tx_power_dbm", "antenna_gain_dbi", "bandwidth_mhz"):
                if col in new.columns:
                    new[col] = math.nan
            new["source_format"] = "scenario"
            new["filled_fields"] = ";".join(
                f for f, v in (("band_mhz", change.band_mhz), ("eirp_dbm", change.eirp_dbm)) if v is None
            )
            out = pd.concat([out, new], ignore_index=True)
            touched.add(change.site_id)
    return gpd.GeoDataFrame(out, geometry=towers.geometry.name, crs=towers.crs), frozenset(touched)


# --------------------------------------------------------------------------- villages


_COMPARE = (
    "class_4g_any",
    "class_5g_any",
    "rsrp_centre_dbm_4g_any",
    "rsrp_centre_dbm_5g_any",
    "covered_share_4g_any",
    "uncovered_population",
    "status",
    "recommended_action",
    "rank",
)


def compare_villages(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per village, the figures before and after a scenario and what changed.

    Parameters
    ----------
    before, after
        Priority tables (:func:`coverage.priority.priority_table`) of the baseline and of
        the scenario.

    Returns
    -------
    pandas.DataFrame
        ``village_id``, the village attributes, ``<column>_before`` / ``<column>_after``
        for the class, centre RSRP, covered share, uncovered population, status, action
        and rank; ``change_4g`` / ``change_5g`` (e.g. ``"none -> good"``, empty when
        unchanged); ``newly_covered_4g`` / ``lost_4g`` (the centre class enters / leaves
        weak-or-good); ``newly_covered_population_4g`` (the population of newly covered
        villages) and ``uncovered_population_change`` (after - before). Sorted by newly
        covered population, then by the rank after.

    Examples
    --------
    >>> b = pd.DataFrame({"village_id": ["a", "b"], "population": [100, 50], "rank": [1, 2],
    ...                   "class_4g_any": ["none", "good"], "uncovered_population": [100.0, 0.0]})
    >>> a = b.assign(class_4g_any=["weak", "good"], uncovered_population=[0.0, 0.0], rank=[2, 1])
    >>> c = compare_villages(b, a)
    >>> c[["village_id", "change_4g", "newly_covered_population_4g"]].values.tolist()
    [['a', 'none -> weak', 100], ['b', '', 0]]
    """
    keys = [
        "village_id",
        *[
            c
            for c in ("name", "commune_code", "commune_name", "province", "population")
            if c in before.columns
        ],
    ]
    left = before[keys + [c for c in _COMPARE if c in before.columns]].copy()
    right = after[["village_id", *[c for c in _COMPARE if c in after.columns]]]
    left["village_id"] = left["village_id"].astype(str)
    right = right.assign(village_id=right["village_id"].astype(str))
    out = left.merge(right, on="village_id", how="outer", suffixes=("_before", "_after"), sort=False)
    pop = pd.to_numeric(out.get("population", pd.Series(0, index=out.index)), errors="coerce").fillna(0)
    covered = ("weak", "good")
    for tech in ("4g", "5g"):
        b, a = f"class_{tech}_any_before", f"class_{tech}_any_after"
        if b not in out.columns or a not in out.columns:
            continue
        cb, ca = out[b].fillna("no_data").astype(str), out[a].fillna("no_data").astype(str)
        out[f"change_{tech}"] = np.where(cb != ca, cb + " -> " + ca, "")
        if tech == "4g":
            out["newly_covered_4g"] = ~cb.isin(covered) & ca.isin(covered)
            out["lost_4g"] = cb.isin(covered) & ~ca.isin(covered)
            out["newly_covered_population_4g"] = np.where(out["newly_covered_4g"], pop, 0).astype(np.int64)
    if "uncovered_population_before" in out.columns:
        out["uncovered_population_change"] = (
            out["uncovered_population_after"] - out["uncovered_population_before"]
        )
    order = ["newly_covered_population_4g", "rank_after"]
    order = [c for c in order if c in out.columns]
    if order:
        asc = [c != "newly_covered_population_4g" for c in order]
        out = out.sort_values([*order, "village_id"], ascending=[*asc, True], kind="mergesort")
    return out.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """Everything a scenario changed.

    Parameters
    ----------
    scenario
        The scenario evaluated.
    towers
        The scenario's tower layer (CRS of the input towers).
    touched
        Site ids changed.
    signal
        The scenario's signal layers (see :func:`update_signal`).
    villages
        Village statistics on the scenario's layers.
    priority
        The scenario's priority list.
    comparison
        :func:`compare_villages` of the baseline and scenario priority lists.
    windows, sectors_computed
        Grid windows recomputed and sectors computed.
    seconds
        Wall time of the signal update and of the village statistics + priority.
    """

    scenario: Scenario
    towers: gpd.GeoDataFrame
    touched: frozenset[str]
    signal: SignalResult
    villages: VillageSignal
    priority: pd.DataFrame
    comparison: pd.DataFrame
    windows: tuple[tuple[int, int, int, int], ...]
    sectors_computed: int
    seconds: dict[str, float]

    @property
    def newly_covered_population(self) -> int:
        """People in villages whose 4G centre class becomes weak or good."""
        col = "newly_covered_population_4g"
        return int(self.comparison[col].sum()) if col in self.comparison else 0


def evaluate_scenario(
    scenario: Scenario,
    *,
    signal: SignalResult,
    dem: Raster,
    towers: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    baseline_priority: pd.DataFrame,
    radio: RadioParams,
    thresholds: Thresholds,
    tower_defaults: TowerDefaults | None = None,
    population: Raster | None = None,
    evidence: pd.DataFrame | None = None,
    gap_params: GapParams | None = None,
    evidence_params: EvidenceParams | None = None,
    weights: PriorityWeights | None = None,
    costs: CostParams | None = None,
    itm_params: object = None,
) -> ScenarioResult:
    """Apply a scenario and recompute signal (incrementally), village statistics and priority.

    Parameters
    ----------
    scenario
        The changes.
    signal, dem
        Baseline signal layers and the analysis-grid DEM they were computed on.
    towers
        Baseline tower layer (any CRS; added sites are converted to it).
    villages
        Villages in the grid CRS (as given to :func:`coverage.gaps.village_signal`).
    baseline_priority
        The baseline priority list, for the comparison.
    radio, thresholds, tower_defaults, gap_params, evidence_params, weights, costs, itm_params
        The parameters of the baseline run.
    population
        People per cell on the analysis grid, if any.
    evidence
        Per-village outage evidence of the baseline (it does not depend on towers).

    Returns
    -------
    ScenarioResult
        For an empty scenario the signal is the baseline's and the priority list equals
        the baseline's.
    """
    t0 = time.perf_counter()
    after, touched = apply_scenario(towers, scenario, defaults=tower_defaults)
    upd = update_signal(
        signal, dem, towers, after, touched, params=radio, thresholds=thresholds, itm_params=itm_params
    )
    t1 = time.perf_counter()
    towers_m = after.to_crs(signal.crs)
    stats = village_signal(
        villages, upd.signal, thresholds=thresholds, towers=towers_m, population=population, params=gap_params
    )
    priority = priority_table(
        stats.wide,
        evidence,
        weights=weights,
        thresholds=thresholds,
        gap_params=gap_params,
        evidence_params=evidence_params,
        costs=costs,
    )
    t2 = time.perf_counter()
    comparison = compare_villages(baseline_priority, priority)
    return ScenarioResult(
        scenario=scenario,
        towers=after,
        touched=touched,
        signal=upd.signal,
        villages=stats,
        priority=priority,
        comparison=comparison,
        windows=upd.windows,
        sectors_computed=upd.sectors_computed,
        seconds={"signal": t1 - t0, "villages_priority": t2 - t1, "total": time.perf_counter() - t0},
    )
