r"""The priority list: a transparent score, a rank, an action, a funding route, a cost.

Score
-----
.. math::

    score = \sum_i w_i \, c_i, \qquad c_i \in [0, 1]

with the weights of :class:`~coverage.params.PriorityWeights` and each component
written as its own column ``component_<name>``:

* ``uncovered_population``: ``population x (1 - covered share)`` of 4G (any
  operator), the population-weighted share when a population raster was given, else
  the area share; 1 - share is taken as 1 for a ``reported_gap`` (evidence overrides the
  model, as in the FCC challenge) and as 0 where the share is unknown. Log-scaled:
  ``log1p(u) / log1p(max u)`` over the villages of the run, so one town does not flatten
  every hamlet. Unknown population counts as 0 (flag ``population_unknown``). Only
  villages that need action (``predicted_gap``, ``reported_gap``, ``power_outage``)
  score on it, so a village with good 4G at its centre never outranks a dead zone.
* ``gap_severity``: dB below the 4G ``good`` threshold at the village centre,
  ``min(max(good - rsrp, 0), severity_cap_db) / severity_cap_db``; unknown signal -> 0
  (flag ``signal_no_data``).
* ``evidence``: recency-weighted de-duplicated signal reports / ``min_reports``, capped
  at 1.
* ``facilities``: ``(schools + health_stations) / max`` over the run; only for villages
  in a 4G gap (status ``predicted_gap`` or ``reported_gap``).
* ``distance_to_site``: distance to the nearest on-air 4G site of any operator /
  ``distance_cap_km``, capped at 1 (isolation; also a cost proxy); only for villages in
  a 4G gap; unknown -> 0 (flag ``distance_unknown``).
* ``five_g_only_gap``: 1 where the 4G centre class is good and the 5G class is weak or
  none.

Ranking: score descending, then uncovered population descending, then ``village_id``
ascending; ``rank`` 1 is the most urgent. Nothing depends on the input row order.

Action (``recommended_action``) by status: ``predicted_gap`` -> ``new_site``;
``power_outage`` -> ``restore_power``; ``reported_gap`` -> ``investigate_outage``;
``covered`` with a 5G-only gap -> ``upgrade_to_5g`` (4G good at the centre means a 4G
site serves the village); otherwise ``none``.

Funding route (``funding_route``, DOMAIN.md §1.5; who pays, kept apart from need):
for ``new_site``: no grid power -> ``power_first`` (EVN grid extension or solar before
a site); grid power and extremely difficult -> ``vtf`` (public-utility telecom fund,
bidding); grid power otherwise -> ``operator``; grid power unknown ->
``unknown_power``. ``upgrade_to_5g``, ``investigate_outage`` and ``restore_power``
(battery/backup power at the serving site, DOMAIN.md §4.3) -> ``operator``; ``none`` ->
``none``.

Cost (``cost_vnd``, rough, :class:`~coverage.params.CostParams`): ``new_site`` =
``site_vnd``, plus where there is no grid power ``power_line_vnd_per_km x
grid_distance_km`` when the village table has that column, else ``solar_power_vnd``;
``upgrade_to_5g`` = ``upgrade_5g_vnd``; ``none`` = 0; ``restore_power`` and
``investigate_outage`` are not estimated (NaN). ``cost_basis`` says what was counted.

Responsible operator: ``new_site`` -> the operator with the nearest on-air 4G site
(cheapest extension); ``investigate_outage`` -> the most reported operator; otherwise
the operator with the best 4G signal at the centre; ties by name.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from coverage.evidence import village_status
from coverage.gaps import area_summary, wide_column
from coverage.params import CostParams, EvidenceParams, GapParams, PriorityWeights, Thresholds
from coverage.schema import OPERATORS

__all__ = [
    "ACTIONS",
    "COMPONENTS",
    "FUNDING_ROUTES",
    "PRIORITY_COLUMNS",
    "operator_requests",
    "operators_in",
    "priority_summary",
    "priority_table",
    "rank_order",
]

ACTIONS: tuple[str, ...] = ("new_site", "upgrade_to_5g", "restore_power", "investigate_outage", "none")
FUNDING_ROUTES: tuple[str, ...] = ("vtf", "operator", "power_first", "unknown_power", "none")
COMPONENTS: tuple[str, ...] = tuple(f.name for f in fields(PriorityWeights))

#: Columns of the priority list, in order (``class_4g_<operator>`` columns follow ``class_5g_any``).
PRIORITY_COLUMNS: tuple[str, ...] = (
    "rank",
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
    "status",
    "class_4g_any",
    "class_5g_any",
    "rsrp_centre_dbm_4g_any",
    "rsrp_centre_dbm_5g_any",
    "covered_share_4g_any",
    "nodata_share_4g_any",
    "pop_covered_share_4g_any",
    "dist_site_km_4g_any",
    "reports",
    "report_days",
    "power_cut_reports",
    "has_evidence",
    "uncovered_population",
    "gap_severity_db",
    *(f"component_{c}" for c in COMPONENTS),
    "score",
    "recommended_action",
    "funding_route",
    "responsible_operator",
    "cost_vnd",
    "cost_basis",
    "flags",
)

_EVIDENCE_DEFAULTS = {
    "reports": 0,
    "report_days": 0,
    "evidence_weight": 0.0,
    "power_cut_reports": 0,
    "power_cut_days": 0,
    "power_cut_weight": 0.0,
    "duplicates_dropped": 0,
    "has_evidence": False,
    "has_power_evidence": False,
    "most_reported_operator": None,
    "last_report_date": None,
}


def operators_in(table: pd.DataFrame, technology: str = "4G") -> list[str]:
    """Return the canonical operator names having ``class_<tech>_<operator>`` columns.

    Examples
    --------
    >>> operators_in(pd.DataFrame(columns=["class_4g_any", "class_4g_vnpt", "class_4g_viettel"]))
    ['VNPT', 'Viettel']
    """
    names = {op.lower(): op for op in OPERATORS}
    prefix = f"class_{technology.lower()}_"
    slugs = [c[len(prefix) :] for c in table.columns if c.startswith(prefix) and c != f"{prefix}any"]
    return sorted(names.get(s, s) for s in slugs)


def _col(df: pd.DataFrame, name: str, default: object = np.nan) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(default, index=df.index)


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _bool(s: pd.Series) -> np.ndarray:
    """Encode True / False / NA as 1 / 0 / -1."""
    return np.where(s.isna().to_numpy(), -1, s.fillna(False).astype(bool).to_numpy().astype(int))


def _pick_operator(frame: pd.DataFrame, metric: str, ops: list[str], *, lowest: bool) -> np.ndarray:
    """Operator with the lowest/highest ``metric_4g_<op>`` per row ('' if all unknown)."""
    out = np.full(len(frame), "", dtype=object)
    if not ops:
        return out
    vals = np.column_stack([_num(_col(frame, wide_column(metric, "4G", op))) for op in ops])
    vals = np.where(np.isnan(vals), np.inf if lowest else -np.inf, vals)
    best = np.argmin(vals, axis=1) if lowest else np.argmax(vals, axis=1)  # first = alphabetical tie-break
    found = np.isfinite(vals[np.arange(len(frame)), best])
    out[found] = np.asarray(ops, dtype=object)[best[found]]
    return out


def rank_order(score: np.ndarray, uncovered: np.ndarray, village_id: np.ndarray) -> np.ndarray:
    """Return the positions of the villages from most to least urgent.

    Examples
    --------
    >>> rank_order(np.array([0.5, 0.9, 0.5]), np.array([10, 0, 20]), np.array(["b", "c", "a"])).tolist()
    [1, 2, 0]
    """
    ids = np.asarray(village_id).astype(str)
    return np.lexsort((ids, -np.nan_to_num(uncovered, nan=0.0), -np.nan_to_num(score, nan=0.0)))


def priority_table(
    wide: pd.DataFrame,
    evidence: pd.DataFrame | None = None,
    *,
    weights: PriorityWeights | None = None,
    thresholds: Thresholds | None = None,
    gap_params: GapParams | None = None,
    evidence_params: EvidenceParams | None = None,
    costs: CostParams | None = None,
    grid_distance_column: str = "grid_distance_km",
) -> pd.DataFrame:
    """Score, rank and route every village (see the module docstring for the rules).

    Parameters
    ----------
    wide
        Per-village table of :func:`coverage.gaps.village_signal` (GeoDataFrame or
        DataFrame; geometry is kept).
    evidence
        Per-village evidence table (:attr:`coverage.evidence.OutageEvidence.villages`),
        joined on ``village_id``; ``None`` = no reports.
    weights, thresholds, gap_params, evidence_params, costs
        Parameters (defaults: the dataclass defaults).
    grid_distance_column
        Column of ``wide`` with the distance to the grid in km, used for the power-line
        cost of villages without grid power (solar cost when absent or empty).

    Returns
    -------
    pandas.DataFrame
        ``wide`` plus the evidence columns, ``status``, ``uncovered_population``,
        ``gap_severity_db``, ``component_<name>``, ``score``, ``rank``,
        ``recommended_action``, ``funding_route``, ``responsible_operator``,
        ``cost_vnd``, ``cost_basis``, ``flags``; sorted by ``rank``.

    Examples
    --------
    >>> w = pd.DataFrame({"village_id": ["a", "b"], "population": [100, 400],
    ...     "has_grid_power": [True, False], "extremely_difficult": [True, True],
    ...     "class_4g_any": ["none", "good"], "rsrp_centre_dbm_4g_any": [-200.0, -80.0],
    ...     "covered_share_4g_any": [0.0, 1.0]})
    >>> p = priority_table(w)
    >>> p[["rank", "village_id", "status", "recommended_action", "funding_route"]].values.tolist()
    [[1, 'a', 'predicted_gap', 'new_site', 'vtf'], [2, 'b', 'covered', 'none', 'none']]
    """
    weights = PriorityWeights() if weights is None else weights
    thresholds = Thresholds() if thresholds is None else thresholds
    gap_params = GapParams() if gap_params is None else gap_params
    evidence_params = EvidenceParams() if evidence_params is None else evidence_params
    costs = CostParams() if costs is None else costs
    df = wide.reset_index(drop=True).copy()
    df["village_id"] = df["village_id"].astype(str)
    ev_cols = list(_EVIDENCE_DEFAULTS)
    df = df.drop(columns=[c for c in ev_cols if c in df.columns])
    if evidence is not None and len(evidence):
        ev = evidence.assign(village_id=evidence["village_id"].astype(str)).drop_duplicates("village_id")
        df = df.merge(
            ev[["village_id", *[c for c in ev_cols if c in ev.columns]]], on="village_id", how="left"
        )
    for c, d in _EVIDENCE_DEFAULTS.items():
        if c not in df.columns:
            df[c] = d
        elif d is not None:
            df[c] = df[c].fillna(d).astype(type(d))
    n = len(df)
    cls4 = _col(df, "class_4g_any", "no_data").fillna("no_data").to_numpy(dtype=object)
    cls5 = _col(df, "class_5g_any", "no_data").fillna("no_data").to_numpy(dtype=object)
    status = village_status(cls4, df)
    df["status"] = status
    in_gap = np.isin(status, ["predicted_gap", "reported_gap"])

    # uncovered population
    pop = _num(_col(df, "population"))
    share = _num(_col(df, "pop_covered_share_4g_any"))
    share = np.where(np.isnan(share), _num(_col(df, "covered_share_4g_any")), share)
    uncovered_frac = np.where(np.isnan(share), 0.0, 1.0 - share)
    uncovered_frac = np.where(status == "reported_gap", 1.0, uncovered_frac)
    uncovered = np.nan_to_num(pop, nan=0.0) * uncovered_frac
    df["uncovered_population"] = uncovered
    top = np.log1p(uncovered.max()) if n else 0.0
    # Only villages that need action score on uncovered population: a village whose centre
    # has good 4G (status covered, action none) must not outrank a dead zone.
    needs_action = in_gap | (status == "power_outage")
    comp = {
        "uncovered_population": np.where(needs_action, np.log1p(uncovered) / top, 0.0)
        if top > 0
        else np.zeros(n)
    }
    # severity
    rsrp4 = _num(_col(df, "rsrp_centre_dbm_4g_any"))
    sev_db = np.clip(thresholds.lte.good_dbm - rsrp4, 0.0, gap_params.severity_cap_db)
    df["gap_severity_db"] = sev_db
    comp["gap_severity"] = np.nan_to_num(sev_db / gap_params.severity_cap_db, nan=0.0)
    comp["evidence"] = np.minimum(
        1.0, df["evidence_weight"].to_numpy(dtype=float) / evidence_params.min_reports
    )
    fac = np.nan_to_num(_num(_col(df, "schools")), nan=0.0) + np.nan_to_num(
        _num(_col(df, "health_stations")), nan=0.0
    )
    fac_max = fac.max() if n else 0.0
    comp["facilities"] = np.where(in_gap, fac / fac_max, 0.0) if fac_max > 0 else np.zeros(n)
    dist = _num(_col(df, "dist_site_km_4g_any"))
    comp["distance_to_site"] = np.where(
        in_gap, np.nan_to_num(np.minimum(dist / gap_params.distance_cap_km, 1.0), nan=0.0), 0.0
    )
    five_only = (cls4 == "good") & np.isin(cls5, ["weak", "none"])
    comp["five_g_only_gap"] = five_only.astype(float)
    score = np.zeros(n)
    for name in COMPONENTS:
        df[f"component_{name}"] = comp[name]
        score = score + getattr(weights, name) * comp[name]
    df["score"] = score

    # action, route, operator, cost
    action = np.select(
        [status == "predicted_gap", status == "power_outage", status == "reported_gap", five_only],
        ["new_site", "restore_power", "investigate_outage", "upgrade_to_5g"],
        "none",
    ).astype(object)
    grid = _bool(_col(df, "has_grid_power", pd.NA))
    hard = _bool(_col(df, "extremely_difficult", pd.NA)) == 1
    new_route = np.select([grid == 0, grid == -1, hard], ["power_first", "unknown_power", "vtf"], "operator")
    df["recommended_action"] = action
    df["funding_route"] = np.select(
        [action == "new_site", action == "none"], [new_route, "none"], "operator"
    ).astype(object)
    ops = operators_in(df)
    nearest_op = _pick_operator(df, "dist_site_km", ops, lowest=True)
    best_op = _pick_operator(df, "rsrp_centre_dbm", ops, lowest=False)
    reported = df["most_reported_operator"].astype(object).where(df["most_reported_operator"].notna(), "")
    reported = reported.to_numpy(dtype=object)
    df["responsible_operator"] = np.select(
        [action == "new_site", (action == "investigate_outage") & (reported != ""), action == "none"],
        [nearest_op, reported, ""],
        best_op,
    ).astype(object)
    grid_km = _num(_col(df, grid_distance_column))
    power_vnd = np.where(np.isnan(grid_km), costs.solar_power_vnd, costs.power_line_vnd_per_km * grid_km)
    site_cost = costs.site_vnd + np.where(grid == 0, power_vnd, 0.0)
    df["cost_vnd"] = np.select(
        [action == "new_site", action == "upgrade_to_5g", action == "none"],
        [site_cost, costs.upgrade_5g_vnd, 0.0],
        np.nan,
    )
    line = np.array([f"site + power line {k:.1f} km" for k in np.nan_to_num(grid_km)], dtype=object)
    power_basis = np.where(np.isnan(grid_km), "site + solar power", line)
    df["cost_basis"] = np.select(
        [action == "new_site", action == "upgrade_to_5g", action == "none"],
        [np.where(grid == 0, power_basis, "site"), "5G upgrade", ""],
        "not estimated",
    ).astype(object)
    flags = [
        ("population_unknown", np.isnan(pop)),
        ("signal_no_data", np.isnan(rsrp4)),
        ("distance_unknown", np.isnan(dist)),
        ("grid_power_unknown", grid == -1),
    ]
    df["flags"] = [
        ";".join(name for name, mask in flags if mask[i]) for i in range(n)
    ]  # short loop over strings
    order = rank_order(score, uncovered, df["village_id"].to_numpy())
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, n + 1, dtype=np.int64))
    return df


def operator_requests(priority: pd.DataFrame, operators: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Per operator: the villages where it has no good 4G (weak or none at the centre).

    Each list keeps the overall ``rank`` and adds ``operator_rank`` (1 = most urgent for
    that operator); villages where the operator's prediction is unknown are left out.

    Examples
    --------
    >>> p = pd.DataFrame({"rank": [1, 2, 3], "village_id": ["a", "b", "c"],
    ...     "class_4g_viettel": ["none", "good", "weak"]})
    >>> operator_requests(p)["Viettel"][["operator_rank", "village_id"]].values.tolist()
    [[1, 'a'], [2, 'c']]
    """
    ops = operators_in(priority) if operators is None else operators
    out = {}
    for op in ops:
        col = wide_column("class", "4G", op)
        if col not in priority.columns:
            continue
        sel = priority[priority[col].isin(["weak", "none"])].sort_values("rank", kind="stable").copy()
        sel.insert(0, "operator_rank", np.arange(1, len(sel) + 1, dtype=np.int64))
        out[op] = sel.reset_index(drop=True)
    return out


def priority_summary(
    priority: pd.DataFrame, *, by: str = "commune", communes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Roll the priority list up per commune or province.

    :func:`coverage.gaps.area_summary` (villages by class, population without good 4G)
    plus ``villages_<action>`` for each recommended action and ``cost_vnd``, the sum of
    the estimated costs (actions without an estimate count 0).

    Examples
    --------
    >>> p = pd.DataFrame({"commune_code": ["1", "1"], "population": [10, 20],
    ...     "class_4g_any": ["none", "good"], "recommended_action": ["new_site", "none"],
    ...     "cost_vnd": [7.5e8, 0.0]})
    >>> s = priority_summary(p)
    >>> s[["villages", "villages_new_site"]].values.tolist(), float(s.loc[0, "cost_vnd"])
    ([[2, 1]], 750000000.0)
    """
    out = area_summary(priority, by=by, communes=communes)
    keys = [k for k in (["commune_code"] if by == "commune" else ["province"]) if k in priority.columns]
    df = priority[keys].copy()
    for k in keys:
        df[k] = df[k].astype(object).where(df[k].notna(), "")
    action = priority["recommended_action"] if "recommended_action" in priority.columns else None
    for a in ACTIONS:
        if a != "none" and action is not None:
            df[f"villages_{a}"] = (action == a).astype(np.int64).to_numpy()
    df["cost_vnd"] = _num(_col(priority, "cost_vnd")).astype(float)
    df["cost_vnd"] = df["cost_vnd"].fillna(0.0)
    extra = df.groupby(keys, sort=True).sum().reset_index()
    out = out.merge(extra, on=keys, how="left")
    num = [c for c in extra.columns if c not in keys]
    out[num] = out[num].fillna(0)
    for c in num:
        if c.startswith("villages_"):
            out[c] = out[c].astype(np.int64)
    return out
