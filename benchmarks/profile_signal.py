"""Where the radio engine's time goes on many sites (prints seconds per stage; not a timed test).

Usage::

    python benchmarks/profile_signal.py              # 1,250 sites at 10 km over 60 km x 60 km
    python benchmarks/profile_signal.py 4000 5000    # grid cells per side, sites (the bench_signal case)
    python benchmarks/profile_signal.py --sectors 3  # three sectors per mast (120 degrees apart)

Wraps the engine's stages for one ``signal_from_towers`` run after a JIT warm-up:
``tiles`` (tile bounds and skip flags), ``need`` (per-cell pruning pass), ``sweep``
(radial terrain sweep), ``apply`` (fold into the layers), ``refresh`` (tile minima);
``other`` is Python and planning. Same synthetic hills and towers as
``bench_signal.py``; also run with ``NUMBA_NUM_THREADS=1`` to see the two-core scaling.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_signal as bs  # imports the package (and numba) in the right order
import pandas as pd

import coverage.propagation.grid as grid
from coverage.params import RadioParams, Thresholds
from coverage.propagation._numba import nb
from coverage.propagation.terrain import RadialTables


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cells", nargs="?", type=int, default=2000, help="grid cells per side (30 m)")
    ap.add_argument("sites", nargs="?", type=int, default=1250, help="number of sites (masts)")
    ap.add_argument("--sectors", type=int, default=1, help="sectors per site, evenly spaced in azimuth")
    args = ap.parse_args()
    spent: collections.Counter[str] = collections.Counter()

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            out = fn(*a, **k)
            spent[name] += time.perf_counter() - t0
            return out

        return wrapper

    grid._apply_cells = timed("apply", grid._apply_cells)
    grid._need_slots = timed("need", grid._need_slots)
    grid._tile_skip = timed("tiles", grid._tile_skip)
    grid.tile_bounds = timed("tiles", grid.tile_bounds)
    grid._tile_refresh = timed("refresh", grid._tile_refresh)
    RadialTables.sweep = timed("sweep", RadialTables.sweep)
    dem = bs.synthetic_dem(args.cells, args.cells)
    params = RadioParams(max_radius_km=10.0, technologies=("4G",))
    towers = bs.towers(dem, args.sites, seed=1)
    if args.sectors > 1:
        parts = []
        for j in range(args.sectors):
            part = towers.copy()
            part["sector_id"] = str(j + 1)
            part["azimuth_deg"] = (part["azimuth_deg"] + j * 360.0 / args.sectors) % 360.0
            parts.append(part)
        towers = pd.concat(parts, ignore_index=True).sort_values(["site_id", "sector_id"], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid.signal_from_towers(towers.iloc[:6], dem, params=params, thresholds=Thresholds())  # JIT
        spent.clear()
        t0 = time.perf_counter()
        grid.signal_from_towers(towers, dem, params=params, thresholds=Thresholds())
    total = time.perf_counter() - t0
    km = args.cells * bs.RES / 1000
    print(
        f"{args.sites:,} sites x {args.sectors} sector(s) at 10 km over {km:.0f} km x {km:.0f} km, "
        f"{nb.get_num_threads()} threads"
    )
    print("load average (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for name in ("tiles", "need", "sweep", "apply", "refresh"):
        print(f"  {name:8s} {spent[name]:6.2f} s")
    print(f"  {'other':8s} {total - sum(spent.values()):6.2f} s")
    print(f"  {'total':8s} {total:6.2f} s")


if __name__ == "__main__":
    main()
