"""--output writes the natural-width rendering, whatever width the terminal has."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("args", [["flops", "alexnet"], ["memtrace", "alexnet", "--predict-only"],
                                  ["roofline", "--list-hardware"]])
def test_a_file_gets_natural_width_while_the_terminal_gets_a_fitted_table(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    piped = cli(*args).out  # COLUMNS unset (conftest), stdout not a terminal: natural width
    monkeypatch.setenv("COLUMNS", "80")
    fitted = cli(*args).out
    assert max(map(len, fitted.splitlines())) <= 80 < max(map(len, piped.splitlines()))
    target = tmp_path / "out.txt"
    r = cli(*args, "--output", str(target))
    assert r.code == 0 and r.out == "" and r.err == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == piped
