"""Write signal layers as GeoTIFFs (one multi-band float32 file per technology/operator)."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio

from coverage.io._atomic import atomic_file
from coverage.io.csvfile import write_csv

__all__ = ["signal_file_name", "write_signal"]

# Same value as coverage.propagation.FLOOR_RSRP_DBM. coverage.io and coverage.propagation
# are independent layers (import-linter), so the result is used by duck typing only.
FLOOR_RSRP_DBM = -200.0

_DIAG_BANDS = ("path_loss_db", "terrain_loss_db", "los")


def signal_file_name(technology: str, operator: str) -> str:
    """File name of a layer: ``signal_<technology>_<operator>.tif`` with a safe operator name.

    Examples
    --------
    >>> signal_file_name("4G", "Viettel"), signal_file_name("5G", "Vina Phone/VNPT")
    ('signal_4G_Viettel.tif', 'signal_5G_Vina_Phone_VNPT.tif')
    """
    folded = unicodedata.normalize("NFKD", operator.replace("Đ", "D").replace("đ", "d"))
    ascii_name = folded.encode("ascii", "ignore").decode()
    safe = re.sub(r"[^A-Za-z0-9-]+", "_", ascii_name).strip("_") or "unknown"
    return f"signal_{technology}_{safe}.tif"


def _bands(layer: Any, diagnostics: bool) -> list[tuple[str, np.ndarray]]:
    bands = [("rsrp_dbm", layer.rsrp_dbm.astype(np.float32, copy=False))]
    bands.append(("serving_site", layer.serving_site.astype(np.float32)))
    if diagnostics:
        for name in _DIAG_BANDS:
            values = getattr(layer, name)
            if values is None:
                raise ValueError(
                    f"diagnostics=True but the result has no {name!r}; "
                    "run signal_from_towers(..., diagnostics=True)"
                )
            data = values.astype(np.float32)
            if name == "los":
                data[values == 255] = np.nan
            bands.append((name, data))
    return bands


def _write_tif(path: Path, result: Any, bands: list[tuple[str, np.ndarray]], tags: dict) -> None:
    rows, cols = result.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": len(bands),
        "dtype": "float32",
        "crs": result.crs,
        "transform": result.transform,
        "nodata": float("nan"),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "zlevel": 1,  # 1.7x faster than the default level 6 on a province, files 3 % larger
        "predictor": 3,
        "interleave": "band",
        "num_threads": "ALL_CPUS",
    }
    # the caller decides whether the folder may be replaced; files inside it are replaced
    with atomic_file(path, overwrite=True) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for i, (name, data) in enumerate(bands, start=1):
            dst.write(data, i)
            dst.set_band_description(i, name)
        dst.update_tags(**tags)


def _write_csv(path: Path, frame: pd.DataFrame, index_label: str | None) -> None:
    write_csv(frame, path, index_label=index_label)


def write_signal(result: Any, out_dir: str | os.PathLike[str], *, diagnostics: bool = False) -> list[Path]:
    """Write every layer of ``result`` as a GeoTIFF, plus the site index and skipped sites.

    One file per (technology, operator), ``signal_<tech>_<operator>.tif``, float32,
    tiled 256x256, DEFLATE (level 1) with the floating-point predictor, nodata NaN. Band 1
    ``rsrp_dbm`` (NaN = unknown; -200 = below the computation floor, no signal);
    band 2 ``serving_site`` (row of ``sites.csv``, -1 = none; stored as float32, exact
    for ids below 2**24); with ``diagnostics`` bands 3-5 ``path_loss_db``,
    ``terrain_loss_db`` and ``los`` (1/0, NaN = unknown). ``sites.csv`` (index column
    ``serving_site``) and ``skipped_sites.csv`` are written beside them. Each file is
    written to a temporary name and renamed, so readers never see a partial file. The
    caller decides whether ``out_dir`` may be overwritten.

    Parameters
    ----------
    result
        A :class:`coverage.propagation.SignalResult`, the output of
        :func:`coverage.propagation.signal_from_towers`.
    out_dir
        Existing or new folder.
    diagnostics
        Also write the diagnostic bands (the result must have them).

    Returns
    -------
    list of Path
        The files written, GeoTIFFs first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tags = {
        "units": "dBm",
        "floor_rsrp_dbm": f"{FLOOR_RSRP_DBM:g} (below the computation floor = no signal)",
        "nodata": "NaN = unknown (DEM nodata on the path)",
    }
    for (tech, operator), layer in sorted(result.layers.items()):
        path = out / signal_file_name(tech, operator)
        layer_tags = {**tags, "technology": tech, "operator": operator}
        _write_tif(path, result, _bands(layer, diagnostics), layer_tags)
        written.append(path)
    sites_path = out / "sites.csv"
    _write_csv(sites_path, result.sites, "serving_site")
    skipped_path = out / "skipped_sites.csv"
    _write_csv(skipped_path, result.skipped, None)
    return [*written, sites_path, skipped_path]
