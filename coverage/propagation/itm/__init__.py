"""Longley-Rice Irregular Terrain Model (ITM v1.3), ported from the NTIA/ITS reference.

* :func:`itm_p2p_tls`, :func:`itm_p2p_cr`: point-to-point mode over a terrain profile,
  with time/location/situation or confidence/reliability variability;
* :func:`itm_area_tls`, :func:`itm_area_cr`: area mode (terrain described by Δh);
* :func:`itm_radial_loss_db`: the fast coverage path used by the grid engine
  (``RadioParams(model="itm")``), ITM along every radial of a site in
  O(R² log R) instead of the O(R³) of one profile per cell;
* :class:`ItmParams`: climate, refractivity, ground, polarisation, variability.

The numerical core (``_core``) follows the reference C++ (public repository
``NTIA/itm``, ``src/*.cpp``; US-government work, NTIA software disclaimer) function by
function and reproduces its published test vectors (``tests/test_itm.py``).
"""

from __future__ import annotations

from coverage.propagation.itm._api import ItmResult, itm_area_cr, itm_area_tls, itm_p2p_cr, itm_p2p_tls
from coverage.propagation.itm._params import (
    CLIMATES,
    ITM_ERRORS,
    ITM_WARNINGS,
    ItmInputError,
    ItmParams,
    warning_messages,
)

__all__ = [
    "CLIMATES",
    "ITM_ERRORS",
    "ITM_WARNINGS",
    "ItmInputError",
    "ItmParams",
    "ItmResult",
    "itm_area_cr",
    "itm_area_tls",
    "itm_p2p_cr",
    "itm_p2p_tls",
    "warning_messages",
]
