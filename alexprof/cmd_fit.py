"""``alexprof fit``: the largest batch whose predicted training-step peak fits in memory."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alexprof.cli import (
    FormatOpt, ForceOpt, InputOpt, ModelArg, OutputOpt, SpecOpt, _color, app, model_ref,
    parse_input, resolve_model,
)

MemoryOpt = Annotated[str, typer.Option(
    "--memory", "-m", help="Device memory: a size (3GiB, 16GB, 40GiB, 80GiB) or a device name "
    "from `alexprof roofline --list-hardware` (gtx580 = 3 GiB).")]
ReserveOpt = Annotated[str, typer.Option(
    "--reserve", help="Bytes to set aside for what memory_allocated does not see: CUDA context, "
    "cuBLAS/cuDNN workspaces, fragmentation (e.g. 600MiB). Default 0: stated in the output.")]


@app.command()
def fit(
    model: ModelArg = "alexnet", memory: MemoryOpt = "gtx580", spec: SpecOpt = None,
    input: InputOpt = None,
    dtype: Annotated[str, typer.Option("--dtype", help="float32 | float16 | bfloat16.")] = "float32",
    optimizer: Annotated[str, typer.Option(
        "--optimizer", help="none | sgd | sgd-momentum | adam.")] = "sgd-momentum",
    device: Annotated[str, typer.Option(
        "--device", "-d", help="cuda (512-byte allocator blocks, bool dropout masks) | cpu.")] = "cuda",
    reserve: ReserveOpt = "0", fmt: FormatOpt = "table", output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Largest batch size whose predicted training-step peak fits in --memory.

    Uses the same byte-exact prediction as [bold]memtrace --predict-only[/bold] (no torch):
    the peak of memory_allocated over input, model, forward, loss, backward, optimizer step
    and zero_grad. Example: [bold]alexprof fit alexnet-2012 --memory gtx580[/bold]
    """
    from alexprof.memory.fit import fit as run_fit, parse_size
    from alexprof.report.render import check_format, emit

    check_format(fmt)
    net = resolve_model(model_ref(model, None, spec), parse_input(input))
    result = run_fit(net, parse_size(memory), parse_input(input), dtype, optimizer, device,
                     parse_size(reserve, "--reserve", minimum=0))
    emit(render(result, net.name, fmt, _color(output)), output, force)


def document(result: Any, model: str) -> dict[str, Any]:
    p = result.prediction
    return {
        "schema": "alexprof/1", "model": model, "memory": result.memory,
        "reserve": result.reserve, "batch": result.batch,
        "peak_predicted": p.peak if p else None, "next_peak_predicted": result.next_peak,
        "device": p.device if p else None, "dtype": p.dtype if p else None,
        "optimizer": p.optimizer if p else None, "breakdown": dict(p.breakdown) if p else {},
        "stages": [{"stage": s.stage, "predicted": s.allocated, "peak_predicted": s.peak}
                   for s in p.stages] if p else [],
    }


def render(result: Any, model: str, fmt: str, color: bool) -> str:
    from alexprof.report.memreport import MemRun
    from alexprof.report.memviews import breakdown_table, size, stage_table
    from alexprof.report.render import csv_records, to_json

    doc = document(result, model)
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return csv_records([{k: doc[k] for k in ("model", "memory", "reserve", "batch",
                                                  "peak_predicted", "next_peak_predicted")}])
    budget = f"{size(result.memory)}" + (f" less {size(result.reserve)} reserved" if result.reserve else "")
    if not result.prediction:
        return (f"{model}: not even batch 1 fits in {budget}: its predicted peak is "
                f"{size(result.next_peak)}.\n")
    p = result.prediction
    lines = [
        f"{model}: the largest batch that fits in {budget} is {result.batch} "
        f"(predicted peak {p.peak:,} B = {size(p.peak)}; batch {result.batch + 1} would need "
        f"{result.next_peak:,} B; budget {result.budget:,} B). {p.device}, {p.dtype}, optimizer {p.optimizer}; "
        f"{result.tried} predictions searched.",
        "The peak is memory_allocated (tensors in 512-byte blocks on CUDA); the CUDA context, "
        "cuBLAS/cuDNN workspaces and fragmentation are outside it"
        + (f" and are covered by --reserve {size(result.reserve)}." if result.reserve
           else ": set them aside with --reserve."),
    ]
    text = "\n".join(lines) + "\n\n"
    tables = (stage_table(MemRun(p)), breakdown_table(p))
    return text + "\n".join(t.to_text(fmt, color) for t in tables)
