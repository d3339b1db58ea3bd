"""``alexprof flops``: MACs and FLOPs per layer, forward and backward."""

from __future__ import annotations

from typing import Annotated

import typer

from alexprof.cli.commands.counts import report
from alexprof.cli.load import reference
from alexprof.cli.options import (
    BatchOpt,
    ForceOpt,
    FormatOpt,
    InputOpt,
    ModelArg,
    OutputOpt,
    PlotOpt,
    SpecOpt,
    UserModelOpt,
    VerifyOpt,
)

ConventionOpt = Annotated[
    str,
    typer.Option(
        "--convention",
        "-c",
        help="macs (default: conv+linear MACs without bias, as fvcore/thop/torchprofile) | "
        "flopcounter (torch FlopCounterMode) | ptflops (ptflops 0.7.5 per-layer lines) | "
        "aten (ptflops aten backend = torchinfo mult-adds).",
    ),
]


def flops(
    ctx: typer.Context,
    model: ModelArg = "alexnet",
    input: InputOpt = None,
    batch: BatchOpt = "1",
    convention: ConventionOpt = "macs",
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
    verify: VerifyOpt = False,
    user_model: UserModelOpt = None,
    spec: SpecOpt = None,
    plot: PlotOpt = None,
) -> None:
    """MACs and FLOPs per layer (FLOPs = 2 x MACs), forward and backward, for a batch.

    Counts are for the whole batch. Backward is one training step's gradients:
    grad-input (absent for the first learned layer) plus grad-weight, 2 FLOPs per MAC.
    Example: [bold]alexprof flops alexnet --batch 128 --convention ptflops --verify[/bold]
    """
    report(
        ctx.obj,
        "flops",
        reference(model, user_model, spec),
        input,
        batch,
        fmt,
        output,
        force,
        verify,
        convention,
        plot,
    )
