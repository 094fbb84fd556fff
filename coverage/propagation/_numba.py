"""Import numba without letting it mistake this package for coverage.py.

numba (>= 0.59) runs ``import coverage`` while it is imported, to report JIT-compiled
lines to coverage.py, and then subclasses ``coverage.types.Tracer``. Our package is
also called ``coverage``, so that import finds us and numba fails with
``AttributeError: module 'coverage' has no attribute 'types'``. While numba is being
imported, ``sys.modules["coverage"]`` is set to ``None`` so its ``import coverage``
raises ``ImportError`` and numba simply disables its coverage support.

Every module of the package must import numba through this module. A process that
imports numba *before* importing this package breaks in numba itself.
"""

from __future__ import annotations

import importlib
import sys

if "numba" not in sys.modules:
    _ours = sys.modules.get("coverage")
    sys.modules["coverage"] = None  # type: ignore[assignment]
    try:
        importlib.import_module("numba")
    finally:
        if _ours is None:
            del sys.modules["coverage"]
        else:
            sys.modules["coverage"] = _ours

import numba as nb

__all__ = ["nb"]
