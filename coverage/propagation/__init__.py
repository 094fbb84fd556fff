"""Terrain-aware 4G/5G signal prediction (pure computation: arrays in, arrays out).

The public entry point is :func:`signal_from_towers`; the models it uses are public
too, for notebooks and tests: :mod:`~coverage.propagation.pathloss` (free space, Hata,
COST-231, 3GPP TR 38.901 RMa/UMa), :mod:`~coverage.propagation.antenna` (3GPP sector
pattern), :mod:`~coverage.propagation.terrain` (line of sight and Bullington
diffraction over the DEM) and :mod:`~coverage.propagation.budget` (RSRP per resource
element, location margin).
"""

from __future__ import annotations

from coverage.propagation.antenna import sector_gain_db
from coverage.propagation.budget import location_margin_db, normal_quantile, rsrp_offset_db
from coverage.propagation.grid import FLOOR_RSRP_DBM, RunnerUp, SignalLayer, SignalResult, signal_from_towers
from coverage.propagation.pathloss import (
    choose_model,
    cost231_loss_db,
    free_space_loss_db,
    hata_loss_db,
    model_loss_db,
    rma_loss_db,
    uma_loss_db,
)
from coverage.propagation.terrain import bullington_profile, excess_diffraction_db, knife_edge_loss_db

__all__ = [
    "FLOOR_RSRP_DBM",
    "RunnerUp",
    "SignalLayer",
    "SignalResult",
    "bullington_profile",
    "choose_model",
    "cost231_loss_db",
    "excess_diffraction_db",
    "free_space_loss_db",
    "hata_loss_db",
    "knife_edge_loss_db",
    "location_margin_db",
    "model_loss_db",
    "normal_quantile",
    "rma_loss_db",
    "rsrp_offset_db",
    "sector_gain_db",
    "signal_from_towers",
    "uma_loss_db",
]
