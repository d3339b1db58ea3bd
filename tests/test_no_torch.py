"""The analytic commands never import torch (checked in a fresh interpreter), and the
fast path (params/flops on a zoo network as JSON) imports neither pydantic nor rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import GOLDEN

PROBE = (
    "import sys\n"
    "from alexprof.cli import main\n"
    "rc = main({args!r})\n"
    "heavy = sorted(m for m in {heavy!r} if m in sys.modules)\n"
    "print('IMPORTED:' + ','.join(heavy))\n"
    "sys.exit(rc)\n"
)
TORCH = ("torch", "ptflops", "numpy")
LIGHT = ("pydantic", "rich", "torch")


@pytest.mark.parametrize("args", [
    ["params"],
    ["--version"],
    ["flops", "alexnet-2012", "--format", "json"],
    ["flops", "--convention", "ptflops", "--format", "csv", "--batch", "64"],
    ["params", "--format", "markdown"],
    ["models"],
    ["fit", "alexnet-2012", "--memory", "gtx580", "--format", "json"],
    ["check", str(GOLDEN / "alexnet.json")],
    ["memtrace", "--predict-only"],
    ["memtrace", "alexnet-2012", "--predict-only", "--batch", "1,32,4096", "--format", "json"],
    ["memtrace", "linear-demo", "--predict-only", "--device", "cpu", "--format", "csv"],
])
def test_analytic_commands_import_no_torch(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=TORCH)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"


@pytest.mark.parametrize("args", [
    ["flops", "alexnet", "--format", "json"],
    ["params", "alexnet", "--format", "json"],
    ["flops", "vgg16", "--batch", "8", "--convention", "ptflops", "--format", "csv"],
    ["--version"],
])
def test_the_fast_path_imports_no_pydantic_and_no_rich(args: list[str]) -> None:
    """typer converts values through pydantic and renders help with rich: neither is needed
    to count a zoo network (alexprof.cli.coerce; rich only for tables, help and progress)."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=LIGHT)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"


def test_a_table_does_import_rich() -> None:
    """The probe can fail: a table is drawn by rich."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=["flops"], heavy=LIGHT)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:rich"


def test_verify_does_import_torch() -> None:
    """The probe can fail: --verify must load torch."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=["params", "--verify"], heavy=TORCH)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torch" in proc.stdout.strip().splitlines()[-1]


def test_memtrace_measuring_does_import_torch() -> None:
    """The probe can fail: measuring must load torch."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(
        args=["memtrace", "linear-demo", "--device", "cpu", "--batch", "4"], heavy=TORCH)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torch" in proc.stdout.strip().splitlines()[-1]
