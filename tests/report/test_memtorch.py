"""memtrace says which torch ran the step and which release the memory rules were checked with."""

from __future__ import annotations

import ast
from pathlib import Path

import alexprof.memory
from alexprof.memory import RULES_CHECKED_WITH
from alexprof.memory.stages import Trace
from alexprof.report.memreport import release, torch_json, torch_line


def test_release_is_major_minor() -> None:
    assert release("2.13.0+cpu") == "2.13"
    assert release("2.11.0+cu130") == "2.11"
    assert release("2.14.0.dev20260101") == "2.14"
    assert release("2.13") == "2.13"


def test_the_rules_name_their_release_without_importing_torch() -> None:
    assert RULES_CHECKED_WITH == "2.13"
    source = Path(alexprof.memory.__file__).read_text()
    imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not imports


def test_same_release_other_release_and_prediction_only() -> None:
    same, other = Trace("cpu", (), torch="2.13.0+cpu"), Trace("cuda", (), torch="2.11.0+cu130")
    assert torch_line(same) == (
        "torch 2.13.0+cpu ran the step; the memory rules were checked against torch 2.13."
    )
    assert torch_line(other).startswith(
        "torch 2.11.0+cu130 ran the step; the memory rules were checked against torch 2.13, "
        "another release"
    )
    assert torch_line(None) == (
        "Prediction only, no torch ran; the memory rules were checked against torch 2.13."
    )
    assert torch_json(other) == {"running": "2.11.0+cu130", "rules_checked_with": "2.13"}
    assert torch_json(None) == {"running": None, "rules_checked_with": "2.13"}
