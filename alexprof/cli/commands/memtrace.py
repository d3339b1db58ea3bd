"""``alexprof memtrace``: memory at each stage of one training step, predicted and measured.

The prediction (:mod:`alexprof.memory.predict`) never imports torch; the measurement
(:mod:`alexprof.torchside.tracer`) does, only when the command measures.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alexprof.cli.load import load, reference
from alexprof.cli.options import (
    DtypeOpt,
    ForceOpt,
    FormatOpt,
    InputOpt,
    ModelArg,
    OutputOpt,
    PlotOpt,
    SpecOpt,
)
from alexprof.errors import CheckFailed, UsageError
from alexprof.parse import batch_list

if TYPE_CHECKING:
    from alexprof.memory.predict import Prediction
    from alexprof.memory.stages import Trace
    from alexprof.nets import Shape
    from alexprof.nets.net import Net
    from alexprof.report.memreport import MemRun

DeviceOpt = Annotated[
    str,
    typer.Option(
        "--device",
        "-d",
        help="cuda | cpu | auto (cuda when available, else cpu; with "
        "--predict-only auto means cuda).",
    ),
]
SweepOpt = Annotated[
    str | None,
    typer.Option(
        "--batch",
        "-b",
        metavar="N[,N...]",
        help="Batch size, or a comma list for a sweep (1,8,32,128). Default: the network's own "
        "(1; 256 for linear-demo).",
    ),
]
OptimizerOpt = Annotated[
    str,
    typer.Option(
        "--optimizer",
        help="none | sgd | sgd-momentum | adam (the first step: it creates the state).",
    ),
]
PredictOpt = Annotated[
    bool,
    typer.Option("--predict-only", help="Only the analytic prediction: no torch, any batch size."),
]
LogOpt = Annotated[
    bool,
    typer.Option(
        "--log", help="Also print every allocation and free the profiler saw, with its op (stderr)."
    ),
]


def resolve_device(device: str, predict_only: bool) -> str:
    from alexprof.errors import choose

    choose(("auto", "cuda", "cpu"), device, "--device", option=True)
    if predict_only:
        return "cuda" if device == "auto" else device
    from alexprof.torchside.tracer import cuda_available

    if device == "cuda" and not cuda_available():
        raise UsageError(
            "--device cuda: no CUDA device is available on this machine; "
            "use --device cpu, or --predict-only for the GPU prediction"
        )
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    return device


def memtrace(
    ctx: typer.Context,
    model: ModelArg = "alexnet",
    spec: SpecOpt = None,
    input: InputOpt = None,
    device: DeviceOpt = "auto",
    batch: SweepOpt = None,
    dtype: DtypeOpt = "float32",
    optimizer: OptimizerOpt = "sgd-momentum",
    predict_only: PredictOpt = False,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
    log: LogOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Memory after and within each stage of one training step, predicted and measured.

    Stages: input, model, forward, loss (cross-entropy, plus 0.3 x each auxiliary
    classifier's), backward, step, zero_grad.
    Measured with torch.profiler's allocation events (which change nothing in the
    step) and, on CUDA, the caching allocator. A difference the tool cannot
    explain exits 1.
    Example: [bold]alexprof memtrace alexnet --device cpu --batch 1,2,4[/bold]
    """
    from alexprof.errors import choose
    from alexprof.memory.predict import DTYPES, OPTIMIZERS
    from alexprof.report.memviews import memtrace_text
    from alexprof.report.output import emit
    from alexprof.report.render import check_format

    check_format(fmt)
    choose(DTYPES, dtype, "--dtype", option=True)
    choose(OPTIMIZERS, optimizer, "--optimizer", option=True)
    loaded = load(reference(model, None, spec), input)
    net = loaded.net  # descriptors, or a user's module (its recorded rows and data flow)
    batches = batch_list(batch or str(net.batch))
    if plot is not None and len(batches) > 1:
        raise UsageError(f"--plot draws one batch size; --batch {batch!r} names {len(batches)}")
    if plot is not None:
        from alexprof.report.plots import check_plot

        plot = check_plot(plot, force)
    dev = resolve_device(device, predict_only)
    runs, failure = _runs(net, loaded.shape, batches, dtype, optimizer, dev, predict_only, log)
    if runs:
        emit(lambda: memtrace_text(runs, fmt, ctx.obj.color(output)), output, force)
    if plot is not None and runs:
        _plot(runs[0], plot)
    if failure is not None:
        raise failure
    failed = [(run.prediction.batch, row) for run in runs for row in run.failed]
    if failed:
        b, row = failed[0]
        raise CheckFailed(
            f"{len(failed)} stage(s) differ without explanation; first: batch {b} "
            f"{row.stage}: {row.reason}"
        )


def _runs(
    net: Net,
    shape: Shape,
    batches: list[int],
    dtype: str,
    optimizer: str,
    device: str,
    predict_only: bool,
    log: bool,
) -> tuple[list[MemRun], CheckFailed | None]:
    """One MemRun per batch size (predicted, and measured unless --predict-only), and the
    out-of-memory failure that stopped the sweep, if one did."""
    from alexprof.memory.predict import predict
    from alexprof.report.memreport import MemRun

    runs: list[MemRun] = []
    for b in _progress(batches, f"{net.name} on {device}"):
        pred = predict(net, shape, b, dtype, optimizer, device)
        if predict_only:
            runs.append(MemRun(pred))
            continue
        try:
            runs.append(MemRun(pred, _measure(net, shape, b, dtype, optimizer, device, log)))
        except CheckFailed as e:  # out of memory: say where, and what was predicted there
            return runs, _oom(e, pred)
    return runs, None


def _measure(
    net: Net, shape: Shape, batch: int, dtype: str, optimizer: str, device: str, log: bool
) -> Trace:
    from alexprof.torchside.tracer import run_step

    trace = run_step(net, shape, batch, dtype, optimizer, device, log=log)
    for line in trace.log:
        print(line, file=sys.stderr)
    return trace


def _plot(run: MemRun, path: Path) -> None:
    """The stage timeline: measured (or predicted) bytes after each stage, and the peak."""
    from alexprof.report.plots import stage_timeline

    p, rows = run.prediction, run.rows
    measured = run.trace is not None
    stage_timeline(
        path,
        f"{p.model}: one training step ({p.device}, batch {p.batch}, {p.dtype}, {p.optimizer})",
        [r.stage for r in rows],
        [r.predicted if r.allocated is None else r.allocated for r in rows],
        [r.predicted for r in rows] if measured else None,
        max(r.peak or 0 for r in rows) if measured else p.peak,
    )


def _oom(e: CheckFailed, pred: Prediction) -> CheckFailed:
    stage = getattr(e, "stage", None)
    if stage is None:
        return e
    if stage not in {s.stage for s in pred.stages}:  # the warm-up: one step at batch 1
        return CheckFailed(f"{e}; predicted peak of the whole step: {pred.peak:,} B")
    s = pred.stage(stage)
    return CheckFailed(
        f"{e}; predicted for {stage}: {s.allocated:,} B after, {s.peak:,} B peak "
        f"(whole step peak {pred.peak:,} B)"
    )


def _progress(items: list[int], what: str) -> Iterator[int]:
    if len(items) < 2 or not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"memtrace {what}", total=len(items))
        for item in items:
            bar.update(task, description=f"memtrace {what}: batch {item}")
            yield item
            bar.advance(task)
