"""What measuring costs: a plain training step against the same step recorded.

For each network, the model, optimizer and data are built once and one step is
run to warm up (the first step creates the optimizer state).  Then, ``--repeats``
times, one plain step (forward, cross-entropy, backward, optimizer step,
zero_grad) and one step recorded the way ``alexprof memtrace`` records it
(:class:`alexprof.torchside.profiler.Recorder`: ``torch.profiler`` with memory events,
one ``record_function`` per stage, then the analysis of the event tree) are
timed, alternating so that both see the same machine load.  The table gives
the medians and their ratio, and the time of a whole ``run_step`` (building
the model, initialising it, one traced step, reading every stage), which is
what ``alexprof memtrace`` pays per batch size.

On CUDA (only when a device is present) the steps are synchronised before the
clock stops.  Usage::

    python benchmarks/bench_memtrace_overhead.py [--repeats 7] [--device cpu|cuda] [--output FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time

import torch
from torch.nn.functional import cross_entropy

from alexprof.nets.zoo import index as zoo
from alexprof.torchside.profiler import Recorder
from alexprof.torchside.tracer import run_step
from alexprof.torchside.bridge import build

CASES = (("alexnet", 2), ("alexnet-2012", 2), ("linear-demo", 256))


def machine(device: str) -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"machine: {cpu}, {cores} cores available ({os.cpu_count()} online), "
             f"torch {torch.__version__} ({torch.get_num_threads()} intra-op threads), "
             f"Python {platform.python_version()}",
             "load average at start (other jobs share this machine): "
             + ", ".join(f"{v:.2f}" for v in os.getloadavg())]
    if device == "cuda":
        lines.append(f"device: {torch.cuda.get_device_name()}")
    return lines


def one_step(model, opt, x, y, device: str,  # type: ignore[no-untyped-def]
             rec: Recorder | None = None) -> float:
    stage = rec.stage if rec is not None else (lambda name: contextlib.nullcontext())
    start = time.perf_counter()
    with rec.session() if rec is not None else contextlib.nullcontext():
        with stage("forward"):
            out = model(x)
        with stage("loss"):
            loss = cross_entropy(out, y)
        with stage("backward"):
            loss.backward()
        with stage("step"):
            opt.step()
        with stage("zero_grad"):
            opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
    if rec is not None:
        rec.stages()  # the analysis is part of the cost
    return time.perf_counter() - start


def bench(name: str, batch: int, device: str, repeats: int) -> dict[str, float]:
    net = zoo.get(name)
    torch.manual_seed(0)
    model = build(net.body, device, init=True).train()
    # lr=0: the same ops every step, but the weights never drift into slow (denormal) values
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    x = torch.rand((batch, *net.input_shape), device=device)
    y = torch.randint(0, net.num_classes, (batch,), device=device)
    one_step(model, opt, x, y, device)  # warm-up: creates the momentum buffers
    plain, traced = [], []
    for _ in range(repeats):
        plain.append(one_step(model, opt, x, y, device))
        traced.append(one_step(model, opt, x, y, device, Recorder(device)))
    start = time.perf_counter()
    run_step(net, net.input_shape, batch, "float32", "sgd-momentum", device)
    whole = time.perf_counter() - start
    return {"plain": statistics.median(plain), "traced": statistics.median(traced), "whole": whole}


def table(device: str, repeats: int) -> str:
    lines = [f"memtrace tracer overhead on {device}: median of {repeats} training steps "
             "(forward, cross-entropy, backward, SGD-momentum step, zero_grad)", *machine(device), ""]
    header = f"{'model':<14}{'batch':>6}{'plain step':>13}{'recorded':>13}{'ratio':>8}{'run_step':>11}"
    lines += [header, "-" * len(header)]
    for name, batch in CASES:
        r = bench(name, batch, device, repeats)
        lines.append(f"{name:<14}{batch:>6}{r['plain'] * 1e3:>10.1f} ms{r['traced'] * 1e3:>10.1f} ms"
                     f"{r['traced'] / r['plain']:>7.2f}x{r['whole']:>9.2f} s")
    lines += ["", "ratio = recorded / plain (torch.profiler with profile_memory=True records every "
              "op and allocation;", "the event tree is then walked once);", "run_step = a whole "
              "`alexprof memtrace` measurement for one batch size (build, init, one recorded step, "
              "every stage read)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--output", help="also write the table to this file")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; the CUDA variant runs only where one is present")
    text = table(args.device, args.repeats)
    print(text, end="")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
