"""coverage-gaps: village-level 4G/5G dead-zone analysis for Vietnam."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
