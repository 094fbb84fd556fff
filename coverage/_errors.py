"""Exceptions, warnings and the :class:`Problem` record shared by every layer.

One root exception, :class:`CoverageError`; each subclass also inherits the builtin
that callers would naturally catch (``ValueError``, ``FileExistsError``), as rasterio
does with ``RasterioIOError(RasterioError, OSError)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CRSMismatchError",
    "ConfigError",
    "CoverageError",
    "CoverageWarning",
    "GeometryRepairedWarning",
    "InputError",
    "InputSchemaError",
    "MissingCRSError",
    "ModelValidityWarning",
    "NodataWarning",
    "OutputExistsError",
    "Problem",
    "format_problems",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it.

    Parameters
    ----------
    severity
        ``"error"`` stops a run; ``"warning"`` is reported and the run goes on.
    layer
        Input layer, e.g. ``"villages"``, ``"towers"``, ``"dem"``, ``"project"``.
    message
        What is wrong, quoting the value received.
    fix
        How to fix it, in one sentence.
    file
        The file the problem is in, if any.
    row
        Row number (1-based data row for CSV, feature index otherwise) or id.
    column
        Column (field) name, if the problem is in one column.
    """

    severity: Severity
    layer: str
    message: str
    fix: str = ""
    file: str | None = None
    row: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.layer]
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = f"{self.severity.upper()} [{', '.join(where)}] {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


def format_problems(problems: Iterable[Problem]) -> str:
    """Return one line per problem, errors first, in a stable order."""
    items = sorted(problems, key=lambda p: (p.severity != "error", p.layer))
    return "\n".join(f"  - {p}" for p in items)


class CoverageError(Exception):
    """Root of every error raised by coverage-gaps."""


class ConfigError(CoverageError, ValueError):
    """The project file is missing, malformed, or has invalid or unknown keys."""


class InputError(CoverageError, ValueError):
    """An input layer cannot be used; carries every :class:`Problem` found.

    Parameters
    ----------
    problems
        All problems found in the layer(s), errors and warnings.
    summary
        One line in front of the list.
    """

    def __init__(self, problems: Iterable[Problem], summary: str = "Input problems found") -> None:
        self.problems: list[Problem] = list(problems)
        n_err = sum(p.severity == "error" for p in self.problems)
        n_warn = len(self.problems) - n_err
        head = f"{summary}: {n_err} error(s), {n_warn} warning(s)"
        super().__init__(f"{head}\n{format_problems(self.problems)}")


class InputSchemaError(InputError):
    """A layer lacks a column, has bad values, duplicate ids or bad geometry."""


class MissingCRSError(InputError):
    """A layer carries no coordinate reference system and none was declared."""


class CRSMismatchError(InputError):
    """A declared CRS contradicts the CRS stored in the file."""


class OutputExistsError(CoverageError, FileExistsError):
    """The output exists and ``overwrite`` was not requested."""


class CoverageWarning(UserWarning):
    """Base class of the warnings coverage-gaps emits."""


class NodataWarning(CoverageWarning):
    """Part of a raster is nodata; results there are unknown, not 'no signal'."""


class ModelValidityWarning(CoverageWarning):
    """A propagation model is used outside its published validity range."""


class GeometryRepairedWarning(CoverageWarning):
    """An invalid geometry was repaired with ``shapely.make_valid``."""
