"""The notebooks: outputs cleared in the repository, public API only, and they run on the demo data.

Each notebook is executed with nbclient on a local ipykernel (no network), with
``COVERAGE_GAPS_NB_FAST=1`` so their parameter cell picks a coarse grid; each must finish
within 2 minutes.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def test_the_three_notebooks_exist():
    assert {"01_quickstart.ipynb", "02_what_if.ipynb", "03_optimise.ipynb"} <= set(NAMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_outputs_are_cleared(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name}: clear the outputs before committing"
            assert cell.get("execution_count") is None, f"{path.name}: clear the execution counts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_public_api_and_spopt_structure(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert not re.search(r"\bcoverage(\.\w+)*\._\w+", code), "notebooks import only public names"
    assert not re.search(r"from coverage(\.\w+)* import \(?[^)\n]*\b_\w+", code)
    assert "coverage.show_versions()" in code
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# ") and "Purpose" in first
    params = [c for c in nb["cells"] if c["cell_type"] == "code" and "RESOLUTION_M =" in "".join(c["source"])]
    assert len(params) == 1, "one parameter cell"
    assignments = re.findall(r"^([A-Za-z_]\w*)\s*=", "".join(params[0]["source"]), flags=re.M)
    assert assignments and all(a.isupper() for a in assignments), assignments


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_on_the_demo(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("COVERAGE_GAPS_NB_FAST", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    assert elapsed < 120, f"{path.name} took {elapsed:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
