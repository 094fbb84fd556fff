"""CSV files meant to be opened in Excel: UTF-8 with BOM, atomic, formula-safe.

Text cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) would be
run as formulas by spreadsheet software ("CSV injection", OWASP). A village named
``=HYPERLINK(...)`` must stay text, so such cells get a leading apostrophe. Numbers are
never touched (negative dBm stay numbers).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coverage.io._atomic import atomic_file

__all__ = ["FORMULA_PREFIXES", "spreadsheet_safe", "write_csv"]

#: Leading characters that make spreadsheet software treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot be read as formulas.

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["=1+1", "Thôn A"], "rsrp_dbm": [-101.5, -90.0]})
    >>> spreadsheet_safe(df).values.tolist()
    [["'=1+1", -101.5], ['Thôn A', -90.0]]
    """
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            )
    return out


def write_csv(
    df: pd.DataFrame, path: str | Path, *, index_label: str | None = None, overwrite: bool = True
) -> Path:
    """Write ``df`` as a formula-safe CSV, UTF-8 with BOM, atomically (temp file + rename).

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    with atomic_file(path, overwrite=overwrite) as tmp:
        spreadsheet_safe(df).to_csv(
            tmp,
            index=index_label is not None,
            index_label=index_label,
            encoding="utf-8-sig",
            lineterminator="\n",
        )
    return path
