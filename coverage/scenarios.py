"""What-if scenarios and the site optimiser with files: baseline, run, write (pipeline level).

Notebook use::

    from coverage import scenarios
    base = scenarios.load_baseline("data/demo/project.toml")
    result = scenarios.whatif(base, scenarios.read_scenario("data/demo/scenario_example.toml"))
    best = scenarios.optimise(base, max_sites=10)

CLI use: :func:`run_whatif` (``coverage-gaps whatif``) and :func:`run_optimize`
(``coverage-gaps optimize``) write their outputs atomically into a new folder, like
:func:`coverage.pipeline.run`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

import coverage
from coverage._errors import InputError
from coverage._whatif_toml import scenario_from_toml
from coverage.config import Project, load_project
from coverage.gaps import gaps_from_signal
from coverage.io.candidates import read_candidate_points
from coverage.io.csvfile import write_csv
from coverage.io.towers import read_towers
from coverage.io.webmap import write_map
from coverage.optimize import (
    ExactSolver,
    GreedySolver,
    Selection,
    SiteProblem,
    Solver,
    candidates_at_villages,
    candidates_from_dem,
    candidates_from_points,
    select_sites,
    site_problem,
    upgrade_candidates,
)
from coverage.outputs import write_priority_csv
from coverage.pipeline import (
    Analysis,
    InputLayers,
    RunResult,
    ValidationReport,
    analyse,
    atomic_output_dir,
    check_output,
    map_page,
    validate_project,
)
from coverage.whatif import (
    AddSite,
    Scenario,
    ScenarioError,
    ScenarioResult,
    UpgradeSite,
    apply_scenario,
    evaluate_scenario,
)

__all__ = [
    "Baseline",
    "Optimisation",
    "load_baseline",
    "optimise",
    "optimise_scenario",
    "read_candidates",
    "read_scenario",
    "run_optimize",
    "run_whatif",
    "scenario_maps",
    "whatif",
    "write_optimisation",
    "write_whatif",
]

log = logging.getLogger(__name__)


@dataclass
class Baseline:
    """A validated project and its baseline analysis, the reference of scenarios."""

    project: Project
    report: ValidationReport
    layers: InputLayers
    analysis: Analysis

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """Villages in the working CRS."""
        return self.layers.villages.to_crs(self.layers.working_crs)


def read_scenario(path: str | Path) -> Scenario:
    """Read a what-if scenario file (TOML; format in :mod:`coverage._whatif_toml`).

    Raises
    ------
    ScenarioError
        Naming the file, the change, its line and the closest valid key.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario file {p}: {exc.strerror}") from None
    return scenario_from_toml(text, source=str(p))


def load_baseline(
    project: Project | str | Path,
    *,
    resolution_m: float | None = None,
    max_radius_km: float | None = None,
    progress: Callable[[str], None] | None = None,
    runner_up: bool = True,
) -> Baseline:
    """Validate a project and compute its baseline analysis (no file written).

    ``resolution_m`` / ``max_radius_km`` override the project's radio parameters (a
    coarser grid for quick notebook runs). ``runner_up`` (default) keeps, per cell, the
    best other site, so that scenarios removing or changing a site recompute that site
    only (10 bytes per cell and layer; pass ``False`` when no what-if will follow).
    """
    if not isinstance(project, Project):
        project = load_project(project)
    radio = project.radio
    if resolution_m is not None:
        radio = dataclasses.replace(radio, resolution_m=float(resolution_m))
    if max_radius_km is not None:
        radio = dataclasses.replace(radio, max_radius_km=float(max_radius_km))
    project = dataclasses.replace(project, radio=radio)
    report = validate_project(project)
    if not report.ok:
        raise InputError(report.problems, f"{project.path}: the inputs have problems")
    assert report.layers is not None
    analysis = analyse(report.layers, project, progress=progress, runner_up=runner_up)
    return Baseline(project, report, report.layers, analysis)


def whatif(baseline: Baseline, scenario: Scenario) -> ScenarioResult:
    """Evaluate a scenario against the baseline (incremental signal, villages, priority)."""
    p, a = baseline.project, baseline.analysis
    crs = baseline.layers.working_crs
    return evaluate_scenario(
        scenario,
        signal=a.signal,
        dem=a.dem,
        towers=a.towers.to_crs(crs),
        villages=baseline.villages,
        baseline_priority=a.priority,
        radio=p.radio,
        thresholds=p.thresholds,
        tower_defaults=p.tower_defaults,
        itm_params=p.itm,
        population=a.population,
        evidence=a.evidence.villages,
        gap_params=p.gaps,
        evidence_params=p.evidence,
        weights=p.priority,
        costs=p.costs,
    )


def _after_analysis(baseline: Baseline, result: ScenarioResult) -> Analysis:
    a = baseline.analysis
    crs = baseline.layers.working_crs
    communes = baseline.layers.communes.to_crs(crs) if baseline.layers.communes is not None else None
    gaps = gaps_from_signal(
        result.signal, thresholds=baseline.project.thresholds, population=a.population, communes=communes
    )
    return Analysis(
        result.signal, result.villages, a.evidence, result.priority, gaps, a.population, a.dem, result.towers
    )


def scenario_maps(baseline: Baseline, result: ScenarioResult, *, lang: str = "vi") -> tuple[str, str]:
    """Return the before and after web maps (HTML pages) of a scenario."""
    before = map_page(baseline.analysis, baseline.layers, baseline.project, lang=lang)
    title = f"{baseline.project.name}: {result.scenario.name or 'scenario'}"
    after = map_page(
        _after_analysis(baseline, result),
        baseline.layers,
        dataclasses.replace(baseline.project, name=title),
        lang=lang,
    )
    return before, after


def _summary_json(folder: Path, payload: dict) -> Path:
    path = folder / "summary.json"
    payload = {
        "tool": "coverage-gaps",
        "version": coverage.__version__,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **payload,
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def write_whatif(folder: Path, baseline: Baseline, result: ScenarioResult, *, lang: str = "vi") -> list[Path]:
    """Write a scenario's outputs into ``folder`` (which must exist).

    ``villages_before_after.csv`` (per village: class before/after per technology,
    newly covered population), ``priority_after.csv``, ``scenario_towers.gpkg`` (the
    rows of the touched sites after the scenario), ``map_before.html``,
    ``map_after.html`` and ``summary.json``.
    """
    files = []
    cmp_path = folder / "villages_before_after.csv"
    write_csv(result.comparison, cmp_path)
    files.append(cmp_path)
    files.append(write_priority_csv(result.priority, folder / "priority_after.csv"))
    touched = result.towers[result.towers["site_id"].astype(str).isin(result.touched)]
    gpkg = folder / "scenario_towers.gpkg"
    keep = [c for c in touched.columns if not str(c).startswith("_")]
    touched[keep].to_crs(baseline.layers.working_crs).to_file(
        gpkg, layer="towers", driver="GPKG", engine="pyogrio"
    )
    files.append(gpkg)
    before, after = scenario_maps(baseline, result, lang=lang)
    files.append(write_map(before, folder / "map_before.html"))
    files.append(write_map(after, folder / "map_after.html"))
    c = result.comparison
    files.append(
        _summary_json(
            folder,
            {
                "project": baseline.project.name,
                "scenario": result.scenario.name,
                "scenario_file": result.scenario.source,
                "changes": [dataclasses.asdict(ch) | {"action": ch.action} for ch in result.scenario.changes],
                "sites_touched": sorted(result.touched),
                "sectors_computed": result.sectors_computed,
                "windows": [list(w) for w in result.windows],
                "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
                "villages_newly_covered_4g": int(c.get("newly_covered_4g", pd.Series(dtype=bool)).sum()),
                "villages_losing_4g": int(c.get("lost_4g", pd.Series(dtype=bool)).sum()),
                "newly_covered_population_4g": result.newly_covered_population,
                "villages_changed_5g": int((c.get("change_5g", pd.Series(dtype=str)) != "").sum()),
            },
        )
    )
    return files


def _inputs(project: Project, *extra: Path) -> list[Path]:
    return [project.path, *(s.path for s in project.inputs.values()), *extra]


def run_whatif(
    project_path: str | Path,
    scenario_path: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    lang: str = "vi",
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """``coverage-gaps whatif``: baseline, scenario, and the outputs of :func:`write_whatif`.

    The scenario is read (and checked against the tower layer) before the baseline is computed.
    """
    say = progress or log.info
    out = Path(out_dir)
    scenario = read_scenario(scenario_path)
    project = load_project(project_path)
    check_output(out, overwrite=overwrite, protect=_inputs(project, Path(scenario_path)))
    # Check the scenario against the tower layer now, not after the province baseline.
    src = project.inputs["towers"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tower layer's own problems come with validation below
            towers = read_towers(
                src.path, layer=src.layer, crs=src.crs, x_column=src.x_column, y_column=src.y_column,
                columns=src.columns, fmt=src.format, defaults=project.tower_defaults,
                mnc_operators=src.mnc_operators,
            )  # fmt: skip
    except InputError:
        towers = None  # validation (next) lists every problem of every layer
    if towers is not None:
        apply_scenario(towers, scenario, defaults=project.tower_defaults)
    say("validating inputs and computing the baseline")
    # the runner-up state only pays off when a site loses or changes sectors
    removes = any(c.action in ("remove", "modify") for c in scenario.changes)
    base = load_baseline(project, progress=say, runner_up=removes)
    say(f"evaluating scenario {scenario.name or Path(scenario_path).name} ({len(scenario)} change(s))")
    result = whatif(base, scenario)
    say(
        f"recomputed {result.sectors_computed} sector(s) in {result.seconds['signal']:.2f} s; "
        f"{result.newly_covered_population:,} people newly covered (4G)"
    )
    with atomic_output_dir(out, overwrite=overwrite, protect=_inputs(project, Path(scenario_path))) as tmp:
        files = write_whatif(tmp, base, result, lang=lang)
    final = out.resolve()
    return RunResult(final, [final / f.name for f in files], base.report, result.priority, result.signal)


# --------------------------------------------------------------------------- optimiser


@dataclass
class Optimisation:
    """A site selection and what it covers."""

    problem: SiteProblem
    selection: Selection
    chosen: gpd.GeoDataFrame
    covered: pd.DataFrame
    max_sites: int | None
    budget_vnd: float | None


def read_candidates(path: str | Path, *, crs: str | None = None, **kwargs: object) -> gpd.GeoDataFrame:
    """Read candidate sites from a file with coordinates (CSV/Excel with lon/lat, GeoPackage, GeoJSON).

    Validated like every input (:func:`coverage.io.candidates.read_candidate_points`);
    other keywords go to :func:`coverage.optimize.candidates_from_points`.
    """
    points = read_candidate_points(path, crs=crs)
    return candidates_from_points(points, **kwargs)  # type: ignore[arg-type]


def _generated(
    base: Baseline, technology: str, min_class: str, within_km: float, max_dem: int
) -> gpd.GeoDataFrame:
    pr = base.analysis.priority
    crs = base.layers.working_crs
    if technology != "4G":
        return upgrade_candidates(
            base.analysis.towers.to_crs(crs), technology=technology, defaults=base.project.tower_defaults
        )
    gap_classes = ["none"] if min_class == "weak" else ["none", "weak"]
    ids = set(pr.loc[pr["class_4g_any"].isin(gap_classes), "village_id"].astype(str))
    vill = base.villages
    gap = vill[vill["village_id"].astype(str).isin(ids)]
    hills = candidates_from_dem(
        base.analysis.dem,
        gap,
        within_km=within_km,
        max_candidates=max_dem,
        defaults=base.project.tower_defaults,
    )
    centres = candidates_at_villages(gap, defaults=base.project.tower_defaults)
    return pd.concat([hills, centres.to_crs(hills.crs)], ignore_index=True)


def optimise(
    baseline: Baseline,
    *,
    max_sites: int | None = None,
    budget_vnd: float | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    generate: bool = True,
    technology: str = "4G",
    min_class: Literal["weak", "good"] = "weak",
    weight: Literal["population", "priority"] = "population",
    solver: Solver | Literal["auto", "exact", "greedy"] = "auto",
    within_km: float = 3.0,
    max_dem_candidates: int = 150,
    problem: SiteProblem | None = None,
) -> Optimisation:
    """Choose new sites (4G) or 5G upgrades for the baseline.

    Candidates: ``candidates`` (e.g. :func:`read_candidates`) and, with ``generate``,
    DEM high points within ``within_km`` of villages in a gap plus those villages'
    centres (4G), or every on-air 4G site without 5G (``technology="5G"``). Pass a
    ``problem`` from an earlier call to re-solve without recomputing the matrix.
    """
    if problem is None:
        parts = []
        crs = baseline.layers.working_crs
        if candidates is not None:
            parts.append(candidates.to_crs(crs))
        if generate:
            parts.append(
                _generated(baseline, technology, min_class, within_km, max_dem_candidates).to_crs(crs)
            )
        if not parts:
            raise ValueError("no candidates: pass candidates=... or generate=True")
        cands = pd.concat(parts, ignore_index=True)
        cands = gpd.GeoDataFrame(cands, geometry=cands.geometry.name, crs=crs)
        dup = cands["candidate_id"].duplicated()
        if dup.any():
            cands.loc[dup, "candidate_id"] = [
                f"{c}-{i}" for i, c in enumerate(cands.loc[dup, "candidate_id"])
            ]
        p = baseline.project
        problem = site_problem(
            cands,
            baseline.villages,
            signal=baseline.analysis.signal,
            dem=baseline.analysis.dem,
            radio=p.radio,
            thresholds=p.thresholds,
            costs=p.costs,
            technology=technology,
            min_class=min_class,
            weight=weight,
            priority=baseline.analysis.priority,
            itm_params=p.itm,
        )
    if isinstance(solver, str):
        if solver not in ("auto", "exact", "greedy"):
            raise ValueError(
                f"`solver` was {solver!r} but is expected to be one of ['auto', 'exact', 'greedy']"
            )
        solver_obj: Solver | None = {"auto": None, "exact": ExactSolver(), "greedy": GreedySolver()}[solver]
    else:
        solver_obj = solver
    sel = select_sites(problem.problem, max_sites=max_sites, budget_vnd=budget_vnd, solver=solver_obj)
    return Optimisation(
        problem, sel, problem.chosen_sites(sel), problem.covered_villages(sel), max_sites, budget_vnd
    )


def optimise_scenario(result: Optimisation, *, operator: str = "VNPT") -> Scenario:
    """Turn chosen sites into a what-if scenario (new masts join ``operator``'s layer).

    Useful for the after map and the full village statistics of a selection.
    """
    changes: list[AddSite | UpgradeSite] = []
    for _, c in result.chosen.to_crs("EPSG:4326").iterrows():
        if str(c["kind"]).startswith("upgrade"):
            changes.append(UpgradeSite(str(c["site_id"]), technology=str(c["technology"])))
            continue
        n = int(c["sectors"])
        az = () if n <= 1 else tuple(360.0 * k / n for k in range(n))
        changes.append(
            AddSite(
                f"NEW-{c['candidate_id']}",
                operator,
                float(c.geometry.x),
                float(c.geometry.y),
                technology=str(c["technology"]),
                antenna_height_m=float(c["antenna_height_m"]),
                band_mhz=float(c["band_mhz"]),
                eirp_dbm=float(c["eirp_dbm"]),
                azimuth_deg=az,
            )
        )
    return Scenario(tuple(changes), name=f"{len(changes)} optimised site(s)", source="optimiser")


def write_optimisation(
    folder: Path, baseline: Baseline, result: Optimisation, *, operator: str = "VNPT", lang: str = "vi"
) -> list[Path]:
    """Write the outputs of a site selection into ``folder`` (which must exist).

    ``chosen_sites.gpkg`` / ``chosen_sites.csv`` (selection order, marginal gains, cost),
    ``covered_villages.csv``, ``candidates.gpkg`` (all candidates with their coverable
    population), ``map.html`` (the baseline with the chosen sites added) and ``summary.json``.
    """
    files = []
    chosen = result.chosen
    gpkg = folder / "chosen_sites.gpkg"
    chosen.to_file(gpkg, layer="chosen_sites", driver="GPKG", engine="pyogrio")
    files.append(gpkg)
    csv = folder / "chosen_sites.csv"
    ll = chosen.to_crs("EPSG:4326")
    table = pd.DataFrame(chosen.drop(columns=chosen.geometry.name)).assign(
        lon=ll.geometry.x.round(6), lat=ll.geometry.y.round(6)
    )
    write_csv(table, csv)
    files.append(csv)
    cov = folder / "covered_villages.csv"
    write_csv(result.covered, cov)
    files.append(cov)
    cands = folder / "candidates.gpkg"
    result.problem.candidates.to_file(cands, layer="candidates", driver="GPKG", engine="pyogrio")
    files.append(cands)
    scen = optimise_scenario(result, operator=operator)
    after = whatif(baseline, scen)
    _, page = scenario_maps(baseline, after, lang=lang)
    files.append(write_map(page, folder / "map.html"))
    sel = result.selection
    files.append(
        _summary_json(
            folder,
            {
                "project": baseline.project.name,
                "max_sites": result.max_sites,
                "budget_vnd": result.budget_vnd,
                "candidates": result.problem.problem.n_candidates,
                "villages_coverable": int(np.unique(result.problem.problem.indices).size),
                "threshold_dbm": result.problem.threshold_dbm,
                "solver": sel.solver,
                "optimal": sel.optimal,
                "bound": sel.bound,
                "solve_seconds": round(sel.seconds, 3),
                "sites_chosen": len(sel.chosen),
                "objective": sel.objective,
                "newly_covered_population": int(chosen["marginal_population"].sum()) if len(chosen) else 0,
                "cost_vnd": sel.cost_vnd,
                "newly_covered_population_after_map": after.newly_covered_population,
            },
        )
    )
    return files


def run_optimize(
    project_path: str | Path,
    out_dir: str | Path,
    *,
    sites: int | None = None,
    budget_vnd: float | None = None,
    candidates_path: str | Path | None = None,
    generate: bool = True,
    technology: str = "4G",
    min_class: Literal["weak", "good"] = "weak",
    weight: Literal["population", "priority"] = "population",
    solver: Literal["auto", "exact", "greedy"] = "auto",
    operator: str = "VNPT",
    overwrite: bool = False,
    lang: str = "vi",
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """``coverage-gaps optimize``: baseline, candidates, selection and :func:`write_optimisation`."""
    say = progress or log.info
    if sites is None and budget_vnd is None:
        raise ValueError("give --sites K or --budget-vnd B (or both)")
    out = Path(out_dir)
    project = load_project(project_path)
    check_output(
        out,
        overwrite=overwrite,
        protect=_inputs(project, *([Path(candidates_path)] if candidates_path else [])),
    )
    cands = read_candidates(candidates_path, technology=technology) if candidates_path is not None else None
    say("validating inputs and computing the baseline")
    base = load_baseline(project, progress=say, runner_up=False)
    say("computing the candidate x village coverage matrix with the radio engine")
    result = optimise(
        base,
        max_sites=sites,
        budget_vnd=budget_vnd,
        candidates=cands,
        generate=generate,
        technology=technology,
        min_class=min_class,
        weight=weight,
        solver=solver,
    )
    sel = result.selection
    say(
        f"{sel.solver}: {len(sel.chosen)} site(s), {sel.objective:,.0f} covered weight, "
        f"cost {sel.cost_vnd:,.0f} VND ({sel.seconds:.2f} s)"
    )
    extra = [Path(candidates_path)] if candidates_path is not None else []
    with atomic_output_dir(out, overwrite=overwrite, protect=_inputs(project, *extra)) as tmp:
        files = write_optimisation(tmp, base, result, operator=operator, lang=lang)
    final = out.resolve()
    return RunResult(final, [final / f.name for f in files], base.report, base.analysis.priority)
