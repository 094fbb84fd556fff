"""Outage reports as challenge evidence: matching, de-duplication, the evidence rule.

Modelled on the FCC mobile challenge process (DOMAIN.md §2.2): crowd reports override
the modelled map only when they pass count and spread thresholds.

1. **Matching** (:func:`match_outages`): a report belongs to the village named by its
   ``village_id`` when that id exists; otherwise to the village polygon containing its
   point; otherwise to the nearest village centre within
   ``GapParams.outage_match_radius_m``. Reports matching no village go to the
   *unmatched* table with a reason; none is dropped silently.
2. **De-duplication** (:func:`deduplicate_outages`): exact duplicates (same village,
   time, operator, technology, kind and reporter) count once; so do reports of the same
   reporter (``reporter_key``) for the same village on the same local day
   (Asia/Ho_Chi_Minh), separately for signal reports and ``power_cut`` reports. The
   earliest report is kept.
3. **Evidence rule** (:func:`outage_evidence`): within ``window_days`` before ``as_of``
   (reports after ``as_of`` are ignored), a village has *evidence* when it has at least
   ``min_reports`` de-duplicated signal reports (``no_signal``, ``weak``, ``no_data``,
   any operator and technology) on at least ``min_distinct_days`` distinct local days;
   ``power_cut`` reports are counted and tested by the same rule separately. Each report
   weighs ``0.5 ** (age_days / half_life_days)``.
4. **Status** (:func:`village_status`), exactly one per village, in this order:
   ``predicted_gap`` (4G centre class, any operator, is ``none`` or ``weak``);
   ``power_outage`` (power-cut evidence, and at least as many power-cut reports as
   signal reports); ``reported_gap`` (signal evidence where the model predicts good or
   has no data); ``no_data`` (prediction unknown, no evidence); ``covered``.

No output of this module carries ``reporter_key``: it is used for de-duplication only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from coverage._errors import CRSMismatchError, Problem
from coverage._zonal import centre_points
from coverage.params import EvidenceParams, GapParams

__all__ = [
    "LOCAL_TZ",
    "STATUSES",
    "UNMATCHED_COLUMNS",
    "MatchedOutages",
    "OutageEvidence",
    "deduplicate_outages",
    "match_outages",
    "outage_evidence",
    "village_status",
]

#: Time zone of the "same day" rule.
LOCAL_TZ = "Asia/Ho_Chi_Minh"

#: Village statuses, most specific first.
STATUSES: tuple[str, ...] = ("predicted_gap", "power_outage", "reported_gap", "no_data", "covered")

#: Columns of the unmatched-report table (no personal data).
UNMATCHED_COLUMNS: tuple[str, ...] = (
    "report_id",
    "reported_at",
    "operator",
    "technology",
    "kind",
    "village_id",
    "lon",
    "lat",
    "reason",
)

_REPORT_COLUMNS = ("report_id", "reported_at", "operator", "technology", "kind")


@dataclass(frozen=True, eq=False)
class MatchedOutages:
    """Reports attached to villages, and those that match none.

    Parameters
    ----------
    matched
        ``report_id, reported_at, village_id, operator, technology, kind,
        reporter_key, match`` (``"village_id"``, ``"polygon"`` or ``"nearest"``) and
        ``match_distance_m`` (0 for id and polygon matches).
    unmatched
        :data:`UNMATCHED_COLUMNS`; ``lon/lat`` in WGS 84 when the report has a point.
    """

    matched: pd.DataFrame
    unmatched: pd.DataFrame


@dataclass(frozen=True, eq=False)
class OutageEvidence:
    """Evidence per village plus the report tables behind it.

    Parameters
    ----------
    villages
        One row per village (input order): ``village_id, reports, report_days,
        evidence_weight, power_cut_reports, power_cut_days, power_cut_weight,
        duplicates_dropped, has_evidence, has_power_evidence, most_reported_operator,
        last_report_date``.
    reports
        Matched reports with ``local_day, duplicate, in_window, weight`` (no
        ``reporter_key``).
    unmatched
        Reports matching no village (see :class:`MatchedOutages`).
    as_of
        The reference time of the window.
    """

    villages: pd.DataFrame
    reports: pd.DataFrame
    unmatched: pd.DataFrame
    as_of: pd.Timestamp


def _check_crs(outages: gpd.GeoDataFrame, villages: gpd.GeoDataFrame) -> None:
    a, b = getattr(outages, "crs", None), getattr(villages, "crs", None)
    if a is None or b is None:
        return
    if not CRS.from_user_input(a).equals(CRS.from_user_input(b), ignore_axis_order=True):
        raise CRSMismatchError(
            [
                Problem(
                    "error",
                    "outages",
                    f"outages CRS {CRS.from_user_input(a).name!r} differs from the villages CRS "
                    f"{CRS.from_user_input(b).name!r}",
                    "reproject the outages to the working CRS (outages.to_crs(villages.crs))",
                )
            ],
            "Outages and villages are not in the same CRS",
        )


def _lon_lat(points: np.ndarray, crs: object) -> tuple[np.ndarray, np.ndarray]:
    lon = np.full(len(points), np.nan)
    lat = np.full(len(points), np.nan)
    ok = ~(shapely.is_missing(points) | shapely.is_empty(points)) if len(points) else np.zeros(0, bool)
    if ok.any() and crs is not None:
        ll = gpd.GeoSeries(points[ok], crs=crs).to_crs(4326)
        lon[ok], lat[ok] = ll.x.round(6).to_numpy(), ll.y.round(6).to_numpy()
    return lon, lat


def match_outages(
    outages: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, *, params: GapParams | None = None
) -> MatchedOutages:
    """Attach each report to a village; collect the reports that match none.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame({"village_id": ["a", "b"]}, geometry=[Point(0, 0), Point(5000, 0)],
    ...                      crs="EPSG:32648")
    >>> o = gpd.GeoDataFrame({"report_id": ["r1", "r2", "r3"],
    ...     "reported_at": pd.to_datetime(["2026-01-01T08:00+07:00"] * 3),
    ...     "village_id": [None, "b", "zz"], "operator": "Viettel", "technology": "4G",
    ...     "kind": "no_signal", "reporter_key": None},
    ...     geometry=[Point(100, 0), None, None], crs="EPSG:32648")
    >>> m = match_outages(o, v)
    >>> m.matched[["report_id", "village_id", "match"]].values.tolist()
    [['r1', 'a', 'nearest'], ['r2', 'b', 'village_id']]
    >>> m.unmatched[["report_id", "reason"]].values.tolist()
    [['r3', 'unknown village_id and no coordinates']]
    """
    params = GapParams() if params is None else params
    _check_crs(outages, villages)
    n = len(outages)
    vids = villages["village_id"].astype(str).to_numpy()
    given = outages["village_id"] if "village_id" in outages.columns else pd.Series([None] * n)
    given = given.astype(object).where(given.notna(), None).to_numpy()
    given = np.array([None if g is None or str(g).strip() == "" else str(g).strip() for g in given], object)
    points = np.asarray(outages.geometry.values, dtype=object) if n else np.zeros(0, object)
    has_pt = ~(shapely.is_missing(points) | shapely.is_empty(points)) if n else np.zeros(0, bool)
    out_vid = np.full(n, None, dtype=object)
    how = np.full(n, None, dtype=object)
    dist = np.full(n, np.nan)
    has_id = np.array([g is not None for g in given], dtype=bool)
    known = has_id & pd.Series(given, dtype=object).isin(set(vids)).to_numpy()  # hash lookup
    out_vid[known] = given[known]
    how[known] = "village_id"
    dist[known] = 0.0
    todo = np.flatnonzero(~known & has_pt)
    vgeoms = np.asarray(villages.geometry.values, dtype=object)
    is_poly = shapely.get_type_id(vgeoms) >= 3
    if len(todo) and is_poly.any():
        pidx = np.flatnonzero(is_poly)
        tree = shapely.STRtree(vgeoms[pidx])
        src, dst = tree.query(points[todo], predicate="within")
        first = pd.Series(pidx[dst]).groupby(src).min()  # lowest village index if polygons overlap
        hit = todo[first.index.to_numpy()]
        out_vid[hit] = vids[first.to_numpy()]
        how[hit] = "polygon"
        dist[hit] = 0.0
        todo = todo[pd.isna(how[todo])]
    if len(todo) and len(vgeoms):
        tree = shapely.STRtree(centre_points(villages.geometry))
        (src, dst), d = tree.query_nearest(
            points[todo], max_distance=params.outage_match_radius_m, return_distance=True, all_matches=False
        )
        hit = todo[src]
        out_vid[hit] = vids[dst]
        how[hit] = "nearest"
        dist[hit] = d
    base = pd.DataFrame({c: outages[c].to_numpy() if c in outages.columns else None for c in _REPORT_COLUMNS})
    ok = ~pd.isna(how)
    matched = base[ok].copy()
    matched.insert(2, "village_id", out_vid[ok])
    matched["reporter_key"] = (
        outages["reporter_key"].to_numpy()[ok] if "reporter_key" in outages.columns else None
    )
    matched["match"] = how[ok]
    matched["match_distance_m"] = dist[ok]
    bad = ~ok
    no_id = np.where(has_id[bad], "unknown village_id and no coordinates", "no coordinates and no village_id")
    reason = np.where(has_pt[bad], f"no village within {params.outage_match_radius_m:g} m", no_id)
    lon, lat = _lon_lat(points[bad], outages.crs)
    unmatched = base[bad].copy()
    unmatched["village_id"] = given[bad]
    unmatched["lon"], unmatched["lat"], unmatched["reason"] = lon, lat, reason
    return MatchedOutages(
        matched.reset_index(drop=True), unmatched[list(UNMATCHED_COLUMNS)].reset_index(drop=True)
    )


def _local(ts: pd.Series) -> pd.Series:
    ts = pd.to_datetime(ts)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize(LOCAL_TZ)
    return ts.dt.tz_convert(LOCAL_TZ)


def deduplicate_outages(matched: pd.DataFrame) -> pd.DataFrame:
    """Flag duplicate reports (``duplicate`` column); the earliest of each group is kept.

    Duplicates are exact repeats (village, time, operator, technology, kind, reporter)
    and reports of one reporter for one village on one local day (signal and
    ``power_cut`` reports separately). Adds ``local_day`` (a ``datetime.date``).

    Examples
    --------
    >>> m = pd.DataFrame({"report_id": ["r1", "r2", "r3"], "village_id": "a",
    ...     "reported_at": pd.to_datetime(["2026-01-01T08:00+07:00", "2026-01-01T09:00+07:00",
    ...                                    "2026-01-02T08:00+07:00"]),
    ...     "operator": "VNPT", "technology": "4G", "kind": "no_signal", "reporter_key": "k1"})
    >>> deduplicate_outages(m)["duplicate"].tolist()
    [False, True, False]
    """
    df = matched.copy()
    df["reported_at"] = _local(df["reported_at"])
    df["local_day"] = df["reported_at"].dt.date
    df = df.sort_values(["reported_at", "report_id"], kind="stable")
    group = np.where(df["kind"] == "power_cut", "power", "signal")
    exact_keys = ["village_id", "reported_at", "operator", "technology", "kind", "reporter_key"]
    exact = df[exact_keys].astype(object).where(df[exact_keys].notna(), "").duplicated(keep="first")
    keyed = df["reporter_key"].notna().to_numpy()
    same_day = pd.Series(False, index=df.index)
    if keyed.any():
        k = df.loc[keyed, ["reporter_key", "village_id", "local_day"]].assign(_g=group[keyed])
        same_day.loc[k.index] = k.duplicated(keep="first").to_numpy()
    df["duplicate"] = (exact | same_day).to_numpy()
    return df.sort_index()


def _as_of(as_of: dt.datetime | pd.Timestamp | str | None) -> pd.Timestamp:
    ts = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    return ts.tz_localize(LOCAL_TZ) if ts.tz is None else ts


def outage_evidence(
    outages: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    *,
    params: EvidenceParams | None = None,
    gap_params: GapParams | None = None,
    as_of: dt.datetime | pd.Timestamp | str | None = None,
) -> OutageEvidence:
    """Match, de-duplicate and count reports per village; apply the evidence rule.

    Parameters
    ----------
    outages
        Reports as read by ``coverage.io.read_outages`` (``None``: no reports).
    villages
        Villages in the same CRS.
    params
        Window, thresholds and half-life (default :class:`EvidenceParams`).
    gap_params
        Matching radius (default :class:`GapParams`).
    as_of
        End of the window (default: now); naive times are Viet Nam time.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame({"village_id": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:32648")
    >>> days = ["2026-03-01", "2026-03-01", "2026-03-05", "2026-03-05", "2026-03-09"]
    >>> o = gpd.GeoDataFrame({"report_id": [f"r{i}" for i in range(5)],
    ...     "reported_at": pd.to_datetime([d + "T08:00+07:00" for d in days]),
    ...     "village_id": "a", "operator": "VNPT", "technology": "4G", "kind": "no_signal",
    ...     "reporter_key": [f"k{i}" for i in range(5)]}, geometry=[None] * 5, crs="EPSG:32648")
    >>> ev = outage_evidence(o, v, as_of="2026-03-10")
    >>> ev.villages[["reports", "report_days", "has_evidence"]].values.tolist()
    [[5, 3, True]]
    """
    params = EvidenceParams() if params is None else params
    ref = _as_of(as_of)
    vids = villages["village_id"].astype(str).to_numpy()
    if outages is None or len(outages) == 0:
        reports = pd.DataFrame(columns=[*_REPORT_COLUMNS, "village_id", "match", "local_day", "duplicate"])
        unmatched = pd.DataFrame(columns=list(UNMATCHED_COLUMNS))
    else:
        m = match_outages(outages, villages, params=gap_params)
        reports, unmatched = deduplicate_outages(m.matched), m.unmatched
    reports["duplicate"] = reports["duplicate"].astype(bool)
    age = (
        (ref - reports["reported_at"]).dt.total_seconds() / 86400.0
        if len(reports)
        else pd.Series(dtype=float)
    )
    reports = reports.assign(
        age_days=age.to_numpy(dtype=float),
        in_window=((age >= 0) & (age < params.window_days)).to_numpy(dtype=bool),
        weight=np.power(0.5, age.to_numpy(dtype=float) / params.half_life_days),
    )
    reports = reports.drop(columns=["reporter_key"], errors="ignore")
    use = reports[reports["in_window"] & ~reports["duplicate"]]
    power = use["kind"] == "power_cut"
    table = pd.DataFrame({"village_id": vids})

    def _agg(part: pd.DataFrame, prefix: str) -> pd.DataFrame:
        g = part.groupby("village_id")
        return pd.DataFrame(
            {
                f"{prefix}reports": g.size(),
                f"{prefix}days": g["local_day"].nunique(),
                f"{prefix}weight": g["weight"].sum(),
            }
        )

    sig = _agg(use[~power], "").rename(columns={"days": "report_days", "weight": "evidence_weight"})
    pwr = _agg(use[power], "power_cut_")
    dups = reports[reports["duplicate"]].groupby("village_id").size().rename("duplicates_dropped")
    table = table.join(sig, on="village_id").join(pwr, on="village_id").join(dups, on="village_id")
    counts = ["reports", "report_days", "power_cut_reports", "power_cut_days", "duplicates_dropped"]
    table[counts] = table[counts].fillna(0).astype(np.int64)
    table[["evidence_weight", "power_cut_weight"]] = table[["evidence_weight", "power_cut_weight"]].fillna(
        0.0
    )
    table["has_evidence"] = (table["reports"] >= params.min_reports) & (
        table["report_days"] >= params.min_distinct_days
    )
    table["has_power_evidence"] = (table["power_cut_reports"] >= params.min_reports) & (
        table["power_cut_days"] >= params.min_distinct_days
    )
    sig_ops = use.loc[~power & use["operator"].notna(), ["village_id", "operator"]]
    top = (
        sig_ops.value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["village_id", "n", "operator"], ascending=[True, False, True])
        .drop_duplicates("village_id")
        .set_index("village_id")["operator"]
    )
    table["most_reported_operator"] = table["village_id"].map(top).astype(object)
    last = use.groupby("village_id")["local_day"].max()
    table["last_report_date"] = (
        table["village_id"].map(last).map(lambda d: d.isoformat() if isinstance(d, dt.date) else None)
    )
    return OutageEvidence(table, reports.reset_index(drop=True), unmatched, ref)


def village_status(class_4g: pd.Series | np.ndarray, evidence: pd.DataFrame) -> np.ndarray:
    """Return one status per village (see the module docstring for the order).

    ``class_4g`` is the 4G centre class of the ``"any"`` operator; ``evidence`` the
    per-village table of :func:`outage_evidence`, row-aligned with it.

    Examples
    --------
    >>> ev = pd.DataFrame({"reports": [0, 6, 0, 6, 1], "has_evidence": [False, True, False, True, False],
    ...     "power_cut_reports": [0, 0, 7, 9, 0], "has_power_evidence": [False, False, True, True, False]})
    >>> village_status(["none", "good", "good", "no_data", "no_data"], ev).tolist()
    ['predicted_gap', 'reported_gap', 'power_outage', 'power_outage', 'no_data']
    """
    cls = np.asarray(class_4g, dtype=object)
    sig = evidence["has_evidence"].to_numpy(dtype=bool)
    pwr = evidence["has_power_evidence"].to_numpy(dtype=bool) & (
        evidence["power_cut_reports"].to_numpy() >= evidence["reports"].to_numpy()
    )
    return np.select(
        [np.isin(cls, ["none", "weak"]), pwr, sig, cls == "no_data"],
        ["predicted_gap", "power_outage", "reported_gap", "no_data"],
        "covered",
    ).astype(object)
