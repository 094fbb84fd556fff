"""The ``coverage-gaps`` command: a click group with one level of verbs.

Each command parses options, calls one function of :mod:`coverage.pipeline`, reports
where the outputs are, and exits non-zero on error. Errors are printed as messages
(what is wrong, where, how to fix it), never as tracebacks, unless ``-v -v``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import coverage
from coverage._errors import ConfigError, CoverageError
from coverage.config import load_project
from coverage.history import default_store_path, import_outages, list_runs
from coverage.params import RadioParams
from coverage.pipeline import demo_project_path, run, run_map, run_signal, validate_project
from coverage.report import parse_period, write_report
from coverage.scenarios import run_optimize, run_whatif

__all__ = ["main"]

log = logging.getLogger("coverage")


def _setup_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING + 10 * (quiet - verbose)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("coverage")
    root.handlers[:] = [handler]
    root.setLevel(max(logging.DEBUG, min(level, logging.CRITICAL)))
    logging.captureWarnings(True)


def _fail(exc: Exception) -> None:
    click.echo(f"Error: {exc}", err=True)
    raise SystemExit(2 if isinstance(exc, ConfigError | click.UsageError) else 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(coverage.__version__, "--version", prog_name="coverage-gaps")
@click.option("-v", "--verbose", count=True, help="More messages (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Fewer messages.")
def main(verbose: int, quiet: int) -> None:
    """Find mobile-signal dead zones (lõm sóng, trắng sóng) village by village.

    Start with `coverage-gaps demo --out demo-output`, then write a project file for your
    province and run `coverage-gaps validate PROJECT.toml` and `coverage-gaps run`.
    """
    _setup_logging(verbose, quiet)


project_argument = click.argument(
    "project", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PROJECT.toml"
)
out_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (created; refused if it exists unless --overwrite).",
)
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace the output folder if it exists.")


@main.command()
@project_argument
def validate(project: Path) -> None:
    """Check every input layer of PROJECT.toml and list all problems at once.

    Exit status: 0 when there is no error (warnings allowed), 1 when there are errors,
    2 when the project file itself is invalid.
    """
    try:
        report = validate_project(project)
    except (CoverageError, ValueError, OSError) as exc:
        _fail(exc)
        return
    for problem in report.errors + report.warnings:
        click.echo(f"- {problem}")
    n_err, n_warn = len(report.errors), len(report.warnings)
    if n_err:
        click.echo(f"{project}: {n_err} error(s), {n_warn} warning(s). Fix the errors, then run again.")
        raise SystemExit(1)
    layers = report.layers
    assert layers is not None
    click.echo(
        f"{project}: OK, {n_warn} warning(s). {len(layers.villages)} villages, "
        f"{layers.towers['site_id'].nunique()} sites, working CRS {layers.working_crs.name}."
    )


@contextlib.contextmanager
def _site_bar() -> Iterator:
    """Show a progress bar over sectors on stderr (hidden when stderr is not a terminal)."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("computing signal"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sectors"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("signal", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _report(result) -> None:
    click.echo(f"Outputs written to {result.out_dir}:")
    for f in result.files:
        click.echo(f"  {f}")
    pointers = (
        ("priority.xlsx", "Priority list"),
        ("priority.csv", "Priority list (CSV)"),
        ("map.html", "Map (open in a browser; works offline)"),
    )
    for name, label in pointers:
        found = result.file(name)
        if found is not None:
            click.echo(f"{label}: {found}")


def _run(
    project: Path,
    out_dir: Path,
    overwrite: bool,
    diagnostics: bool = False,
    lang: str = "vi",
    store: Path | None = None,
    record_history: bool = True,
) -> None:
    try:
        with _site_bar() as bar:
            result = run(
                project,
                out_dir,
                overwrite=overwrite,
                diagnostics=diagnostics,
                lang=lang,
                history_store=store,
                record_history=record_history,
                progress=lambda m: click.echo(f"… {m}", err=True),
                site_progress=bar,
            )
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    _report(result)


diagnostics_option = click.option(
    "--diagnostics", is_flag=True, help="Also write path loss, terrain loss and line of sight bands."
)
store_option = click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="History store (default: <project>.history.sqlite beside the project file).",
)
lang_option = click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Language of the web map.",
)


@main.command("run")
@project_argument
@out_option
@overwrite_option
@diagnostics_option
@lang_option
@store_option
@click.option("--no-history", is_flag=True, help="Do not record this run in the history store.")
def run_command(
    project: Path,
    out_dir: Path,
    overwrite: bool,
    diagnostics: bool,
    lang: str,
    store: Path | None,
    no_history: bool,
) -> None:
    """Validate PROJECT.toml and write every output into --out.

    Outputs: priority.csv / priority.xlsx (the ranked village list), map.html (offline web
    map), villages.gpkg, gaps.gpkg, unmatched_outages.csv, signal/ (RSRP rasters),
    inputs.gpkg, summary.md / summary.json. The run is also recorded in the project's
    history store, for `coverage-gaps history` and `coverage-gaps report`.
    """
    _run(project, out_dir, overwrite, diagnostics, lang, store, not no_history)


def _technologies(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    techs = tuple(t.strip().upper() for t in value.split(",") if t.strip())
    bad = [t for t in techs if t not in ("4G", "5G")]
    if bad or not techs:
        raise click.BadParameter(f"{value!r}: expected 4G, 5G or 4G,5G", ctx=ctx, param=param)
    return techs


@main.command()
@click.option(
    "--towers",
    "towers",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Tower table or OpenCelliD export (lon/lat, WGS 84).",
)
@click.option(
    "--dem",
    "dem",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="DEM: GeoTIFF, SRTM .hgt tile or folder of tiles.",
)
@out_option
@click.option(
    "--resolution-m",
    type=click.FloatRange(1, 1000),
    default=30.0,
    show_default=True,
    help="Analysis grid cell size, metres.",
)
@click.option(
    "--tech",
    "tech",
    default="4G,5G",
    show_default=True,
    callback=_technologies,
    help="Technologies to compute.",
)
@click.option(
    "--max-radius-km",
    type=click.FloatRange(0.1, 200),
    default=20.0,
    show_default=True,
    help="Cap on the distance computed around any site.",
)
@click.option(
    "--crs", "working_crs", default=None, help="Metric working CRS (default: UTM zone of the towers)."
)
@diagnostics_option
@overwrite_option
def signal(
    towers: Path,
    dem: Path,
    out_dir: Path,
    resolution_m: float,
    tech: tuple[str, ...],
    max_radius_km: float,
    working_crs: str | None,
    diagnostics: bool,
    overwrite: bool,
) -> None:
    """Predict terrain-aware RSRP rasters (4G/5G, per operator and 'any') from towers and a DEM."""
    try:
        radio = RadioParams(resolution_m=resolution_m, technologies=tech, max_radius_km=max_radius_km)
        with _site_bar() as bar:
            result = run_signal(
                towers,
                dem,
                out_dir,
                radio=radio,
                working_crs=working_crs,
                diagnostics=diagnostics,
                overwrite=overwrite,
                site_progress=bar,
            )
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    _report(result)


@main.command()
@out_option
@overwrite_option
@lang_option
def demo(out_dir: Path, overwrite: bool, lang: str) -> None:
    """Run the bundled demo (real communes and SRTM of Thái Nguyên / Tuyên Quang)."""
    try:
        project = demo_project_path()
    except FileNotFoundError as exc:
        _fail(exc)
        return
    click.echo(f"Demo project: {project}")
    _run(project, out_dir, overwrite, lang=lang, record_history=False)


@main.command("map")
@project_argument
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write.",
)
@lang_option
@overwrite_option
def map_command(project: Path, out_file: Path, lang: str, overwrite: bool) -> None:
    """Write only the offline web map of PROJECT.toml (e.g. again in another language)."""
    try:
        with _site_bar() as bar:
            path = run_map(
                project, out_file, lang=lang, overwrite=overwrite,
                progress=lambda m: click.echo(f"… {m}", err=True), site_progress=bar,
            )  # fmt: skip
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    click.echo(f"Map (open in a browser; works offline): {path}")


@main.command("import-outages")
@project_argument
@click.argument("outages_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE")
@store_option
def import_outages_command(project: Path, outages_file: Path, store: Path | None) -> None:
    """Add the outage reports of FILE to the project's history (new, corrected, or already known).

    FILE uses the outage schema (and the column mapping of the project's outages layer).
    Reporter names and phones are kept apart from every shareable table and never exported.
    """
    try:
        src = load_project(project).inputs.get("outages")
        kw = {k: getattr(src, k) for k in ("crs", "x_column", "y_column", "columns")} if src else {}
        result = import_outages(store or default_store_path(project), outages_file, **kw)
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    click.echo(
        f"{outages_file}: {result.rows_read} reports: {result.added} new, {result.corrected} corrected, "
        f"{result.unchanged} already in the history"
    )


def _period(ctx: click.Context, param: click.Parameter, value: str) -> object:
    try:
        return parse_period(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@main.command("report")
@project_argument
@click.option(
    "--period", required=True, callback=_period, help="Quarter (2026-Q3) or month (2026-09), Viet Nam time."
)
@out_option
@overwrite_option
@store_option
def report_command(project: Path, period: object, out_dir: Path, overwrite: bool, store: Path | None) -> None:
    """Write the monthly/quarterly progress report (Excel, HTML, charts) from the history."""
    try:
        files = write_report(store or default_store_path(project), period, out_dir, overwrite=overwrite)
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    click.echo("Report written:")
    for f in files:
        click.echo(f"  {f}")


@main.command("history")
@project_argument
@store_option
def history_command(project: Path, store: Path | None) -> None:
    """List the runs recorded in the project's history."""
    try:
        runs = list_runs(store or default_store_path(project))
    except (CoverageError, FileNotFoundError) as exc:
        _fail(exc)
        return
    if not len(runs):
        click.echo("no run recorded yet")
        return
    runs["run_at"] = runs["run_at"].dt.tz_convert("Asia/Ho_Chi_Minh").dt.strftime("%Y-%m-%d %H:%M")
    click.echo(runs.to_string(index=False))


@main.command("whatif")
@project_argument
@click.option(
    "--scenario", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario TOML (see data/demo/scenario_example.toml).",
)  # fmt: skip
@out_option
@overwrite_option
@lang_option
def whatif_command(project: Path, scenario: Path, out_dir: Path, overwrite: bool, lang: str) -> None:
    """Apply a what-if scenario (add / remove / modify / upgrade sites) to PROJECT.toml.

    Writes villages before and after (class changes, newly covered population), the updated
    priority list and maps before and after. Only the cells the changed sites reach are
    recomputed.
    """
    try:
        result = run_whatif(
            project, scenario, out_dir, overwrite=overwrite, lang=lang,
            progress=lambda m: click.echo(f"… {m}", err=True),
        )  # fmt: skip
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    _report(result)


@main.command("optimize")
@project_argument
@out_option
@overwrite_option
@lang_option
@click.option("--sites", type=click.IntRange(min=1), default=None, help="Choose up to K new sites.")
@click.option(
    "--budget-vnd", type=click.FloatRange(min=0), default=None, help="Or as many as this budget allows."
)
@click.option(
    "--candidates", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="Candidate sites (CSV with lon/lat, GeoPackage or GeoJSON); added to the generated ones.",
)  # fmt: skip
@click.option(
    "--no-generate", is_flag=True, help="Use only --candidates (no DEM high points / village centres)."
)
@click.option("--technology", type=click.Choice(["4G", "5G"]), default="4G", show_default=True,
              help="4G: new sites; 5G: upgrades of existing 4G sites.")  # fmt: skip
@click.option("--min-class", type=click.Choice(["weak", "good"]), default="weak", show_default=True,
              help="Signal class at the village centre that counts as covered.")  # fmt: skip
@click.option(
    "--weight", type=click.Choice(["population", "priority"]), default="population", show_default=True,
    help="Maximise newly covered population, or population x priority score.",
)  # fmt: skip
@click.option(
    "--solver", type=click.Choice(["auto", "exact", "greedy"]), default="auto", show_default=True,
    help="auto: exact MILP (HiGHS) up to 500 candidates x 5,000 villages, lazy greedy beyond.",
)  # fmt: skip
@click.option(
    "--operator", default="VNPT", show_default=True, help="Operator label of the new masts on the map."
)
def optimize_command(
    project: Path, out_dir: Path, overwrite: bool, lang: str, sites: int | None, budget_vnd: float | None,
    candidates: Path | None, no_generate: bool, technology: str, min_class: str, weight: str, solver: str,
    operator: str,
) -> None:  # fmt: skip
    """Choose new sites (or 5G upgrades) that cover the most people for the money.

    Writes chosen_sites.gpkg / chosen_sites.csv (in selection order with the newly covered
    population of each), covered_villages.csv, candidates.gpkg, the cost and map.html.
    """
    if (sites is None) == (budget_vnd is None):
        raise click.UsageError("give exactly one of --sites K or --budget-vnd B")
    try:
        result = run_optimize(
            project, out_dir, sites=sites, budget_vnd=budget_vnd, candidates_path=candidates,
            generate=not no_generate, technology=technology, min_class=min_class, weight=weight,
            solver=solver, operator=operator, overwrite=overwrite, lang=lang,
            progress=lambda m: click.echo(f"… {m}", err=True),
        )  # fmt: skip
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    _report(result)


if __name__ == "__main__":  # pragma: no cover
    main()
