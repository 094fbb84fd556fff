"""coverage-gaps: village-level 4G/5G dead-zone analysis for Viet Nam.

The public API, for notebooks and scripts::

    import coverage
    project = coverage.load_project("data/demo/project.toml")
    report = coverage.validate_project(project)
    signal = coverage.signal_from_towers(towers, dem, params=project.radio, thresholds=project.thresholds)

Everything not listed in ``__all__`` is internal and may change.
"""

from __future__ import annotations

import logging
import platform
import sys

_numba_probe = sys.modules.get("numba.misc.coverage_support")
if _numba_probe is not None and not hasattr(_numba_probe, "coverage_available"):
    # numba's coverage_support runs `import coverage` to find coverage.py. This package shares
    # that import name; say "not here" so numba disables its coverage.py hook instead of crashing.
    # (The reverse order, this package importing numba, is handled in propagation/_numba.py.)
    raise ImportError("the 'coverage' package here is coverage-gaps, not coverage.py")

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

from coverage._errors import (  # noqa: E402
    ConfigError,
    CoverageError,
    CoverageWarning,
    CRSMismatchError,
    InputError,
    InputSchemaError,
    MissingCRSError,
    ModelValidityWarning,
    NodataWarning,
    OutputExistsError,
    Problem,
)
from coverage._types import Raster  # noqa: E402
from coverage.config import Project, load_project  # noqa: E402
from coverage.io import (  # noqa: E402
    read_communes,
    read_dem,
    read_outages,
    read_population,
    read_towers,
    read_villages,
)
from coverage.params import (  # noqa: E402
    CostParams,
    EvidenceParams,
    GapParams,
    PriorityWeights,
    RadioParams,
    SignalThresholds,
    Thresholds,
    TowerDefaults,
)
from coverage.pipeline import run, run_signal, validate_project  # noqa: E402
from coverage.propagation import FLOOR_RSRP_DBM, SignalResult, signal_from_towers  # noqa: E402

__all__ = [
    "FLOOR_RSRP_DBM",
    "CRSMismatchError",
    "ConfigError",
    "CostParams",
    "CoverageError",
    "CoverageWarning",
    "EvidenceParams",
    "GapParams",
    "InputError",
    "InputSchemaError",
    "MissingCRSError",
    "ModelValidityWarning",
    "NodataWarning",
    "OutputExistsError",
    "PriorityWeights",
    "Problem",
    "Project",
    "RadioParams",
    "Raster",
    "SignalResult",
    "SignalThresholds",
    "Thresholds",
    "TowerDefaults",
    "__version__",
    "load_project",
    "read_communes",
    "read_dem",
    "read_outages",
    "read_population",
    "read_towers",
    "read_villages",
    "run",
    "run_signal",
    "show_versions",
    "signal_from_towers",
    "validate_project",
]


def show_versions() -> None:
    """Print the versions of coverage-gaps, Python and the geospatial stack (for bug reports)."""
    from importlib.metadata import PackageNotFoundError, version

    print(f"coverage-gaps {__version__}")
    print(f"python       {sys.version.split()[0]} ({platform.platform()})")
    for name in (
        "numpy",
        "numba",
        "pandas",
        "geopandas",
        "shapely",
        "pyogrio",
        "pyproj",
        "rasterio",
        "folium",
    ):
        try:
            print(f"{name:<12} {version(name)}")
        except PackageNotFoundError:
            print(f"{name:<12} not installed")
    try:
        import pyproj
        import rasterio

        print(f"{'GDAL':<12} {rasterio.__gdal_version__}")
        print(f"{'PROJ':<12} {pyproj.proj_version_str}")
    except ImportError:  # pragma: no cover
        pass
