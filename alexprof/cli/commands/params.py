"""``alexprof params``: parameters per layer."""

from __future__ import annotations

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


def params(
    ctx: typer.Context,
    model: ModelArg = "alexnet",
    input: InputOpt = None,
    batch: BatchOpt = "1",
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
    verify: VerifyOpt = False,
    user_model: UserModelOpt = None,
    spec: SpecOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Parameters per layer: weights and bias apart, share of the total, the largest layer.

    Also prints the source material's mixed total (conv without bias, FC with bias).
    Example: [bold]alexprof params alexnet-2012 --verify[/bold]
    """
    report(
        ctx.obj,
        "params",
        reference(model, user_model, spec),
        input,
        batch,
        fmt,
        output,
        force,
        verify,
        "macs",
        plot,
    )
