"""Speed and memory of the radio engine (prints a table; not a timed test).

Usage::

    python benchmarks/bench_signal.py           # full sizes (about a minute)
    python benchmarks/bench_signal.py --quick   # reduced sizes

(1) one site, 10 km radius, 30 m grid, full RSRP (LoS + Bullington + path loss +
    antenna): median ms on one core after JIT warm-up, synthetic hills and demo DEM;
(2) many sites at 10 km over a large grid, end to end on all cores including writing
    the GeoTIFFs with ``write_signal``;
(3) peak RSS for few vs many sites (each in a fresh process) to show memory does not
    grow with the number of sites.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import coverage.propagation as cp  # imports numba safely (must come before numba)
from coverage._types import Raster
from coverage.params import RadioParams, Thresholds
from coverage.propagation import _numba
from coverage.propagation._combine import _NU_TABLE, _apply_cells, fold_runs
from coverage.propagation._sites import pathloss_table, plan_sites
from coverage.propagation.grid import _Tables
from coverage.propagation.terrain import EARTH_RADIUS_M

RES = 30.0
DEMO_HGT = Path(__file__).resolve().parents[1] / "data" / "demo" / "dem" / "N21E105.hgt"


def synthetic_dem(rows: int, cols: int, seed: int = 42) -> Raster:
    """Fractal (1/f^2 spectrum) hills scaled to 0-1500 m, UTM 48N, 30 m cells."""
    from affine import Affine
    from pyproj import CRS

    rng = np.random.default_rng(seed)
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = 1.0
    spectrum = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) / k**2.0
    spectrum[0, 0] = 0.0
    z = np.fft.irfft2(spectrum, s=(rows, cols))
    z = (z - z.min()) / (z.max() - z.min()) * 1500.0
    return Raster(z.astype(np.float32), Affine(RES, 0, 400_000.0, 0, -RES, 2_500_000.0), CRS.from_epsg(32648))


def demo_dem() -> Raster | None:
    if not DEMO_HGT.exists():
        return None
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(DEMO_HGT) as src:
        dst_crs = "EPSG:32648"
        transform, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width, src.height, *src.bounds, resolution=RES
        )
        out = np.full((height, width), np.nan, dtype=np.float32)
        reproject(
            rasterio.band(src, 1), out, src_nodata=src.nodata, dst_transform=transform, dst_crs=dst_crs,
            dst_nodata=np.nan, resampling=Resampling.bilinear,
        )  # fmt: skip
    from pyproj import CRS

    return Raster(out, transform, CRS.from_user_input(dst_crs), source=str(DEMO_HGT))


def towers(dem: Raster, n: int, seed: int = 0, margin_cells: int = 0):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    rows, cols = dem.shape
    r = rng.integers(margin_cells, rows - margin_cells, n)
    c = rng.integers(margin_cells, cols - margin_cells, n)
    x, y = dem.transform * (c + 0.5, r + 0.5)
    ops = np.array(["Viettel", "VNPT", "MobiFone"])[rng.integers(0, 3, n)]
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{i:05d}" for i in range(n)],
            "sector_id": ["1"] * n,
            "operator": ops,
            "technology": "4G",
            "band_mhz": 1800.0,
            "antenna_height_m": rng.uniform(20, 45, n).round(1),
            "azimuth_deg": rng.uniform(0, 360, n).round(0),
            "tilt_deg": 3.0,
            "eirp_dbm": 75.0,  # strong enough that every radius is capped at 10 km
            "bandwidth_mhz": 10.0,
            "status": "on_air",
        },
        geometry=gpd.points_from_xy(x, y),
        crs=dem.crs,
    )


def one_site_ms(dem: Raster, params: RadioParams, repeats: int) -> tuple[float, float, int]:
    """Median ms of sweep + apply for one site at the DEM centre on one thread."""
    rows, cols = dem.shape
    arr = np.ascontiguousarray(dem.array)
    t = towers(dem, 1)
    t.geometry = t.geometry.translate(
        *(np.array(dem.transform * (cols / 2, rows / 2)) - [t.geometry.x[0], t.geometry.y[0]])
    )
    plan = plan_sites(t, dem, params, Thresholds(), ("4G",))
    s = plan.sites.iloc[0]
    n = int(np.ceil(s["radius_m"] / RES))
    tab = _Tables().get(n)
    dirs = tab.dirs
    best = np.full((2, rows, cols), -np.inf, np.float32)
    serving = np.full((2, rows, cols), -1, np.int32)
    unknown = np.zeros((2, rows, cols), np.uint16)
    dummy_f, dummy_u = np.zeros((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.uint8)
    curv = 1 / (2 * params.k_factor * EARTH_RADIUS_M)
    bearing = np.degrees(np.arctan2(dirs[:, 0], -dirs[:, 1]))
    a_h = cp.sector_gain_db(bearing - s["azimuth_deg"], 0.0)  # A_H only (A_V is 0 at 0 deg, tilt 0)
    pl = pathloss_table(s, n + 1, RES, params)
    ((*per_sector, _),) = fold_runs(
        np.array([[0, 1]]),
        [n],
        pl[None, :],
        a_h[None, :],
        [s["p0_db"]],
        [3.0],
        [False],
        [1.0],
        [0],
        [0],
        None,
    )

    def sweep() -> None:
        tab.sweep(arr, int(s["row"]), int(s["col"]), s["antenna_height_m"], 1.5, RES, curv, n)

    def apply() -> None:
        _apply_cells(
            best, serving, unknown, dummy_f, dummy_f, dummy_u, False, arr, int(s["row"]), int(s["col"]),
            tab.cell_slot, tab.half, tab.g, tab.depression_deg, tab.slot_k, tab.slot_i, *per_sector, 10.0,
            20.0, 30.0, _NU_TABLE,
        )  # fmt: skip

    sweep()
    apply()
    times, t_sweep = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sweep()
        t1 = time.perf_counter()
        apply()
        times.append((time.perf_counter() - t0) * 1000)
        t_sweep.append((t1 - t0) * 1000)
    return statistics.median(times), statistics.median(t_sweep), dirs.shape[0] * n


def many_sites(rows: int, n_sites: int, out_dir: Path | None) -> dict:
    """End-to-end run on all cores; returns timings and peak RSS (run in a subprocess)."""
    dem = synthetic_dem(rows, rows)
    params = RadioParams(max_radius_km=10.0, technologies=("4G",))
    t = towers(dem, n_sites, seed=1)
    t0 = time.perf_counter()
    res = cp.signal_from_towers(t, dem, params=params, thresholds=Thresholds())
    t_signal = time.perf_counter() - t0
    t_write = 0.0
    if out_dir is not None:
        from coverage.io.signal import write_signal

        t0 = time.perf_counter()
        write_signal(res, out_dir)
        t_write = time.perf_counter() - t0
    covered = float((res.layers["4G", "any"].rsrp_dbm >= -100).mean())
    return {
        "signal_s": t_signal,
        "write_s": t_write,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "covered_share": covered,
        "threads": _numba.nb.get_num_threads(),
    }


def _subprocess(rows: int, n_sites: int, write: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, __file__, "--child", str(rows), str(n_sites), tmp if write else "-"]
        out = subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="reduced sizes")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        rows, n, out = int(args.child[0]), int(args.child[1]), args.child[2]
        print(json.dumps(many_sites(rows, n, None if out == "-" else Path(out))))
        return
    grid = 1500 if args.quick else 4000
    n_many, n_few = (500, 50) if args.quick else (5000, 500)
    params = RadioParams(max_radius_km=10.0, technologies=("4G",))
    load = "load average (1/5/15 min): {:.2f} {:.2f} {:.2f}"
    lines = [
        f"CPU cores: {os.cpu_count()}, numba threads: {_numba.nb.get_num_threads()}",
        load.format(*os.getloadavg()),
        "",
    ]

    _numba.nb.set_num_threads(1)
    hills = synthetic_dem(1000, 1000)
    ms, sweep_ms, samples = one_site_ms(hills, params, repeats=5 if args.quick else 21)
    lines.append("(1) one site, 10 km radius, 30 m grid, full RSRP, 1 thread, median after warm-up")
    lines.append(
        f"    synthetic hills 0-1500 m : {ms:7.1f} ms  (sweep median {sweep_ms:.1f} ms, {samples:,} samples)"
    )
    demo = demo_dem()
    if demo is None:
        lines.append(
            f"    demo DEM                 : skipped ({DEMO_HGT.relative_to(DEMO_HGT.parents[3])} absent)"
        )
    else:
        ms_d, _, _ = one_site_ms(demo, params, repeats=5 if args.quick else 21)
        lines.append(f"    demo DEM N21E105 (UTM48N): {ms_d:7.1f} ms")
    _numba.nb.set_num_threads(_numba.nb.config.NUMBA_NUM_THREADS)

    r = _subprocess(grid, n_many, write=True)
    km = grid * RES / 1000
    per_site = r["signal_s"] / n_many * 1000 * r["threads"]
    total = r["signal_s"] + r["write_s"]
    lines += [
        "",
        f"(2) {n_many:,} sites at 10 km over {km:.0f} km x {km:.0f} km ({grid}x{grid} cells), "
        f"{r['threads']} threads",
        f"    signal_from_towers       : {r['signal_s']:7.1f} s   ({per_site:.1f} core-ms/site)",
        f"    write_signal (4 GeoTIFFs): {r['write_s']:7.1f} s",
        f"    end to end               : {total:7.1f} s   (cells >= -100 dBm: {r['covered_share']:.0%})",
    ]
    few = _subprocess(grid, n_few, write=False)
    many = _subprocess(grid, n_many, write=False)
    lines += [
        "",
        f"(3) peak RSS, same {grid}x{grid} grid (4 layers), fresh process each",
        f"    {n_few:>6,} sites : {few['maxrss_mb']:8.0f} MB   ({few['signal_s']:.1f} s)",
        f"    {n_many:>6,} sites : {many['maxrss_mb']:8.0f} MB   ({many['signal_s']:.1f} s)",
    ]
    lines += ["", "at the end, " + load.format(*os.getloadavg()), "(timings under load are pessimistic)"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
