"""GeoDataFrame adapter of the site optimiser: candidates, costs and the coverage matrix.

The candidate x village matrix comes from the radio engine: each candidate (its sectors
as tower rows) is computed alone with :func:`~coverage.propagation.signal_from_towers` on
a sub-grid of the DEM around it, and its RSRP is read at each village centre cell (the
centre rule of :mod:`coverage.gaps`). A village is *newly covered* by a candidate when
that RSRP is at least the technology's ``weak_dbm`` (``min_class="weak"``, default) or
``good_dbm`` (``"good"``) while the baseline (existing sites, ``"any"`` operator) is
below it there. Villages whose baseline centre value is unknown (NaN) are left out
unless ``include_unknown``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from coverage._types import Raster
from coverage._zonal import centre_points
from coverage.params import CostParams, RadioParams, Thresholds, TowerDefaults
from coverage.propagation import SignalResult, signal_from_towers

if TYPE_CHECKING:
    from coverage.optimize import CoverageProblem, Selection

__all__ = [
    "SiteProblem",
    "candidates_at_villages",
    "candidates_from_dem",
    "candidates_from_points",
    "site_problem",
    "upgrade_candidates",
]

CANDIDATE_COLUMNS = (
    "candidate_id",
    "kind",
    "technology",
    "antenna_height_m",
    "band_mhz",
    "eirp_dbm",
    "sectors",
    "cost_vnd",
    "cost_basis",
)


def _require_metric(gdf: gpd.GeoDataFrame, name: str, crs: CRS) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise ValueError(f"{name} has no CRS; set it with {name}.set_crs(...)")
    if not CRS.from_user_input(gdf.crs).equals(crs, ignore_axis_order=True):
        return gdf.to_crs(crs)
    return gdf


def _points_only(gdf: gpd.GeoDataFrame, name: str) -> None:
    kinds = set(gdf.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        raise ValueError(f"{name} must be Points, got {sorted(kinds)}")


def candidates_from_points(
    points: gpd.GeoDataFrame,
    *,
    kind: str = "new_site",
    technology: str = "4G",
    antenna_height_m: float = 35.0,
    band_mhz: float | None = None,
    eirp_dbm: float | None = None,
    sectors: int = 3,
    defaults: TowerDefaults | None = None,
    prefix: str = "C",
) -> gpd.GeoDataFrame:
    """Return candidate sites at ``points``, filling what a column does not give.

    Columns of ``points`` that are kept when present: ``candidate_id``,
    ``antenna_height_m``, ``band_mhz``, ``eirp_dbm``, ``sectors`` (1 = omni, else
    evenly spaced azimuths from 0), ``cost_vnd`` (overrides the computed cost),
    ``has_grid_power`` and ``grid_distance_km`` (for the power cost).

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:32648")
    >>> c = candidates_from_points(pts)
    >>> c[["candidate_id", "kind", "band_mhz", "sectors"]].values.tolist()
    [['C0001', 'new_site', 900.0, 3]]
    """
    defaults = TowerDefaults() if defaults is None else defaults
    _points_only(points, "candidates")
    n = len(points)
    out = gpd.GeoDataFrame(geometry=points.geometry.to_numpy(), crs=points.crs)

    def col(name: str, default: object) -> np.ndarray:
        if name in points.columns:
            v = points[name].to_numpy(dtype=object)
            return np.array(
                [default if x is None or (isinstance(x, float) and math.isnan(x)) else x for x in v]
            )
        return np.full(n, default, dtype=object)

    if band_mhz is None:  # low band reaches farthest: screening default (DOMAIN.md §3.7)
        band_mhz = 900.0 if technology == "4G" else defaults.band_mhz(technology)
    ids = [f"{prefix}{i + 1:04d}" for i in range(n)]
    out["candidate_id"] = [str(v) for v in col("candidate_id", None)] if "candidate_id" in points else ids
    out["kind"] = kind
    out["technology"] = technology
    out["antenna_height_m"] = col("antenna_height_m", antenna_height_m).astype(float)
    out["band_mhz"] = col("band_mhz", band_mhz).astype(float)
    out["eirp_dbm"] = col(
        "eirp_dbm", eirp_dbm if eirp_dbm is not None else defaults.eirp_dbm(technology)
    ).astype(float)
    out["sectors"] = col("sectors", sectors).astype(int)
    for extra in ("cost_vnd", "has_grid_power", "grid_distance_km", "site_id", "operator"):
        if extra in points.columns:
            out[extra] = points[extra].to_numpy()
    return out


def candidates_at_villages(villages: gpd.GeoDataFrame, **kwargs: object) -> gpd.GeoDataFrame:
    """Return one candidate at each village centre (``candidate_id`` = ``V-<village_id>``).

    Takes the villages' ``has_grid_power`` and ``grid_distance_km`` for the power cost;
    other keywords go to :func:`candidates_from_points`.
    """
    pts = gpd.GeoDataFrame(
        {"candidate_id": ["V-" + str(v) for v in villages["village_id"]]},
        geometry=list(centre_points(villages.geometry)),
        crs=villages.crs,
    )
    for c in ("has_grid_power", "grid_distance_km"):
        if c in villages.columns:
            pts[c] = villages[c].to_numpy()
    return candidates_from_points(pts, **kwargs)  # type: ignore[arg-type]


def candidates_from_dem(
    dem: Raster,
    villages: gpd.GeoDataFrame,
    *,
    within_km: float = 3.0,
    block_m: float = 600.0,
    min_separation_m: float = 1500.0,
    max_candidates: int = 200,
    **kwargs: object,
) -> gpd.GeoDataFrame:
    """Return DEM high points near ``villages`` (e.g. the villages in a 4G gap) as candidates.

    The DEM is cut into square blocks of ``block_m``; the highest cell of each block whose
    centre is within ``within_km`` of a village is a local high point. The highest are
    kept, at least ``min_separation_m`` apart, up to ``max_candidates``
    (``candidate_id`` = ``H001``...). Other keywords go to :func:`candidates_from_points`.

    Examples
    --------
    >>> dem = Raster(np.arange(100, dtype="float32").reshape(10, 10), Affine(100, 0, 0, 0, -100, 1000),
    ...              CRS.from_epsg(32648))
    >>> v = gpd.GeoDataFrame({"village_id": ["a"]}, geometry=[Point(500, 500)], crs="EPSG:32648")
    >>> c = candidates_from_dem(dem, v, within_km=1, block_m=500, min_separation_m=100, max_candidates=2)
    >>> c["candidate_id"].tolist(), c["ground_m"].tolist()
    (['H001', 'H002'], [99.0, 94.0])
    >>> len(candidates_from_dem(dem, v.iloc[:0]))
    0
    """
    villages = _require_metric(villages, "villages", CRS.from_user_input(dem.crs))
    res = abs(dem.transform.a)
    k = max(1, round(block_m / res))
    rows, cols = dem.shape
    pts: list[tuple[float, float, float]] = []
    if len(villages):
        centres = np.asarray(centre_points(villages.geometry), dtype=object)
        tree = shapely.STRtree(centres)
        arr = dem.array
        for r0 in range(0, rows, k):
            for c0 in range(0, cols, k):
                block = arr[r0 : r0 + k, c0 : c0 + k]
                if np.isnan(block).all():
                    continue
                i = int(np.nanargmax(block))
                r, c = r0 + i // block.shape[1], c0 + i % block.shape[1]
                x, y = dem.transform * (c + 0.5, r + 0.5)
                pts.append((float(block.flat[i]), x, y))
        if pts:
            xy = shapely.points([(x, y) for _, x, y in pts])
            near, _ = tree.query(xy, predicate="dwithin", distance=within_km * 1000.0)
            ok = np.zeros(len(pts), dtype=bool)
            ok[np.unique(near)] = True
            pts = [p for p, keep in zip(pts, ok, strict=True) if keep]
    pts.sort(key=lambda p: (-p[0], p[1], p[2]))
    kept: list[tuple[float, float, float]] = []
    for p in pts:
        if len(kept) >= max_candidates:
            break
        if all((p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2 >= min_separation_m**2 for q in kept):
            kept.append(p)
    gdf = gpd.GeoDataFrame(
        {"candidate_id": [f"H{i + 1:03d}" for i in range(len(kept))], "ground_m": [p[0] for p in kept]},
        geometry=[Point(p[1], p[2]) for p in kept],
        crs=dem.crs,
    )
    out = candidates_from_points(gdf, **kwargs)  # type: ignore[arg-type]
    out["ground_m"] = gdf["ground_m"].to_numpy()
    return out


def upgrade_candidates(
    towers: gpd.GeoDataFrame,
    *,
    technology: str = "5G",
    from_technology: str = "4G",
    band_mhz: float | None = None,
    eirp_dbm: float | None = None,
    defaults: TowerDefaults | None = None,
) -> gpd.GeoDataFrame:
    """Return one upgrade candidate per on-air ``from_technology`` site without ``technology``.

    The candidate's sectors copy the site's azimuths (``azimuths`` column), mast position
    and height, with the default band and EIRP of the new technology; ``kind`` is
    ``"upgrade_5g"`` and the cost ``CostParams.upgrade_5g_vnd``.
    """
    defaults = TowerDefaults() if defaults is None else defaults
    on = towers[(towers["status"] == "on_air").to_numpy()] if "status" in towers else towers
    has_new = set(on.loc[on["technology"] == technology, "site_id"].astype(str))
    base = on[
        (on["technology"] == from_technology).to_numpy() & ~on["site_id"].astype(str).isin(has_new).to_numpy()
    ]
    recs, geoms = [], []
    for sid, g in base.groupby(base["site_id"].astype(str), sort=True):
        az = sorted(float(a) for a in g["azimuth_deg"] if a is not None and not pd.isna(a))
        recs.append(
            {
                "candidate_id": f"U-{sid}",
                "site_id": sid,
                "operator": str(g["operator"].iloc[0]),
                "kind": f"upgrade_{technology.lower()}",
                "technology": technology,
                "antenna_height_m": float(g["antenna_height_m"].max()),
                "band_mhz": band_mhz or defaults.band_mhz(technology),
                "eirp_dbm": eirp_dbm or defaults.eirp_dbm(technology),
                "sectors": max(1, len(az)),
                "azimuths": ";".join(f"{a:g}" for a in az),
            }
        )
        geoms.append(g.geometry.iloc[0])
    return gpd.GeoDataFrame(
        pd.DataFrame(recs, columns=[*CANDIDATE_COLUMNS[:7], "site_id", "operator", "azimuths"]),
        geometry=geoms,
        crs=towers.crs,
    )


def candidate_costs(
    candidates: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, costs: CostParams
) -> pd.DataFrame:
    """Cost of each candidate, VND, and what was counted.

    New site: ``site_vnd``, plus, where the nearest village has no grid power
    (``has_grid_power`` false), ``power_line_vnd_per_km x grid_distance_km`` when the
    candidate or that village gives the distance, else ``solar_power_vnd``. Upgrade:
    ``upgrade_5g_vnd``. A ``cost_vnd`` column on the candidates overrides all of this.
    """
    n = len(candidates)
    grid = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    if len(villages) and n:
        centres = np.asarray(centre_points(villages.geometry), dtype=object)
        tree = shapely.STRtree(centres)
        (src, nearest) = tree.query_nearest(
            np.asarray(candidates.geometry.values, dtype=object), all_matches=False
        )
        if "has_grid_power" in villages:
            g = villages["has_grid_power"].astype(object).to_numpy()
            grid[src] = [np.nan if v is None or v is pd.NA else float(bool(v)) for v in g[nearest]]
        if "grid_distance_km" in villages:
            dist[src] = pd.to_numeric(villages["grid_distance_km"], errors="coerce").to_numpy()[nearest]
    for col, arr in (("has_grid_power", grid), ("grid_distance_km", dist)):
        if col in candidates.columns:
            own = pd.to_numeric(candidates[col].astype(object), errors="coerce").to_numpy(dtype=float)
            arr[:] = np.where(np.isnan(own), arr, own)
    kind = candidates["kind"].astype(str).to_numpy() if "kind" in candidates else np.full(n, "new_site")
    no_grid = grid == 0
    power = np.where(np.isnan(dist), costs.solar_power_vnd, costs.power_line_vnd_per_km * np.nan_to_num(dist))
    cost = np.where(kind == "new_site", costs.site_vnd + np.where(no_grid, power, 0.0), costs.upgrade_5g_vnd)
    basis = np.where(
        kind == "new_site",
        np.where(no_grid, np.where(np.isnan(dist), "site + solar power", "site + power line"), "site"),
        "5G upgrade",
    ).astype(object)
    if "cost_vnd" in candidates.columns:
        own = pd.to_numeric(candidates["cost_vnd"], errors="coerce").to_numpy(dtype=float)
        cost = np.where(np.isnan(own), cost, own)
        basis = np.where(np.isnan(own), basis, "given")
    return pd.DataFrame({"cost_vnd": cost, "cost_basis": basis}, index=candidates.index)


def _sector_rows(cand: pd.Series, geom: Point, crs: object) -> gpd.GeoDataFrame:
    n = int(cand.get("sectors", 3) or 1)
    given = str(cand.get("azimuths", "") or "")
    if given:
        az = [float(a) for a in given.split(";")]
    else:
        az = [math.nan] if n <= 1 else [360.0 * k / n for k in range(n)]
    rows = [
        {
            "site_id": str(cand["candidate_id"]),
            "sector_id": f"{cand['candidate_id']}-{k + 1}" if not math.isnan(a) else None,
            "operator": "candidate",  # coverage is counted on the "any" layer: any operator may build
            "technology": cand["technology"],
            "band_mhz": float(cand["band_mhz"]),
            "antenna_height_m": float(cand["antenna_height_m"]),
            "azimuth_deg": a,
            "tilt_deg": 3.0,
            "eirp_dbm": float(cand["eirp_dbm"]),
            "status": "on_air",
        }
        for k, a in enumerate(az)
    ]
    return gpd.GeoDataFrame(rows, geometry=[geom] * len(rows), crs=crs)


def candidate_rsrp(
    candidates: gpd.GeoDataFrame,
    centres: np.ndarray,
    dem: Raster,
    *,
    radio: RadioParams,
    thresholds: Thresholds,
    itm_params: object = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RSRP of each candidate alone at the village centres it reaches (radio engine).

    Returns compressed rows ``(indptr, village_index, rsrp_dbm)``; villages outside a
    candidate's computation radius or with an unknown value are left out.
    """
    res = abs(dem.transform.a)
    n_max = math.ceil(radio.max_radius_km * 1000.0 / res) + 2
    rows_n, cols_n = dem.shape
    inv = ~dem.transform
    vx = np.array([p.x for p in centres], dtype=float)
    vy = np.array([p.y for p in centres], dtype=float)
    vc = np.floor(inv.a * vx + inv.b * vy + inv.c).astype(np.int64)
    vr = np.floor(inv.d * vx + inv.e * vy + inv.f).astype(np.int64)
    indptr = [0]
    idx_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    t = dem.transform
    for (_, cand), geom in zip(candidates.iterrows(), candidates.geometry, strict=True):
        c, r = inv @ (geom.x, geom.y)
        r, c = math.floor(r), math.floor(c)
        r0, r1 = max(0, r - n_max), min(rows_n, r + n_max + 1)
        c0, c1 = max(0, c - n_max), min(cols_n, c + n_max + 1)
        found = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0, dtype=np.float32)
        if r0 < r1 and c0 < c1 and 0 <= r < rows_n and 0 <= c < cols_n:
            sub = Raster(dem.array[r0:r1, c0:c1], t * Affine.translation(c0, r0), dem.crs)
            centre = Point(t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e)  # robust cell lookup
            tw = _sector_rows(cand, centre, dem.crs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a candidate on nodata is simply never chosen
                sig = signal_from_towers(
                    tw,
                    sub,
                    params=radio,
                    thresholds=thresholds,
                    technologies=(str(cand["technology"]),),
                    itm_params=itm_params,
                )
            layer = sig.layers[(str(cand["technology"]), "any")].rsrp_dbm
            inside = (vr >= r0) & (vr < r1) & (vc >= c0) & (vc < c1)
            found = np.flatnonzero(inside)
            vals = layer[vr[found] - r0, vc[found] - c0]
            ok = ~np.isnan(vals) & (vals > -200.0)
            found, vals = found[ok], vals[ok]
        idx_parts.append(found)
        val_parts.append(vals.astype(np.float32))
        indptr.append(indptr[-1] + len(found))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64),
        np.concatenate(val_parts) if val_parts else np.zeros(0, np.float32),
    )


@dataclass(frozen=True, eq=False)
class SiteProblem:
    """A coverage problem built from layers, with what is needed to report a selection.

    Parameters
    ----------
    problem
        The array core (:class:`~coverage.optimize.CoverageProblem`).
    candidates
        One row per candidate (grid CRS): ``candidate_id``, ``kind``, ``technology``,
        mast values, ``cost_vnd``, ``cost_basis``, ``coverable_villages``,
        ``coverable_population``.
    villages
        One row per village: ``village_id``, ``name``, ``population``, ``weight``,
        ``baseline_rsrp_dbm``, ``eligible`` (not covered by existing sites).
    rsrp
        ``(indptr, village_index, rsrp_dbm)`` of each candidate at the village centres.
    threshold_dbm
        RSRP a village centre needs to count as covered.
    """

    problem: CoverageProblem
    candidates: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    rsrp: tuple[np.ndarray, np.ndarray, np.ndarray]
    threshold_dbm: float

    def chosen_sites(self, selection: Selection) -> gpd.GeoDataFrame:
        """Return the chosen candidates in selection order, with what each adds.

        Columns added: ``order``; ``marginal_population`` (people newly covered that no
        earlier chosen site covers) and ``marginal_weight``; ``newly_covered_population``
        (all people it newly covers on its own); ``villages_covered``,
        ``marginal_villages`` and ``cumulative_cost_vnd``.
        """
        pop = self.villages["population"].to_numpy(dtype=float)
        covered = np.zeros(len(pop), dtype=bool)
        rows = []
        cum = 0.0
        for k, (j, gain) in enumerate(zip(selection.chosen, selection.gains, strict=True)):
            v = self.problem.covers(j)
            new = v[~covered[v]]
            cum += float(self.problem.costs_vnd[j])
            rows.append(
                {
                    "order": k + 1,
                    "marginal_population": round(pop[new].sum()),
                    "marginal_weight": float(gain),
                    "newly_covered_population": round(pop[v].sum()),
                    "villages_covered": len(v),
                    "marginal_villages": len(new),
                    "cumulative_cost_vnd": cum,
                }
            )
            covered[v] = True
        picked = self.candidates.iloc[list(selection.chosen)].reset_index(drop=True)
        extra = pd.DataFrame(
            rows,
            columns=[
                "order",
                "marginal_population",
                "marginal_weight",
                "newly_covered_population",
                "villages_covered",
                "marginal_villages",
                "cumulative_cost_vnd",
            ],
        )
        out = pd.concat([extra, pd.DataFrame(picked.drop(columns=picked.geometry.name))], axis=1)
        return gpd.GeoDataFrame(out, geometry=picked.geometry.to_numpy(), crs=self.candidates.crs)

    def covered_villages(self, selection: Selection) -> pd.DataFrame:
        """One row per (chosen candidate, village it newly covers): RSRP and ``first_by``."""
        indptr, idx, val = self.rsrp
        ok_set = set()
        recs = []
        for k, j in enumerate(selection.chosen):
            cov = set(self.problem.covers(j).tolist())
            for p in range(indptr[j], indptr[j + 1]):
                i = int(idx[p])
                if i not in cov:
                    continue
                recs.append(
                    {
                        "candidate_id": self.candidates["candidate_id"].iloc[j],
                        "order": k + 1,
                        "village_id": self.villages["village_id"].iloc[i],
                        "name": self.villages["name"].iloc[i] if "name" in self.villages else "",
                        "population": self.villages["population"].iloc[i],
                        "rsrp_dbm": float(val[p]),
                        "baseline_rsrp_dbm": self.villages["baseline_rsrp_dbm"].iloc[i],
                        "first_by": i not in ok_set,
                    }
                )
                ok_set.add(i)
        cols = [
            "candidate_id",
            "order",
            "village_id",
            "name",
            "population",
            "rsrp_dbm",
            "baseline_rsrp_dbm",
            "first_by",
        ]
        return pd.DataFrame(recs, columns=cols)


def site_problem(
    candidates: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    signal: SignalResult,
    dem: Raster,
    radio: RadioParams,
    thresholds: Thresholds,
    costs: CostParams | None = None,
    technology: str | None = None,
    min_class: Literal["weak", "good"] = "weak",
    weight: Literal["population", "priority"] = "population",
    priority: pd.DataFrame | None = None,
    include_unknown: bool = False,
    itm_params: object = None,
) -> SiteProblem:
    """Build the coverage problem from candidate and village layers (the GeoDataFrame adapter).

    Parameters
    ----------
    candidates
        Candidate sites (:func:`candidates_from_points` and friends); Points with a CRS.
    villages
        Villages (Points or Polygons) with ``village_id`` and ``population``; a CRS.
    signal, dem
        Baseline layers (existing sites, fixed) and the analysis-grid DEM they were
        computed on; candidates and villages are moved to its CRS.
    radio, thresholds
        As for the baseline run.
    costs
        Cost figures (default :class:`~coverage.params.CostParams`).
    technology
        Technology the candidates add (default: that of the first candidate, else 4G).
    min_class
        ``"weak"`` (RSRP >= ``weak_dbm``, the covered rule of :mod:`coverage.gaps`) or
        ``"good"`` (>= ``good_dbm``).
    weight
        ``"population"``, or ``"priority"``: population x priority ``score`` (needs
        ``priority``, the baseline priority list).
    include_unknown
        Count villages whose baseline centre value is unknown as not covered.
    """
    crs = CRS.from_user_input(dem.crs)
    _points_only(candidates, "candidates")
    candidates = _require_metric(candidates, "candidates", crs).reset_index(drop=True)
    villages = _require_metric(villages, "villages", crs).reset_index(drop=True)
    costs = CostParams() if costs is None else costs
    if technology is None:
        technology = str(candidates["technology"].iloc[0]) if len(candidates) else "4G"
    if len(candidates) and (candidates["technology"] != technology).any():
        raise ValueError(
            f"all candidates must add {technology}; optimise 4G new sites and 5G upgrades separately"
        )
    if min_class not in ("weak", "good"):
        raise ValueError(f"`min_class` was {min_class!r} but is expected to be one of ['weak', 'good']")
    if weight not in ("population", "priority"):
        raise ValueError(f"`weight` was {weight!r} but is expected to be one of ['population', 'priority']")
    t = thresholds.for_technology(technology)
    threshold = t.weak_dbm if min_class == "weak" else t.good_dbm
    centres = np.asarray(centre_points(villages.geometry), dtype=object)
    # baseline value at each village centre (existing sites, any operator)
    base_layer = signal.layers.get((technology, "any"))
    inv = ~signal.transform
    vx = np.array([p.x for p in centres], dtype=float)
    vy = np.array([p.y for p in centres], dtype=float)
    vc = np.floor(inv.a * vx + inv.b * vy + inv.c).astype(np.int64)
    vr = np.floor(inv.d * vx + inv.e * vy + inv.f).astype(np.int64)
    inside = (vr >= 0) & (vr < signal.shape[0]) & (vc >= 0) & (vc < signal.shape[1])
    base = np.full(len(villages), np.nan, dtype=np.float32)
    if base_layer is not None:
        base[inside] = base_layer.rsrp_dbm[vr[inside], vc[inside]]
    else:
        base[inside] = -200.0
    with np.errstate(invalid="ignore"):
        eligible = inside & ((base < threshold) | (np.isnan(base) & include_unknown))
    pop = pd.to_numeric(villages.get("population", pd.Series(0, index=villages.index)), errors="coerce")
    pop = pop.astype(float).fillna(0.0).to_numpy()
    w = pop.copy()
    if weight == "priority":
        if priority is None or "score" not in priority:
            raise ValueError("weight='priority' needs the baseline priority table (with a 'score' column)")
        score = priority.assign(village_id=priority["village_id"].astype(str)).set_index("village_id")[
            "score"
        ]
        w = w * score.reindex(villages["village_id"].astype(str)).fillna(0.0).to_numpy()
    indptr, idx, val = candidate_rsrp(
        candidates, centres, dem, radio=radio, thresholds=thresholds, itm_params=itm_params
    )
    ok = (val >= threshold) & eligible[idx]
    cs = np.concatenate([[0], np.cumsum(ok, dtype=np.int64)])
    keep_counts = cs[indptr[1:]] - cs[indptr[:-1]]
    new_ptr = np.zeros(len(indptr), dtype=np.int64)
    new_ptr[1:] = np.cumsum(keep_counts)
    cost = candidate_costs(candidates, villages, costs)
    from coverage.optimize import CoverageProblem

    problem = CoverageProblem(new_ptr, idx[ok].astype(np.int64), w, cost["cost_vnd"].to_numpy(dtype=float))
    cands = candidates.copy()
    cands["cost_vnd"] = cost["cost_vnd"].to_numpy()
    cands["cost_basis"] = cost["cost_basis"].to_numpy()
    cands["coverable_villages"] = np.diff(new_ptr)
    cands["coverable_population"] = [round(pop[problem.covers(j)].sum()) for j in range(len(cands))]
    vt = gpd.GeoDataFrame(
        {
            "village_id": villages["village_id"].astype(str).to_numpy(),
            "name": villages["name"].to_numpy() if "name" in villages else "",
            "population": pop,
            "weight": w,
            "baseline_rsrp_dbm": base,
            "eligible": eligible,
        },
        geometry=villages.geometry.to_numpy(),
        crs=crs,
    )
    return SiteProblem(problem, cands, vt, (indptr, idx, val), float(threshold))
