"""Path-in, path-out orchestration ("tools" in rasterio's sense).

``validate_project`` reads every layer and collects every problem; ``run`` validates,
moves the layers to the metric working CRS and writes the outputs into a new folder
atomically: everything is written to a temporary sibling folder that replaces the
target only when complete, so a failed run never leaves half an output, and an
existing output is replaced only with ``overwrite=True``. Inputs are only read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from shapely.geometry import box

import coverage
from coverage._crosscheck import cross_check, raster_footprint
from coverage._errors import InputError, OutputExistsError, Problem
from coverage._types import Raster
from coverage.config import LayerSource, Project, load_project
from coverage.crs import working_crs_for
from coverage.io.layers import load_communes, load_outages, load_villages
from coverage.io.raster import fill_voids, grid_for_bounds, load_dem, read_dem, warp_to_grid
from coverage.io.signal import write_signal
from coverage.io.towers import load_towers, read_towers
from coverage.params import RadioParams, Thresholds
from coverage.propagation import SignalResult, signal_from_towers

__all__ = [
    "InputLayers",
    "RunResult",
    "ValidationReport",
    "analysis_grid",
    "atomic_output_dir",
    "compute_signal",
    "demo_project_path",
    "run",
    "run_signal",
    "validate_project",
]

SiteProgress = Callable[[int, int], None]

log = logging.getLogger(__name__)


@dataclass
class InputLayers:
    """Every input layer, read and checked, in its own CRS (DEM: native grid)."""

    villages: gpd.GeoDataFrame
    towers: gpd.GeoDataFrame
    dem: Raster
    communes: gpd.GeoDataFrame | None = None
    outages: gpd.GeoDataFrame | None = None
    population: Raster | None = None
    working_crs: CRS = field(default_factory=lambda: CRS.from_epsg(32648))


@dataclass
class ValidationReport:
    """Outcome of :func:`validate_project`: every problem, and the layers when usable."""

    project: Project
    problems: list[Problem]
    layers: InputLayers | None

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop a run."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but do not stop a run."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors


@dataclass
class RunResult:
    """Where a run wrote its outputs."""

    out_dir: Path
    files: list[Path]
    report: ValidationReport


def _kw(src: LayerSource, *keys: str) -> dict:
    return {k: getattr(src, k) for k in keys}


def validate_project(project: Project | str | Path) -> ValidationReport:
    """Read every input of a project and report all problems at once.

    Parameters
    ----------
    project
        A loaded :class:`~coverage.config.Project` or the path of its TOML file.

    Returns
    -------
    ValidationReport
        All problems of all layers plus cross-layer checks (DEM overlap, villages
        outside communes, far-away points). ``layers`` is ``None`` if any error exists.
    """
    if not isinstance(project, Project):
        project = load_project(project)
    inp = project.inputs
    problems: list[Problem] = []
    common = ("layer", "crs", "x_column", "y_column", "columns")
    clean: dict[str, bool] = {}

    def collect(name: str, found: list[Problem]) -> None:
        problems.extend(found)
        clean[name] = not any(p.severity == "error" for p in found)

    with warnings.catch_warnings():
        # Problems are collected below; do not also emit them as Python warnings.
        warnings.simplefilter("ignore")
        villages, p = load_villages(inp["villages"].path, **_kw(inp["villages"], *common))
        collect("villages", p)
        communes = None
        if "communes" in inp:
            communes, p = load_communes(
                inp["communes"].path, **_kw(inp["communes"], "layer", "crs", "columns")
            )
            collect("communes", p)
        towers, p = load_towers(
            inp["towers"].path,
            **_kw(inp["towers"], *common),
            fmt=inp["towers"].format,
            defaults=project.tower_defaults,
            mnc_operators=inp["towers"].mnc_operators,
        )
        collect("towers", p)
        outages = None
        if "outages" in inp:
            outages, p = load_outages(inp["outages"].path, **_kw(inp["outages"], *common))
            collect("outages", p)
        dem, p = load_dem(inp["dem"].path)
        collect("dem", p)
        population = None
        if "population" in inp:
            population, p = load_dem(inp["population"].path, layer_name="population")
            collect("population", [q for q in p if "elevation" not in q.message])

    def usable(name: str, layer: object) -> object:
        # Cross-layer checks only compare layers that passed their own checks.
        return layer if clean.get(name, False) else None

    try:
        crs = working_crs_for(
            [g for g in (usable("villages", villages), usable("communes", communes)) if g is not None],
            project.working_crs,
        )
    except ValueError as exc:
        problems.append(
            Problem("error", "project", str(exc), "fix working_crs in [project]", str(project.path))
        )
        crs = None
    if crs is not None:
        problems += cross_check(
            crs=crs,
            villages=usable("villages", villages),
            communes=usable("communes", communes),
            towers=usable("towers", towers),
            outages=usable("outages", outages),
            dem=usable("dem", dem),
            far_km=max(50.0, 2 * project.radio.max_radius_km),
        )
    layers = None
    if not any(p.severity == "error" for p in problems):
        assert villages is not None and towers is not None and dem is not None and crs is not None
        layers = InputLayers(villages, towers, dem, communes, outages, population, crs)
    return ValidationReport(project, problems, layers)


def _inputs_of(project: Project) -> list[Path]:
    return [project.path, *(src.path for src in project.inputs.values())]


@contextlib.contextmanager
def atomic_output_dir(
    out_dir: str | Path, *, overwrite: bool = False, protect: list[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out_dir`` only if the block succeeds.

    Raises
    ------
    OutputExistsError
        If ``out_dir`` exists and ``overwrite`` is false.
    ValueError
        If ``out_dir`` is an input, or holds one (replacing it would delete inputs).
    """
    out = Path(out_dir).resolve()
    for path in protect:
        path = Path(path).resolve()
        if path == out or out in path.parents:
            raise ValueError(f"output folder {out} contains the input {path}; choose another --out folder")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output folder {out} already exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "previous")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _shareable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop internal and personal columns before anything is written."""
    drop = [
        c
        for c in gdf.columns
        if str(c).startswith("_") or c in ("reporter_key", "reporter_name", "reporter_phone")
    ]
    out = gdf.drop(columns=drop)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            # GeoPackage stores date-times as UTC ISO 8601 text.
            out[col] = out[col].dt.tz_convert("UTC")
        elif str(out[col].dtype) in ("boolean", "Int64", "string"):
            out[col] = out[col].astype(object)
    return out


def _write_summary(
    folder: Path, report: ValidationReport, layers: InputLayers, files: list[Path]
) -> list[Path]:
    project = report.project
    vil = layers.villages
    summary = {
        "tool": "coverage-gaps",
        "version": coverage.__version__,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "project": project.name,
        "project_file": str(project.path),
        "working_crs": layers.working_crs.to_string(),
        "villages": len(vil),
        "population": int(pd.to_numeric(vil["population"], errors="coerce").fillna(0).sum()),
        "communes": len(layers.communes) if layers.communes is not None else None,
        "tower_rows": len(layers.towers),
        "sites": int(layers.towers["site_id"].nunique()),
        "sites_by_operator_technology": {
            f"{op} {tech}": int(n)
            for (op, tech), n in layers.towers.groupby(["operator", "technology"])["site_id"]
            .nunique()
            .items()
        },
        "outage_reports": len(layers.outages) if layers.outages is not None else None,
        "dem": {
            "source": layers.dem.source,
            "crs": layers.dem.crs.to_string(),
            "shape": list(layers.dem.shape),
            "nodata_fraction": round(layers.dem.nodata_fraction, 6),
        },
        "warnings": [str(p) for p in report.warnings],
        "files": sorted(str(f.relative_to(folder)) for f in files),
    }
    json_path = folder / "summary.json"
    json_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        f"# {project.name}",
        "",
        f"coverage-gaps {coverage.__version__}, run {summary['run_at']}",
        f"Working CRS: {summary['working_crs']}",
        f"Villages: {summary['villages']} (population {summary['population']:,})",
        f"Communes: {summary['communes']}",
        f"Towers: {summary['tower_rows']} rows, {summary['sites']} sites",
        f"Outage reports: {summary['outage_reports']}",
        f"DEM: {layers.dem.source} ({layers.dem.crs.to_string()}), nodata {layers.dem.nodata_fraction:.3%}",
        "",
        f"## Warnings ({len(report.warnings)})",
        *[f"- {p}" for p in report.warnings],
    ]
    md_path = folder / "summary.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json_path, md_path]


def analysis_grid(
    areas: list[gpd.GeoDataFrame], dem: Raster, crs: CRS, radio: RadioParams
) -> tuple[Affine, tuple[int, int]]:
    """Return the analysis grid: the study area plus ``max_radius_km``, within the DEM.

    Towers up to ``max_radius_km`` outside the villages and communes can still serve
    them, so the grid extends that far, but never beyond the DEM (where nothing is known).
    """
    bounds = np.array([g.to_crs(crs).total_bounds for g in areas if g is not None and len(g)])
    pad = radio.max_radius_km * 1000.0
    study = box(
        bounds[:, 0].min() - pad, bounds[:, 1].min() - pad, bounds[:, 2].max() + pad, bounds[:, 3].max() + pad
    )
    area = study.intersection(raster_footprint(dem, crs))
    if area.is_empty:
        raise InputError(
            [Problem("error", "dem", "the DEM does not overlap the study area", "use a DEM that covers it")],
            "Cannot build the analysis grid",
        )
    return grid_for_bounds(area.bounds, radio.resolution_m)


def compute_signal(
    towers: gpd.GeoDataFrame,
    dem: Raster,
    *,
    crs: CRS,
    transform: Affine,
    shape: tuple[int, int],
    radio: RadioParams,
    thresholds: Thresholds,
    diagnostics: bool = False,
    site_progress: SiteProgress | None = None,
) -> tuple[SignalResult, Raster]:
    """Fill small DEM voids, warp the DEM onto the analysis grid and predict signal.

    Voids within ``radio.dem_void_fill_m`` of valid terrain are interpolated (logged);
    larger ones stay nodata, so signal behind them is reported as unknown.
    """
    dem, n_filled = fill_voids(dem, radio.dem_void_fill_m)
    if n_filled:
        log.info(
            "filled %d DEM void cells by interpolation (dem_void_fill_m = %g)",
            n_filled,
            radio.dem_void_fill_m,
        )
    grid_dem = warp_to_grid(dem, crs=crs, transform=transform, shape=shape)
    metric = towers.to_crs(crs)
    active = metric[(metric["status"] == "on_air") & metric["technology"].isin(radio.technologies)]
    total = len(active)
    if site_progress is not None:
        site_progress(0, total)
    callback = (lambda done: site_progress(done, total)) if site_progress is not None else None
    result = signal_from_towers(
        metric, grid_dem, params=radio, thresholds=thresholds, diagnostics=diagnostics, progress=callback
    )
    return result, grid_dem


def run_signal(
    towers_path: str | Path,
    dem_path: str | Path,
    out_dir: str | Path,
    *,
    radio: RadioParams | None = None,
    thresholds: Thresholds | None = None,
    working_crs: str | None = None,
    diagnostics: bool = False,
    overwrite: bool = False,
    site_progress: SiteProgress | None = None,
) -> RunResult:
    """Compute signal rasters from a tower file and a DEM alone (``coverage-gaps signal``).

    The grid covers the towers plus ``max_radius_km``, within the DEM, in ``working_crs``
    (default: the UTM zone of the towers).
    """
    radio = radio or RadioParams()
    thresholds = thresholds or Thresholds()
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise OutputExistsError(
            f"output folder {out.resolve()} already exists; pass --overwrite to replace it"
        )
    towers = read_towers(towers_path)
    dem = read_dem(dem_path)
    crs = working_crs_for([towers], working_crs)
    transform, shape = analysis_grid([towers], dem, crs, radio)
    result, _ = compute_signal(
        towers,
        dem,
        crs=crs,
        transform=transform,
        shape=shape,
        radio=radio,
        thresholds=thresholds,
        diagnostics=diagnostics,
        site_progress=site_progress,
    )
    with atomic_output_dir(out, overwrite=overwrite, protect=[Path(towers_path), Path(dem_path)]) as tmp:
        files = write_signal(result, tmp, diagnostics=diagnostics)
    final = out.resolve()
    report = ValidationReport(Project(Path(towers_path), "signal", working_crs, {}), [], None)
    return RunResult(final, [final / Path(f).name for f in files], report)


def run(
    project_path: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    diagnostics: bool = False,
    progress: Callable[[str], None] | None = None,
    site_progress: SiteProgress | None = None,
) -> RunResult:
    """Validate a project and write its outputs to ``out_dir``.

    Writes ``inputs.gpkg`` (the validated layers in the working CRS, without any
    reporter detail), ``signal/`` (RSRP rasters per technology and operator) and
    ``summary.json`` / ``summary.md``.

    Raises
    ------
    InputError
        Listing every error found by :func:`validate_project`.
    OutputExistsError
        If ``out_dir`` exists and ``overwrite`` is false (checked before any work).
    """
    say = progress or log.info
    project = load_project(project_path)
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise OutputExistsError(
            f"output folder {out.resolve()} already exists; pass --overwrite to replace it"
        )
    say("validating inputs")
    report = validate_project(project)
    if not report.ok:
        raise InputError(report.problems, f"{project.path}: the inputs have problems")
    layers = report.layers
    assert layers is not None
    crs = layers.working_crs
    with atomic_output_dir(out, overwrite=overwrite, protect=_inputs_of(project)) as tmp:
        files: list[Path] = []
        gpkg = tmp / "inputs.gpkg"
        say(f"writing validated inputs in {crs.name}")
        for name, layer in (
            ("villages", layers.villages),
            ("communes", layers.communes),
            ("towers", layers.towers),
            ("outages", layers.outages),
        ):
            if layer is None:
                continue
            _shareable(layer.to_crs(crs)).to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
        files.append(gpkg)
        transform, shape = analysis_grid([layers.villages, layers.communes], layers.dem, crs, project.radio)
        say(f"computing signal on a {shape[1]} x {shape[0]} grid of {project.radio.resolution_m:g} m")
        signal, _grid_dem = compute_signal(
            layers.towers,
            layers.dem,
            crs=crs,
            transform=transform,
            shape=shape,
            radio=project.radio,
            thresholds=project.thresholds,
            diagnostics=diagnostics,
            site_progress=site_progress,
        )
        say("writing signal rasters")
        signal_dir = tmp / "signal"
        signal_dir.mkdir()
        files += [Path(f) for f in write_signal(signal, signal_dir, diagnostics=diagnostics)]
        files += _write_summary(tmp, report, layers, files)
    final = Path(out).resolve()
    return RunResult(final, [final / f.relative_to(tmp) for f in files], report)


def demo_project_path() -> Path:
    """Return the bundled demo project (``data/demo/project.toml``).

    Looks next to the package first (editable install / checkout), then inside the
    installed package (``coverage/_demo``).
    """
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "data" / "demo" / "project.toml", here / "_demo" / "project.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "the demo dataset is not installed; run from a checkout (`pip install -e .`) or reinstall the package"
    )
