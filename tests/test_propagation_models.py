"""Unit tests of the path-loss models, antenna pattern and link-budget helpers."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import ConfigError, ModelValidityWarning
from coverage.propagation import (
    choose_model,
    cost231_loss_db,
    excess_diffraction_db,
    free_space_loss_db,
    hata_loss_db,
    knife_edge_loss_db,
    location_margin_db,
    model_loss_db,
    normal_quantile,
    rma_loss_db,
    rsrp_offset_db,
    sector_gain_db,
    uma_loss_db,
)
from coverage.propagation.budget import resource_blocks
from coverage.propagation.pathloss import validity_messages

WORKBOOK = Path(__file__).parent / "data" / "3gpp-38901" / "path_loss_validation_etsi_3gpp_tr_138_901.xlsx"
LOG = math.log10

# ---------------------------------------------------------------- free space / Hata


def test_free_space_reference_value():
    # 20 log10(1) + 20 log10(900) + 32.44 = 91.5249
    assert float(free_space_loss_db(1000.0, 900.0)) == pytest.approx(91.5249, abs=1e-3)
    # doubling the distance adds 6.02 dB
    assert float(free_space_loss_db(2000.0, 900.0) - free_space_loss_db(1000.0, 900.0)) == pytest.approx(
        6.0206
    )


def _hata_by_hand(f, hb, hm, d_km):
    a_hm = (1.1 * LOG(f) - 0.7) * hm - (1.56 * LOG(f) - 0.8)
    return 69.55 + 26.16 * LOG(f) - 13.82 * LOG(hb) - a_hm + (44.9 - 6.55 * LOG(hb)) * LOG(d_km)


@pytest.mark.parametrize(
    ("env", "correction"),
    [
        ("urban", 0.0),
        ("suburban", -2.0 * LOG(900.0 / 28.0) ** 2 - 5.4),
        ("rural", -4.78 * LOG(900.0) ** 2 + 18.33 * LOG(900.0) - 40.94),
    ],
)
def test_hata_against_hand_computation(env, correction):
    expected = _hata_by_hand(900.0, 50.0, 1.5, 5.0) + correction
    assert float(hata_loss_db(5000.0, 900.0, 50.0, 1.5, env)) == pytest.approx(expected, abs=1e-9)


def test_hata_urban_literal_value():
    # hand computation, 900 MHz, 1 km, h_b 30 m, h_m 1.5 m:
    # 69.55 + 26.16*2.954243 - 13.82*1.477121 - 0.016... = 126.40 dB
    assert float(hata_loss_db(1000.0, 900.0, 30.0, 1.5)) == pytest.approx(126.403, abs=0.01)


def test_cost231_1800mhz_hand_computed_catches_int_truncation():
    # 46.3 + 33.9*log10(1800) - 13.82*log10(30) - a(1.5) with a(1.5) = 0.042975:
    # 46.3 + 110.353738 - 20.413816 - 0.042975 = 136.196947 dB.
    # Signal-Server's int constants (46, 33) would give 132.97 dB (3.23 dB less).
    assert float(cost231_loss_db(1000.0, 1800.0, 30.0, 1.5)) == pytest.approx(136.1969, abs=0.01)
    assert float(cost231_loss_db(1000.0, 1800.0, 30.0, 1.5, metropolitan=True)) == pytest.approx(
        139.1969, abs=0.01
    )


def test_hata_continuous_with_cost231_shape():
    # same distance slope (44.9 - 6.55 log h_b) in both models
    for fn, f in ((hata_loss_db, 900.0), (cost231_loss_db, 1800.0)):
        slope = float(fn(10_000.0, f, 30.0, 1.5) - fn(1000.0, f, 30.0, 1.5))
        assert slope == pytest.approx(44.9 - 6.55 * LOG(30.0))


def test_heights_are_above_ground_not_sea_level():
    # a 30 m mast on a 500 m hill is still a 30 m mast: passing the altitude (530 m)
    # would predict less loss than free space, the bug of one open engine.
    correct = float(cost231_loss_db(3000.0, 1800.0, 30.0, 1.5, "rural"))
    with pytest.warns(ModelValidityWarning, match="base_height_m"):
        wrong = float(cost231_loss_db(3000.0, 1800.0, 530.0, 1.5, "rural"))
    assert correct > float(free_space_loss_db(3000.0, 1800.0))
    assert wrong < correct - 10.0


def test_validity_warning_outside_range_only():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hata_loss_db([1000.0, 20_000.0], 900.0, 30.0, 1.5)  # inside: silent
    with pytest.warns(ModelValidityWarning, match="distance_m"):
        hata_loss_db(25_000.0, 900.0, 30.0, 1.5)
    with pytest.warns(ModelValidityWarning, match="freq_mhz"):
        hata_loss_db(5000.0, 1800.0, 30.0, 1.5)
    with pytest.warns(ModelValidityWarning, match="freq_mhz"):
        cost231_loss_db(5000.0, 900.0, 30.0, 1.5)
    assert validity_messages("hata", 900.0, 25_000.0, 20.0, 1.5) == [
        "hata used to 25.0 km, beyond its 20.0 km validity limit",
        "hata used with base antenna height 20 m, outside 30-200 m",
    ]


def test_model_loss_is_never_below_free_space_and_silent():
    d = np.array([20.0, 100.0, 1000.0, 30_000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in ("hata", "cost231", "rma", "uma", "free_space"):
            loss = model_loss_db(model, d, 1800.0, 30.0, 1.5, "rural")
            assert np.all(loss >= free_space_loss_db(np.hypot(d, 28.5), 1800.0) - 1e-9)


def test_choose_model_auto_rule_and_explicit():
    assert choose_model(700.0, "urban") == "hata"
    assert choose_model(1499.9, "rural") == "hata"
    assert choose_model(1500.0, "rural") == "cost231"
    assert choose_model(2000.0, "suburban") == "cost231"
    assert choose_model(2100.0, "rural") == "rma"
    assert choose_model(3500.0, "suburban") == "uma"
    assert choose_model(3500.0, "rural", "hata") == "hata"
    with pytest.raises(ConfigError, match="itm"):
        choose_model(900.0, "rural", "itm")


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(["free_space", "hata", "cost231", "rma", "uma"]),
    freq=st.floats(700.0, 3800.0),
    hb=st.floats(10.0, 80.0),
    env=st.sampled_from(["urban", "suburban", "rural"]),
    d1=st.floats(10.0, 30_000.0),
    ratio=st.floats(1.001, 3.0),
)
def test_path_loss_increases_with_distance(model, freq, hb, env, d1, ratio):
    loss = model_loss_db(model, [d1, d1 * ratio], freq, hb, 1.5, env)
    assert loss[1] > loss[0]


# ---------------------------------------------------------------- 3GPP TR 38.901 workbook


@pytest.fixture(scope="module")
def sheet():
    openpyxl = pytest.importorskip("openpyxl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "extension is not supported" on load
        wb = openpyxl.load_workbook(WORKBOOK, data_only=True)
    return wb["Sheet1"]


# Layout (read from the file): parameters in C3:C9 (h_E 1, h_BS 35, h_UT 1.5, W 20, h 5);
# blocks of rows with B = path loss (cached value), C = d2D outdoor, D = d2D indoor,
# E = d3D, F = f_c GHz. d2D = C + D. Rows: RMa LOS 14-15, RMa NLOS 20/22, UMa LOS 28-29,
# UMa NLOS 34/36. The values are deterministic (no shadow fading is added in this file).
def _case(ws, row):
    d2d = ws[f"C{row}"].value + ws[f"D{row}"].value
    return d2d, ws[f"F{row}"].value * 1000.0, ws[f"B{row}"].value


def test_workbook_parameters(sheet):
    assert [sheet[f"C{r}"].value for r in (3, 4, 5, 8, 9)] == [1, 35, 1.5, 20, 5]


@pytest.mark.parametrize(("row", "tol_db"), [(14, 1e-6), (15, 0.01)])
def test_rma_los_matches_workbook(sheet, row, tol_db):
    # beyond the breakpoint the workbook's d_BP uses c = 3e8 m/s (we use 299 792 458):
    # 0.005 dB apart at 5 km
    d2d, f, expected = _case(sheet, row)
    assert float(rma_loss_db(d2d, f, 35.0, 1.5, los=True)) == pytest.approx(expected, abs=tol_db)


@pytest.mark.parametrize(("row", "nlos_row"), [(14, 21), (22, 23)])
def test_rma_nlos_matches_workbook_up_to_its_typo(sheet, row, nlos_row):
    # The workbook writes (3.7*h/h_BS)^2 where TR 38.901 has 3.7*(h/h_BS)^2; the
    # difference, times log10(h_BS), is exactly what separates the two values.
    d2d, f, _ = _case(sheet, 20 if row == 14 else 22)
    expected = sheet[f"B{nlos_row}"].value
    typo = ((3.7 * 5 / 35) ** 2 - 3.7 * (5 / 35) ** 2) * LOG(35.0)
    assert typo == pytest.approx(0.3149, abs=1e-3)
    assert float(rma_loss_db(d2d, f, 35.0, 1.5)) + typo == pytest.approx(expected, abs=1e-6)


def test_uma_los_matches_workbook(sheet):
    d2d, f, expected = _case(sheet, 28)  # 100 m, before the breakpoint: exact
    assert float(uma_loss_db(d2d, f, 35.0, 1.5, los=True)) == pytest.approx(expected, abs=1e-6)
    # 5 km: the workbook's d'_BP uses h_BS - h_UT (33.5 m) instead of h_BS - h_E (34 m)
    d2d, f, expected = _case(sheet, 29)
    ours = float(uma_loss_db(d2d, f, 35.0, 1.5, los=True))
    bp_ours = 4 * 34 * 0.5 * f * 1e6 / 299_792_458.0
    bp_book = 4 * 33.5 * 0.5 * f * 1e6 / 3e8
    shift = -9 * LOG(bp_book**2 + 33.5**2) + 9 * LOG(bp_ours**2 + 33.5**2)
    assert ours + shift == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("row", [34, 36])
def test_uma_nlos_matches_workbook(sheet, row):
    d2d, f, _ = _case(sheet, row)
    expected = sheet[f"B{row + 1}"].value
    assert float(uma_loss_db(d2d, f, 35.0, 1.5)) == pytest.approx(expected, abs=1e-6)


def test_rma_breakpoint_is_continuous():
    d_bp = 2 * math.pi * 35 * 1.5 * 3.5e9 / 299_792_458.0
    below = float(rma_loss_db(d_bp * (1 - 1e-9), 3500.0, 35.0, 1.5, los=True))
    above = float(rma_loss_db(d_bp * (1 + 1e-9), 3500.0, 35.0, 1.5, los=True))
    assert above == pytest.approx(below, abs=0.05)


# ---------------------------------------------------------------- antenna


def test_sector_pattern_reference_points():
    gains = sector_gain_db([0.0, 32.5, -32.5, 180.0, 90.0], [0.0] * 5)
    assert gains.tolist() == pytest.approx([0.0, -3.0, -3.0, -30.0, -23.0059], abs=1e-3)


def test_sector_pattern_vertical_and_floor():
    assert float(sector_gain_db(0.0, 5.0, tilt_deg=5.0)) == pytest.approx(0.0)
    assert float(sector_gain_db(0.0, 10.0, tilt_deg=5.0, vertical_beamwidth_deg=10.0)) == pytest.approx(-3.0)
    assert float(sector_gain_db(0.0, 80.0)) == pytest.approx(-20.0)  # side-lobe level
    # combined never below -A_m
    assert float(sector_gain_db(120.0, 80.0)) == pytest.approx(-30.0)


# ---------------------------------------------------------------- budget


@pytest.mark.parametrize(
    ("tech", "bw", "scs", "n_rb", "offset"),
    [
        ("4G", 1.4, 30.0, 6, -18.57),
        ("4G", 5.0, 30.0, 25, -24.77),
        ("4G", 10.0, 30.0, 50, -27.78),
        ("4G", 20.0, 30.0, 100, -30.79),
        ("5G", 20.0, 30.0, 51, -27.87),
        ("5G", 100.0, 30.0, 273, -35.15),
        ("5G", 40.0, 30.0, 106, -31.04),
    ],
)
def test_rsrp_per_resource_element(tech, bw, scs, n_rb, offset):
    assert resource_blocks(tech, bw, scs) == n_rb
    assert rsrp_offset_db(tech, bw, scs) == pytest.approx(offset, abs=0.01)


def test_unknown_bandwidth_lists_valid_values():
    with pytest.raises(ConfigError, match=r"7\.0 MHz is not one of"):
        resource_blocks("4G", 7.0)


def test_normal_quantile_values():
    assert normal_quantile(0.9) == pytest.approx(1.2815516, abs=1e-7)
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert normal_quantile(0.01) == pytest.approx(-2.3263479, abs=1e-7)
    assert normal_quantile(0.5) == 0.0
    assert location_margin_db(8.0, 0.9) == pytest.approx(10.2524, abs=1e-3)


@given(st.floats(1e-6, 1 - 1e-6))
def test_normal_quantile_inverts_cdf(p):
    x = normal_quantile(p)
    assert 0.5 * math.erfc(-x / math.sqrt(2.0)) == pytest.approx(p, rel=1e-9, abs=1e-13)


# ---------------------------------------------------------------- knife edge


def test_knife_edge_reference_values():
    assert float(knife_edge_loss_db(0.0)) == pytest.approx(6.0, abs=0.05)
    assert float(knife_edge_loss_db(-0.78)) == 0.0
    assert float(knife_edge_loss_db(-0.77)) > 0.0
    # deep shadow: J ~ 13 + 20 log10(nu)
    assert float(knife_edge_loss_db(10.0)) == pytest.approx(13.0 + 20.0, abs=0.2)
    assert excess_diffraction_db([-1.0, 0.0]).tolist() == [0.0, 0.0]
    assert float(excess_diffraction_db(1.0)) == pytest.approx(
        float(knife_edge_loss_db(1.0) - knife_edge_loss_db(0.0))
    )
