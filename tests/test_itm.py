"""ITM v1.3 conformance (NTIA/ITS reference vectors in tests/data/itm/) and the fast coverage path."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coverage.propagation  # noqa: F401  (imports numba safely first)
from coverage._errors import ConfigError, ModelValidityWarning
from coverage.propagation.itm import (
    ItmInputError,
    ItmParams,
    itm_area_cr,
    itm_area_tls,
    itm_p2p_cr,
    itm_p2p_tls,
    warning_messages,
)

DATA = Path(__file__).parent / "data" / "itm"
CMD = DATA / "cmd_examples"
POL = {0: "horizontal", 1: "vertical"}
SITING = {0: "random", 1: "careful", 2: "very_careful"}


def _random_path(rng: np.random.Generator, max_intervals: int):
    """A random-walk profile with random terminals and frequency, initialised as ITM p2p does.

    Returns ``(z, n, xi, h0, h1, f, zg, gamma_e, n_s)``.
    """
    from coverage.propagation.itm import _core as c

    n = int(rng.integers(2, max_intervals))
    z = np.cumsum(rng.normal(0.0, rng.uniform(0.5, 20.0), n + 1)) + 300.0
    xi = float(rng.uniform(10.0, 300.0))
    h0, h1, f = (
        float(rng.uniform(1.0, 100.0)),
        float(rng.uniform(1.0, 20.0)),
        float(rng.uniform(100.0, 5000.0)),
    )
    zg, gamma_e, n_s = c.initialize_p2p(f, c.system_height(z, n), 350.0, 1, 15.0, 0.005)
    return z, n, xi, h0, h1, f, zg, gamma_e, n_s


def _params(row: dict, mdvar_key: str = "mdvar") -> ItmParams:
    return ItmParams(
        climate=int(row["climate"]),
        n0_n_units=float(row["N_0"]),
        epsilon=float(row["epsilon"]),
        sigma_s_per_m=float(row["sigma"]),
        polarization=POL[int(row["pol"])],
        mdvar=int(row[mdvar_key]),
    )


def _p2p_cases() -> list[tuple[dict, list[float]]]:
    with open(DATA / "p2p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pfls = [
        [float(v) for v in line.split(",")] for line in (DATA / "pfls.csv").read_text().splitlines() if line
    ]
    return list(zip(rows, pfls, strict=True))


def _area_cases() -> list[dict]:
    with open(DATA / "area.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _quiet(fn, *args, **kwargs):
    with pytest.warns(ModelValidityWarning) if kwargs.pop("expect_warning", False) else _nullctx():
        return fn(*args, **kwargs)


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _run_p2p(row: dict, pfl: list[float]):
    n, spacing = int(pfl[0]), pfl[1]
    z = pfl[2:]
    assert len(z) == n + 1
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelValidityWarning)
        res = itm_p2p_tls(
            z,
            spacing,
            tx_height_m=float(row["h_tx__meter"]),
            rx_height_m=float(row["h_rx__meter"]),
            freq_mhz=float(row["f__mhz"]),
            params=_params(row),
            time_pct=float(row["time"]),
            location_pct=float(row["location"]),
            situation_pct=float(row["situation"]),
        )
    assert bool(caught) == bool(res.warning_flags)
    return res


@pytest.mark.parametrize(
    ("row", "pfl"), _p2p_cases(), ids=lambda v: f"{v['f__mhz']}MHz" if isinstance(v, dict) else ""
)
def test_p2p_csv_within_0_1_db(row, pfl):
    res = _run_p2p(row, pfl)
    assert abs(res.loss_db - float(row["A__db"])) <= 0.1
    # the reference C++ itself gives the CSV values to 0.005 dB; so do we
    assert abs(res.loss_db - float(row["A__db"])) <= 0.006


@pytest.mark.parametrize("row", _area_cases(), ids=lambda r: f"{r['f__mhz']}MHz-{r['d__km']}km")
def test_area_csv_within_0_5_db(row):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        res = itm_area_tls(
            float(row["d__km"]),
            tx_height_m=float(row["h_tx__meter"]),
            rx_height_m=float(row["h_rx__meter"]),
            freq_mhz=float(row["f__mhz"]),
            delta_h_m=float(row["delta_h__meter"]),
            siting=(SITING[int(row["tx_siting_criteria"])], SITING[int(row["rx_siting_criteria"])]),
            params=_params(row),
            time_pct=float(row["time"]),
            location_pct=float(row["location"]),
            situation_pct=float(row["situation"]),
        )
    assert abs(res.loss_db - float(row["A__db"])) <= 0.5
    assert abs(res.loss_db - float(row["A__db"])) <= 0.05 + 1e-9  # CSV rounded to 0.1 dB


# ---------------------------------------------------------------- cmd_examples


def _read_input(path: Path) -> dict[str, list[float]]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, *vals = line.split(",")
            out[key.strip()] = [float(v) for v in vals]
    return out


def _expand(values: list[float]) -> list[float]:
    """Driver syntax for ``d__km``: one value, or start,stop,step[,stop2,step2...].

    Confidence and reliability are plain lists (``confidence,50,75,90``).
    """
    if len(values) == 1:
        return values
    out, start = [], values[0]
    for stop, step in zip(values[1::2], values[2::2], strict=True):
        x = start
        while x <= stop + 1e-9:
            if not out or not math.isclose(out[-1], x):
                out.append(x)
            x += step
        start = stop
    return out


def _report(path: Path) -> tuple[dict[str, float], list[list[float]]]:
    """Single values ('Basic Transmission Loss', 'Free Space', ...) and table rows of an o_*.txt."""
    values, table, in_table = {}, [], False
    for line in path.read_text().splitlines():
        m = re.match(r"^(\S.*?)\s{2,}(-?[0-9.]+)\s+\((dB|meters|mrad|km|N-Units)\)", line)
        if m:
            values[m.group(1).strip()] = float(m.group(2))
        if "Results (dB)" in line:
            in_table = True
            continue
        if in_table:
            nums = line.split()
            if nums and all(re.fullmatch(r"-?[0-9.]+", t) for t in nums):
                table.append([float(t) for t in nums])
            elif not line.strip() and table:
                in_table = False
    return values, table


def _pfl() -> tuple[list[float], float]:
    vals = [float(v) for v in (CMD / "pfl.txt").read_text().replace("\n", ",").split(",") if v.strip()]
    assert len(vals) == int(vals[0]) + 3
    return vals[2:], vals[1]


def _cmd_params(inp: dict[str, list[float]]) -> ItmParams:
    return ItmParams(
        climate=int(inp["climate"][0]),
        n0_n_units=inp["N_0"][0],
        epsilon=inp["epsilon"][0],
        sigma_s_per_m=inp["sigma"][0],
        polarization=POL[int(inp["pol"][0])],
        mdvar=int(inp["mdvar"][0]),
    )


def _close(got: float, expected: float, ndigits: int = 1) -> bool:
    return abs(got - expected) <= 0.5 * 10.0**-ndigits + 1e-9


def _check_intermediate(res, values: dict[str, float]) -> None:
    assert _close(res.free_space_db, values["Free Space"])
    assert _close(res.reference_db, values["A_ref__db"])
    assert _close(res.distance_km, values["d__km"], 3)
    assert _close(res.theta_hzn_rad[0] * 1e3, values["theta_hzn_tx"], 3)
    assert _close(res.theta_hzn_rad[1] * 1e3, values["theta_hzn_rx"], 3)
    assert _close(res.d_hzn_m[0], values["d_hzn_tx__meter"], 0)
    assert _close(res.d_hzn_m[1], values["d_hzn_rx__meter"], 0)
    assert _close(res.h_e_m[0], values["h_e_tx__meter"])
    assert _close(res.h_e_m[1], values["h_e_rx__meter"])
    assert _close(res.n_s_n_units, values["N_s"])
    assert _close(res.delta_h_m, values["delta_h__meter"])


def test_cmd_p2p_tls():
    inp, (values, _) = _read_input(CMD / "i_p2ptls.txt"), _report(CMD / "o_p2ptls.txt")
    z, xi = _pfl()
    res = itm_p2p_tls(
        z,
        xi,
        tx_height_m=inp["h_tx__meter"][0],
        rx_height_m=inp["h_rx__meter"][0],
        freq_mhz=inp["f__mhz"][0],
        params=_cmd_params(inp),
        time_pct=inp["time"][0],
        location_pct=inp["location"][0],
        situation_pct=inp["situation"][0],
    )
    assert _close(res.loss_db, values["Basic Transmission Loss"])
    _check_intermediate(res, values)
    assert res.mode == "line of sight" and res.warning_flags == 0


def test_cmd_p2p_cr_single_and_table():
    z, xi = _pfl()
    for name in ("p2pcr", "p2pcr_tbl"):
        inp, (values, table) = _read_input(CMD / f"i_{name}.txt"), _report(CMD / f"o_{name}.txt")
        confs, rels = inp["confidence"], inp["reliability"]

        def loss(conf, rel, inp=inp):
            return itm_p2p_cr(
                z,
                xi,
                tx_height_m=inp["h_tx__meter"][0],
                rx_height_m=inp["h_rx__meter"][0],
                freq_mhz=inp["f__mhz"][0],
                confidence_pct=conf,
                reliability_pct=rel,
                params=_cmd_params(inp),
            )

        res = loss(confs[0], rels[0])
        _check_intermediate(res, values)
        if table:  # header row of confidences, then rows: reliability, one column per confidence
            assert table[0] == confs
            table = table[1:]
            assert len(table) == len(rels)
            for row, rel in zip(table, rels, strict=True):
                assert row[0] == rel
                for expected, conf in zip(row[1:], confs, strict=True):
                    assert _close(loss(conf, rel).loss_db, expected), (rel, conf)
        else:
            assert _close(res.loss_db, values["Basic Transmission Loss"])


def test_cmd_area_tls():
    inp, (values, _) = _read_input(CMD / "i_areatls.txt"), _report(CMD / "o_areatls.txt")
    res = itm_area_tls(
        inp["d__km"][0],
        tx_height_m=inp["h_tx__meter"][0],
        rx_height_m=inp["h_rx__meter"][0],
        freq_mhz=inp["f__mhz"][0],
        delta_h_m=inp["delta_h__meter"][0],
        siting=(SITING[int(inp["tx_site_criteria"][0])], SITING[int(inp["rx_site_criteria"][0])]),
        params=_cmd_params(inp),
        time_pct=inp["time"][0],
        location_pct=inp["location"][0],
        situation_pct=inp["situation"][0],
    )
    assert _close(res.loss_db, values["Basic Transmission Loss"])
    _check_intermediate(res, values)


def test_cmd_area_cr_single_and_table():
    for name in ("areacr", "areacr_tbl"):
        inp, (values, table) = _read_input(CMD / f"i_{name}.txt"), _report(CMD / f"o_{name}.txt")
        confs, dists = inp["confidence"], _expand(inp["d__km"])

        def loss(d, conf, inp=inp):
            return itm_area_cr(
                d,
                tx_height_m=inp["h_tx__meter"][0],
                rx_height_m=inp["h_rx__meter"][0],
                freq_mhz=inp["f__mhz"][0],
                delta_h_m=inp["delta_h__meter"][0],
                confidence_pct=conf,
                reliability_pct=inp["reliability"][0],
                siting=(SITING[int(inp["tx_site_criteria"][0])], SITING[int(inp["rx_site_criteria"][0])]),
                params=_cmd_params(inp),
            )

        if table:  # rows: distance, free space, one column per confidence
            assert [row[0] for row in table] == dists
            for row in table:
                first = loss(row[0], confs[0])
                assert _close(first.free_space_db, row[1])
                for expected, conf in zip(row[2:], confs, strict=True):
                    assert _close(loss(row[0], conf).loss_db, expected), (row[0], conf)
        else:
            res = loss(dists[0], confs[0])
            assert _close(res.loss_db, values["Basic Transmission Loss"])
            _check_intermediate(res, values)


# ------------------------------------------------------ line of sight, step at RX


def _undulating() -> np.ndarray:
    """5 km, 101 samples (50 m), a gentle 0.5 m ripple of 1 km period on a 20 m plain."""
    i = np.arange(101)
    z = 20.0 + 0.5 * np.cos(2.0 * np.pi * i / 20.0)
    z[100] = z[99]
    return z


LOS_PARAMS = ItmParams(climate=5, n0_n_units=301.0, epsilon=15.0, sigma_s_per_m=0.005, mdvar=12)


@pytest.mark.parametrize(("step_m", "expected_db"), [(0.0, 113.761), (20.0, 111.530)])
def test_line_of_sight_step_at_receiver(step_m, expected_db):
    """RADIO.md §6.5: NTIA 113.761 dB (last two samples equal) and 111.530 dB (20 m step).

    The receiver ground of the line-of-sight branch must be the last sample
    (``pfl[np + 2]``); reading the one before (a known port bug) gives +3.98 dB with
    the step. With the step the path is free space (A_ref = 0): 111.530 dB whatever the
    ripple; the ripple of §6.5 is not recorded, this one is documented above.
    """
    z = _undulating()
    z[100] += step_m
    res = itm_p2p_tls(z, 50.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=1800.0, params=LOS_PARAMS)
    assert res.mode == "line of sight"
    assert abs(res.loss_db - expected_db) <= 0.1


def test_step_at_receiver_uses_last_sample():
    z = _undulating()
    z_step = z.copy()
    z_step[100] += 20.0
    base = itm_p2p_tls(z, 50.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=1800.0, params=LOS_PARAMS)
    step = itm_p2p_tls(z_step, 50.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=1800.0, params=LOS_PARAMS)
    assert step.h_e_m[1] > base.h_e_m[1] + 15.0  # the step raises the RX effective height
    assert step.loss_db < base.loss_db - 2.0


# ---------------------------------------------------------- warnings and errors


def test_warnings_are_surfaced_with_stacklevel():
    with pytest.warns(ModelValidityWarning, match="path distance is small") as rec:
        res = itm_p2p_tls([0.0] * 11, 50.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=1800.0)
    assert rec[0].filename == __file__
    assert res.warning_flags & 0x0040
    assert "path distance is small (< 1 km); care must be taken with the result" in res.warnings


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"tx_height_m": 0.2}, 1000),
        ({"rx_height_m": 4000.0}, 1001),
        ({"freq_mhz": 10.0}, 1009),
    ],
)
def test_errors_raise(kwargs, code):
    args = {"tx_height_m": 30.0, "rx_height_m": 1.5, "freq_mhz": 1800.0, **kwargs}
    with pytest.raises(ItmInputError, match=f"ITM error {code}") as exc:
        itm_p2p_tls([0.0] * 41, 50.0, **args)
    assert exc.value.code == code


_P = {"tx_height_m": 30.0, "rx_height_m": 1.5, "freq_mhz": 900.0}
_FLAT = [100.0] * 101
_NAN, _INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("call", "code", "text"),
    [
        # non-finite inputs pass the reference's range checks (NaN) or reach its arithmetic (inf)
        (lambda: itm_p2p_tls(_FLAT, _INF, **_P), 1017, "spacing_m must be a finite number"),
        (lambda: itm_p2p_tls(_FLAT, 100.0, **{**_P, "freq_mhz": _NAN}), 1009, "freq_mhz"),
        (lambda: itm_p2p_tls(_FLAT, 100.0, **{**_P, "tx_height_m": _NAN}), 1000, "tx_height_m"),
        (lambda: itm_p2p_tls(_FLAT, 100.0, **_P, time_pct=_NAN), 1003, "time_pct"),
        (
            lambda: itm_p2p_cr(_FLAT, 100.0, **_P, confidence_pct=_NAN, reliability_pct=50.0),
            1006,
            "confidence_pct",
        ),
        (lambda: itm_area_tls(_INF, delta_h_m=90.0, **_P), 1017, "distance_km"),
        (lambda: itm_area_tls(10.0, delta_h_m=_NAN, **_P), 1018, "delta_h_m"),
        # accepted by the reference, but its arithmetic divides by zero or gives NaN
        (lambda: itm_p2p_tls(_FLAT, 1e30, **_P), 1100, "division by zero"),
        (lambda: itm_p2p_tls([-6e4] * 101, 100.0, **_P), 1100, "division by zero"),
        (lambda: itm_p2p_tls(_FLAT, 100.0, **_P, time_pct=5e-324), 1100, "loss nan"),
        (
            lambda: itm_area_tls(
                50.0, delta_h_m=90.0, **{**_P, "freq_mhz": 100.0}, params=ItmParams(sigma_s_per_m=1000.0)
            ),
            1100,
            "loss nan",
        ),
        (lambda: itm_area_tls(10.0, delta_h_m=90.0, **_P, siting=("random",) * 3), 1019, "got siting"),
    ],
)
def test_degenerate_inputs_raise_an_input_error_not_nan_or_a_crash(call, code, text):
    """Found by fuzzing the public API (about 380,000 calls): each gave NaN, a crash or an IndexError."""
    with pytest.raises(ItmInputError, match=text) as exc:
        call()
    assert exc.value.code == code


def test_itm_params_reject_infinite_ground_constants():
    with pytest.raises(ConfigError, match="epsilon"):
        ItmParams(epsilon=_INF)


def test_cr_error_codes_are_translated():
    with pytest.raises(ItmInputError, match="reliability") as exc:
        itm_p2p_cr(
            [0.0] * 41,
            50.0,
            tx_height_m=30.0,
            rx_height_m=1.5,
            freq_mhz=1800.0,
            confidence_pct=50.0,
            reliability_pct=100.0,
        )
    assert exc.value.code == 1007
    with pytest.raises(ItmInputError) as exc:
        itm_area_cr(
            10.0,
            tx_height_m=30.0,
            rx_height_m=1.5,
            freq_mhz=1800.0,
            delta_h_m=50.0,
            confidence_pct=0.0,
            reliability_pct=50.0,
        )
    assert exc.value.code == 1006


def test_warning_messages_decode_every_flag():
    assert len(warning_messages(0x7FFF)) == 15


@settings(max_examples=40, deadline=None)
@given(
    d_km=st.floats(1.0, 200.0),
    dh=st.floats(0.0, 300.0),
    rel=st.floats(5.0, 90.0),
    conf=st.floats(5.0, 95.0),
)
def test_area_loss_grows_with_reliability(d_km, dh, rel, conf):
    args = {
        "tx_height_m": 30.0,
        "rx_height_m": 1.5,
        "freq_mhz": 900.0,
        "delta_h_m": dh,
        "confidence_pct": conf,
    }
    lo = itm_area_cr(d_km, reliability_pct=rel, **args)
    hi = itm_area_cr(d_km, reliability_pct=rel + 5.0, **args)
    assert hi.loss_db >= lo.loss_db - 1e-9


# ------------------------------------------------------ fast path and grid engine


def _hills(rows: int = 161, cols: int = 161, seed: int = 3) -> np.ndarray:
    """Smooth random hills, 0-300 m (1/f^2 spectrum), float32."""
    rng = np.random.default_rng(seed)
    k = np.hypot(np.fft.fftfreq(rows)[:, None], np.fft.rfftfreq(cols)[None, :])
    k[0, 0] = 1.0
    spec = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) / k**2
    spec[0, 0] = 0.0
    z = np.fft.irfft2(spec, s=(rows, cols))
    return ((z - z.min()) / (z.max() - z.min()) * 300.0).astype(np.float32)


def _radial_setup(n: int):
    from coverage.propagation.terrain import _lookup_table, n_radials_for, radial_directions, used_samples

    n_rad = n_radials_for(n)
    dirs = radial_directions(n_rad)
    flat = _lookup_table(n, n_rad)
    return dirs, flat, used_samples(flat, n, n_rad)


def test_fast_path_matches_exact_p2p_on_hills():
    from coverage.propagation.itm._grid import itm_radial_loss_db

    dem = _hills()
    n = 70
    dirs, _, used = _radial_setup(n)
    kw = {
        "tx_height_m": 30.0,
        "rx_height_m": 1.5,
        "freq_mhz": 1800.0,
        "step_m": 30.0,
        "dirs": dirs,
        "n_samples": n,
        "used": used,
        "params": ItmParams(),
    }
    fast, msgs = itm_radial_loss_db(dem, 80, 80, **kw)
    exact, _ = itm_radial_loss_db(dem, 80, 80, exact=True, **kw)
    ok = used[:, : n + 1].astype(bool)
    ok[:, 0] = False
    diff = np.abs(fast[:, : n + 1] - exact[:, : n + 1])[ok]
    assert np.isfinite(diff).all()
    assert diff.mean() <= 0.2 and np.percentile(diff, 99) <= 1.5
    assert any("path distance is small" in m for m in msgs)  # cells within 1 km of the site


def test_fast_path_on_a_radial_equals_reference_profile():
    """Along the +col radial the samples are the DEM row itself: compare with itm_p2p_tls."""
    from coverage.propagation.itm._grid import itm_radial_loss_db

    dem = _hills()
    n = 60
    dirs, _, used = _radial_setup(n)
    fast, _ = itm_radial_loss_db(
        dem,
        80,
        20,
        tx_height_m=30.0,
        rx_height_m=1.5,
        freq_mhz=900.0,
        step_m=30.0,
        dirs=dirs,
        n_samples=n,
        used=np.ones_like(used),
        params=ItmParams(),
        fast=(1.0 + 1e-9, 1, 0.0, 0.0),
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        for i in (5, 17, 33, 60):
            ref = itm_p2p_tls(
                dem[80, 20 : 21 + i].astype(float), 30.0, tx_height_m=30.0, rx_height_m=1.5, freq_mhz=900.0
            )
            assert abs(fast[0, i] - ref.loss_db) < 1e-6, i


def test_signal_from_towers_with_itm():
    import geopandas as gpd
    from affine import Affine
    from pyproj import CRS
    from shapely.geometry import Point

    from coverage._types import Raster
    from coverage.params import RadioParams, Thresholds
    from coverage.propagation import signal_from_towers

    dem = Raster(
        _hills(), Affine(30.0, 0, 500_000.0, 0, -30.0, 2_300_000.0), CRS.from_epsg(32648), "elevation_m"
    )
    towers = gpd.GeoDataFrame(
        [
            {
                "site_id": "S1",
                "sector_id": None,
                "operator": "Viettel",
                "technology": "4G",
                "band_mhz": 1800.0,
                "antenna_height_m": 30.0,
                "azimuth_deg": np.nan,
                "tilt_deg": np.nan,
                "eirp_dbm": 62.5,
                "bandwidth_mhz": np.nan,
                "status": "on_air",
                "geometry": Point(500_000.0 + 80.5 * 30, 2_300_000.0 - 80.5 * 30),
            }
        ],
        geometry="geometry",
        crs=dem.crs,
    )
    p_itm = RadioParams(technologies=("4G",), model="itm", max_radius_km=2.0)
    res = signal_from_towers(towers, dem, params=p_itm, thresholds=Thresholds(), diagnostics=True)
    layer = res.layers["4G", "any"]
    assert layer.rsrp_dbm.shape == dem.shape and layer.rsrp_dbm.dtype == np.float32
    assert res.sites["model"].tolist() == ["itm"]
    assert any(w.startswith("site S1/-: ITM: path distance is small") for w in res.warnings)
    served = layer.serving_site == 0
    assert served.sum() > 10_000
    assert np.all(layer.terrain_loss_db[served] == 0.0)  # no Bullington excess on top of ITM
    # the loss is never below free space at the cell distance (minus the sample-to-cell shift)
    rr, cc = np.nonzero(served)
    d = np.hypot(rr - 80, cc - 80) * 30.0
    far = d > 300
    fspl = 32.45 + 20 * np.log10(1800.0) + 20 * np.log10(d[far] / 1000.0)
    assert np.all(layer.path_loss_db[served][far] >= fspl - 0.5)
    p_hata = RadioParams(technologies=("4G",), model="cost231", max_radius_km=2.0)
    other = signal_from_towers(towers, dem, params=p_hata, thresholds=Thresholds())
    assert np.isfinite(other.layers["4G", "any"].rsrp_dbm).sum() == np.isfinite(layer.rsrp_dbm).sum()


def test_longley_rice_p2p_is_bit_identical_to_the_reference():
    """The coverage path's LongleyRice.cpp (shared diffraction terms, troposcatter skipped when
    the crossover distance provably exceeds d) returns exactly the reference's values and flags
    on random profiles covering line of sight, diffraction and troposcatter."""
    from coverage.propagation.itm import _core as c
    from coverage.propagation.itm import _fast

    rng = np.random.default_rng(11)
    props = set()
    for _ in range(600):
        z, n, xi, h0, h1, f, zg, gamma_e, n_s = _random_path(rng, 300)
        th0, th1, dh0, dh1, he0, he1, dh, d = c.quick_pfl(z, n, xi, gamma_e, h0, h1)
        args = (th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, dh, h0, h1, d)
        err, a_ref, warn, prop = c.longley_rice(*args, c.MODE_P2P)
        assert _fast.longley_rice_p2p(*args) == (err, a_ref, warn)
        props.add(prop)
    assert props == {c.PROP_LOS, c.PROP_DIFFRACTION, c.PROP_TROPOSCATTER}


def test_coverage_path_reference_loss_and_delta_h_match_the_reference():
    """The coverage path's LongleyRice.cpp with site constants hoisted, its median
    Variability.cpp and its ComputeDeltaH.cpp agree with the reference to rounding."""
    from coverage.propagation.itm import _core as c
    from coverage.propagation.itm import _fast

    rng = np.random.default_rng(12)
    buf = np.empty((3, 245))
    guess = np.empty(2)
    for _ in range(600):
        z, n, xi, h0, h1, f, zg, gamma_e, n_s = _random_path(rng, 400)
        th0, th1, dh0, dh1, he0, he1, dh, d = c.quick_pfl(z, n, xi, gamma_e, h0, h1)
        err, a_ref, warn = _fast.longley_rice_p2p(
            th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, dh, h0, h1, d
        )
        sc = _fast.site_constants(f, zg, h0, h1, 2, 0.0, 0.0, 0.0)
        tx = np.full(4, np.nan)
        for _rep in range(2):  # second call with the cached TX terms
            got = _fast._reference_loss(th0, th1, zg, dh0, dh1, he0, he1, gamma_e, n_s, dh, d, sc, tx)
            assert got[0] == err and got[2] == warn
            assert abs(got[1] - a_ref) <= 1e-9
        if err == c.SUCCESS:
            v_ref, _ = c.variability(0.0, 0.0, 0.0, he0, he1, dh, f, d, a_ref, 2, 12)
            assert abs(_fast._median_variability(he0, he1, d, a_ref, sc) - v_ref) <= 1e-9
        # Δh with random decile guesses (too tight, too loose, none)
        d_start = float(rng.uniform(0.0, 0.3 * n * xi))
        d_end = float(rng.uniform(d_start, n * xi))
        guess[:] = np.sort(rng.normal(0.0, 30.0, 2))[::-1] if rng.random() < 0.8 else (-np.inf, np.inf)
        ref = c.compute_delta_h(z, n, xi, d_start, d_end)
        assert abs(
            _fast._delta_h_knot(z, n, xi, d_start, d_end, buf[0], buf[1], buf[2], guess) - ref
        ) <= 1e-9 * max(1.0, ref)
