"""The ``coverage-gaps`` command: a click group with one level of verbs.

Each command parses options, calls one function of :mod:`coverage.pipeline`, reports
where the outputs are, and exits non-zero on error. Errors are printed as messages
(what is wrong, where, how to fix it), never as tracebacks, unless ``-v -v``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

import coverage
from coverage._errors import ConfigError, CoverageError, InputError
from coverage.pipeline import demo_project_path, run, validate_project

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
    except CoverageError as exc:
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


def _run(project: Path, out_dir: Path, overwrite: bool) -> None:
    try:
        result = run(project, out_dir, overwrite=overwrite, progress=lambda m: click.echo(f"… {m}", err=True))
    except InputError as exc:
        _fail(exc)
        return
    except (CoverageError, ValueError, FileNotFoundError) as exc:
        _fail(exc)
        return
    click.echo(f"Outputs written to {result.out_dir}:")
    for f in result.files:
        click.echo(f"  {f}")


@main.command("run")
@project_argument
@out_option
@overwrite_option
def run_command(project: Path, out_dir: Path, overwrite: bool) -> None:
    """Validate PROJECT.toml and write every output into --out."""
    _run(project, out_dir, overwrite)


@main.command()
@out_option
@overwrite_option
def demo(out_dir: Path, overwrite: bool) -> None:
    """Run the bundled demo (real communes and SRTM of Thái Nguyên / Tuyên Quang)."""
    try:
        project = demo_project_path()
    except FileNotFoundError as exc:
        _fail(exc)
        return
    click.echo(f"Demo project: {project}")
    _run(project, out_dir, overwrite)


if __name__ == "__main__":  # pragma: no cover
    main()
