"""The report's data: a period and everything computed for it (see :mod:`coverage.report`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Period", "PeriodReport"]


@dataclass(frozen=True)
class Period:
    """A reporting period: ``[start, end)`` in Viet Nam time."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass
class PeriodReport:
    """Everything the report shows, as tables (English column names).

    Parameters
    ----------
    period
        The reporting period.
    project_name
        Project name of the end run.
    runs
        :func:`coverage.history.list_runs` up to the period's end.
    start_run, end_run
        Rows of ``runs`` for the start and end states (``start_run`` may be ``None``).
    baseline_note
        How the start state was chosen, in Vietnamese, when not the usual way.
    summary
        Per technology: counts per class and gaps at start and end, resolved, new.
    by_commune, by_operator
        The same per commune (any operator) and per operator.
    resolved, new
        Village lists (any operator) with names, communes and classes.
    trend
        Per month (last run of the month), commune and technology: gaps (any operator).
    """

    period: Period
    project_name: str
    runs: pd.DataFrame
    start_run: pd.Series | None
    end_run: pd.Series
    baseline_note: str
    summary: pd.DataFrame
    by_commune: pd.DataFrame
    by_operator: pd.DataFrame
    resolved: pd.DataFrame
    new: pd.DataFrame
    trend: pd.DataFrame
    inputs: dict[str, str] = field(default_factory=dict)
