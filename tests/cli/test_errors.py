"""Bad input: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("args, message", [
    (["params", "alexnt"], "unknown model 'alexnt' (did you mean 'alexnet'?)"),
    (["flops", "--input", "3,224"], "--input '3,224': need three positive integers"),
    (["flops", "--input", "three"], "--input 'three' is not a shape"),
    (["params", "--input", "3,32,32"], "input too small: at layer 'pool2' (MaxPool2d)"),
    (["flops", "--batch", "0"], "--batch 0 must be a positive integer"),
    (["flops", "--batch", "-3"], "--batch -3 must be a positive integer"),
    (["flops", "--batch", "x"], "--batch 'x' is not an integer"),
    (["flops", "--convention", "fvcor"], "unknown convention 'fvcor'"),
    (["params", "--format", "yaml"], "unknown format 'yaml'"),
    (["check", "/nonexistent/golden.json"], "does not exist"),
    (["params", "--no-such-flag"], "No such option: --no-such-flag"),
])
def test_bad_input_is_one_line_exit_2(cli, args: list[str], message: str) -> None:
    r = cli(*args)
    assert r.code == 2
    assert message in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert "Traceback" not in r.err


def test_console_script_and_module_entry_points() -> None:
    script = Path(sys.executable).with_name("alexprof")  # installed next to this interpreter
    for cmd in ([str(script)], [sys.executable, "-m", "alexprof"]):
        proc = subprocess.run([*cmd, "params", "nope"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert proc.stderr.startswith("alexprof: error: unknown model 'nope'")
        assert "Traceback" not in proc.stderr


def test_debug_env_shows_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "alexprof", "params", "nope"], capture_output=True,
                          text=True, timeout=60, env={**__import__("os").environ, "ALEXPROF_DEBUG": "1"})
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_help_teaches(cli) -> None:
    r = cli("flops", "--help")
    assert r.code == 0
    for word in ("--convention", "ptflops", "FlopCounterMode", "--verify", "--batch", "Example"):
        assert word in r.out
