"""Write a file atomically: to a temporary name beside it, then rename into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from coverage._errors import OutputExistsError

__all__ = ["atomic_file"]


@contextlib.contextmanager
def atomic_file(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it into place on success.

    The temporary file lives in a private sibling folder under the target's own name, so
    writers that pick a format from the suffix work unchanged, and the file gets the
    ordinary mode of new files (the umask's), not the 0600 of ``mkstemp``. Readers never
    see a partial file; on failure nothing is left behind.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path.resolve()} already exists; pass --overwrite (overwrite=True) to replace it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        yield tmp
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
