"""Priority score, ranking properties, actions, funding routes and costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.params import CostParams, GapParams, PriorityWeights
from coverage.priority import ACTIONS, COMPONENTS, FUNDING_ROUTES, operator_requests, priority_table

CLASSES = ["good", "weak", "none", "no_data"]


def village_table(n: int = 6, **over) -> pd.DataFrame:
    base = {
        "village_id": [f"v{i:02d}" for i in range(n)],
        "name": [f"Thôn {i}" for i in range(n)],
        "population": pd.array([500] * n, dtype="Int64"),
        "has_grid_power": pd.array([True] * n, dtype="boolean"),
        "extremely_difficult": pd.array([False] * n, dtype="boolean"),
        "schools": pd.array([0] * n, dtype="Int64"),
        "health_stations": pd.array([0] * n, dtype="Int64"),
        "class_4g_any": ["none"] * n,
        "class_5g_any": ["none"] * n,
        "rsrp_centre_dbm_4g_any": [-130.0] * n,
        "covered_share_4g_any": [0.0] * n,
        "dist_site_km_4g_any": [5.0] * n,
    }
    base.update(over)
    return pd.DataFrame(base)


def by_id(p: pd.DataFrame) -> pd.DataFrame:
    return p.set_index("village_id")


def test_components_are_normalised_and_the_score_is_their_weighted_sum():
    w = village_table(
        4,
        population=pd.array([10, 1000, None, 0], dtype="Int64"),
        class_4g_any=["none", "weak", "good", "no_data"],
        rsrp_centre_dbm_4g_any=[-200.0, -110.0, -90.0, np.nan],
        covered_share_4g_any=[0.0, 0.5, 1.0, np.nan],
        schools=pd.array([1, 0, 3, 0], dtype="Int64"),
        dist_site_km_4g_any=[40.0, 2.0, 1.0, np.nan],
    )
    weights = PriorityWeights()
    p = by_id(priority_table(w, weights=weights))
    comp = p[[f"component_{c}" for c in COMPONENTS]]
    assert ((comp >= 0) & (comp <= 1)).all().all()
    expected = sum(getattr(weights, c) * p[f"component_{c}"] for c in COMPONENTS)
    assert np.allclose(p["score"], expected)
    assert p.loc["v00", "component_gap_severity"] == 1.0  # -200 dBm is capped
    assert p.loc["v01", "gap_severity_db"] == pytest.approx(10.0)
    assert p.loc["v01", "component_gap_severity"] == pytest.approx(10 / 30)
    assert p.loc["v01", "uncovered_population"] == pytest.approx(500)
    assert p.loc["v01", "component_uncovered_population"] == 1.0  # the largest
    assert p.loc["v00", "component_distance_to_site"] == 1.0  # capped at 20 km
    assert p.loc["v02", "component_facilities"] == 0.0  # covered village: facilities do not count
    assert p.loc["v00", "component_facilities"] == pytest.approx(1 / 3)
    assert p.loc["v03", "component_gap_severity"] == 0.0
    assert "signal_no_data" in p.loc["v03", "flags"]
    assert "population_unknown" in p.loc["v02", "flags"]
    assert "distance_unknown" in p.loc["v03", "flags"]


def test_rank_tie_breaks_uncovered_population_then_village_id():
    w = village_table(
        3,
        village_id=["c", "a", "b"],
        population=pd.array([100, 100, 100], dtype="Int64"),
        covered_share_4g_any=[0.0, 0.0, 0.0],
    )
    p = priority_table(w, weights=PriorityWeights(0, 1, 0, 0, 0, 0))  # only severity: all equal
    assert p["village_id"].tolist() == ["a", "b", "c"]
    assert p["rank"].tolist() == [1, 2, 3]
    w["population"] = pd.array([100, 100, 300], dtype="Int64")
    p = priority_table(w, weights=PriorityWeights(0, 1, 0, 0, 0, 0))
    assert p["village_id"].tolist() == ["b", "a", "c"]


rows = st.fixed_dictionaries(
    {
        "population": st.one_of(st.none(), st.integers(0, 20_000)),
        "class_4g_any": st.sampled_from(CLASSES),
        "class_5g_any": st.sampled_from(CLASSES),
        "rsrp": st.one_of(st.just(np.nan), st.floats(-200, -60)),
        "share": st.one_of(st.just(np.nan), st.floats(0, 1)),
        "schools": st.integers(0, 3),
        "dist": st.one_of(st.just(np.nan), st.floats(0, 50)),
        "reports": st.integers(0, 10),
        "days": st.integers(0, 5),
        "weight": st.floats(0, 10),
        "grid": st.sampled_from([True, False, None]),
    }
)


def table_from(rows_: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(rows_)
    w = village_table(
        n,
        population=pd.array([r["population"] for r in rows_], dtype="Int64"),
        class_4g_any=[r["class_4g_any"] for r in rows_],
        class_5g_any=[r["class_5g_any"] for r in rows_],
        rsrp_centre_dbm_4g_any=[r["rsrp"] for r in rows_],
        covered_share_4g_any=[r["share"] for r in rows_],
        schools=pd.array([r["schools"] for r in rows_], dtype="Int64"),
        dist_site_km_4g_any=[r["dist"] for r in rows_],
        has_grid_power=pd.array([r["grid"] for r in rows_], dtype="boolean"),
    )
    ev = pd.DataFrame(
        {
            "village_id": w["village_id"],
            "reports": [r["reports"] for r in rows_],
            "report_days": [r["days"] for r in rows_],
            "evidence_weight": [r["weight"] for r in rows_],
            "power_cut_reports": 0,
            "power_cut_days": 0,
            "has_evidence": [r["reports"] >= 5 and r["days"] >= 3 for r in rows_],
            "has_power_evidence": False,
        }
    )
    return w, ev


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_row_order_never_changes_ranks_or_scores(rows_, rnd):
    w, ev = table_from(rows_)
    a = by_id(priority_table(w, ev))
    perm = list(range(len(w)))
    rnd.shuffle(perm)
    b = by_id(priority_table(w.iloc[perm], ev.iloc[perm[::-1]]))
    assert a["rank"].to_dict() == b["rank"].to_dict()
    assert np.array_equal(a["score"].to_numpy(), b.loc[a.index, "score"].to_numpy())
    assert set(a["recommended_action"]) <= set(ACTIONS)
    assert set(a["funding_route"]) <= set(FUNDING_ROUTES)
    assert sorted(a["rank"]) == list(range(1, len(w) + 1))


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, min_size=1, max_size=12), st.data())
def test_more_uncovered_population_never_lowers_a_score(rows_, data):
    w, ev = table_from(rows_)
    i = data.draw(st.integers(0, len(w) - 1))
    extra = data.draw(st.integers(1, 50_000))
    before = by_id(priority_table(w, ev))
    w2 = w.copy()
    pop = w2["population"].astype("Float64").fillna(0)
    pop.iloc[i] += extra
    w2["population"] = pop.round().astype("Int64")
    after = by_id(priority_table(w2, ev))
    vid = w["village_id"].iloc[i]
    assert after.loc[vid, "uncovered_population"] >= before.loc[vid, "uncovered_population"]
    assert after.loc[vid, "score"] >= before.loc[vid, "score"] - 1e-12


def test_actions_by_status():
    w = village_table(
        5,
        class_4g_any=["none", "good", "good", "good", "good"],
        class_5g_any=["none", "none", "good", "good", "weak"],
        rsrp_centre_dbm_4g_any=[-130.0, -80.0, -80.0, -80.0, -80.0],
        covered_share_4g_any=[0.0, 1.0, 1.0, 1.0, 1.0],
    )
    ev = pd.DataFrame(
        {
            "village_id": w["village_id"],
            "reports": [0, 0, 0, 7, 0],
            "report_days": [0, 0, 0, 4, 0],
            "evidence_weight": [0, 0, 0, 7, 0],
            "power_cut_reports": [0, 0, 0, 0, 8],
            "power_cut_days": [0, 0, 0, 0, 3],
            "has_evidence": [False, False, False, True, False],
            "has_power_evidence": [False, False, False, False, True],
            "most_reported_operator": [None, None, None, "MobiFone", None],
        }
    )
    p = by_id(priority_table(w, ev))
    assert p.loc["v00", ["status", "recommended_action"]].tolist() == ["predicted_gap", "new_site"]
    assert p.loc["v01", ["status", "recommended_action"]].tolist() == ["covered", "upgrade_to_5g"]
    assert p.loc["v02", ["status", "recommended_action"]].tolist() == ["covered", "none"]
    assert p.loc["v03", ["status", "recommended_action"]].tolist() == ["reported_gap", "investigate_outage"]
    assert p.loc["v03", "responsible_operator"] == "MobiFone"
    assert p.loc["v03", "component_uncovered_population"] > 0  # evidence overrides the model
    assert p.loc["v04", ["status", "recommended_action"]].tolist() == ["power_outage", "restore_power"]
    assert p.loc["v01", "cost_vnd"] == CostParams().upgrade_5g_vnd
    assert p.loc["v02", "cost_vnd"] == 0
    assert np.isnan(p.loc["v03", "cost_vnd"])
    assert p.loc["v02", "funding_route"] == "none"
    assert p.loc["v01", "funding_route"] == "operator"


def test_funding_routes_and_costs_for_new_sites():
    w = village_table(
        5,
        has_grid_power=pd.array([True, True, False, None, False], dtype="boolean"),
        extremely_difficult=pd.array([True, False, True, True, False], dtype="boolean"),
        grid_distance_km=[np.nan, np.nan, np.nan, np.nan, 3.0],
    )
    costs = CostParams()
    p = by_id(priority_table(w, costs=costs))
    assert p["funding_route"].tolist() == ["vtf", "operator", "power_first", "unknown_power", "power_first"]
    assert p.loc["v00", "cost_vnd"] == costs.site_vnd
    assert p.loc["v02", "cost_vnd"] == costs.site_vnd + costs.solar_power_vnd
    assert p.loc["v02", "cost_basis"] == "site + solar power"
    assert p.loc["v04", "cost_vnd"] == costs.site_vnd + 3 * costs.power_line_vnd_per_km
    assert p.loc["v04", "cost_basis"] == "site + power line 3.0 km"
    assert "grid_power_unknown" in p.loc["v03", "flags"]


def test_responsible_operator_for_new_site_is_the_nearest():
    w = village_table(
        2,
        class_4g_viettel=["none", "none"],
        class_4g_vnpt=["none", "none"],
        dist_site_km_4g_viettel=[4.0, np.nan],
        dist_site_km_4g_vnpt=[2.5, np.nan],
        rsrp_centre_dbm_4g_viettel=[-130.0, -140.0],
        rsrp_centre_dbm_4g_vnpt=[-135.0, -150.0],
    )
    p = by_id(priority_table(w))
    assert p.loc["v00", "responsible_operator"] == "VNPT"
    assert p.loc["v01", "responsible_operator"] == ""  # no site of any operator known


def test_operator_requests_ranked_lists():
    w = village_table(
        4,
        population=pd.array([100, 400, 300, 200], dtype="Int64"),
        class_4g_viettel=["good", "none", "weak", "no_data"],
        class_4g_vnpt=["none", "none", "none", "none"],
    )
    p = priority_table(w)
    lists = operator_requests(p)
    assert set(lists) == {"Viettel", "VNPT"}
    vt = lists["Viettel"]
    assert vt["village_id"].tolist() == ["v01", "v02"]  # good and unknown are left out
    assert vt["operator_rank"].tolist() == [1, 2]
    assert lists["VNPT"]["village_id"].tolist() == p["village_id"].tolist()


def test_empty_table():
    w = village_table(0)
    p = priority_table(w)
    assert len(p) == 0
    assert "rank" in p.columns


def test_severity_cap_from_params():
    w = village_table(1, rsrp_centre_dbm_4g_any=[-110.0], class_4g_any=["weak"])
    p = priority_table(w, gap_params=GapParams(severity_cap_db=10.0))
    assert p.loc[0, "component_gap_severity"] == 1.0


def test_priority_summary_counts_actions_and_costs():
    from coverage.priority import priority_summary

    w = village_table(
        3,
        commune_code=["01", "01", "02"],
        commune_name=["Xã A", "Xã A", "Xã B"],
        class_4g_any=["none", "good", "none"],
        class_5g_any=["none", "good", "none"],
        rsrp_centre_dbm_4g_any=[-130.0, -80.0, -130.0],
        covered_share_4g_any=[0.0, 1.0, 0.0],
    )
    s = priority_summary(priority_table(w)).set_index("commune_code")
    assert s.loc["01", "villages"] == 2
    assert s.loc["01", "villages_new_site"] == 1
    assert s.loc["01", "cost_vnd"] == CostParams().site_vnd
    assert s.loc["02", "population_without_good_4g"] == 500


def test_a_covered_village_never_outranks_a_dead_zone():
    """Review finding: a big village with good 4G at its centre but 30 % area coverage ranked first."""
    import pandas as pd

    from coverage.priority import priority_table

    wide = pd.DataFrame(
        {
            "village_id": ["A", "B"],
            "name": ["Thôn Lớn", "Bản Nhỏ"],
            "population": [5000, 25],
            "class_4g_any": ["good", "weak"],
            "class_5g_any": ["good", "none"],
            "rsrp_centre_dbm_4g_any": [-90.0, -110.0],
            "covered_share_4g_any": [0.3, 1.0],
            "dist_site_km_4g_any": [1.0, 4.0],
        }
    )
    ranked = priority_table(wide).set_index("village_id")
    assert ranked.loc["B", "rank"] == 1 and ranked.loc["B", "recommended_action"] == "new_site"
    assert ranked.loc["A", "recommended_action"] == "none" and ranked.loc["A", "score"] == 0.0
