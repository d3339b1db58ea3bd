"""alexprof against ptflops, FlopCounterMode, fvcore and torchinfo: time and counts.

    python benchmarks/suite.py            # full run, a few minutes on 2 cores
    python benchmarks/suite.py --quick    # one network, fewer rows, for a smoke test
    python benchmarks/suite.py --save benchmarks/results

For every network, input size and batch, each tool reports its count and is
timed two ways:

* whole process: a fresh ``python -c`` that imports the tool, builds what it
  needs and prints the count (median of ``--process-repeats`` runs; interpreter
  start and imports included, as a user or a CI job pays them);
* per call: the same call repeated in this process after one warm-up call
  (median; the network and input are built once, outside the timing).

``agree`` compares each count with what alexprof predicts for that tool without
running the network: ✓ equal, ≈ equal once a named peer quirk is added (listed
under the table), ✗ neither.  The growth rows show alexprof's cost flat in batch
size and resolution while a forward pass grows with both.  Needs the ``bench``
extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from peers import TOOLS, Tool, judge, source

from alexprof.nets.zoo import index as zoo
from alexprof.nets import Shape
from alexprof.report.render import Column, Table

BASE = (("alexnet", 1), ("alexnet-2012", 1), ("alexnet-torchvision", 1))
GROWING = "alexnet-torchvision"  # its adaptive pool accepts any input size
BATCHES = (8, 64)
SIZES = (448, 896)


@dataclass(frozen=True)
class Result:
    network: str
    input_shape: Shape
    batch: int
    tool: str
    reports: str
    count: int | None
    predicted: int
    quirk: int
    reason: str
    agree: str
    process_s: float | None
    call_s: float | None


def per_call(tool: Tool, name: str, shape: Shape, batch: int, budget_s: float) -> tuple[int, float]:
    """The tool's count and the median time of one call in this process."""
    namespace: dict[str, object] = {}
    exec(source(tool, name, shape, batch), namespace)  # noqa: S102 - our own snippets
    call = eval(f"lambda: {tool.call}", namespace)  # noqa: S307
    value = int(call())  # warm-up: first-call imports, caches, tracing set-up
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget_s and len(times) < 5000):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    namespace.clear()  # the snippets' functions hold their namespace in a cycle: free the module now
    return value, statistics.median(times)


def whole_process(tool: Tool, name: str, shape: Shape, batch: int, repeats: int) -> tuple[int, float]:
    """The count a fresh interpreter prints, and the median wall time of the process."""
    code = source(tool, name, shape, batch) + f"print(int({tool.call}))\n"
    times, value = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=600)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool.name} on {name} failed: {proc.stderr.strip()[-500:]}")
        value = int(proc.stdout.strip().splitlines()[-1])
    return value, statistics.median(times)


def run_row(tool: Tool, name: str, shape: Shape, batch: int, repeats: int, budget_s: float) -> Result:
    net = zoo.get(name)
    p = tool.predict(net, shape, batch)
    if importlib.util.find_spec(tool.needs) is None:
        return Result(name, shape, batch, tool.name, tool.reports, None, p.plain, p.quirk, p.reason,
                      "not installed", None, None)
    counted, call_s = per_call(tool, name, shape, batch, budget_s)
    printed, process_s = whole_process(tool, name, shape, batch, repeats) if repeats else (counted, None)
    if printed != counted:
        raise RuntimeError(f"{tool.name} printed {printed} in a fresh process but {counted} here")
    agree = judge(counted, p)
    return Result(name, shape, batch, tool.name, tool.reports, counted, p.plain, p.quirk,
                  p.reason if agree == "≈" else "", agree, process_s, call_s)


def plan(quick: bool) -> list[tuple[str, Shape, int, bool]]:
    """(network, input, batch, is a growth row); growth rows run one fresh process each."""
    base = BASE[:1] if quick else BASE
    rows = [(name, zoo.get(name).input_shape, batch, False) for name, batch in base]
    if quick:
        rows.append((GROWING, (3, 224, 224), 1, False))
    batches, sizes = (BATCHES[:1], SIZES[:1]) if quick else (BATCHES, SIZES)
    rows += [(GROWING, (3, 224, 224), b, True) for b in batches]
    return rows + [(GROWING, (3, s, s), 1, True) for s in sizes]


def seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.3g} µs"


def ratio(s: float | None, base: float | None) -> str:
    return "-" if s is None or not base else f"{s / base:,.1f}x" if s / base < 100 else f"{s / base:,.0f}x"


def table(results: list[Result]) -> Table:
    t = Table("alexprof vs the peers: count reported, whole-process and per-call time",
              [Column.text("network"), Column.token("input"), Column.num("batch"),
               Column.text("tool"), Column.text("reports"), Column.num("count"),
               Column.token("agree"), Column.num("process"), Column.num("x alexprof"),
               Column.num("per call"), Column.num("x alexprof ")],
              caption="process: fresh `python -c` (median of the runs asked for on the first rows, "
                      "one run on the growth rows at larger batch or input); per call: in-process "
                      "median of at least 5 calls after one warm-up; ratios: the tool's time over "
                      "alexprof's, same row. torch runs on one thread (a parallel region stalls "
                      "when a shared vCPU is taken away, which made 2-thread timings jump 10x).")
    anchor: dict[tuple[str, Shape, int], Result] = {}
    for r in results:
        key = (r.network, r.input_shape, r.batch)
        if r.tool == "alexprof":
            anchor[key] = r
        a = anchor.get(key)
        t.add(r.network, "x".join(map(str, r.input_shape)), r.batch, r.tool, r.reports,
              "-" if r.count is None else f"{r.count:,}", r.agree, seconds(r.process_s),
              ratio(r.process_s, a and a.process_s), seconds(r.call_s), ratio(r.call_s, a and a.call_s))
    return t


def growth_lines(results: list[Result]) -> list[str]:
    """Per-call time at the largest batch and resolution over the 224, batch-1 row."""
    lines = []
    grow = [r for r in results if r.network == GROWING and r.call_s]
    for tool in dict.fromkeys(r.tool for r in grow):
        mine = {(r.input_shape[1], r.batch): r.call_s for r in grow if r.tool == tool}
        base = mine.get((224, 1))
        big_b = max((b for s, b in mine if s == 224), default=1)
        big_s = max((s for s, b in mine if b == 1), default=224)
        if base:
            lines.append(f"{tool}: per call x{mine[(224, big_b)] / base:.1f} from batch 1 to "
                         f"{big_b}, x{mine[(big_s, 1)] / base:.1f} from 224 to {big_s} pixels.")
    return lines


def machine() -> dict[str, object]:
    import torch

    from alexprof.torchside.timing import cpu_model

    versions = {}
    for package in ("alexprof", "torch", "ptflops", "fvcore", "torchinfo", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent)
    versions["alexprof commit"] = head.stdout.strip() or "unknown"
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d"), "versions": versions}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one network and fewer rows")
    ap.add_argument("--process-repeats", type=int, default=3, help="fresh processes per row (0: skip)")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of repeated calls per row")
    ap.add_argument("--save", type=Path, help="folder for suite.md and suite.json")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # as in every snippet (peers.TORCH_CPU): steady timings on shared cores
    results = []
    for name, shape, batch, growth in plan(args.quick):
        repeats = min(1, args.process_repeats) if growth else args.process_repeats
        for tool in TOOLS:
            print(f"  {name} {'x'.join(map(str, shape))} batch {batch}: {tool.name}", file=sys.stderr)
            results.append(run_row(tool, name, shape, batch, repeats, args.budget))
    info = machine()
    t = table(results)
    t.footer += growth_lines(results)
    for reason in dict.fromkeys(r.reason for r in results if r.reason):
        t.footer.append(f"≈ {reason}.")
    t.footer.append(f"Machine: {info['cpu']}, {info['cores']} cores (torch threads: "
                    f"{info['torch_threads']}); Python {info['python']}; " + ", ".join(
                        f"{k} {v}" for k, v in info["versions"].items()) + f"; {info['date']}.")
    print(t.to_text("table"))
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / "suite.md").write_text(t.to_text("markdown"), encoding="utf-8")
        doc = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
               "results": [asdict(r) for r in results]}
        (args.save / "suite.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.save / 'suite.md'} and suite.json", file=sys.stderr)
    return 1 if any(r.agree == "✗" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
