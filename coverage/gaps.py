"""Village signal statistics and gap polygons from the predicted RSRP layers.

Rules (all thresholds from :class:`~coverage.params.Thresholds`, per technology):

* **Class** of an RSRP value: ``good`` when RSRP >= ``good_dbm``; ``weak`` when
  ``weak_dbm`` <= RSRP < ``good_dbm``; ``none`` below ``weak_dbm`` (including
  :data:`~coverage.propagation.FLOOR_RSRP_DBM`, -200 dBm = no site reaches the cell);
  ``no_data`` where the prediction is unknown (NaN), never ``none``.
* **Centre rule** (Vietnamese lists, DOMAIN.md §1.3): a village's class is the class
  of the cell holding its centre point (polygons: ``representative_point()``).
* **Zone**: the cells whose centre lies inside the village polygon, or within
  ``GapParams.village_radius_m`` of a village point; the centre cell always belongs.
* **Covered** cell: RSRP >= ``weak_dbm`` (weak or good). ``covered_share`` = covered
  cells / known cells of the zone (NaN cells are left out of the denominator and
  counted in ``nodata_share`` = NaN cells / all cells). ``good_share`` likewise with
  ``good_dbm``. ``pop_covered_share`` weights each cell by the population raster.

Column naming of the wide table: ``<metric>_<technology>_<operator>`` with the
technology and operator in lower case, e.g. ``rsrp_centre_dbm_4g_any``,
``class_5g_any``, ``covered_share_4g_any``, ``class_4g_viettel``,
``dist_site_km_4g_vnpt``. Units are in the metric name (``_dbm``, ``_km``; shares are
fractions 0-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from rasterio import features

from coverage._errors import CRSMismatchError, Problem
from coverage._types import Raster
from coverage._zonal import centre_points, reduce_zones, village_zones
from coverage.params import GapParams, SignalThresholds, Thresholds

if TYPE_CHECKING:
    from coverage.propagation import SignalResult

__all__ = [
    "CLASSES",
    "LAYER_METRICS",
    "OPERATOR_METRICS",
    "VILLAGE_ATTRIBUTES",
    "VillageSignal",
    "area_summary",
    "classify_rsrp",
    "gaps_from_signal",
    "village_signal",
    "wide_column",
]

#: Signal classes, best first.
CLASSES: tuple[str, ...] = ("good", "weak", "none", "no_data")

#: Per (village, technology, operator) figures of the long table.
LAYER_METRICS: tuple[str, ...] = (
    "rsrp_centre_dbm",
    "class",
    "covered_share",
    "good_share",
    "nodata_share",
    "pop_covered_share",
    "best_rsrp_dbm",
    "dist_site_km",
)

#: Figures repeated per operator in the wide table (``"any"`` gets all of LAYER_METRICS).
OPERATOR_METRICS: tuple[str, ...] = ("class", "rsrp_centre_dbm", "dist_site_km")

#: Village attributes carried to the wide table, when present.
VILLAGE_ATTRIBUTES: tuple[str, ...] = (
    "village_id",
    "name",
    "commune_code",
    "commune_name",
    "province",
    "population",
    "households",
    "has_grid_power",
    "extremely_difficult",
    "schools",
    "health_stations",
)


def wide_column(metric: str, technology: str, operator: str = "any") -> str:
    """Return the wide-table column name of a metric.

    Examples
    --------
    >>> wide_column("class", "4G", "Viettel")
    'class_4g_viettel'
    """
    return f"{metric}_{technology.lower()}_{operator.lower()}"


def classify_rsrp(rsrp_dbm: np.ndarray, thresholds: SignalThresholds) -> np.ndarray:
    """Return the class (``good/weak/none/no_data``) of each RSRP value.

    Examples
    --------
    >>> t = SignalThresholds(good_dbm=-100.0, weak_dbm=-115.0)
    >>> classify_rsrp(np.array([-100.0, -115.0, -115.01, -200.0, np.nan], "float32"), t).tolist()
    ['good', 'weak', 'none', 'none', 'no_data']
    """
    v = np.asarray(rsrp_dbm)
    with np.errstate(invalid="ignore"):
        return np.select(
            [np.isnan(v), v >= thresholds.good_dbm, v >= thresholds.weak_dbm],
            ["no_data", "good", "weak"],
            "none",
        ).astype(object)


@dataclass(frozen=True, eq=False)
class VillageSignal:
    """Per-village signal statistics.

    Parameters
    ----------
    long
        One row per village x technology x operator: ``village_id, technology,
        operator`` and :data:`LAYER_METRICS`.
    wide
        One row per village (GeoDataFrame with the village geometry): the village
        attributes, ``zone_cells, zone_area_km2, zone_population``, every metric of the
        ``"any"`` operator per technology and :data:`OPERATOR_METRICS` per operator.
    """

    long: pd.DataFrame
    wide: gpd.GeoDataFrame


def _layer_order(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(keys, key=lambda k: (k[0], k[1] != "any", k[1].lower()))


def _nearest_site_km(centres: np.ndarray, towers: gpd.GeoDataFrame | None, tech: str, op: str) -> np.ndarray:
    out = np.full(len(centres), np.nan)
    if towers is None or len(centres) == 0:
        return out
    sel = (towers["status"] == "on_air").fillna(False) & (towers["technology"] == tech).fillna(False)
    if op != "any":
        sel &= (towers["operator"] == op).fillna(False)
    pts = np.asarray(towers.geometry[sel.to_numpy(dtype=bool)].values, dtype=object)
    pts = pts[~shapely.is_missing(pts) & ~shapely.is_empty(pts)]
    if len(pts) == 0:
        return out
    tree = shapely.STRtree(pts)
    (src, _), dist = tree.query_nearest(centres, return_distance=True, all_matches=False)
    out[src] = dist / 1000.0
    return out


def _same_crs(grid_crs: object, **layers: gpd.GeoDataFrame | None) -> None:
    grid = CRS.from_user_input(grid_crs)
    for name, layer in layers.items():
        crs = getattr(layer, "crs", None)
        if (
            layer is not None
            and crs is not None
            and not CRS.from_user_input(crs).equals(grid, ignore_axis_order=True)
        ):
            raise CRSMismatchError(
                [
                    Problem(
                        "error",
                        name,
                        f"{name} CRS {CRS.from_user_input(crs).name!r} differs from the signal "
                        f"grid CRS {grid.name!r}",
                        f"reproject the {name} to the working CRS ({name}.to_crs(signal.crs))",
                    )
                ],
                f"{name.capitalize()} and signal grid are not in the same CRS",
            )


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def village_signal(
    villages: gpd.GeoDataFrame,
    signal: SignalResult,
    *,
    thresholds: Thresholds,
    towers: gpd.GeoDataFrame | None = None,
    population: Raster | None = None,
    params: GapParams | None = None,
) -> VillageSignal:
    """Compute the signal statistics of every village on every signal layer.

    Vectorised: the village zones are built once as a sparse cell index (see
    :mod:`coverage._zonal`), then each layer costs one gather and a few
    ``reduceat`` over the zone cells; distances use an STR-tree nearest query.

    Parameters
    ----------
    villages
        Villages (Points or Polygons) in the signal grid's CRS, with ``village_id``.
    signal
        Predicted layers ``(technology, operator)`` on one grid.
    thresholds
        Class limits per technology.
    towers
        Tower rows in the same CRS; distances are to the nearest ``on_air`` site of
        the layer's operator and technology (``"any"``: any operator). Without
        towers the distances are NaN.
    population
        People per cell on the signal grid (NaN = unknown), for ``pop_covered_share``
        and ``zone_population``.
    params
        Zone radius for point villages (default :class:`GapParams`).

    Returns
    -------
    VillageSignal

    Examples
    --------
    >>> import pandas as pd
    >>> from affine import Affine
    >>> from shapely.geometry import box
    >>> from coverage.propagation import SignalLayer, SignalResult
    >>> rsrp = np.array([[-130.0, -90.0, -90.0, -130.0]], "float32")
    >>> layer = SignalLayer(rsrp, np.zeros((1, 4), "int32"))
    >>> sig = SignalResult(Affine(10, 0, 0, 0, -10, 10), "EPSG:32648", (1, 4),
    ...                    {("4G", "any"): layer}, pd.DataFrame(), pd.DataFrame(), [])
    >>> v = gpd.GeoDataFrame({"village_id": ["a"]}, geometry=[box(0, 0, 40, 10)], crs="EPSG:32648")
    >>> out = village_signal(v, sig, thresholds=Thresholds())
    >>> row = out.wide.iloc[0]
    >>> row["class_4g_any"], float(row["covered_share_4g_any"]), float(row["best_rsrp_dbm_4g_any"])
    ('good', 0.5, -90.0)
    """
    params = GapParams() if params is None else params
    _same_crs(signal.crs, villages=villages, towers=towers)
    shape = tuple(signal.shape)
    zones = village_zones(villages.geometry, signal.transform, shape, radius_m=params.village_radius_m)
    centres = centre_points(villages.geometry)
    ids = villages["village_id"].astype(str).to_numpy()
    n = len(villages)
    pop = None
    if population is not None:
        if tuple(population.shape) != shape:
            raise ValueError(
                f"population raster shape {population.shape} differs from the signal grid {shape}; "
                "warp it to the signal grid first (coverage.io.warp_to_grid)"
            )
        pop = np.nan_to_num(population.array.ravel()[zones.cells].astype(np.float64), nan=0.0)
    cell_area_km2 = abs(signal.transform.a * signal.transform.e) / 1e6
    wide = pd.DataFrame(villages[[c for c in VILLAGE_ATTRIBUTES if c in villages.columns]]).reset_index(
        drop=True
    )
    wide["village_id"] = ids
    wide["zone_cells"] = zones.counts
    wide["zone_area_km2"] = zones.counts * cell_area_km2
    wide["zone_population"] = reduce_zones(np.add, pop, zones, 0.0) if pop is not None else np.nan
    centre_in = zones.centre_cell >= 0
    parts, metrics = [], {}
    for tech, op in _layer_order(list(signal.layers)):
        t = thresholds.for_technology(tech)
        rsrp = signal.layers[(tech, op)].rsrp_dbm
        flat = rsrp.ravel()
        v = flat[zones.cells].astype(np.float64)
        known = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            cov = (v >= t.weak_dbm).astype(np.float64)
            good = (v >= t.good_dbm).astype(np.float64)
        n_known = reduce_zones(np.add, known.astype(np.float64), zones, 0.0)
        centre = np.full(n, np.nan)
        centre[centre_in] = flat[zones.centre_cell[centre_in]]
        stats = {
            "village_id": ids,
            "technology": tech,
            "operator": op,
            "rsrp_centre_dbm": centre,
            "class": classify_rsrp(centre, t),
            "covered_share": _share(reduce_zones(np.add, cov, zones, 0.0), n_known),
            "good_share": _share(reduce_zones(np.add, good, zones, 0.0), n_known),
            "nodata_share": _share(zones.counts - n_known, zones.counts.astype(np.float64)),
            "pop_covered_share": (
                _share(
                    reduce_zones(np.add, pop * cov, zones, 0.0), reduce_zones(np.add, pop * known, zones, 0.0)
                )
                if pop is not None
                else np.nan
            ),
            "best_rsrp_dbm": reduce_zones(np.fmax, v, zones),
            "dist_site_km": _nearest_site_km(centres, towers, tech, op),
        }
        stats["nodata_share"] = np.where(zones.counts > 0, stats["nodata_share"], 1.0)
        frame = pd.DataFrame(stats)
        parts.append(frame)
        cols = LAYER_METRICS if op == "any" else OPERATOR_METRICS
        for m in cols:
            metrics[wide_column(m, tech, op)] = frame[m].to_numpy()
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["village_id"])
    wide = pd.concat([wide, pd.DataFrame(metrics, index=wide.index)], axis=1)  # one insert, no fragmentation
    geometry = gpd.GeoSeries(villages.geometry.to_numpy(), crs=villages.crs)
    return VillageSignal(long=long, wide=gpd.GeoDataFrame(wide, geometry=geometry, crs=villages.crs))


def area_summary(
    wide: pd.DataFrame, *, by: str = "commune", communes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Roll village classes (``"any"`` operator) up per commune or per province.

    Columns: the area keys, ``villages``, ``population`` (sum of village populations),
    ``villages_<class>_<tech>`` for each class and technology present,
    ``population_without_good_4g`` (villages whose 4G centre class is weak or none)
    and ``population_no_data_4g`` (centre class unknown).

    Parameters
    ----------
    wide
        The wide table of :func:`village_signal`.
    by
        ``"commune"`` (keys ``commune_code, commune_name, province``) or ``"province"``.
    communes
        Optional commune table (``commune_code, name, province``): communes without
        villages are listed too (with zeros), ``by="commune"`` only.

    Examples
    --------
    >>> w = pd.DataFrame({"commune_code": ["1", "1", "2"], "population": [10, 20, 5],
    ...                   "class_4g_any": ["good", "none", "no_data"]})
    >>> s = area_summary(w)
    >>> s[["commune_code", "villages", "villages_none_4g", "population_without_good_4g"]].values.tolist()
    [['1', 2, 1, 20], ['2', 1, 0, 0]]
    """
    if by not in ("commune", "province"):
        raise ValueError(f"`by` was {by!r} but is expected to be one of ['commune', 'province']")
    keys = ["commune_code", "commune_name", "province"] if by == "commune" else ["province"]
    keys = [k for k in keys if k in wide.columns]
    if not keys:
        raise ValueError(f"the village table has no {by} column to group by")
    df = wide[keys].copy()
    for k in keys:
        df[k] = df[k].astype(object).where(df[k].notna(), "")
    df["villages"] = 1
    pop = pd.to_numeric(wide.get("population", pd.Series(0, index=wide.index)), errors="coerce").fillna(0)
    df["population"] = pop.astype(np.int64)
    for tech in ("4G", "5G"):
        col = wide_column("class", tech)
        if col not in wide.columns:
            continue
        for cls in CLASSES:
            df[f"villages_{cls}_{tech.lower()}"] = (wide[col] == cls).astype(np.int64)
        if tech == "4G":
            gap = wide[col].isin(["weak", "none"]).to_numpy()
            df["population_without_good_4g"] = np.where(gap, df["population"], 0)
            df["population_no_data_4g"] = np.where(wide[col] == "no_data", df["population"], 0)
    out = df.groupby(keys, sort=True, dropna=False).sum().reset_index()
    if communes is not None and by == "commune":
        base = pd.DataFrame(
            {"commune_code": communes["commune_code"].astype(str).to_numpy(), "_name": communes["name"]}
        )
        out = base.merge(out, on="commune_code", how="outer", sort=True)
        if "commune_name" in out.columns:
            out["commune_name"] = out["commune_name"].where(
                out["commune_name"].notna() & (out["commune_name"] != ""), out["_name"]
            )
        else:
            out["commune_name"] = out["_name"]
        out = out.drop(columns="_name")
        num = [c for c in out.columns if c.startswith(("villages", "population"))]
        out[num] = out[num].fillna(0).astype(np.int64)
    return out.reset_index(drop=True)


def gaps_from_signal(
    signal: SignalResult,
    *,
    thresholds: Thresholds,
    population: Raster | None = None,
    communes: gpd.GeoDataFrame | None = None,
    include_weak: bool = False,
) -> gpd.GeoDataFrame:
    """Polygonise the gap and unknown cells of each technology's ``"any"`` layer.

    Class ``none``: RSRP < ``weak_dbm`` (not NaN); ``no_data``: NaN (unknown, kept
    apart so a map can show it separately); ``weak`` (only with ``include_weak``):
    ``weak_dbm`` <= RSRP < ``good_dbm``. With ``communes`` the cells are clipped to the
    communes (cell centre inside) and each polygon carries its ``commune_code``.
    Polygons follow cell edges (4-connected), so ``area_km2`` and ``population`` (sum of
    the population raster over the polygon's cells, NaN without a raster) are exact.

    Examples
    --------
    >>> import pandas as pd
    >>> from affine import Affine
    >>> from coverage.propagation import SignalLayer, SignalResult
    >>> rsrp = np.array([[-90, -130, np.nan]], "float32")
    >>> sig = SignalResult(Affine(100, 0, 0, 0, -100, 100), "EPSG:32648", (1, 3),
    ...                    {("4G", "any"): SignalLayer(rsrp, np.zeros((1, 3), "int32"))},
    ...                    pd.DataFrame(), pd.DataFrame(), [])
    >>> g = gaps_from_signal(sig, thresholds=Thresholds())
    >>> g[["technology", "class", "area_km2"]].values.tolist()
    [['4G', 'none', 0.01], ['4G', 'no_data', 0.01]]
    """
    shape = tuple(signal.shape)
    codes = None
    comm_ids = np.zeros(shape, dtype=np.int32)
    if communes is not None and len(communes):
        codes = communes["commune_code"].astype(str).to_numpy()
        comm_ids = features.rasterize(
            ((g, i + 1) for i, g in enumerate(communes.geometry) if g is not None and not g.is_empty),
            out_shape=shape,
            transform=signal.transform,
            fill=0,
            dtype="int32",
        )
    pop = None if population is None else np.nan_to_num(population.array.astype(np.float64), nan=0.0)
    names = {1: "none", 2: "no_data", 3: "weak"}
    rows: list[dict] = []
    geoms: list = []
    for tech, op in _layer_order(list(signal.layers)):
        if op != "any":
            continue
        t = thresholds.for_technology(tech)
        rsrp = signal.layers[(tech, op)].rsrp_dbm
        cls = np.zeros(shape, dtype=np.int32)
        with np.errstate(invalid="ignore"):
            cls[rsrp < t.weak_dbm] = 1
            if include_weak:
                cls[(rsrp >= t.weak_dbm) & (rsrp < t.good_dbm)] = 3
        cls[np.isnan(rsrp)] = 2
        if codes is not None:
            cls[comm_ids == 0] = 0
        value = comm_ids * 4 + cls
        found = [
            (shapely.geometry.shape(g), int(val))
            for g, val in features.shapes(value, mask=cls > 0, transform=signal.transform, connectivity=4)
        ]
        if not found:
            continue
        polys = [g for g, _ in found]
        if pop is not None:
            labels = features.rasterize(
                ((g, i + 1) for i, g in enumerate(polys)),
                out_shape=shape,
                transform=signal.transform,
                fill=0,
                dtype="int32",
            )
            people = np.bincount(labels.ravel(), weights=pop.ravel(), minlength=len(polys) + 1)[1:]
        else:
            people = np.full(len(polys), np.nan)
        for (g, val), p in zip(found, people, strict=True):
            row = {"technology": tech, "class": names[val % 4], "area_km2": g.area / 1e6, "population": p}
            if codes is not None:
                row["commune_code"] = codes[val // 4 - 1]
            rows.append(row)
            geoms.append(g)
    cols = ["technology", "class", *(["commune_code"] if codes is not None else []), "area_km2", "population"]
    frame = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=signal.crs)
