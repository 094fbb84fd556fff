"""The optimised grid engine against the straightforward reference kernels.

``RadialTables``/``_sweep_tree``/``_apply_cells`` (slot layout, per-radius tables) must
give bit-identical sweeps and RSRP to ``_sweep``/``_apply_sector`` with ring doubling
off (the default, tolerance 0). Ring doubling (``levels > 0``) is an option, off by
default because it fails a 99 % criterion; its measured error is pinned here: RSRP
within 6 dB on >= 95 % of cells and the same LoS flag on >= 95 % on rough 0-800 m DEMs.
"""

from __future__ import annotations

import numpy as np
import pytest

from coverage.propagation._combine import _ATAN_TABLE, _NU_TABLE, _apply_cells, _apply_sector
from coverage.propagation.terrain import (
    EARTH_RADIUS_M,
    RadialTables,
    _lookup_table,
    _sweep,
    n_radials_for,
    radial_directions,
    used_samples,
)

CURV = 1.0 / (2.0 * 4.0 / 3.0 * EARTH_RADIUS_M)


def _hills(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.rfftfreq(n)[None, :])
    k[0, 0] = 1.0
    spec = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) / k**2
    spec[0, 0] = 0.0
    z = np.fft.irfft2(spec, s=(n, n))
    return ((z - z.min()) / (z.max() - z.min()) * 800.0).astype(np.float32)


def _reference(dem, r0, c0, n, a_h_fn):
    half = 64
    n_rad = n_radials_for(half)
    dirs = radial_directions(n_rad)
    flat = _lookup_table(half, n_rad)
    used = used_samples(flat, half, n_rad)
    samples = np.full((n_rad, half + 2, 2), -7.0, dtype=np.float32)
    _sweep(dem, r0, c0, 30.0, 1.5, 30.0, CURV, dirs, n, samples, used)
    return _fold(dem, r0, c0, n, a_h_fn(n_rad), _apply_sector, (flat, half, samples.reshape(-1, 2)))


def _optimised(dem, r0, c0, n, a_h_fn, levels):
    tab = RadialTables(64, levels)
    tab.sweep(dem, r0, c0, 30.0, 1.5, 30.0, CURV, n)
    args = (tab.cell_slot, tab.half, tab.g, tab.slope, tab.slot_k, tab.slot_i)
    return _fold(dem, r0, c0, n, a_h_fn(tab.n_rad), _apply_cells, args)


def _fold(dem, r0, c0, n, a_h, fn, args):
    shape = (1, *dem.shape)
    best = np.full(shape, -np.inf, np.float32)
    serving = np.full(shape, -1, np.int32)
    unknown = np.zeros(shape, np.uint8)
    pl = np.full(shape, np.nan, np.float32)
    tl = np.full(shape, np.nan, np.float32)
    los = np.full(shape, 255, np.uint8)
    table = 100.0 + 30.0 * np.log10(np.maximum(np.arange(n + 2), 0.5))
    fn(
        best, serving, unknown, pl, tl, los, True, np.array([0]), dem, r0, c0, float(n), *args, table, a_h,
        60.0, 3.0, 10.0, 20.0, 30.0, False, 1.3, 0, _NU_TABLE, _ATAN_TABLE,
    )  # fmt: skip
    return best[0], unknown[0], los[0]


def _smooth_gain(n_rad: int) -> np.ndarray:
    return -20.0 * np.sin(np.arange(n_rad) * np.pi / n_rad) ** 2


@pytest.mark.parametrize(("seed", "r0", "c0"), [(1, 70, 70), (2, 10, 120), (3, 60, 3)])
def test_exact_mode_is_bit_identical_to_the_reference(seed, r0, c0):
    dem = _hills(140, seed)
    dem[100:103, 40:44] = np.nan  # nodata on some paths
    a = _reference(dem, r0, c0, 60, _smooth_gain)
    b = _optimised(dem, r0, c0, 60, _smooth_gain, levels=0)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", [4, 5])
def test_ring_doubling_stays_within_the_stated_tolerance(seed):
    dem = _hills(140, seed)
    a_best, a_unk, a_los = _reference(dem, 70, 70, 60, _smooth_gain)
    b_best, b_unk, b_los = _optimised(dem, 70, 70, 60, _smooth_gain, levels=3)
    np.testing.assert_array_equal(a_unk, b_unk)
    m = np.isfinite(a_best)
    np.testing.assert_array_equal(m, np.isfinite(b_best))
    diff = np.abs(a_best[m] - b_best[m])
    assert np.mean(diff <= 6.0) >= 0.95  # measured 0.968 on these rough DEMs
    assert np.mean(a_los[m] == b_los[m]) >= 0.95


def test_ring_doubling_is_mirror_symmetric():
    dem = _hills(141, 6)
    a = _optimised(dem, 70, 50, 60, np.zeros, levels=3)
    b = _optimised(np.ascontiguousarray(dem[:, ::-1]), 70, 140 - 50, 60, np.zeros, levels=3)
    np.testing.assert_array_equal(a[2], b[2][:, ::-1])
