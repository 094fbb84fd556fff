"""Speed of the incremental what-if and of the site optimiser (prints a table; not a timed test).

Usage::

    python benchmarks/bench_whatif.py            # province grid + demo (30 m; a few minutes)
    python benchmarks/bench_whatif.py --quick    # smaller province, demo at 90 m

(1) Synthetic province, 120 km x 120 km at 30 m (4000 x 4000 cells), a few thousand
    3-sector 4G sites: one added site, one 5G upgrade, one removed site, one height
    change: wall time of ``update_signal`` and of village statistics + priority
    (5,000 villages), on a real baseline computed with ``runner_up=True`` (its time and
    the process's peak memory are printed), and for comparison the removal without the
    runner-up state (every sector reaching the window recomputed).
(2) Demo project: baseline, then the example scenario and a removal, end to end.
(3) Demo optimiser: 10 sites, exact MILP against lazy greedy, with greedy's gap.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from coverage import scenarios
from coverage._types import Raster
from coverage.gaps import village_signal
from coverage.optimize import ExactSolver, GreedySolver, select_sites
from coverage.params import RadioParams, Thresholds
from coverage.pipeline import demo_project_path
from coverage.priority import priority_table
from coverage.propagation import signal_from_towers
from coverage.whatif import AddSite, ModifySite, RemoveSite, Scenario, UpgradeSite, evaluate_scenario


def province(n_cells: int, n_sites: int, res: float = 30.0):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:n_cells, 0:n_cells].astype(np.float32)
    arr = 300 + 250 * np.sin(xx / 170.0) * np.cos(yy / 130.0) + 80 * np.sin(xx / 23.0 + yy / 31.0)
    x0, y0 = 400_000.0, 2_300_000.0
    dem = Raster(
        arr.astype(np.float32), Affine(res, 0, x0, 0, -res, y0 + n_cells * res), CRS.from_epsg(32648)
    )
    span = n_cells * res
    rows = []
    ops = ["Viettel", "VNPT", "MobiFone"]
    for i in range(n_sites):
        x, y = x0 + rng.uniform(500, span - 500), y0 + rng.uniform(500, span - 500)
        band = float(rng.choice([700.0, 900.0, 1800.0]))
        for k, az in enumerate((0.0, 120.0, 240.0)):
            rows.append(
                {
                    "site_id": f"P{i:05d}",
                    "sector_id": f"P{i:05d}-{k}",
                    "operator": ops[i % 3],
                    "technology": "4G",
                    "band_mhz": band,
                    "antenna_height_m": 30.0,
                    "azimuth_deg": az,
                    "tilt_deg": 3.0,
                    "eirp_dbm": 62.5,
                    "status": "on_air",
                    "geometry": Point(x, y),
                }
            )
    towers = gpd.GeoDataFrame(rows, crs=dem.crs)
    return dem, towers


def bench_province(quick: bool) -> None:
    n_cells, n_sites = (1500, 400) if quick else (4000, 3000)
    radio, th = RadioParams(), Thresholds()
    t = time.perf_counter()
    dem, towers = province(n_cells, n_sites)
    t_base = time.perf_counter()
    base = signal_from_towers(towers, dem, params=radio, thresholds=th, runner_up=True)
    t_base = time.perf_counter() - t_base
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = np.random.default_rng(1)
    span = n_cells * 30.0
    pts = [
        Point(dem.transform.c + x, dem.transform.f - y) for x, y in rng.uniform(1000, span - 1000, (5000, 2))
    ]
    villages = gpd.GeoDataFrame(
        {"village_id": [f"V{i:05d}" for i in range(5000)], "population": rng.integers(50, 3000, 5000)},
        geometry=pts,
        crs=dem.crs,
    )
    before = priority_table(village_signal(villages, base, thresholds=th, towers=towers).wide)
    r = base.sites["radius_m"]
    print(
        f"\n(1) province {n_cells * 30 / 1000:.0f} km x {n_cells * 30 / 1000:.0f} km at 30 m "
        f"({n_cells}x{n_cells} cells), "
        f"{n_sites} sites / {len(towers)} sectors; radius median {r.median() / 1000:.1f} km, "
        f"max {r.max() / 1000:.1f} km; setup {time.perf_counter() - t:.1f} s"
        f"\n    baseline with runner-up state {t_base:.1f} s, peak RSS {rss:,.0f} MB"
    )
    mid = dem.transform * (n_cells / 2, n_cells / 2)
    victim = towers["site_id"].iloc[len(towers) // 2]
    cases = {
        "add one 3-sector site": Scenario(
            (
                AddSite(
                    "NEW",
                    "VNPT",
                    mid[0],
                    mid[1],
                    crs="EPSG:32648",
                    azimuth_deg=(0, 120, 240),
                    antenna_height_m=35,
                ),
            )
        ),
        "upgrade one site to 5G": Scenario((UpgradeSite(victim),)),
        "remove one site": Scenario((RemoveSite(victim),)),
        "raise one mast to 45 m": Scenario((ModifySite(victim, antenna_height_m=45.0),)),
    }

    def run(scenario, signal):
        return evaluate_scenario(
            scenario,
            signal=signal,
            dem=dem,
            towers=towers,
            villages=villages,
            baseline_priority=before,
            radio=radio,
            thresholds=th,
        )

    def show(name, res):
        s = res.seconds
        print(
            f"{name:<26}{s['signal']:>10.3f}{s['villages_priority']:>22.3f}{s['total']:>10.3f}{res.sectors_computed:>9}"
        )

    run(cases["add one 3-sector site"], base)  # JIT warm-up
    print(f"{'change':<26}{'signal s':>10}{'villages+priority s':>22}{'total s':>10}{'sectors':>9}")
    for name, sc in cases.items():
        show(name, run(sc, base))
    show("remove, no runner-up", run(cases["remove one site"], dataclasses.replace(base, runner_up=None)))


def bench_demo(quick: bool) -> None:
    res_m = 90.0 if quick else None
    t = time.perf_counter()
    base = scenarios.load_baseline(demo_project_path(), resolution_m=res_m, progress=lambda m: None)
    shape = base.analysis.signal.shape
    print(
        f"\n(2) demo {shape[1]}x{shape[0]} cells at {base.project.radio.resolution_m:g} m: "
        f"baseline {time.perf_counter() - t:.1f} s"
    )
    example = scenarios.read_scenario(demo_project_path().parent / "scenario_example.toml")
    scenarios.whatif(base, Scenario((UpgradeSite("VT-TN-0001"),)))  # warm-up
    for name, sc in (
        ("example scenario (add + 5G upgrade)", example),
        ("remove VT-TN-0003", Scenario((RemoveSite("VT-TN-0003"),))),
    ):
        r = scenarios.whatif(base, sc)
        s = r.seconds
        print(
            f"  {name:<38} signal {s['signal']:.3f} s, villages+priority {s['villages_priority']:.3f} s, "
            f"{r.sectors_computed} sectors, {r.newly_covered_population:,} people newly covered"
        )
    t = time.perf_counter()
    opt = scenarios.optimise(base, max_sites=10, solver="exact")
    p = opt.problem.problem
    print(
        f"\n(3) demo optimiser: {p.n_candidates} candidates x {p.n_villages} villages "
        f"({int(np.unique(p.indices).size)} coverable), matrix + solve {time.perf_counter() - t:.1f} s"
    )
    for label, kw in (("K = 10 sites", {"max_sites": 10}), ("budget 10 bn VND", {"budget_vnd": 10e9})):
        e = select_sites(p, solver=ExactSolver(), **kw)
        g = select_sites(p, solver=GreedySolver(), **kw)
        gap = 100.0 * (e.objective - g.objective) / e.objective if e.objective else 0.0
        print(
            f"  {label:<18} exact {e.objective:>9,.0f} people ({len(e.chosen)} sites, optimal={e.optimal}, "
            f"{e.seconds:.3f} s)  greedy {g.objective:>9,.0f} ({g.seconds:.4f} s)  gap {gap:.2f} %"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 160)
    bench_province(args.quick)
    if not args.skip_demo:
        bench_demo(args.quick)


if __name__ == "__main__":
    main()
