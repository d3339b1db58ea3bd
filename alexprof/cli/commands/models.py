"""``alexprof models``: the networks known by name."""

from __future__ import annotations

from alexprof.cli.options import ForceOpt, FormatOpt, OutputOpt


def models(fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False) -> None:
    """List the networks known by name, with input shape, parameters and MACs."""
    from alexprof.counting.analysis import count
    from alexprof.nets.zoo import index as zoo
    from alexprof.report.output import emit
    from alexprof.report.render import check_format
    from alexprof.report.views import models_text

    check_format(fmt)
    entries = []
    for name in zoo.names():
        net = zoo.get(name)
        totals = count(net).totals()
        entries.append(
            {
                "name": name,
                "input_shape": list(net.input_shape),
                "params": totals["params"],
                "macs": totals["macs"],
                "description": net.description,
            }
        )
    emit(lambda: models_text(entries, fmt), output, force)
