"""Benchmark: build the demo web map and report its build time and HTML size.

Reads the demo project (``data/demo``), computes signal on a ``--resolution`` grid,
village statistics, gaps and the priority table, then times :func:`coverage.maps.gap_map`
and :func:`coverage.maps.map_html`.

    python benchmarks/bench_map.py                   # 30 m, as `coverage-gaps demo`
    python benchmarks/bench_map.py --resolution 120 --out /tmp/map.html --lang en
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from pathlib import Path

from pyproj import CRS

from coverage._errors import CoverageWarning
from coverage.gaps import gaps_from_signal, village_signal
from coverage.io import read_communes, read_dem, read_outages, read_towers, read_villages
from coverage.maps import gap_map, map_html
from coverage.params import RadioParams, Thresholds
from coverage.pipeline import analysis_grid, compute_signal

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=30.0, help="grid cell size, m")
    parser.add_argument("--lang", choices=["vi", "en"], default="vi")
    parser.add_argument("--per-operator", action="store_true", help="one RSRP overlay per operator")
    parser.add_argument("--out", type=Path, help="write the HTML here")
    args = parser.parse_args()
    crs = CRS.from_epsg(32648)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        villages = read_villages(DEMO / "villages.gpkg", layer="villages").to_crs(crs)
        communes = read_communes(DEMO / "communes.geojson").to_crs(crs)
        towers = read_towers(DEMO / "towers.csv").to_crs(crs)
        outages = read_outages(DEMO / "outages.csv").to_crs(crs)
        dem = read_dem(DEMO / "dem" / "N21E105.hgt")
        radio = dataclasses.replace(RadioParams(), resolution_m=args.resolution)
        thresholds = Thresholds()
        transform, shape = analysis_grid([villages, communes], dem, crs, radio)
        signal, grid_dem = compute_signal(
            towers, dem, crs=crs, transform=transform, shape=shape, radio=radio, thresholds=thresholds
        )
        wide = village_signal(villages, signal, thresholds=thresholds, towers=towers).wide
        gaps = gaps_from_signal(signal, thresholds=thresholds, communes=communes)
        try:
            from coverage.priority import priority_table

            priority = priority_table(wide, thresholds=thresholds)
        except Exception as exc:  # the priority module is optional for this benchmark
            print(f"priority skipped: {exc}")
            priority = None
    t1 = time.perf_counter()
    m = gap_map(
        wide,
        communes=communes,
        towers=towers,
        outages=outages,
        gaps=gaps,
        signal=signal,
        dem=grid_dem,
        priority=priority,
        lang=args.lang,
        per_operator=args.per_operator,
    )
    t2 = time.perf_counter()
    page = map_html(m)
    t3 = time.perf_counter()
    size_mb = len(page.encode("utf-8")) / 1e6
    print(f"inputs + signal + gaps + priority: {t1 - t0:6.2f} s  (grid {shape[1]} x {shape[0]})")
    print(f"gap_map:                           {t2 - t1:6.2f} s")
    print(f"map_html:                          {t3 - t2:6.2f} s")
    print(f"HTML size:                         {size_mb:6.2f} MB")
    if args.out:
        args.out.write_text(page, encoding="utf-8")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
