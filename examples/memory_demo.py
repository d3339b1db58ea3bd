"""The source's memory demonstration, step by step, every step's bytes measured and explained.

    X = torch.rand(1024, 1024)                      # float32
    y = torch.randint(0, 1024, (1024, 1))           # int64
    net = nn.Sequential(nn.Linear(1024, 1024, bias=False), nn.Linear(1024, 1024, bias=False))
    X1 = X[:256]
    y_hat = net(X1)
    loss = nn.CrossEntropyLoss()(y_hat, y[:256].squeeze())
    loss.backward()

On CUDA the "allocated" column is ``torch.cuda.memory_allocated()`` after each step, as in
the source; a warm-up first creates the cuBLAS workspaces (one per thread that runs a
matmul: this one and autograd's device thread) so that they do not land inside a step,
and reports them.  On CPU it is the bytes of live storages, from the allocation events of
``torch.profiler`` (``alexprof.torchside.profiler``), which leave the step itself unchanged.
Next to each step: alexprof's prediction (``alexprof memtrace linear-demo``) and why.

Usage: ``python examples/memory_demo.py [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from alexprof.nets.zoo import index as zoo
from alexprof.memory.predict import predict
from alexprof.torchside.profiler import Recorder
from alexprof.report.memviews import size


def explain(device: str) -> list[tuple[str, int, str]]:
    """(step, predicted delta, why) from the analytic model of the same step."""
    p = predict(zoo.get("linear-demo"), batch=256, optimizer="none", device=device)
    x, y = (e.buffer.nbytes for e in p.events if e.stage == "input")
    d = {s.stage: s.delta for s in p.stages}
    scalar = "4 B" if device == "cpu" else "512 B (one CUDA block)"
    return [
        ("X = torch.rand(1024, 1024)", x, "1024 x 1024 float32 = 4 MiB"),
        ("y = torch.randint(0, 1024, (1024, 1))", y, "1024 x 1 int64 = 8 KiB"),
        ("net = 2 x nn.Linear(1024, 1024, bias=False)", d["model"], "two 1024 x 1024 float32 weights"),
        ("X1 = X[:256]", 0, "a view of X: same storage, no new bytes"),
        ("y_hat = net(X1)", d["forward"],
         "fc1's output (256 x 1024, kept: fc2 needs it for its weight gradient) + y_hat"),
        ("loss = CrossEntropyLoss()(y_hat, y[:256].squeeze())", d["loss"],
         f"log-softmax 256 x 1024 (kept for backward) + loss + total weight, {scalar} each"),
        ("loss.backward()", d["backward"],
         "+8 MiB .grad; freed: the log-softmax, fc1's output, the total weight "
         f"(peak {size(p.stage('backward').peak - p.stage('loss').allocated)} above the start)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="the source's memory demonstration, explained")
    parser.add_argument("--device", choices=("cpu", "cuda"),
                        default="cuda" if torch.cuda.is_available() else "cpu")
    device = parser.parse_args().device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; run with --device cpu")
    torch.manual_seed(0)
    if device == "cuda":  # cuBLAS workspaces: a matmul here and one in autograd's device thread
        w = nn.Linear(64, 64, device=device)
        w(torch.randn(64, 64, device=device)).sum().backward()
        del w
        print(f"warm-up: {size(torch.cuda.memory_allocated())} stay allocated "
              "(cuBLAS workspaces of this thread and of autograd's device thread)")
    baseline = torch.cuda.memory_allocated() if device == "cuda" else 0
    cuda_rows: list[int] = []

    def mark() -> None:  # the source prints memory_allocated() after each step
        if device == "cuda":
            cuda_rows.append(torch.cuda.memory_allocated() - baseline)

    steps = explain(device)
    rec = Recorder("cpu")
    with rec.session():
        with rec.stage("X"):
            X = torch.rand(1024, 1024, device=device)
        mark()
        with rec.stage("y"):
            y = torch.randint(0, 1024, (1024, 1), device=device)
        mark()
        with rec.stage("net"):
            net = nn.Sequential(nn.Linear(1024, 1024, bias=False),
                                nn.Linear(1024, 1024, bias=False)).to(device)
        mark()
        with rec.stage("X1"):
            X1 = X[:256]
        mark()
        with rec.stage("y_hat"):
            y_hat = net(X1)
        mark()
        with rec.stage("loss"):
            loss = nn.CrossEntropyLoss()(y_hat, y[:256].squeeze())
        mark()
        with rec.stage("backward"):
            loss.backward()
        mark()
    rows = cuda_rows if device == "cuda" else [s.allocated for s in rec.stages()]
    if len(rows) != len(steps):  # every step must have been recorded, or nothing is shown
        raise SystemExit(f"recorded {len(rows)} stages for {len(steps)} steps")
    prev, ok = 0, True
    print(f"{'step':52} {'allocated':>11} {'Δ bytes':>11} {'predicted Δ':>11}   why")
    for (step, want, why), now in zip(steps, rows):
        got = now - prev
        ok &= got == want
        print(f"{step:52} {size(now):>11} {got:>11,} {want:>11,} "
              f"{'✓' if got == want else '✗'} {why}")
        prev = now
    print("every step equal to the byte" if ok else "DIFFERENCE: see the ✗ rows")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
