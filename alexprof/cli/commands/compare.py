"""``alexprof compare``: one table across networks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alexprof.cli.options import BatchOpt, ForceOpt, FormatOpt, InputOpt, OutputOpt
from alexprof.errors import UsageError
from alexprof.parse import positive_int, shape

ModelsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Networks: names from `alexprof models`, spec files (net.toml / net.json) or "
        "user modules (path/to/file.py:factory).",
        show_default=False,
    ),
]
ConventionOpt = Annotated[
    str,
    typer.Option("--convention", "-c", help="How MACs are counted (see `alexprof flops --help`)."),
]
UserModelsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        metavar="FILE.py:FACTORY",
        help="A user module to add (repeatable); needs --input.",
    ),
]
SpecsOpt = Annotated[
    list[Path] | None,
    typer.Option("--spec", metavar="NET.toml", help="A spec file to add (repeatable)."),
]


def compare(
    models: ModelsArg = None,
    input: InputOpt = None,
    batch: BatchOpt = "32",
    convention: ConventionOpt = "macs",
    user_model: UserModelsOpt = None,
    spec: SpecsOpt = None,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Networks side by side: params, MACs, training FLOPs, activation memory, largest layer.

    MACs and FLOPs are per sample; activation memory is for --batch samples (default 32).
    --input applies to every network (required for user modules); otherwise each
    network uses its own input.
    Example: [bold]alexprof compare lenet5 alexnet vgg16 googlenet[/bold]
    """
    from alexprof.counting.conventions import get_convention
    from alexprof.nets.resolve import resolve
    from alexprof.report.lineup import entry, lineup_text
    from alexprof.report.output import emit
    from alexprof.report.render import check_format

    check_format(fmt)
    get_convention(convention)
    refs = list(models or []) + list(user_model or []) + [str(p) for p in spec or []]
    if not refs:
        raise UsageError(
            "name at least one network, e.g. alexprof compare alexnet vgg16 "
            "(alexprof models lists them)"
        )
    given = None if input is None else shape(input)  # one --input for every network
    n = positive_int(batch, "--batch")
    entries = [entry(resolve(ref, given), given, n, convention) for ref in refs]
    emit(lambda: lineup_text(entries, n, convention, fmt), output, force)
