"""Speed and accuracy of the ITM (Longley-Rice) implementation (prints a table; not a timed test).

Usage::

    python benchmarks/bench_itm.py            # full (about a minute)
    python benchmarks/bench_itm.py --quick    # fewer exact calls

(1) exact p2p calls per second (reference algorithm, one profile pass per call, 10 km
    profile of 334 samples);
(2) coverage Mcells/s of the fast radial path for one 10 km site at 30 m (all cores,
    median of 5 after JIT warm-up, with the load average, and the CPU time: other jobs
    on the machine stretch the wall time, CPU time / threads is what idle cores would take),
    on synthetic hills and on the demo DEM
    (``data/demo/dem/N21E105.hgt`` warped to UTM 48N);
(3) accuracy of the fast path against the exact per-cell p2p on the same radial
    samples (every 8th radial, all used samples): mean / p99 / max |dB|.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import coverage.propagation  # noqa: F401  (imports numba safely first)
from coverage._errors import ModelValidityWarning
from coverage.propagation._numba import nb
from coverage.propagation.itm import ItmParams, itm_p2p_tls
from coverage.propagation.itm._grid import itm_radial_loss_db
from coverage.propagation.terrain import _lookup_table, n_radials_for, radial_directions, used_samples

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_signal import demo_dem, synthetic_dem

RES = 30.0
RADIUS_CELLS = 334  # 10 km at 30 m


def _load() -> str:
    """1-minute load average (other jobs share the cores: read timings with it)."""
    return f"{os.getloadavg()[0]:.2f}"


def _site(arr: np.ndarray, name: str, quick: bool) -> None:
    n = RADIUS_CELLS
    n_rad = n_radials_for(n)
    dirs = radial_directions(n_rad)
    flat = _lookup_table(n, n_rad)
    used = used_samples(flat, n, n_rad)
    r0, c0 = arr.shape[0] // 2, arr.shape[1] // 2
    kw = {
        "tx_height_m": 30.0,
        "rx_height_m": 1.5,
        "freq_mhz": 1800.0,
        "step_m": RES,
        "dirs": dirs,
        "n_samples": n,
        "params": ItmParams(),
    }
    itm_radial_loss_db(arr, r0, c0, used=used, **kw)  # JIT warm-up
    times, cpu = [], []
    for _ in range(5):
        t, t_cpu = time.perf_counter(), time.process_time()
        fast, _ = itm_radial_loss_db(arr, r0, c0, used=used, **kw)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - t_cpu)
    cells = int((np.hypot(*np.mgrid[-n : n + 1, -n : n + 1]) <= n).sum())
    dt = statistics.median(times)
    dt_cpu = statistics.median(cpu) / nb.get_num_threads()  # wall time if the cores were ours alone
    print(
        f"{name:<16} coverage 10 km @30 m: {cells / dt / 1e6:6.2f} Mcells/s "
        f"({dt * 1e3:.0f} ms, {cells} cells; median of 5, load {_load()}); "
        f"CPU {statistics.median(cpu) * 1e3:.0f} ms = {cells / dt_cpu / 1e6:.2f} Mcells/s on idle cores"
    )
    sub = used.copy()
    keep = np.zeros(n_rad, dtype=bool)
    keep[:: 32 if quick else 8] = True
    sub[~keep] = 0
    t = time.perf_counter()
    exact, _ = itm_radial_loss_db(arr, r0, c0, used=sub, exact=True, **kw)
    t_exact = time.perf_counter() - t
    sel = sub[:, : n + 1].astype(bool)
    sel[:, 0] = False
    d = np.abs(fast[:, : n + 1] - exact[:, : n + 1])[sel]
    d = d[np.isfinite(d)]
    per_cell = t_exact / max(d.size, 1)
    print(
        f"{'':<16} fast vs exact p2p over {d.size} cells: mean {d.mean():.3f} dB, "
        f"p99 {np.percentile(d, 99):.2f} dB,"
        f" max {d.max():.2f} dB; exact per-cell p2p would take {per_cell * cells:.1f} s"
        f" ({cells / (per_cell * cells) / 1e6:.3f} Mcells/s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"numba threads: {nb.get_num_threads()}")
    rng = np.random.default_rng(1)
    prof = np.cumsum(rng.normal(0.0, 3.0, RADIUS_CELLS + 1)) + 300.0
    kw = {"tx_height_m": 30.0, "rx_height_m": 1.5, "freq_mhz": 1800.0}
    warnings.simplefilter("ignore", ModelValidityWarning)  # RX horizon warning on this rough profile
    itm_p2p_tls(prof, RES, **kw)
    n_calls = 2000 if args.quick else 20000
    t = time.perf_counter()
    for _ in range(n_calls):
        itm_p2p_tls(prof, RES, **kw)
    dt = time.perf_counter() - t
    print(
        f"exact p2p (Python API, 10 km / 335-point profile): {n_calls / dt:,.0f} calls/s on one core"
        f" (load {_load()})"
    )
    _site(synthetic_dem(900, 900).array, "synthetic hills", args.quick)
    demo = demo_dem()
    if demo is None:
        print("demo DEM not found; skipped")
        return
    arr = np.ascontiguousarray(demo.array, dtype=np.float32)
    # a site on the demo tile's hills, away from voids
    r0, c0 = arr.shape[0] // 2, arr.shape[1] // 4
    win = arr[r0 - 450 : r0 + 451, c0 - 450 : c0 + 451]
    if np.isnan(win).mean() > 0.01:
        print("demo DEM window has voids; results include unknown cells")
    _site(np.ascontiguousarray(win), "demo DEM", args.quick)


if __name__ == "__main__":
    main()
