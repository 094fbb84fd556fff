"""Site optimiser: exact = brute force, greedy <= exact, CELF = plain greedy, budgets, engine matrix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point

from coverage._types import Raster
from coverage.optimize import (
    BruteForceSolver,
    CoverageProblem,
    ExactSolver,
    GreedySolver,
    candidates_from_points,
    select_sites,
    site_problem,
)
from coverage.params import CostParams, RadioParams, Thresholds
from coverage.propagation import signal_from_towers


@st.composite
def problems(draw, max_c=8, max_v=12):
    n_c = draw(st.integers(1, max_c))
    n_v = draw(st.integers(1, max_v))
    cover = draw(st.lists(st.lists(st.booleans(), min_size=n_v, max_size=n_v), min_size=n_c, max_size=n_c))
    w = draw(st.lists(st.integers(0, 500), min_size=n_v, max_size=n_v))
    c = draw(st.lists(st.integers(1, 5), min_size=n_c, max_size=n_c))
    return CoverageProblem.from_arrays(np.array(cover), w, [float(x) * 1e8 for x in c])


@settings(max_examples=60, deadline=None)
@given(p=problems(), k=st.integers(1, 4))
def test_exact_equals_brute_force_for_a_site_count(p, k):
    exact = ExactSolver().solve(p, max_sites=k)
    brute = BruteForceSolver().solve(p, max_sites=k)
    assert exact.optimal
    assert exact.objective == pytest.approx(brute.objective)
    assert len(exact.chosen) <= k


@settings(max_examples=60, deadline=None)
@given(p=problems(), b=st.integers(1, 12))
def test_exact_equals_brute_force_under_a_budget_and_respects_it(p, b):
    budget = b * 1e8
    exact = ExactSolver().solve(p, budget_vnd=budget)
    brute = BruteForceSolver().solve(p, budget_vnd=budget)
    assert exact.objective == pytest.approx(brute.objective)
    assert exact.cost_vnd <= budget + 1e-6
    for solver in (GreedySolver(), GreedySolver(lazy=False)):
        g = solver.solve(p, budget_vnd=budget)
        assert g.cost_vnd <= budget + 1e-6
        assert g.objective <= exact.objective + 1e-9


@settings(max_examples=80, deadline=None)
@given(p=problems(max_c=12, max_v=20), k=st.integers(1, 6), b=st.one_of(st.none(), st.integers(1, 15)))
def test_celf_equals_plain_greedy_and_greedy_never_beats_exact(p, k, b):
    budget = None if b is None else b * 1e8
    lazy = GreedySolver(lazy=True).solve(p, max_sites=k, budget_vnd=budget)
    plain = GreedySolver(lazy=False).solve(p, max_sites=k, budget_vnd=budget)
    assert lazy.chosen == plain.chosen and lazy.gains == plain.gains
    exact = ExactSolver().solve(p, max_sites=k, budget_vnd=budget)
    assert lazy.objective <= exact.objective + 1e-9
    if budget is None:  # (1 - 1/e) guarantee for a site count
        assert lazy.objective >= (1 - 1 / np.e) * exact.objective - 1e-9
    assert list(lazy.gains) == sorted(lazy.gains, reverse=True)
    assert sum(lazy.gains) == pytest.approx(lazy.objective)


def test_greedy_can_be_suboptimal_and_exact_is_not():
    # classic: greedy takes the big middle set, the optimum is the two halves
    p = CoverageProblem.from_lists([[0, 1, 2, 3], [0, 1, 4], [2, 3, 5]], [1, 1, 1, 1, 2, 2])
    assert GreedySolver().solve(p, max_sites=2).objective == 6.0
    q = CoverageProblem.from_lists([[1, 2, 3, 4], [0, 1, 2], [3, 4, 5]], [1, 1, 1, 1, 1, 1])
    assert GreedySolver().solve(q, max_sites=2).objective == 5.0
    assert ExactSolver().solve(q, max_sites=2).objective == 6.0


def test_degenerate_inputs():
    empty = CoverageProblem.from_lists([], [])
    assert select_sites(empty, max_sites=3).chosen == ()
    nothing = CoverageProblem.from_lists([[], []], [5.0])
    for s in (ExactSolver(), GreedySolver(), BruteForceSolver()):
        assert s.solve(nothing, max_sites=2).chosen == ()
    with pytest.raises(ValueError, match="max_sites, budget_vnd"):
        select_sites(nothing)
    with pytest.raises(ValueError, match="weights"):
        CoverageProblem.from_lists([[0]], [-1.0])


# ---------------------------------------------------------------- engine matrix
N, RES, X0, Y0 = 120, 30.0, 500_000.0, 2_400_000.0


@pytest.fixture(scope="module")
def setup():
    yy, xx = np.mgrid[0:N, 0:N]
    arr = (100 + 150 * np.exp(-((xx - 90) ** 2 + (yy - 30) ** 2) / 300.0)).astype("float32")
    dem = Raster(arr, Affine(RES, 0, X0, 0, -RES, Y0 + N * RES), CRS.from_epsg(32648))
    towers = gpd.GeoDataFrame(
        {
            "site_id": ["A"],
            "sector_id": [None],
            "operator": ["Viettel"],
            "technology": ["4G"],
            "band_mhz": [1800.0],
            "antenna_height_m": [20.0],
            "azimuth_deg": [np.nan],
            "tilt_deg": [0.0],
            "eirp_dbm": [40.0],
            "status": ["on_air"],
        },
        geometry=[Point(X0 + 300, Y0 + 300)],
        crs=dem.crs,
    )
    radio = RadioParams(max_radius_km=3.0)
    sig = signal_from_towers(towers, dem, params=radio, thresholds=Thresholds())
    rng = np.random.default_rng(0)
    pts = [Point(X0 + x, Y0 + y) for x, y in rng.uniform(100, N * RES - 100, (30, 2))]
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"V{i}" for i in range(30)],
            "population": rng.integers(10, 1000, 30),
            "has_grid_power": [i % 2 == 0 for i in range(30)],
        },
        geometry=pts,
        crs=dem.crs,
    )
    cands = candidates_from_points(
        gpd.GeoDataFrame(
            geometry=[Point(X0 + 2700, Y0 + 2700), Point(X0 + 600, Y0 + 3000), Point(X0 + 300, Y0 + 300)],
            crs=dem.crs,
        ),
        sectors=1,
    )
    return dem, sig, villages, cands, radio


def test_site_problem_uses_the_engine_and_skips_covered_villages(setup):
    dem, sig, villages, cands, radio = setup
    sp = site_problem(cands, villages, signal=sig, dem=dem, radio=radio, thresholds=Thresholds())
    p = sp.problem
    assert p.n_candidates == 3 and p.n_villages == 30
    th = Thresholds().lte.weak_dbm
    indptr, idx, val = sp.rsrp
    for j in range(3):
        cov = set(p.covers(j).tolist())
        for q in range(indptr[j], indptr[j + 1]):
            i = int(idx[q])
            assert (i in cov) == (val[q] >= th and sp.villages["eligible"].iloc[i])
    # a candidate on top of the existing site covers nothing new
    eligible = sp.villages["eligible"].to_numpy()
    assert all(eligible[p.covers(j)].all() for j in range(3))
    # costs: site + solar where the nearest village has no grid power
    c = CostParams()
    assert set(sp.candidates["cost_vnd"]) <= {c.site_vnd, c.site_vnd + c.solar_power_vnd}
    sel = select_sites(p, max_sites=2)
    chosen = sp.chosen_sites(sel)
    assert list(chosen["order"]) == list(range(1, len(sel.chosen) + 1))
    assert (
        chosen["marginal_population"].sum()
        == sp.villages["population"]
        .to_numpy()[np.unique(np.concatenate([p.covers(j) for j in sel.chosen]))]
        .sum()
    )
    cov = sp.covered_villages(sel)
    assert cov["first_by"].sum() == len(set(cov["village_id"]))


def test_site_problem_rejects_mixed_technologies(setup):
    dem, sig, villages, cands, radio = setup
    mixed = cands.assign(technology=["4G", "5G", "4G"])
    with pytest.raises(ValueError, match="separately"):
        site_problem(mixed, villages, signal=sig, dem=dem, radio=radio, thresholds=Thresholds())


def test_candidate_file_problems_are_reported_with_rows(tmp_path):
    import pandas as pd

    from coverage._errors import InputSchemaError
    from coverage.scenarios import read_candidates

    good = pd.DataFrame(
        {"candidate_id": ["K1", "K2"], "lon": [105.5, 105.6], "lat": [21.6, 21.7],
         "antenna_height_m": ["35", "40"], "has_grid_power": ["không", "có"]}
    )  # fmt: skip
    good.to_csv(tmp_path / "c.csv", index=False)
    cands = read_candidates(tmp_path / "c.csv")
    assert len(cands) >= 2 and cands.crs is not None
    bad = good.assign(antenna_height_m=["abc", "-5"], has_grid_power=["maybe", "có"])
    bad.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputSchemaError) as info:
        read_candidates(tmp_path / "b.csv")
    text = str(info.value)
    assert "line 2" in text and "'antenna_height_m' is not a number" in text
    assert "outside the physical range" in text and "'has_grid_power' is not yes/no" in text
    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputSchemaError, match="cannot read the file"):
        read_candidates(tmp_path / "broken.geojson")
