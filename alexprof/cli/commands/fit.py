"""``alexprof fit``: the largest batch whose predicted training-step peak fits in memory."""

from __future__ import annotations

from typing import Annotated

import typer

from alexprof.cli.load import load, reference
from alexprof.cli.options import (
    DtypeOpt,
    ForceOpt,
    FormatOpt,
    InputOpt,
    ModelArg,
    OutputOpt,
    SpecOpt,
)
from alexprof.parse import byte_size

MemoryOpt = Annotated[
    str,
    typer.Option(
        "--memory",
        "-m",
        help="Device memory: a size (3GiB, 16GB, 40GiB, 80GiB) or a device name "
        "from `alexprof roofline --list-hardware` (gtx580 = 3 GiB).",
    ),
]
ReserveOpt = Annotated[
    str,
    typer.Option(
        "--reserve",
        help="Bytes to set aside for what memory_allocated does not see: CUDA context, "
        "cuBLAS/cuDNN workspaces, fragmentation (e.g. 600MiB). Default 0: stated in the output.",
    ),
]
OptimizerOpt = Annotated[str, typer.Option("--optimizer", help="none | sgd | sgd-momentum | adam.")]
DeviceOpt = Annotated[
    str,
    typer.Option(
        "--device", "-d", help="cuda (512-byte allocator blocks, bool dropout masks) | cpu."
    ),
]
DEVICE_HINT = ", or a device from `alexprof roofline --list-hardware` such as gtx580"


def fit(
    ctx: typer.Context,
    model: ModelArg = "alexnet",
    memory: MemoryOpt = "gtx580",
    spec: SpecOpt = None,
    input: InputOpt = None,
    dtype: DtypeOpt = "float32",
    optimizer: OptimizerOpt = "sgd-momentum",
    device: DeviceOpt = "cuda",
    reserve: ReserveOpt = "0",
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Largest batch size whose predicted training-step peak fits in --memory.

    Uses the same byte-exact prediction as [bold]memtrace --predict-only[/bold] (no torch):
    the peak of memory_allocated over input, model, forward, loss, backward, optimizer step
    and zero_grad. Example: [bold]alexprof fit alexnet-2012 --memory gtx580[/bold]
    """
    from alexprof.memory.fit import fit as run_fit
    from alexprof.report.fit_view import fit_text
    from alexprof.report.output import emit
    from alexprof.report.render import check_format
    from alexprof.speed.devices import DEVICES

    check_format(fmt)
    loaded = load(reference(model, None, spec), input)
    devices = {name: d.memory for name, d in DEVICES.items()}
    result = run_fit(
        loaded.net,
        byte_size(memory, "--memory", 1, devices, DEVICE_HINT),
        loaded.given,
        dtype,
        optimizer,
        device,
        byte_size(reserve, "--reserve", 0, devices, DEVICE_HINT),
    )
    emit(lambda: fit_text(result, loaded.net.name, fmt, ctx.obj.color(output)), output, force)
