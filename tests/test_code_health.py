"""Lint, format and the one-way import contract run as part of the test command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


@pytest.mark.parametrize(
    "args",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["lint-imports"]],
    ids=["ruff-check", "ruff-format", "import-linter"],
)
def test_tool_passes(args):
    result = subprocess.run(
        [_tool(args[0]), *args[1:]], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "code",
    ["import numba; import coverage; coverage.signal_from_towers", "import coverage, numba; numba.njit"],
    ids=["numba-first", "coverage-first"],
)
def test_numba_and_this_package_import_in_any_order(code, tmp_path):
    """numba probes for coverage.py with `import coverage`; our package shares that name."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
