"""``alexprof compare``: one table across networks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from alexprof.cli import (
    BatchOpt, ForceOpt, FormatOpt, InputOpt, OutputOpt, app, parse_batch, parse_input,
    resolve_model,
)
from alexprof.errors import UsageError


@app.command()
def compare(
    models: Annotated[Optional[list[str]], typer.Argument(
        help="Networks: names from `alexprof models`, spec files (net.toml / net.json) or "
        "user modules (path/to/file.py:factory).", show_default=False)] = None,
    input: InputOpt = None,
    batch: BatchOpt = "32",
    convention: Annotated[str, typer.Option(
        "--convention", "-c", help="How MACs are counted (see `alexprof flops --help`).")] = "macs",
    user_model: Annotated[Optional[list[str]], typer.Option(
        "--model", "-m", metavar="FILE.py:FACTORY",
        help="A user module to add (repeatable); needs --input.")] = None,
    spec: Annotated[Optional[list[Path]], typer.Option(
        "--spec", metavar="NET.toml", help="A spec file to add (repeatable).")] = None,
    fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False,
) -> None:
    """Networks side by side: params, MACs, training FLOPs, activation memory, largest layer.

    MACs and FLOPs are per sample; activation memory is for --batch samples (default 32).
    --input applies to every network (required for user modules); otherwise each
    network uses its own input. Example: [bold]alexprof compare lenet5 alexnet vgg16 googlenet[/bold]
    """
    from alexprof.counting.conventions import get_convention
    from alexprof.report.lineup import entry, lineup_text
    from alexprof.report.render import check_format, emit

    check_format(fmt)
    get_convention(convention)
    refs = list(models or []) + list(user_model or []) + [str(p) for p in spec or []]
    if not refs:
        raise UsageError("name at least one network, e.g. alexprof compare alexnet vgg16 "
                         "(alexprof models lists them)")
    shape, n = parse_input(input), parse_batch(batch)
    entries = [entry(resolve_model(ref, shape), shape, n, convention) for ref in refs]
    emit(lineup_text(entries, n, convention, fmt), output, force)
