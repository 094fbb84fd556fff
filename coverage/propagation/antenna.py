"""Sector antenna pattern in the 3GPP TR 38.901 Table 7.3-1 form.

Gains are relative to the main beam (0 dB at boresight, negative elsewhere) because
the tower table gives EIRP in the main-beam direction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["horizontal_gain_db", "sector_gain_db", "vertical_gain_db", "wrap_deg"]


def wrap_deg(angle_deg: ArrayLike) -> NDArray[np.float64]:
    """Wrap angles to [-180, 180) degrees.

    Examples
    --------
    >>> wrap_deg([190.0, -190.0, 360.0]).tolist()
    [-170.0, 170.0, 0.0]
    """
    a = np.asarray(angle_deg, dtype=np.float64)
    return np.mod(a + 180.0, 360.0) - 180.0


def horizontal_gain_db(
    off_axis_deg: ArrayLike, beamwidth_deg: float = 65.0, front_to_back_db: float = 30.0
) -> NDArray[np.float64]:
    r"""Horizontal pattern :math:`A_H(\varphi) = -\min(12(\varphi/\varphi_{3dB})^2, A_m)`, dB.

    Parameters
    ----------
    off_axis_deg
        Horizontal angle between the receiver bearing and the sector azimuth, degrees.
    beamwidth_deg
        Half-power beamwidth :math:`\varphi_{3dB}`, degrees.
    front_to_back_db
        Maximum attenuation :math:`A_m`, dB.

    Examples
    --------
    >>> horizontal_gain_db([0.0, 32.5, 180.0]).tolist()
    [-0.0, -3.0, -30.0]
    """
    phi = wrap_deg(off_axis_deg)
    return -np.minimum(12.0 * (phi / beamwidth_deg) ** 2, front_to_back_db)


def vertical_gain_db(
    depression_deg: ArrayLike, tilt_deg: float = 0.0, beamwidth_deg: float = 10.0, sidelobe_db: float = 20.0
) -> NDArray[np.float64]:
    r"""Vertical pattern :math:`A_V(\theta) = -\min(12((\theta-\theta_{tilt})/\theta_{3dB})^2, SLA_V)`, dB.

    :math:`\theta` is the depression angle from the antenna to the receiver (positive
    below the horizontal) and :math:`\theta_{tilt}` the downtilt (positive down); the
    TR writes the same with zenith angles (90 degrees = horizon).

    Parameters
    ----------
    depression_deg
        Angle below the antenna's horizontal, degrees.
    tilt_deg
        Downtilt, degrees.
    beamwidth_deg
        Vertical half-power beamwidth, degrees.
    sidelobe_db
        Side-lobe level :math:`SLA_V`, dB.

    Examples
    --------
    >>> vertical_gain_db([3.0, 8.0, 60.0], tilt_deg=3.0).tolist()
    [-0.0, -3.0, -20.0]
    """
    theta = np.asarray(depression_deg, dtype=np.float64)
    return -np.minimum(12.0 * ((theta - tilt_deg) / beamwidth_deg) ** 2, sidelobe_db)


def sector_gain_db(
    off_axis_deg: ArrayLike,
    depression_deg: ArrayLike,
    *,
    tilt_deg: float = 0.0,
    horizontal_beamwidth_deg: float = 65.0,
    vertical_beamwidth_deg: float = 10.0,
    front_to_back_db: float = 30.0,
    sidelobe_db: float = 20.0,
) -> NDArray[np.float64]:
    r"""Return the combined 3-D pattern :math:`A = -\min(-(A_H + A_V), A_m)`, dB relative to boresight.

    Source: 3GPP TR 38.901 Table 7.3-1 (element pattern form; the beamwidths and
    side-lobe level are parameters here so a macro panel can be described). An omni
    site (no azimuth) is treated by the grid engine as isotropic: 0 dB in every
    direction, horizontal and vertical (its real antennas are unknown).

    Parameters
    ----------
    off_axis_deg
        Horizontal angle from the sector azimuth, degrees.
    depression_deg
        Angle below the antenna's horizontal, degrees.
    tilt_deg
        Downtilt, degrees (positive down).
    horizontal_beamwidth_deg, vertical_beamwidth_deg
        Half-power beamwidths, degrees.
    front_to_back_db
        :math:`A_m`, dB.
    sidelobe_db
        :math:`SLA_V`, dB.

    Examples
    --------
    >>> sector_gain_db([0.0, 32.5, 180.0], [0.0, 0.0, 0.0]).tolist()
    [-0.0, -3.0, -30.0]
    """
    a_h = horizontal_gain_db(off_axis_deg, horizontal_beamwidth_deg, front_to_back_db)
    a_v = vertical_gain_db(depression_deg, tilt_deg, vertical_beamwidth_deg, sidelobe_db)
    return -np.minimum(-(a_h + a_v), front_to_back_db)
