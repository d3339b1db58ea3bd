"""A peer package that is installed but cannot be imported is skipped, not a crash.

The common case: a torchvision built for another torch.  ptflops imports torchvision when
it is installed, and such a torchvision raises at import ("operator torchvision::nms does
not exist").  A stand-in torchvision that raises the same way is put first on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NMS = "operator torchvision::nms does not exist"
NOTE = (
    "alexprof: note: --verify skips ptflops and aten: ptflops cannot be imported "
    f"(RuntimeError: {NMS})"
)


@pytest.fixture
def broken_torchvision(tmp_path: Path) -> dict[str, str]:
    pkg = tmp_path / "torchvision"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"raise RuntimeError({NMS!r})\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    env.pop("COLUMNS", None)
    return env


def _alexprof(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alexprof", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_stand_in_really_breaks_ptflops(broken_torchvision: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import ptflops"],
        capture_output=True,
        text=True,
        env=broken_torchvision,
        timeout=120,
    )
    assert proc.returncode != 0 and NMS in proc.stderr


def test_verify_skips_ptflops_and_still_checks_torch(broken_torchvision: dict[str, str]) -> None:
    proc = _alexprof(broken_torchvision, "flops", "alexnet", "--verify")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [NOTE]  # one line, and nothing else
    verified = next(line for line in proc.stdout.splitlines() if line.startswith("Verified"))
    assert "torch = numel()" in verified and "flopcounter = " in verified
    assert "skipped: ptflops, aten (cannot be imported here)" in verified
    assert "ptflops = " not in verified and "aten = " not in verified
    header = next(line for line in proc.stdout.splitlines() if line.startswith("┃ layer"))
    assert "flopcounter" in header and "ptflops" not in header and "aten" not in header
    assert "Verification: 107 of 107 checks agree or are explained." in proc.stdout


def test_verify_json_names_the_skipped_sources(broken_torchvision: dict[str, str]) -> None:
    proc = _alexprof(broken_torchvision, "flops", "alexnet", "--verify", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    v = json.loads(proc.stdout)["verification"]
    assert v["passed"] is True
    assert v["skipped"] == {
        "ptflops": f"ptflops cannot be imported (RuntimeError: {NMS})",
        "aten": f"ptflops cannot be imported (RuntimeError: {NMS})",
    }
    assert sorted(v["sources"]) == ["flopcounter", "torch"]
    assert {c["source"] for c in v["checks"]} == {"torch", "flopcounter"}
