"""The options several commands share, each written once as an ``Annotated`` type.

Command-only options live beside their command.  Values arrive as the text the
user typed; :mod:`alexprof.parse` turns them into numbers, shapes and sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ModelArg = Annotated[
    str,
    typer.Argument(
        help="A network from `alexprof models`, a spec file (net.toml / net.json) or a user "
        "module (path/to/file.py:factory, package.module:factory).",
        show_default=True,
    ),
]
UserModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="FILE.py:FACTORY",
        help="A callable returning a torch.nn.Module: path/to/file.py:factory or "
        "package.module:factory. Needs --input. Replaces MODEL.",
    ),
]
SpecOpt = Annotated[
    Path | None,
    typer.Option(
        "--spec", metavar="NET.toml", help="A network spec file (TOML or JSON). Replaces MODEL."
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option(
        "--input",
        "-i",
        metavar="C,H,W",
        help="Input shape per sample, e.g. 3,224,224. Default: the network's own.",
    ),
]
BatchOpt = Annotated[
    str, typer.Option("--batch", "-b", metavar="N", help="Batch size (a positive integer).")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table | json | csv | markdown.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Allow --output to replace an existing file.")
]
VerifyOpt = Annotated[
    bool,
    typer.Option(
        "--verify",
        help="Build the network in torch and compare every layer with what torch, "
        "FlopCounterMode and ptflops measure; exit 1 on an unexplained difference.",
    ),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE.png|FILE.svg",
        help="Also draw a chart into this file (needs matplotlib: pip install 'alexprof\\[plot]').",
    ),
]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="float32 | float16 | bfloat16.")]
