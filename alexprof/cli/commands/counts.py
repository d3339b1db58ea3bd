"""What ``params`` and ``flops`` share: count one network, verify it if asked, render it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from alexprof.cli.load import load
from alexprof.cli.state import State
from alexprof.errors import CheckFailed
from alexprof.parse import positive_int

if TYPE_CHECKING:
    from alexprof.counting.rows import Measured


def report(
    state: State,
    kind: str,
    model: str,
    input: str | None,
    batch: str,
    fmt: str,
    output: Path | None,
    force: bool,
    verify: bool,
    convention: str,
    plot: Path | None,
) -> None:
    """``kind`` is 'params' or 'flops'; ``model`` is what
    :func:`~alexprof.cli.load.reference` returned."""
    from alexprof.counting.analysis import count
    from alexprof.report.output import emit
    from alexprof.report.render import check_format
    from alexprof.report.views import counts_text

    check_format(fmt)
    if plot is not None:
        from alexprof.report.plots import check_plot

        plot = check_plot(plot, force)
    loaded = load(model, input)
    counted = count(loaded.net, loaded.shape, positive_int(batch, "--batch"), convention)
    verification = None
    if verify:
        from alexprof.report.verify import verify as run_verify
        from alexprof.report.views import FLOP_SOURCES, PARAM_SOURCES
        from alexprof.torchside.measure import PeerUnavailable, measure_all

        measured: dict[str, Measured] = {}
        skipped: dict[str, str] = {}
        for source in PARAM_SOURCES if kind == "params" else FLOP_SOURCES:
            try:
                measured |= measure_all(loaded.net, loaded.shape, counted.batch, (source,))
            except PeerUnavailable as e:  # a broken optional package: skip its column
                skipped[source] = str(e)
        for why in dict.fromkeys(skipped.values()):
            names = " and ".join(s for s, w in skipped.items() if w == why)
            print(f"alexprof: note: --verify skips {names}: {why}", file=sys.stderr)
        verification = run_verify(loaded.net, loaded.shape, counted.batch, measured, skipped)
    emit(lambda: counts_text(counted, kind, fmt, verification, state.color(output)), output, force)
    if plot is not None:
        from alexprof.report.plots import report_chart

        report_chart(counted, kind, plot)
    if verification is not None and verification.failed:
        first = verification.failed[0]
        raise CheckFailed(
            f"{len(verification.failed)} unexplained difference(s); first: {first.layer} "
            f"{first.field} from {first.source}: alexprof {first.analytic:,}, "
            f"measured {first.measured:,}"
        )
