"""``alexprof check``: a golden file against today's counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alexprof.errors import CheckFailed

GoldenArg = Annotated[
    Path, typer.Argument(help="A golden JSON file (alexprof flops --format json).")
]
UpdateOpt = Annotated[
    bool, typer.Option("--update", help="Rewrite the golden file with today's counts.")
]


def check(golden: GoldenArg, update: UpdateOpt = False) -> None:
    """CI assertion: recompute the network a golden file names and diff every layer.

    Exits 0 when every field is equal, 1 on drift (printing each drifted field),
    2 when the file is unreadable. [bold]--update[/bold] rewrites it on purpose.
    """
    from alexprof.nets.resolve import resolve
    from alexprof.nets.shapes import fmt_shape
    from alexprof.report import golden as g
    from alexprof.report.output import write_atomic
    from alexprof.report.render import to_json

    doc = g.load(golden)
    report = g.recompute(doc, resolve)
    drifts = g.diff(doc, report)
    if update:
        write_atomic(golden, to_json(report.to_json()), replace=True)
        print(f"updated {golden} ({len(drifts)} field(s) changed)")
        return
    if not drifts:
        print(
            f"ok: {golden}: {doc['model']} {len(report.rows)} layers match "
            f"(input {fmt_shape(report.input_shape)}, batch {report.batch}, "
            f"convention {report.convention})"
        )
        return
    for d in drifts:
        print(f"drift: {d.layer}.{d.field}: golden {d.expected!r} -> now {d.actual!r}")
    raise CheckFailed(
        f"{golden}: {len(drifts)} field(s) drifted from the golden file "
        "(alexprof check --update rewrites it)"
    )
