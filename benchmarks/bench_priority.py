"""Benchmark: village statistics, outage evidence and priority at national scale.

Builds seeded synthetic inputs (no files read): RSRP layers of ``--size`` x ``--size``
cells at 30 m for 4G and 5G ("any" + 3 operators each), a population raster,
``--villages`` village points, towers and outage reports; then times each step.

    python benchmarks/bench_priority.py                 # 4000 x 4000, 70,000 villages
    python benchmarks/bench_priority.py --gaps --write  # also polygonise and write outputs
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from coverage._types import Raster
from coverage.evidence import outage_evidence
from coverage.gaps import area_summary, gaps_from_signal, village_signal
from coverage.params import CostParams, EvidenceParams, GapParams, PriorityWeights, Thresholds
from coverage.priority import operator_requests, priority_table
from coverage.propagation import SignalLayer, SignalResult

OPERATORS = ("Viettel", "VNPT", "MobiFone")
RES_M = 30.0
X0, Y0 = 300_000.0, 2_600_000.0


def smooth_field(rng: np.random.Generator, size: int, lo: float, hi: float) -> np.ndarray:
    """Blocky-smooth random field: a coarse grid repeated to full size, plus noise."""
    block = 50
    n = -(-size // block)
    coarse = rng.uniform(lo, hi, size=(n, n)).astype(np.float32)
    out = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)[:size, :size]
    out += rng.normal(0, 4, size=(size, size)).astype(np.float32)
    return out


def build(size: int, n_villages: int, seed: int):
    rng = np.random.default_rng(seed)
    crs = CRS.from_epsg(32648)
    transform = Affine(RES_M, 0, X0, 0, -RES_M, Y0)
    serving = np.zeros((size, size), np.int32)  # shared: its content is not used here
    layers = {}
    for tech in ("4G", "5G"):
        ops = {op: smooth_field(rng, size, -150, -70) for op in OPERATORS}
        for arr in ops.values():
            arr[rng.random((size, size)) < 0.01] = np.nan
            arr[arr < -140] = -200.0  # below the computation floor
        best = np.fmax(np.fmax(ops["Viettel"], ops["VNPT"]), ops["MobiFone"])
        for op, arr in ops.items():
            layers[(tech, op)] = SignalLayer(arr, serving)
        layers[(tech, "any")] = SignalLayer(best, serving)
    signal = SignalResult(transform, crs, (size, size), layers, pd.DataFrame(), pd.DataFrame(), [])
    population = Raster(rng.gamma(0.5, 4.0, size=(size, size)).astype(np.float32), transform, crs)
    extent = size * RES_M
    x = X0 + rng.uniform(0, extent, n_villages)
    y = Y0 - rng.uniform(0, extent, n_villages)
    communes = rng.integers(0, max(1, n_villages // 13), n_villages)
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"{c:05d}-{i:06d}" for i, c in enumerate(communes)],
            "name": [f"Thôn {i}" for i in range(n_villages)],
            "commune_code": [f"{c:05d}" for c in communes],
            "commune_name": [f"Xã {c}" for c in communes],
            "province": [f"Tỉnh {c % 34}" for c in communes],
            "population": pd.array(rng.integers(50, 3000, n_villages), dtype="Int64"),
            "households": pd.array(rng.integers(10, 700, n_villages), dtype="Int64"),
            "has_grid_power": pd.array(rng.random(n_villages) > 0.05, dtype="boolean"),
            "extremely_difficult": pd.array(rng.random(n_villages) < 0.2, dtype="boolean"),
            "schools": pd.array(rng.integers(0, 3, n_villages), dtype="Int64"),
            "health_stations": pd.array(rng.integers(0, 2, n_villages), dtype="Int64"),
        },
        geometry=shapely.points(x, y),
        crs=crs,
    )
    n_towers = 12_000
    towers = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n_towers)],
            "operator": rng.choice(OPERATORS, n_towers),
            "technology": rng.choice(["4G", "5G"], n_towers, p=[0.8, 0.2]),
            "status": rng.choice(["on_air", "planned", "down"], n_towers, p=[0.9, 0.05, 0.05]),
        },
        geometry=shapely.points(X0 + rng.uniform(0, extent, n_towers), Y0 - rng.uniform(0, extent, n_towers)),
        crs=crs,
    )
    n_reports = 30_000
    pick = rng.integers(0, n_villages, n_reports)
    with_id = rng.random(n_reports) < 0.2
    jitter = rng.normal(0, 150, (n_reports, 2))
    pts = shapely.points(x[pick] + jitter[:, 0], y[pick] + jitter[:, 1])
    outages = gpd.GeoDataFrame(
        {
            "report_id": [f"R{i:06d}" for i in range(n_reports)],
            "reported_at": pd.Timestamp("2026-10-31T12:00:00+07:00")
            - pd.to_timedelta(rng.uniform(0, 240, n_reports), unit="D"),
            "village_id": np.where(with_id, villages["village_id"].to_numpy()[pick], None),
            "operator": rng.choice(OPERATORS, n_reports),
            "technology": rng.choice(["4G", "5G"], n_reports),
            "kind": rng.choice(
                ["no_signal", "weak", "no_data", "power_cut"], n_reports, p=[0.45, 0.3, 0.13, 0.12]
            ),
            "reporter_key": [f"k{v}" for v in rng.integers(0, n_reports // 3, n_reports)],
        },
        geometry=np.where(with_id, None, pts),
        crs=crs,
    )
    return signal, population, villages, towers, outages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4000, help="grid cells per side (30 m)")
    ap.add_argument("--villages", type=int, default=70_000)
    ap.add_argument("--seed", type=int, default=20260701)
    ap.add_argument("--gaps", action="store_true", help="also time gap polygons")
    ap.add_argument("--write", action="store_true", help="also time the writers (CSV, XLSX, GPKG)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    signal, population, villages, towers, outages = build(args.size, args.villages, args.seed)
    print(
        f"inputs: {args.size}x{args.size} cells x {len(signal.layers)} layers, {len(villages):,} villages, "
        f"{len(towers):,} towers, {len(outages):,} reports  (built in {time.perf_counter() - t0:.1f} s)"
    )
    thresholds, gap_params, ev_params = Thresholds(), GapParams(), EvidenceParams()
    timings = {}

    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - t
        print(f"  {name:<28} {timings[name]:7.2f} s")
        return out

    vs = timed(
        "village statistics",
        lambda: village_signal(
            villages, signal, thresholds=thresholds, towers=towers, population=population, params=gap_params
        ),
    )
    ev = timed(
        "outage evidence",
        lambda: outage_evidence(
            outages, villages, params=ev_params, gap_params=gap_params, as_of="2026-11-01"
        ),
    )
    pr = timed(
        "priority",
        lambda: priority_table(
            vs.wide,
            ev.villages,
            weights=PriorityWeights(),
            thresholds=thresholds,
            gap_params=gap_params,
            evidence_params=ev_params,
            costs=CostParams(),
        ),
    )
    summary = timed("commune/province roll-ups", lambda: (area_summary(pr), area_summary(pr, by="province")))
    lists = timed("operator request lists", lambda: operator_requests(pr))
    core = sum(timings.values())
    print(f"  {'TOTAL statistics..priority':<28} {core:7.2f} s   (target <= 60 s)")
    print(f"  long rows {len(vs.long):,}; statuses {pr['status'].value_counts().to_dict()}")
    if args.gaps:
        g = timed(
            "gap polygons", lambda: gaps_from_signal(signal, thresholds=thresholds, population=population)
        )
        print(f"  gap polygons {len(g):,}")
    if args.write:
        from coverage.outputs import (
            write_gaps_gpkg,
            write_priority_csv,
            write_priority_xlsx,
            write_villages_gpkg,
        )

        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            timed("write priority.csv", lambda: write_priority_csv(pr, d / "priority.csv"))
            timed(
                "write priority.xlsx",
                lambda: write_priority_xlsx(
                    pr, d / "priority.xlsx", operator_lists=lists, commune_summary=summary[0]
                ),
            )
            timed(
                "write villages.gpkg",
                lambda: write_villages_gpkg(
                    gpd.GeoDataFrame(pr, crs=villages.crs), d / "v.gpkg", long=vs.long
                ),
            )
            if args.gaps:
                timed("write gaps.gpkg", lambda: write_gaps_gpkg(g, d / "gaps.gpkg"))


if __name__ == "__main__":
    main()
