"""The monthly / quarterly progress report, from the history of runs.

Definitions (also written to the report's *Phương pháp* sheet):

* **Period**: a quarter ``2026-Q3`` or a month ``2026-09``, in Viet Nam time (+07:00);
  it runs from its first instant up to, not including, the first instant of the next.
* **End state**: the last run before the period's end. **Start state**: the last run
  before the period's start; when there is none, the first run of the period (said in
  the report).
* **Classes** are the recorded village centre classes (``good / weak / none /
  no_data``) per technology, for the best of all operators (``any``) and per operator.
* **Gap** (thôn chưa có sóng tốt): class ``weak`` or ``none``; for 4G of any operator
  also a village whose status is ``reported_gap`` or ``power_outage`` (outage reports
  override the model, as in the priority list). ``no_data`` is neither gap nor covered.
* **Resolved** (đã khắc phục): a gap at the start and ``good`` (and no gap) at the end.
  **Newly found** (phát sinh mới): a gap at the end that was not one at the start
  (including villages absent at the start).
* **Trend**: for each month up to the period's end, the last run of that month.

Nothing here reads reporter details: only runs and their village results are used.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from coverage._history_store import HistoryStoreError
from coverage._report_render import render
from coverage._report_types import Period, PeriodReport
from coverage.history import CLASSES, list_runs, read_runs

__all__ = [
    "LOCAL_TZ",
    "Period",
    "PeriodReport",
    "changes",
    "class_counts",
    "gap_flags",
    "parse_period",
    "period_report",
    "write_report",
]

#: Periods are calendar months and quarters in Viet Nam time.
LOCAL_TZ = "Asia/Ho_Chi_Minh"
GAP_STATUSES = ("reported_gap", "power_outage")
TREND_MONTHS = 24


def parse_period(text: str) -> Period:
    """Parse ``YYYY-Qn`` (quarter) or ``YYYY-MM`` (month).

    Examples
    --------
    >>> p = parse_period("2026-Q3")
    >>> p.label, p.start.isoformat(), p.end.isoformat()
    ('2026-Q3', '2026-07-01T00:00:00+07:00', '2026-10-01T00:00:00+07:00')
    >>> parse_period("2026-12").end.isoformat()
    '2027-01-01T00:00:00+07:00'
    >>> parse_period("2026-13")
    Traceback (most recent call last):
    ...
    ValueError: period '2026-13' is not a quarter like 2026-Q3 or a month like 2026-09
    """
    raw = str(text).strip().upper()
    quarter = re.fullmatch(r"(\d{4})-?Q([1-4])", raw)
    month = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if quarter:
        year, first, n = int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 3
        label = f"{year}-Q{quarter.group(2)}"
    elif month and 1 <= int(month.group(2)) <= 12:
        year, first, n = int(month.group(1)), int(month.group(2)), 1
        label = f"{year}-{first:02d}"
    else:
        raise ValueError(f"period {text!r} is not a quarter like 2026-Q3 or a month like 2026-09")
    start = pd.Timestamp(dt.datetime(year, first, 1), tz=LOCAL_TZ)
    return Period(label, start, start + pd.DateOffset(months=n))


def gap_flags(villages: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """Add ``gap`` and ``covered`` to the long class table (see the module docstring).

    Examples
    --------
    >>> v = pd.DataFrame({"run_id": [1, 1], "village_id": ["a", "b"], "status": ["reported_gap", None]})
    >>> c = pd.DataFrame({"run_id": [1, 1, 1], "village_id": ["a", "b", "b"],
    ...     "technology": ["4G", "4G", "5G"], "operator": ["any"] * 3, "class": ["good", "none", "no_data"]})
    >>> gap_flags(v, c)[["village_id", "technology", "gap", "covered"]].values.tolist()
    [['a', '4G', True, False], ['b', '4G', True, False], ['b', '5G', False, False]]
    """
    status = villages[["run_id", "village_id", "status"]] if "status" in villages else None
    out = classes.copy()
    if status is not None:
        out = out.merge(status, on=["run_id", "village_id"], how="left")
    else:
        out["status"] = None
    reported = (out["technology"] == "4G") & (out["operator"] == "any") & out["status"].isin(GAP_STATUSES)
    out["gap"] = out["class"].isin(["weak", "none"]) | reported
    out["covered"] = ~out["gap"] & (out["class"] == "good")
    return out.drop(columns="status")


def class_counts(flags: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Count villages per class, plus gaps, grouped by ``by``.

    Columns: ``by``, then ``good, weak, none, no_data, gap``.

    Examples
    --------
    >>> f = pd.DataFrame({"technology": ["4G", "4G", "5G"], "class": ["good", "none", "weak"],
    ...                   "gap": [False, True, True]})
    >>> class_counts(f, ["technology"]).values.tolist()
    [['4G', 1, 0, 1, 0, 1], ['5G', 0, 1, 0, 0, 1]]
    """
    if flags.empty:
        return pd.DataFrame(columns=[*by, *CLASSES, "gap"])
    dummies = pd.get_dummies(flags["class"]).reindex(columns=list(CLASSES), fill_value=False)
    table = pd.concat([flags[by], dummies.astype("int64"), flags["gap"].astype("int64")], axis=1)
    return table.groupby(by, sort=True, dropna=False).sum().reset_index()


def changes(start: pd.DataFrame | None, end: pd.DataFrame) -> pd.DataFrame:
    """Return the resolved and newly found (village, technology, operator) between two runs.

    ``start`` and ``end`` are :func:`gap_flags` tables of one run each. Columns:
    ``village_id, technology, operator, class_start, class_end, change`` with change
    ``"resolved"`` or ``"new"``.

    Examples
    --------
    >>> key = {"technology": ["4G"] * 3, "operator": ["any"] * 3}
    >>> s = pd.DataFrame({"village_id": ["a", "b", "c"], **key, "class": ["none", "good", "weak"],
    ...                   "gap": [True, False, True], "covered": [False, True, False]})
    >>> e = pd.DataFrame({"village_id": ["a", "b", "c"], **key, "class": ["good", "weak", "no_data"],
    ...                   "gap": [False, True, False], "covered": [True, False, False]})
    >>> changes(s, e)[["village_id", "change"]].values.tolist()
    [['b', 'new'], ['a', 'resolved']]
    """
    keys = ["village_id", "technology", "operator"]
    cols = ["village_id", "technology", "operator", "class_start", "class_end", "change"]
    if start is None:
        return pd.DataFrame(columns=cols)
    both = end[[*keys, "class", "gap", "covered"]].merge(
        start[[*keys, "class", "gap"]], on=keys, how="left", suffixes=("_end", "_start")
    )
    was_gap = both["gap_start"].fillna(False).astype(bool)
    resolved = was_gap & both["covered"]
    new = both["gap_end"] & ~was_gap
    both["change"] = None
    both.loc[resolved, "change"] = "resolved"
    both.loc[new, "change"] = "new"
    out = both[both["change"].notna()].sort_values(["change", "technology", "operator", "village_id"])
    return out[cols].reset_index(drop=True)


def _side_by_side(start: pd.DataFrame, end: pd.DataFrame, by: list[str], moves: pd.DataFrame) -> pd.DataFrame:
    """Join start and end counts on ``by`` and add resolved / new counts."""
    value_cols = [*CLASSES, "gap"]
    merged = end.merge(start, on=by, how="outer", suffixes=("_end", "_start"))
    for c in value_cols:
        for side in ("start", "end"):
            merged[f"{c}_{side}"] = merged[f"{c}_{side}"].fillna(0).astype("int64")
    for kind in ("resolved", "new"):
        n = moves[moves["change"] == kind].groupby(by).size().rename(kind)
        merged = merged.merge(n.reset_index(), on=by, how="left")
        merged[kind] = merged[kind].fillna(0).astype("int64")
    ordered = [*by, *[f"{c}_{s}" for c in value_cols for s in ("start", "end")], "resolved", "new"]
    return merged[ordered].sort_values(by).reset_index(drop=True)


def _attach_communes(frame: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    names = villages.drop_duplicates("village_id", keep="last")
    cols = ["village_id", "name", "commune_code", "commune_name"]
    out = frame.merge(names[cols], on="village_id", how="left")
    for c in ("commune_code", "commune_name"):
        out[c] = out[c].astype(object).where(out[c].notna(), "")
    return out


def _reported_only(villages: pd.DataFrame, flags: pd.DataFrame) -> int:
    """Villages in a 4G gap by outage reports only (the model predicts good or no data)."""
    both = villages[["village_id", "status"]].merge(flags[flags["technology"] == "4G"], on="village_id")
    return int((both["status"].isin(GAP_STATUSES) & ~both["class"].isin(["weak", "none"])).sum())


def _trend(runs: pd.DataFrame, end: pd.Timestamp, store_path: Path) -> pd.DataFrame:
    local = runs.assign(month=runs["run_at"].dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m"))
    monthly = local[local["run_at"] < end].groupby("month").tail(1).tail(TREND_MONTHS)
    villages, classes = read_runs(store_path, monthly["run_id"].tolist())
    flags = gap_flags(villages, classes[classes["operator"] == "any"]).merge(
        villages[["run_id", "village_id", "commune_code", "commune_name"]], on=["run_id", "village_id"]
    )
    for c in ("commune_code", "commune_name"):
        flags[c] = flags[c].astype(object).where(flags[c].notna(), "")
    counts = flags.groupby(["run_id", "commune_code", "commune_name", "technology"])["gap"].sum()
    out = counts.rename("gaps").reset_index().merge(monthly[["run_id", "month", "run_at"]], on="run_id")
    return out.sort_values(["month", "technology", "commune_code"]).reset_index(drop=True)


def period_report(store_path: str | Path, period: str | Period) -> PeriodReport:
    """Compute the report of a period from the store (see the module docstring).

    Raises
    ------
    HistoryStoreError
        If no run was recorded before the period's end.
    """
    store_path = Path(store_path)
    period = parse_period(period) if isinstance(period, str) else period
    runs = list_runs(store_path)
    upto = runs[runs["run_at"] < period.end]
    if upto.empty:
        first = runs["run_at"].min() if len(runs) else None
        raise HistoryStoreError(
            f"no run recorded before the end of {period.label} ({period.end.isoformat()}) in {store_path}"
            + (f"; the first run is of {first.tz_convert(LOCAL_TZ):%Y-%m-%d}" if first is not None else "")
        )
    end_run = upto.iloc[-1]
    before = upto[upto["run_at"] < period.start]
    note = ""
    if len(before):
        start_run = before.iloc[-1]
    else:
        start_run = upto.iloc[0]
        note = (
            f"Không có lần chạy nào trước đầu kỳ; trạng thái đầu kỳ lấy theo lần chạy đầu tiên trong kỳ "
            f"(số {int(start_run['run_id'])})."
        )
    ids = [int(end_run["run_id"]), int(start_run["run_id"])]
    villages, classes = read_runs(store_path, ids)
    flags = gap_flags(villages, classes)
    end = flags[flags["run_id"] == ids[0]].drop(columns="run_id")
    start = flags[flags["run_id"] == ids[1]].drop(columns="run_id")
    end_v = villages[villages["run_id"] == ids[0]]
    all_v = pd.concat([villages[villages["run_id"] == ids[1]], end_v])  # end wins for names
    moves = _attach_communes(changes(start, end), all_v)
    anyop_s, anyop_e = (f[f["operator"] == "any"] for f in (start, end))
    summary = _side_by_side(
        class_counts(anyop_s, ["technology"]),
        class_counts(anyop_e, ["technology"]),
        ["technology"],
        moves[moves["operator"] == "any"],
    )
    for side, run_id, run_flags in (("start", ids[1], anyop_s), ("end", ids[0], anyop_e)):
        n = _reported_only(villages[villages["run_id"] == run_id], run_flags)
        summary[f"reported_gap_{side}"] = [n if tech == "4G" else 0 for tech in summary["technology"]]
    commune_keys = ["commune_code", "commune_name", "technology"]
    by_commune = _side_by_side(
        class_counts(_attach_communes(anyop_s, all_v), commune_keys),
        class_counts(_attach_communes(anyop_e, all_v), commune_keys),
        commune_keys,
        moves[moves["operator"] == "any"],
    )
    per_op = [f[f["operator"] != "any"] for f in (start, end)]
    by_operator = _side_by_side(
        class_counts(per_op[0], ["operator", "technology"]),
        class_counts(per_op[1], ["operator", "technology"]),
        ["operator", "technology"],
        moves[moves["operator"] != "any"],
    )
    listed = moves[moves["operator"] == "any"].merge(
        end_v[["village_id", "status", "recommended_action"]], on="village_id", how="left"
    )
    return PeriodReport(
        period=period,
        project_name=str(end_run["project_name"]),
        runs=upto.reset_index(drop=True),
        start_run=start_run,
        end_run=end_run,
        baseline_note=note,
        summary=summary,
        by_commune=by_commune,
        by_operator=by_operator,
        resolved=listed[listed["change"] == "resolved"].reset_index(drop=True),
        new=listed[listed["change"] == "new"].reset_index(drop=True),
        trend=_trend(runs, period.end, store_path),
    )


def write_report(
    store_path: str | Path,
    period: str | Period,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write the report of a period: Excel workbook, HTML page and PNG charts.

    Files, in a new folder ``out_dir`` (written atomically): ``bao-cao-<period>.xlsx``
    (sheets *Tóm tắt, Theo xã, Theo nhà mạng, Đã khắc phục, Phát sinh mới, Phương
    pháp*), ``bao-cao-<period>.html`` (self-contained: charts embedded, no link) and
    ``charts/*.png``.

    Raises
    ------
    HistoryStoreError
        If the store is missing or holds no run before the period's end.
    OutputExistsError
        If ``out_dir`` exists and ``overwrite`` is false.
    ValueError
        If ``period`` is not ``YYYY-Qn`` or ``YYYY-MM``.
    """
    from coverage.pipeline import atomic_output_dir  # lazy: pipeline imports every analysis layer

    report = period_report(store_path, period)
    with atomic_output_dir(out_dir, overwrite=overwrite, protect=[Path(store_path)]) as tmp:
        files = render(report, tmp)
    final = Path(out_dir).resolve()
    return [final / f.relative_to(tmp) for f in files]
