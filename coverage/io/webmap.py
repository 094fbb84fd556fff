"""Write the self-contained web map page."""

from __future__ import annotations

from pathlib import Path

from coverage.io._atomic import atomic_file

__all__ = ["write_map"]


def write_map(page: str, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``page`` (HTML text) to ``path`` atomically, UTF-8.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    with atomic_file(path, overwrite=overwrite) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)
