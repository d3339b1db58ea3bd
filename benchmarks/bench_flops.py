"""Whole-process time to get AlexNet's totals: alexprof vs ptflops vs FlopCounterMode.

Every contender runs in a fresh interpreter per call (what a user or a CI job pays), side
by side in one run, rounds interleaved so that drift on the machine hits all alike; the
table shows the median of N calls (wall clock, and the CPU time of the process).

* alexprof: ``alexprof flops alexnet --format json`` and ``params alexnet --format json``
  (no torch import; the console script, as installed).
* The peers get the same AlexNet as plain torch code, the way their users have a model:
  this script builds alexprof's ``alexnet`` with ``alexprof.torchside.bridge.build`` and writes
  it out as an ``nn.Sequential`` literal, checked to rebuild the identical module, so the
  timed processes import torch and the peer only.
* ptflops 0.7.5 on the CPU with real (initialised) weights, the way its users run it, and
  on the meta device (no weights); ``print_per_layer_stat=False``, ``as_strings=False``,
  ``count_functional=False`` (so its total is the sum of its per-layer lines).
* FlopCounterMode: one forward pass under the mode, on meta and on the CPU.

Before timing, each peer's totals are checked equal to alexprof's under the convention
that names that peer (alexprof ``--convention ptflops``: ptflops' per-layer MACs;
``--convention flopcounter``: FlopCounterMode's forward FLOPs; parameters: all weights and
biases).  ``python -c "import typer"`` is timed as the floor a typer CLI starts from.
Children run with bytecode caching on (as after ``pip install``).
Usage: ``python benchmarks/bench_flops.py [--repeats 9] [--output FILE]``.
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
from dataclasses import dataclass
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PTFLOPS = (
    "import io, ptflops\n"
    "macs, params = ptflops.get_model_complexity_info(model, (3, 224, 224), as_strings=False,\n"
    "    print_per_layer_stat=False, ost=io.StringIO(),\n"
    "    backend_specific_config={'count_functional': False})\n"
    "print(json.dumps({'macs': int(macs), 'params': int(params)}))\n"
)
FLOPCOUNTER = (
    "from torch.utils.flop_counter import FlopCounterMode\n"
    "x = torch.randn(1, 3, 224, 224, device=DEVICE)\n"
    "with FlopCounterMode(display=False) as counter:\n"
    "    model(x)\n"
    "print(json.dumps({'flops': counter.get_total_flops()}))\n"
)
TYPER = 'python -c "import typer"'  # the floor a typer CLI starts from: the 2x target's base


@dataclass(frozen=True)
class Contender:
    name: str
    command: list[str]
    compared: str  # which alexprof totals its numbers must equal


def alexprof_exe() -> str:
    return shutil.which("alexprof") or str(Path(sys.executable).with_name("alexprof"))


def alexprof_totals(*args: str) -> dict[str, int]:
    out = subprocess.run([alexprof_exe(), *args, "--format", "json"], capture_output=True,
                         text=True, check=True, env=ENV)
    return json.loads(out.stdout)["totals"]


def torch_alexnet(device: str) -> str:
    """alexprof's alexnet as the plain torch code a user would write: it defines ``model``
    (and ``DEVICE``), and is checked to rebuild alexprof's module exactly."""
    import torch

    from alexprof import load_model
    from alexprof.torchside.bridge import build

    built = build(load_model("alexnet").body, "meta").eval()
    children = "".join(f"    ({name!r}, nn.{child!r}),\n" for name, child in built.named_children())
    model = f"model = nn.Sequential(OrderedDict([\n{children}])).eval()\n"
    if device != "cpu":  # on the CPU a user builds it plainly; elsewhere under torch.device
        model = "with torch.device(DEVICE):\n" + "".join(f"    {line}\n" for line in model.splitlines())
    source = ("import json\nfrom collections import OrderedDict\nimport torch\nfrom torch import nn\n"
              f"DEVICE = {device!r}\ntorch.manual_seed(0)\n{model}")
    scope: dict[str, object] = {}
    exec(source.replace(f"DEVICE = {device!r}", "DEVICE = 'meta'"), scope)  # noqa: S102 - ours
    if not isinstance(scope["model"], torch.nn.Module) or repr(scope["model"]) != repr(built):
        sys.exit("the plain torch AlexNet differs from alexprof's build")
    return source


def contenders() -> list[Contender]:
    exe, py = alexprof_exe(), sys.executable
    cpu, meta = torch_alexnet("cpu"), torch_alexnet("meta")
    flops, params = ["flops", "alexnet", "--format", "json"], ["params", "alexnet", "--format", "json"]
    return [
        Contender("alexprof " + " ".join(flops), [exe, *flops], ""),
        Contender("alexprof " + " ".join(params), [exe, *params], ""),
        Contender("ptflops, CPU, real weights", [py, "-c", cpu + PTFLOPS], "ptflops"),
        Contender("ptflops, meta", [py, "-c", meta + PTFLOPS], "ptflops"),
        Contender("FlopCounterMode, meta", [py, "-c", meta + FLOPCOUNTER], "flopcounter"),
        Contender("FlopCounterMode, CPU", [py, "-c", cpu + FLOPCOUNTER], "flopcounter"),
        Contender(TYPER, [py, "-c", "import typer"], ""),
        Contender('python -c "import torch"', [py, "-c", "import torch"], ""),
    ]


def check_totals(peers: list[Contender]) -> dict[str, str]:
    """Run each peer once; its numbers must equal alexprof's. Returns name -> what matched."""
    ours = {"ptflops": alexprof_totals("flops", "alexnet", "--convention", "ptflops"),
            "flopcounter": alexprof_totals("flops", "alexnet", "--convention", "flopcounter")}
    expect = {"ptflops": {"macs": ours["ptflops"]["macs"], "params": ours["ptflops"]["params"]},
              "flopcounter": {"flops": ours["flopcounter"]["flops"]}}
    matched = {}
    for peer in peers:
        if not peer.compared:
            continue
        out = subprocess.run(peer.command, capture_output=True, text=True, check=True, env=ENV)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if got != expect[peer.compared]:
            sys.exit(f"totals differ for {peer.name}: {got} vs alexprof {expect[peer.compared]}")
        matched[peer.name] = ", ".join(f"{k} {v:,}" for k, v in got.items())
    return matched


def run_once(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command[:3]} failed")
    return wall, usage.ru_utime + usage.ru_stime


def timed(all_: list[Contender], repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) per contender over ``repeats`` interleaved rounds."""
    for c in all_:
        run_once(c.command)  # warm-up: the file cache, and bytecode written once
    samples: dict[str, list[tuple[float, float]]] = {c.name: [] for c in all_}
    for _ in range(repeats):
        for c in all_:
            samples[c.name].append(run_once(c.command))
    return {name: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
            for name, v in samples.items()}


def machine() -> list[str]:
    import importlib.metadata as md

    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = ", ".join(f"{p} {md.version(p)}" for p in ("alexprof", "torch", "ptflops", "typer"))
    return [f"# machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            f"# Python {platform.python_version()}, {versions}"]


def table(all_: list[Contender], times: dict[str, tuple[float, float]], matched: dict[str, str],
          repeats: int, load: tuple[float, float]) -> str:
    base_wall, base_cpu = times[all_[0].name]
    typer_wall, typer_cpu = times[TYPER]

    def fastest(prefix: str) -> float:  # a peer's fastest way, as a multiple of alexprof
        return min(times[c.name][0] for c in all_ if c.name.startswith(prefix)) / base_wall

    lines = ["# AlexNet (alexprof 'alexnet', 3x224x224, batch 1): whole process, fresh per call,",
             f"# median of {repeats} interleaved rounds; ratio = contender / alexprof flops json",
             *machine(), f"# load average (1 min): {load[0]:.2f} before, {load[1]:.2f} after",
             f"{'contender':40} {'wall s':>7} {'ratio':>6} {'cpu s':>7} {'ratio':>6}  totals checked"]
    for c in all_:
        wall, cpu = times[c.name]
        lines.append(f"{c.name:40} {wall:7.3f} {wall / base_wall:6.1f} {cpu:7.3f} "
                     f"{cpu / base_cpu:6.1f}  {matched.get(c.name, '')}".rstrip())
    lines += [
        f"# alexprof flops json / import typer: {base_wall / typer_wall:.2f}x wall, "
        f"{base_cpu / typer_cpu:.2f}x cpu (target: within 2x)",
        f"# fastest ptflops / alexprof flops json: {fastest('ptflops'):.1f}x wall; fastest "
        f"FlopCounterMode: {fastest('FlopCounterMode'):.1f}x wall (target: at least 10x)",
        "# totals equal before timing: ptflops MACs = alexprof --convention ptflops "
        "(count_functional=False: its per-layer sum), ptflops params = alexprof params;",
        "# FlopCounterMode FLOPs = alexprof --convention flopcounter (forward, FLOPs = 2 x MACs)",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--output", type=Path, help="also write the table here")
    args = parser.parse_args()
    all_ = contenders()
    matched = check_totals(all_)
    before = os.getloadavg()[0]
    times = timed(all_, args.repeats)
    text = table(all_, times, matched, args.repeats, (before, os.getloadavg()[0]))
    print(text, end="")
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
