"""The README's two commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re

from .conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("## User guide", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick)


def test_quick_start_has_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2
    install, tests = commands
    assert "pip install -e ." in install and "coverage-gaps demo --out" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci.splitlines()
