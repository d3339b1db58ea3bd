"""Whole-process time to get a user module's totals: ``alexprof flops --model`` vs its peers.

The module is ``benchmarks/models/resnet.py:resnet50``, a ResNet-50 written as plain torch
code; every contender gets that same file, the way a user has a model.  Each call runs in a
fresh interpreter (what a user or a CI job pays), side by side in one run, rounds
interleaved so that drift on the machine hits all alike; the tables show the median of N
calls (wall clock, and the CPU time of the process).

* alexprof: ``alexprof flops --model benchmarks/models/resnet.py:resnet50 -i 3,224,224
  --format json`` (the console script, as installed).
* ptflops 0.7.5 on the CPU with real (initialised) weights, the way its users run it, and
  on the meta device (no weights); ``print_per_layer_stat=False``, ``as_strings=False``,
  ``count_functional=False`` (so its total is the sum of its per-layer lines).
* FlopCounterMode: one forward pass under the mode, on meta and on the CPU.
* torchinfo ``summary(model, input_size=(1, 3, 224, 224), verbose=0)`` and fvcore
  ``FlopCountAnalysis(model, x).total()``, both on the CPU; each is skipped, with one line
  saying why, where it does not import or run (``pip install -e '.[bench]'`` brings both).
* ``python -c "import torch"``: the floor, since every contender here imports torch.

Before timing, each peer's totals are checked equal to alexprof's under the convention that
names that peer: ptflops MACs and params = alexprof ``--convention ptflops`` (per sample:
ptflops divides by the batch); FlopCounterMode FLOPs = ``--convention flopcounter``;
fvcore's conv + linear = the default ``macs`` convention, and torchinfo's mult-adds =
``--convention aten``.  Where fvcore or torchinfo count more than that (fvcore: batch_norm
and adaptive_avg_pool2d; torchinfo: BatchNorm's weight and bias once per sample), the extra
must be exactly what is named, and a line under the table says so; any other difference
stops the run before timing.

A second table ("flatness") times alexprof and the fastest peers at batch 1 and 64 and at
224 and 448 pixels, each as a multiple of its own batch-1, 224-pixel time: alexprof's
counts come from shapes, so its time should stay flat where the peers' forward passes grow.
Children run with bytecode caching on (as after ``pip install``) and from the repository
root; the totals check is also each command's warm-up run.

Usage (a quiet machine; about 10 minutes on 2 cores with the defaults)::

    python benchmarks/bench_usermodule.py [--repeats 5] [--flat-repeats 3] [--no-flat]
        [--output benchmarks/results/bench_usermodule.txt]
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "benchmarks/models/resnet.py:resnet50"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TORCH = 'python -c "import torch"'

Setting = tuple[int, int]  # (batch, pixels): input BATCH x 3 x SIZE x SIZE
BASE: Setting = (1, 224)
FLAT: tuple[Setting, ...] = (BASE, (64, 224), (1, 448))

PTFLOPS = """\
import io, ptflops
extra = {} if BATCH == 1 else {
    'input_constructor': lambda res: torch.randn((BATCH, *res), device=DEVICE)}
macs, params = ptflops.get_model_complexity_info(model, (3, SIZE, SIZE), as_strings=False,
    print_per_layer_stat=False, ost=io.StringIO(),
    backend_specific_config={'count_functional': False}, **extra)
print(json.dumps({'macs': int(macs), 'params': int(params)}))
"""
FLOPCOUNTER = """\
from torch.utils.flop_counter import FlopCounterMode
x = torch.randn(BATCH, 3, SIZE, SIZE, device=DEVICE)
with FlopCounterMode(display=False) as counter:
    model(x)
print(json.dumps({'flops': counter.get_total_flops()}))
"""
TORCHINFO = """\
from torchinfo import summary
stats = summary(model, input_size=(BATCH, 3, SIZE, SIZE), verbose=0)
print(json.dumps({'mult_adds': int(stats.total_mult_adds), 'params': int(stats.total_params)}))
"""
FVCORE = """\
from fvcore.nn import FlopCountAnalysis
x = torch.randn(BATCH, 3, SIZE, SIZE, device=DEVICE)
analysis = FlopCountAnalysis(model, x)
total = analysis.total()
print(json.dumps({'total': int(total),
                  'by_operator': {k: int(v) for k, v in analysis.by_operator().items()}}))
"""


@dataclass(frozen=True)
class Contender:
    name: str
    command: list[str]
    compared: str = ""  # which alexprof totals its numbers must equal ("" none)
    setting: Setting = BASE
    optional: bool = False  # a peer that may be missing: skipped with a line, not fatal

    @property
    def tool(self) -> str:  # the contender without its setting: a row of the flatness table
        return self.name.split(" @ ")[0]


def alexprof_exe() -> str:
    return shutil.which("alexprof") or str(Path(sys.executable).with_name("alexprof"))


def alexprof_args(setting: Setting, *more: str) -> list[str]:
    batch, size = setting
    args = ["flops", "--model", MODEL, "-i", f"3,{size},{size}"]
    return [*args, *(["-b", str(batch)] if batch != 1 else []), "--format", "json", *more]


def alexprof_name(setting: Setting) -> str:
    batch, size = setting
    return f"alexprof flops --model M -i 3,{size},{size}" + (f" -b {batch}" if batch != 1 else "")


def peer_source(device: str, setting: Setting, snippet: str) -> str:
    """The peer's whole script: the user's module built on ``device``, then ``snippet``."""
    batch, size = setting
    build = "model = resnet50().eval()"
    if device != "cpu":  # on the CPU a user builds it plainly; elsewhere under torch.device
        build = f"with torch.device(DEVICE):\n    {build}"
    return ("import json, sys\nimport torch\n"
            f"sys.path.insert(0, {str(ROOT / 'benchmarks' / 'models')!r})\n"
            "from resnet import resnet50\n"
            f"DEVICE, BATCH, SIZE = {device!r}, {batch}, {size}\n"
            f"torch.manual_seed(0)\n{build}\n{snippet}")


PEERS: tuple[tuple[str, str, str, str, bool], ...] = (  # name, device, snippet, compared, optional
    ("ptflops, CPU, real weights", "cpu", PTFLOPS, "ptflops", False),
    ("ptflops, meta", "meta", PTFLOPS, "ptflops", False),
    ("FlopCounterMode, meta", "meta", FLOPCOUNTER, "flopcounter", False),
    ("FlopCounterMode, CPU", "cpu", FLOPCOUNTER, "flopcounter", False),
    ("torchinfo summary, CPU", "cpu", TORCHINFO, "torchinfo", True),
    ("fvcore FlopCountAnalysis, CPU", "cpu", FVCORE, "fvcore", True),
)
FLAT_PEERS = ("ptflops, CPU, real weights", "FlopCounterMode, meta")  # each one's fastest way


def contenders(setting: Setting = BASE, only: tuple[str, ...] | None = None,
               floor: bool = True) -> list[Contender]:
    """alexprof, the peers (``only`` those named, if given), and ``import torch`` as the floor."""
    py, tag = sys.executable, "" if setting == BASE else f" @ b{setting[0]} {setting[1]}px"
    out = [Contender(alexprof_name(BASE) + tag, [alexprof_exe(), *alexprof_args(setting)],
                     "alexprof", setting)]
    for name, device, snippet, compared, optional in PEERS:
        if only is None or name in only:
            out.append(Contender(name + tag, [py, "-c", peer_source(device, setting, snippet)],
                                 compared, setting, optional))
    if floor:
        out.append(Contender(TORCH, [py, "-c", "import torch"]))
    return out


# -- totals -------------------------------------------------------------------------------

Ours = Callable[[str], dict]  # convention -> alexprof's JSON at the contender's setting


def compare(c: Contender, got: dict, ours: Ours) -> tuple[str, str]:
    """('', what matched) or (why not, ''); plus, for fvcore and torchinfo, a note of what
    they count beyond alexprof's convention, in the 'what matched' text after a ';'."""
    batch = c.setting[0]
    if c.compared == "alexprof":
        return "", ""
    if c.compared == "ptflops":  # ptflops 0.7.5 reports per sample: its batch total / batch
        t = ours("ptflops")["totals"]
        want = {"macs": t["macs"] // batch, "params": t["params"]}
        if t["macs"] % batch == 0 and got == want:
            return "", f"macs {got['macs']:,}, params {got['params']:,}"
        return f"ptflops {got} vs alexprof --convention ptflops {want} (per sample)", ""
    if c.compared == "flopcounter":
        want = {"flops": ours("flopcounter")["totals"]["flops"]}
        if got == want:
            return "", f"flops {got['flops']:,}"
        return f"FlopCounterMode {got} vs alexprof --convention flopcounter {want}", ""
    if c.compared == "fvcore":  # conv + linear MACs, no bias = alexprof's 'macs'
        want = ours("macs")["totals"]["macs"]
        ops = got["by_operator"]
        counted = sum(v for k, v in ops.items() if k in ("conv", "linear", "matmul", "addmm"))
        extra = {k: v for k, v in ops.items() if k not in ("conv", "linear", "matmul", "addmm")}
        if counted == want and got["total"] == counted + sum(extra.values()):
            more = ", ".join(f"{k} {v:,}" for k, v in extra.items())
            return "", (f"conv+linear {counted:,} of {got['total']:,}" + (f"; + {more}" if more
                                                                         else ""))
        return f"fvcore {got} vs alexprof macs {want:,}", ""
    if c.compared == "torchinfo":  # conv + linear with bias = alexprof's 'aten'
        data = ours("aten")
        want, params = data["totals"]["macs"], data["totals"]["params"]
        bn = batch * sum(row["params"] for row in data["layers"]
                         if row["type"].startswith("BatchNorm"))
        if got["params"] == params and got["mult_adds"] in (want, want + bn):
            note = f"; + BatchNorm weight+bias x batch {bn:,}" if got["mult_adds"] != want else ""
            return "", f"mult-adds {got['mult_adds']:,}, params {params:,}{note}"
        return (f"torchinfo {got} vs alexprof --convention aten macs {want:,} "
                f"(+ BatchNorm params x batch {bn:,}), params {params:,}"), ""
    return "", ""


def check_totals(all_: list[Contender]) -> tuple[list[Contender], dict[str, str], list[str]]:
    """Run every command once (also its warm-up); each peer's numbers must equal alexprof's.
    Returns the contenders that ran, name -> what matched, and one line per optional peer
    that failed (dropped).  Exits, listing every difference, if any peer disagrees."""
    cache: dict[tuple[str, Setting], dict] = {}

    def ours_at(setting: Setting) -> Ours:
        def ours(convention: str) -> dict:
            if (convention, setting) not in cache:
                more = () if convention == "macs" else ("--convention", convention)
                out = subprocess.run([alexprof_exe(), *alexprof_args(setting, *more)], cwd=ROOT,
                                     capture_output=True, text=True, env=ENV)
                if out.returncode != 0:
                    sys.exit(f"alexprof failed: {out.stderr.strip()[-2000:]}")
                cache[convention, setting] = json.loads(out.stdout)
            return cache[convention, setting]
        return ours

    ran, matched, wrong, skipped = [], {}, [], []
    for c in all_:
        out = subprocess.run(c.command, cwd=ROOT, capture_output=True, text=True, env=ENV)
        if out.returncode != 0:
            why = (out.stderr.strip().splitlines() or ["no output"])[-1]
            if not c.optional:
                sys.exit(f"{c.name} failed: {out.stderr.strip()[-2000:]}")
            skipped.append(f"# skipped {c.name}: it failed ({why})")
            print(skipped[-1])
            continue
        ran.append(c)
        if c.compared == "alexprof":
            cache["macs", c.setting] = json.loads(out.stdout)  # the timed command is 'macs'
        if c.compared in ("", "alexprof"):
            continue
        got = json.loads(out.stdout.strip().splitlines()[-1])
        wrongly, shown = compare(c, got, ours_at(c.setting))
        if wrongly:
            wrong.append(f"totals differ for {c.name}: {wrongly}")
        elif shown:
            matched[c.name] = shown
    if wrong:
        sys.exit("\n".join(wrong))
    return ran, matched, skipped


# -- timing -------------------------------------------------------------------------------

def run_once(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command[:3]} failed")
    return wall, usage.ru_utime + usage.ru_stime


def timed(all_: list[Contender], repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) per contender over ``repeats`` interleaved rounds."""
    samples: dict[str, list[tuple[float, float]]] = {c.name: [] for c in all_}
    for _ in range(repeats):
        for c in all_:
            samples[c.name].append(run_once(c.command))
    return {name: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
            for name, v in samples.items()}


# -- tables -------------------------------------------------------------------------------

def machine() -> list[str]:
    import importlib.metadata as md

    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass

    def version(p: str) -> str:
        try:
            return f"{p} {md.version(p)}"
        except md.PackageNotFoundError:
            return f"{p} (not installed)"

    packages = ("alexprof", "torch", "ptflops", "torchinfo", "fvcore")
    versions = ", ".join(version(p) for p in packages)
    return [f"# machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            f"# Python {platform.python_version()}, {versions}"]


def load_line(load: tuple[float, float]) -> str:
    return f"# load average (1 min): {load[0]:.2f} before, {load[1]:.2f} after"


def table(all_: list[Contender], times: dict[str, tuple[float, float]], matched: dict[str, str],
          repeats: int, load: tuple[float, float], header: list[str] | None = None,
          skipped: list[str] | tuple[str, ...] = ()) -> str:
    """The main table: every contender at batch 1, 224 pixels, as a multiple of alexprof."""
    base_wall, base_cpu = times[all_[0].name]
    peers = [c for c in all_ if c.compared not in ("", "alexprof")]
    width = max(len(c.name) for c in all_) + 1
    lines = [f"# ResNet-50 user module (M = {MODEL}), 3x224x224, batch 1: whole process,",
             f"# fresh per call, median of {repeats} interleaved rounds; ratio = contender / "
             "alexprof", *(machine() if header is None else header), load_line(load),
             f"{'contender':{width}} {'wall s':>7} {'ratio':>6} {'cpu s':>7} {'ratio':>6}"
             "  totals checked"]
    for c in all_:
        wall, cpu = times[c.name]
        lines.append(f"{c.name:{width}} {wall:7.3f} {wall / base_wall:6.2f} {cpu:7.3f} "
                     f"{cpu / base_cpu:6.2f}  {matched.get(c.name, '').split(';')[0]}".rstrip())
    if peers:
        best = min(peers, key=lambda c: times[c.name][0])
        lines.append(f"# fastest peer: {best.name}, {times[best.name][0]:.3f} s; alexprof / it: "
                     f"{base_wall / times[best.name][0]:.2f}x wall, "
                     f"{base_cpu / times[best.name][1]:.2f}x cpu (target: at most 1.00)")
    if TORCH in times:
        lines.append(f"# alexprof / import torch: {base_wall / times[TORCH][0]:.2f}x wall, "
                     f"{base_cpu / times[TORCH][1]:.2f}x cpu")
    lines += [
        "# totals equal before timing: ptflops MACs, params = alexprof --convention ptflops "
        "(count_functional=False: its per-layer sum);",
        "# FlopCounterMode FLOPs = alexprof --convention flopcounter (forward, FLOPs = 2 x MACs);",
        "# fvcore conv+linear = alexprof macs (default); torchinfo mult-adds = alexprof "
        "--convention aten, params = alexprof params",
    ]
    lines += [f"# {name} also counts {shown.split('; + ', 1)[1]} (not in alexprof's convention)"
              for name, shown in matched.items() if "; + " in shown]
    lines += skipped
    return "\n".join(lines) + "\n"


def flat_table(all_: list[Contender], times: dict[str, tuple[float, float]], repeats: int,
               load: tuple[float, float]) -> str:
    """Flatness: each tool's wall time per setting, and as a multiple of its batch-1,
    224-pixel time; the last line, each setting's fastest peer as a multiple of alexprof."""
    tools = list(dict.fromkeys(c.tool for c in all_))
    cell = {(c.tool, c.setting): times[c.name][0] for c in all_ if c.name in times}
    width = max(len(t) for t in tools) + 1
    heads = [f"b{b} {s}px" for b, s in FLAT]
    lines = [f"# flatness: the same module at batch 1 and 64, 224 and 448 pixels; median wall s "
             f"of {repeats} interleaved rounds,",
             "# x = that time / the same contender's batch-1, 224-pixel time",
             load_line(load),
             f"{'contender':{width}}" + "".join(f" {h:>11} {'x':>5}" for h in heads)]
    for tool in tools:
        base = cell.get((tool, BASE))
        row = f"{tool:{width}}"
        for setting in FLAT:
            wall = cell.get((tool, setting))
            row += (f" {wall:11.3f} {wall / base:5.2f}" if wall is not None and base
                    else f" {'-':>11} {'-':>5}")
        lines.append(row)
    alexprof = tools[0]
    ratios = []
    for (b, s), head in zip(FLAT, heads):
        peers = [cell[t, (b, s)] for t in tools[1:] if (t, (b, s)) in cell]
        if peers and (alexprof, (b, s)) in cell:
            ratios.append(f"{head} {min(peers) / cell[alexprof, (b, s)]:.2f}x")
    if ratios:
        lines.append("# fastest peer / alexprof: " + ", ".join(ratios))
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds for the main table")
    parser.add_argument("--flat-repeats", type=int, default=3, help="rounds for the flatness table")
    parser.add_argument("--no-flat", action="store_true", help="skip the flatness table")
    parser.add_argument("--output", type=Path, help="also write the tables here (atomically)")
    args = parser.parse_args()
    main_, matched, skipped = check_totals(contenders())
    flat: list[Contender] = []
    if not args.no_flat:
        flat = [c for setting in FLAT[1:] for c in contenders(setting, FLAT_PEERS, floor=False)]
        flat, more, _ = check_totals(flat)
        matched |= more
    before = os.getloadavg()[0]
    times = timed(main_, args.repeats)
    text = table(main_, times, matched, args.repeats, (before, os.getloadavg()[0]),
                 skipped=skipped)
    if flat:
        # the batch-1, 224-pixel rows are timed again, in the same rounds as the others
        base = [c for c in main_ if c.compared == "alexprof" or c.name in FLAT_PEERS]
        before = os.getloadavg()[0]
        flat_times = timed([*base, *flat], args.flat_repeats)
        text += "\n" + flat_table([*base, *flat], flat_times, args.flat_repeats,
                                  (before, os.getloadavg()[0]))
    print(text, end="")
    if args.output:
        write_atomically(args.output, text)


if __name__ == "__main__":
    main()
