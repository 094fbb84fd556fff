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
from collections.abc import Callable, Iterable, Iterator
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
from coverage.evidence import OutageEvidence, outage_evidence
from coverage.gaps import VillageSignal, gaps_from_signal, village_signal
from coverage.history import default_store_path, input_checksums, record_run
from coverage.io.layers import load_communes, load_outages, load_villages
from coverage.io.raster import fill_voids, grid_for_bounds, load_dem, read_dem, warp_population, warp_to_grid
from coverage.io.signal import write_signal
from coverage.io.towers import load_towers, read_towers
from coverage.io.webmap import write_map
from coverage.maps import gap_map, map_html
from coverage.outputs import (
    write_gaps_gpkg,
    write_priority_csv,
    write_priority_xlsx,
    write_unmatched_outages_csv,
    write_villages_gpkg,
)
from coverage.params import RadioParams, Thresholds
from coverage.priority import operator_requests, priority_summary, priority_table
from coverage.propagation import SignalResult, signal_from_towers
from coverage.propagation.itm import ItmParams

__all__ = [
    "InputLayers",
    "RunResult",
    "ValidationReport",
    "analysis_grid",
    "atomic_output_dir",
    "check_output",
    "compute_signal",
    "demo_project_path",
    "run",
    "run_map",
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
    """Where a run wrote its outputs, and the main tables for notebooks."""

    out_dir: Path
    files: list[Path]
    report: ValidationReport
    priority: pd.DataFrame | None = None
    signal: SignalResult | None = None
    run_id: int | None = None

    def file(self, name: str) -> Path | None:
        """Return the output file called ``name`` (e.g. ``"priority.xlsx"``), if written."""
        return next((f for f in self.files if f.name == name), None)


@dataclass
class Analysis:
    """Everything computed from the inputs of one run (no files)."""

    signal: SignalResult
    villages: VillageSignal
    evidence: OutageEvidence
    priority: pd.DataFrame
    gaps: gpd.GeoDataFrame
    population: Raster | None
    dem: Raster
    towers: gpd.GeoDataFrame


def map_page(analysis: Analysis, layers: InputLayers, project: Project, *, lang: str = "vi") -> str:
    """Build the self-contained, offline web map of an analysis (HTML text)."""
    crs = layers.working_crs
    m = gap_map(
        analysis.priority,
        communes=layers.communes.to_crs(crs) if layers.communes is not None else None,
        towers=analysis.towers.to_crs(crs),
        outages=layers.outages.to_crs(crs) if layers.outages is not None else None,
        gaps=analysis.gaps,
        signal=analysis.signal,
        dem=analysis.dem,
        lang=lang,
        title=project.name,
        thresholds=project.thresholds,
    )
    return map_html(m)


def analyse(
    layers: InputLayers,
    project: Project,
    *,
    towers: gpd.GeoDataFrame | None = None,
    as_of: dt.datetime | None = None,
    diagnostics: bool = False,
    progress: Callable[[str], None] | None = None,
    site_progress: SiteProgress | None = None,
    runner_up: bool = False,
) -> Analysis:
    """Run signal -> village statistics -> evidence -> priority -> gap polygons.

    ``towers`` replaces ``layers.towers`` (what-if scenarios); ``as_of`` is the date
    the outage evidence window ends (default: now); ``runner_up`` keeps the state that
    lets a what-if remove sites cheaply (see :func:`~coverage.propagation.signal_from_towers`).
    """
    say = progress or log.info
    crs = layers.working_crs
    towers = layers.towers if towers is None else towers
    transform, shape = analysis_grid([layers.villages, layers.communes], layers.dem, crs, project.radio)
    say(f"computing signal on a {shape[1]} x {shape[0]} grid of {project.radio.resolution_m:g} m")
    signal, _grid_dem = compute_signal(
        towers,
        layers.dem,
        crs=crs,
        transform=transform,
        shape=shape,
        radio=project.radio,
        thresholds=project.thresholds,
        diagnostics=diagnostics,
        site_progress=site_progress,
        itm=project.itm,
        runner_up=runner_up,
    )
    population = None
    if layers.population is not None:
        population = warp_population(layers.population, crs=crs, transform=transform, shape=shape)
    say("village statistics, outage evidence and priority")
    villages = layers.villages.to_crs(crs)
    towers_m = towers.to_crs(crs)
    stats = village_signal(
        villages,
        signal,
        thresholds=project.thresholds,
        towers=towers_m,
        population=population,
        params=project.gaps,
    )
    outages = layers.outages.to_crs(crs) if layers.outages is not None else None
    evidence = outage_evidence(
        outages, villages, params=project.evidence, gap_params=project.gaps, as_of=as_of
    )
    priority = priority_table(
        stats.wide,
        evidence.villages,
        weights=project.priority,
        thresholds=project.thresholds,
        gap_params=project.gaps,
        evidence_params=project.evidence,
        costs=project.costs,
    )
    communes = layers.communes.to_crs(crs) if layers.communes is not None else None
    gaps = gaps_from_signal(signal, thresholds=project.thresholds, population=population, communes=communes)
    return Analysis(signal, stats, evidence, priority, gaps, population, _grid_dem, towers)


def write_analysis(
    folder: Path,
    analysis: Analysis,
    layers: InputLayers,
    project: Project,
    *,
    diagnostics: bool = False,
    lang: str = "vi",
) -> list[Path]:
    """Write the signal rasters, the priority list (CSV, Excel), the map and the village and gap layers."""
    files: list[Path] = []
    signal_dir = folder / "signal"
    signal_dir.mkdir()
    files += [Path(f) for f in write_signal(analysis.signal, signal_dir, diagnostics=diagnostics)]
    files.append(write_map(map_page(analysis, layers, project, lang=lang), folder / "map.html"))
    pr = analysis.priority
    files.append(write_priority_csv(pr, folder / "priority.csv"))
    sources = {
        name: f"{src.path.name} ({src.crs or 'CRS from file'})" for name, src in project.inputs.items()
    }
    files.append(
        write_priority_xlsx(
            pr,
            folder / "priority.xlsx",
            operator_lists=operator_requests(pr),
            commune_summary=priority_summary(pr, communes=layers.communes),
            province_summary=priority_summary(pr, by="province"),
            thresholds=project.thresholds,
            weights=project.priority,
            evidence_params=project.evidence,
            gap_params=project.gaps,
            costs=project.costs,
            data_sources=sources,
            run_date=dt.datetime.now(dt.UTC),
            tool_version=coverage.__version__,
            as_of=analysis.evidence.as_of,
        )
    )
    files.append(write_villages_gpkg(pr, folder / "villages.gpkg", long=analysis.villages.long))
    files.append(write_gaps_gpkg(analysis.gaps, folder / "gaps.gpkg"))
    files.append(write_unmatched_outages_csv(analysis.evidence.unmatched, folder / "unmatched_outages.csv"))
    return files


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


def check_output(out: str | Path, *, overwrite: bool, protect: Iterable[str | Path] = ()) -> None:
    """Refuse an output that is or holds an input, or that exists without ``overwrite``.

    Commands call this before any computation, and :func:`atomic_output_dir` again before
    it replaces anything.

    Raises
    ------
    ValueError
        If ``out`` is one of ``protect`` or contains one (replacing it would delete it).
    OutputExistsError
        If ``out`` exists and ``overwrite`` is false.
    """
    target = Path(out).resolve()
    for path in protect:
        path = Path(path).resolve()
        if path == target or target in path.parents:
            raise ValueError(f"output {target} is or contains the input {path}; choose another --out")
    if target.exists() and not overwrite:
        raise OutputExistsError(f"output {target} already exists; pass --overwrite to replace it")


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
    check_output(out, overwrite=overwrite, protect=protect)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a shared output folder must be readable
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
    folder: Path,
    report: ValidationReport,
    layers: InputLayers,
    files: list[Path],
    analysis: Analysis | None = None,
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
        **(_analysis_summary(analysis) if analysis is not None else {}),
        "files": sorted(str(f.relative_to(folder)) for f in files),
    }
    json_path = folder / "summary.json"
    json_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        f"# {project.name}",
        "",
        *(_analysis_lines(summary) if analysis is not None else []),
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
    itm: ItmParams | None = None,
    runner_up: bool = False,
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
        metric,
        grid_dem,
        params=radio,
        thresholds=thresholds,
        diagnostics=diagnostics,
        progress=callback,
        itm_params=itm,
        runner_up=runner_up,
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
    check_output(out, overwrite=overwrite, protect=[Path(towers_path), Path(dem_path)])
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


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts().sort_index().items()}


def _analysis_summary(analysis: Analysis) -> dict:
    pr = analysis.priority
    out: dict = {
        "village_status": _counts(pr["status"]),
        "recommended_action": _counts(pr["recommended_action"]),
        "unmatched_outage_reports": len(analysis.evidence.unmatched),
        "skipped_sectors": len(analysis.signal.skipped),
    }
    for tech in ("4g", "5g"):
        col = f"class_{tech}_any"
        if col in pr:
            out[f"villages_by_class_{tech}"] = _counts(pr[col])
    top = pr.sort_values("rank").head(10)
    out["top10"] = [
        {
            "rank": int(r["rank"]),
            "village_id": str(r["village_id"]),
            "name": str(r["name"]),
            "action": str(r["recommended_action"]),
        }
        for _, r in top.iterrows()
    ]
    return out


def _analysis_lines(summary: dict) -> list[str]:
    def join(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items())

    lines = ["## Villages"]
    for tech in ("4g", "5g"):
        counts = summary.get(f"villages_by_class_{tech}", {})
        lines.append(f"- {tech.upper()} at the village centre (any operator): {join(counts)}")
    lines.append(f"- Status: {join(summary['village_status'])}")
    lines.append(f"- Recommended action: {join(summary['recommended_action'])}")
    lines.append(f"- Outage reports matching no village: {summary['unmatched_outage_reports']}")
    lines.append(f"- Sectors not computed (see signal/skipped_sites.csv): {summary['skipped_sectors']}")
    lines += ["", "## Top 10"]
    lines += [f"{t['rank']}. {t['name']} ({t['village_id']}): {t['action']}" for t in summary["top10"]]
    return [*lines, ""]


def run(
    project_path: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    diagnostics: bool = False,
    lang: str = "vi",
    history_store: str | Path | None = None,
    record_history: bool = True,
    progress: Callable[[str], None] | None = None,
    site_progress: SiteProgress | None = None,
) -> RunResult:
    """Validate a project and write its outputs to ``out_dir``.

    Writes ``inputs.gpkg`` (the validated layers in the working CRS, without any
    reporter detail), ``signal/`` (RSRP rasters per technology and operator) and
    ``summary.json`` / ``summary.md``, and records the run (per-village classes, score,
    rank, action) in the project's history store (``<project>.history.sqlite`` beside
    the project file unless ``history_store`` is given; ``record_history=False`` skips it).
    The record is the last step inside the atomic output block, so a run that fails
    leaves neither outputs nor a record.

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
    store = Path(history_store) if history_store is not None else default_store_path(project.path)
    protect = [*_inputs_of(project), store] if record_history else _inputs_of(project)
    check_output(out, overwrite=overwrite, protect=protect)
    say("validating inputs")
    report = validate_project(project)
    if not report.ok:
        raise InputError(report.problems, f"{project.path}: the inputs have problems")
    layers = report.layers
    assert layers is not None
    crs = layers.working_crs
    with atomic_output_dir(out, overwrite=overwrite, protect=protect) as tmp:
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
        analysis = analyse(
            layers, project, diagnostics=diagnostics, progress=say, site_progress=site_progress
        )
        say("writing the priority list, the map, village and gap layers and signal rasters")
        files += write_analysis(tmp, analysis, layers, project, diagnostics=diagnostics, lang=lang)
        files += _write_summary(tmp, report, layers, files, analysis)
        run_id = None
        if record_history:
            say(f"recording the run in the history store {store}")
            run_id = record_run(
                store,
                project=project,
                villages_table=analysis.priority,
                inputs_checksums=input_checksums(project),
                version=coverage.__version__,
                run_at=dt.datetime.now(dt.UTC),
            )
    final = Path(out).resolve()
    return RunResult(
        final, [final / f.relative_to(tmp) for f in files], report, analysis.priority, analysis.signal, run_id
    )


def run_map(
    project_path: str | Path,
    out_file: str | Path,
    *,
    lang: str = "vi",
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    site_progress: SiteProgress | None = None,
) -> Path:
    """Validate a project, analyse it in memory and write only the web map (``coverage-gaps map``)."""
    say = progress or log.info
    project = load_project(project_path)
    out = Path(out_file)
    check_output(out, overwrite=overwrite, protect=_inputs_of(project))
    say("validating inputs")
    report = validate_project(project)
    if not report.ok:
        raise InputError(report.problems, f"{project.path}: the inputs have problems")
    assert report.layers is not None
    analysis = analyse(report.layers, project, progress=say, site_progress=site_progress)
    say("building the map")
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_map(map_page(analysis, report.layers, project, lang=lang), out, overwrite=overwrite)


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
