"""Whole-process time to get AlexNet's FLOP totals: alexprof vs ptflops vs FlopCounterMode.

Each contender runs in a fresh interpreter (what a user or CI job pays), the
fastest way we know to get the same total from it:

* alexprof: ``alexprof flops alexnet --convention C --format json`` (no torch import);
* ptflops: model built on the meta device (no weight init, no memory),
  ``count_functional=False`` so its total is its per-layer sum, ``as_strings=False``;
* FlopCounterMode: model on meta, one forward pass under the mode.

The script checks that each pair reports the same number, then prints a table
of medians and ratios.  Usage: ``python benchmarks/bench_flops.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUILD = (
    "import torch, torch.nn as nn\n"
    "from alexprof import load_model\n"
    "from alexprof.torchside.bridge import build\n"
    "m = build(load_model('alexnet').body, 'meta')\n"
)
PTFLOPS = BUILD + (
    "import ptflops, io\n"
    "macs, _ = ptflops.get_model_complexity_info(m, (3, 224, 224), as_strings=False,\n"
    "    print_per_layer_stat=False, ost=io.StringIO(),\n"
    "    backend_specific_config={'count_functional': False})\n"
    "print(int(macs))\n"
)
FLOPCOUNTER = BUILD + (
    "from torch.utils.flop_counter import FlopCounterMode\n"
    "with FlopCounterMode(display=False) as fc:\n"
    "    m(torch.empty(1, 3, 224, 224, device='meta'))\n"
    "print(fc.get_total_flops())\n"
)


def alexprof_cmd(convention: str) -> list[str]:
    exe = shutil.which("alexprof") or str(Path(sys.executable).with_name("alexprof"))
    return [exe, "flops", "alexnet", "--convention", convention, "--format", "json"]


def alexprof_total(convention: str, key: str) -> int:
    out = subprocess.run(alexprof_cmd(convention), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["totals"][key]


def python_total(code: str) -> int:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def timed(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import importlib.metadata as md

    versions = {p: md.version(p) for p in ("torch", "ptflops", "alexprof")}
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            + ", ".join(f"{k} {v}" for k, v in versions.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    # Same totals first: ptflops' per-layer sum = alexprof's 'ptflops' convention;
    # FlopCounterMode forward FLOPs = alexprof's 'flopcounter' forward FLOPs.
    pairs = [
        ("ptflops", alexprof_total("ptflops", "macs"), python_total(PTFLOPS), "MACs"),
        ("FlopCounterMode", alexprof_total("flopcounter", "flops"), python_total(FLOPCOUNTER), "FLOPs"),
    ]
    for name, ours, theirs, unit in pairs:
        if ours != theirs:
            sys.exit(f"totals differ for {name}: alexprof {ours} vs {theirs} {unit}")

    rows = [
        ("alexprof (convention ptflops)", timed(alexprof_cmd("ptflops"), args.repeats), pairs[0][1], "MACs"),
        ("ptflops 0.7.5 on meta", timed([sys.executable, "-c", PTFLOPS], args.repeats), pairs[0][2], "MACs"),
        ("alexprof (convention flopcounter)", timed(alexprof_cmd("flopcounter"), args.repeats), pairs[1][1], "FLOPs"),
        ("FlopCounterMode on meta", timed([sys.executable, "-c", FLOPCOUNTER], args.repeats), pairs[1][2], "FLOPs"),
    ]
    base = min(rows[0][1], rows[2][1])
    peer = min(rows[1][1], rows[3][1])
    print(f"# alexnet FLOP totals, whole process, median of {args.repeats} runs")
    print(f"# machine: {machine()}")
    print(f"{'tool':36} {'seconds':>9} {'x alexprof':>11} {'total':>16}")
    for name, seconds, total, unit in rows:
        print(f"{name:36} {seconds:9.3f} {seconds / base:11.1f} {total:16,} {unit}")
    print(f"fastest peer / alexprof = {peer / base:.1f}x")


if __name__ == "__main__":
    main()
