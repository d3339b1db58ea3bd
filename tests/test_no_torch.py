"""The analytic commands never import torch (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import GOLDEN

PROBE = (
    "import sys\n"
    "from alexprof.cli import main\n"
    "rc = main({args!r})\n"
    "heavy = sorted(m for m in ('torch', 'ptflops', 'numpy') if m in sys.modules)\n"
    "print('IMPORTED:' + ','.join(heavy))\n"
    "sys.exit(rc)\n"
)


@pytest.mark.parametrize("args", [
    ["params"],
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
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"


def test_verify_does_import_torch() -> None:
    """The probe can fail: --verify must load torch."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=["params", "--verify"])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torch" in proc.stdout.strip().splitlines()[-1]


def test_memtrace_measuring_does_import_torch() -> None:
    """The probe can fail: measuring must load torch."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(
        args=["memtrace", "linear-demo", "--device", "cpu", "--batch", "4"])],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torch" in proc.stdout.strip().splitlines()[-1]
