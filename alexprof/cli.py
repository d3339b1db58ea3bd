"""The ``alexprof`` command line.  Each command parses, calls core, renders.

Errors: an :class:`~alexprof.errors.AlexprofError` (or a click usage error)
becomes one line on stderr and exit code 2 (1 for failed checks).  Set
``ALEXPROF_DEBUG=1`` or pass ``--debug`` for the traceback.  torch is imported
only by the commands and flags that measure (``--verify``, ``memtrace``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from alexprof.errors import AlexprofError, CheckFailed, UsageError
from alexprof.nets import Shape

app = typer.Typer(
    name="alexprof",
    help="Exact per-layer parameters, FLOPs and training memory of convolutional networks, "
    "derived on paper and checked against what PyTorch measures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# --- shared options ---------------------------------------------------------------------------
ModelArg = Annotated[str, typer.Argument(
    help="A network from `alexprof models`, a spec file (net.toml / net.json) or a user "
    "module (path/to/file.py:factory, package.module:factory).", show_default=True)]
UserModelOpt = Annotated[Optional[str], typer.Option(
    "--model", "-m", metavar="FILE.py:FACTORY",
    help="A callable returning a torch.nn.Module: path/to/file.py:factory or "
    "package.module:factory. Needs --input. Replaces MODEL.")]
SpecOpt = Annotated[Optional[Path], typer.Option(
    "--spec", metavar="NET.toml", help="A network spec file (TOML or JSON). Replaces MODEL.")]
InputOpt = Annotated[Optional[str], typer.Option(
    "--input", "-i", metavar="C,H,W",
    help="Input shape per sample, e.g. 3,224,224. Default: the network's own.")]
BatchOpt = Annotated[str, typer.Option("--batch", "-b", metavar="N",
                                        help="Batch size (a positive integer).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f",
                                         help="table | json | csv | markdown.")]
OutputOpt = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Write to this file (atomically) instead of stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Allow --output to replace an existing file.")]
VerifyOpt = Annotated[bool, typer.Option(
    "--verify", help="Build the network in torch and compare every layer with what torch, "
    "FlopCounterMode and ptflops measure; exit 1 on an unexplained difference.")]
PlotOpt = Annotated[Optional[Path], typer.Option(
    "--plot", metavar="FILE.png|FILE.svg",
    help="Also draw a chart into this file (needs matplotlib: pip install 'alexprof\\[plot]').")]

_DEBUG = False


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    global _DEBUG
    _DEBUG = debug


def parse_input(text: str | None) -> Shape | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--input {text!r} is not a shape; give C,H,W such as 3,224,224") from None
    if len(shape) != 3 or min(shape) < 1:
        raise UsageError(f"--input {text!r}: need three positive integers C,H,W such as 3,224,224")
    return shape


def parse_batch(text: str) -> int:
    try:
        batch = int(text)
    except ValueError:
        raise UsageError(f"--batch {text!r} is not an integer; give a positive integer such as 32") from None
    if batch < 1:
        raise UsageError(f"--batch {batch} must be a positive integer")
    return batch


def resolve_model(name: str, input_shape: Shape | None = None):
    """A zoo name, a spec file or a user module (see alexprof.nets.resolve.resolve)."""
    from alexprof.nets.resolve import resolve

    return resolve(name, input_shape)


def model_ref(model: str, user_model: str | None, spec: Path | None) -> str:
    """What MODEL, --model and --spec name together (at most one of the options)."""
    if user_model is not None and spec is not None:
        raise UsageError("give --model or --spec, not both")
    if user_model is not None:
        if ":" not in user_model:
            raise UsageError(f"--model {user_model!r}: expected path/to/file.py:factory or "
                             "package.module:factory")
        return user_model
    return str(spec) if spec is not None else model


def _color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _report_command(kind: str, model: str, input: str | None, batch: str, fmt: str,
                    output: Path | None, force: bool, verify: bool, convention: str,
                    plot: Path | None = None) -> None:
    from alexprof.counting.analysis import count
    from alexprof.report.plots import check_plot, report_chart
    from alexprof.report.render import check_format, emit
    from alexprof.report.views import FLOP_SOURCES, PARAM_SOURCES, counts_text

    check_format(fmt)
    plot = check_plot(plot, force)
    net = resolve_model(model, parse_input(input))
    shape = parse_input(input) or net.input_shape
    report = count(net, shape, parse_batch(batch), convention)
    verification = None
    if verify:
        from alexprof.report.verify import measure_all, verify as run_verify

        sources = PARAM_SOURCES if kind == "params" else FLOP_SOURCES
        verification = run_verify(net, shape, report.batch,
                                  measure_all(net, shape, report.batch, sources))
    emit(counts_text(report, kind, fmt, verification, _color(output)), output, force)
    if plot is not None:
        report_chart(report, kind, plot)
    if verification is not None and verification.failed:
        first = verification.failed[0]
        raise CheckFailed(
            f"{len(verification.failed)} unexplained difference(s); first: {first.layer} "
            f"{first.field} from {first.source}: alexprof {first.analytic:,}, measured {first.measured:,}"
        )


@app.command()
def models(fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False) -> None:
    """List the networks known by name, with input shape, parameters and MACs."""
    from alexprof.nets.zoo import index as zoo
    from alexprof.counting.analysis import count
    from alexprof.report.render import check_format, emit
    from alexprof.report.views import models_text

    check_format(fmt)
    entries = []
    for name in zoo.names():
        net = zoo.get(name)
        totals = count(net).totals()
        entries.append({"name": name, "input_shape": list(net.input_shape),
                        "params": totals["params"], "macs": totals["macs"],
                        "description": net.description})
    emit(models_text(entries, fmt), output, force)


@app.command()
def params(
    model: ModelArg = "alexnet", input: InputOpt = None, batch: BatchOpt = "1",
    fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False,
    verify: VerifyOpt = False, user_model: UserModelOpt = None, spec: SpecOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Parameters per layer: weights and bias apart, share of the total, the largest layer.

    Also prints the source material's mixed total (conv without bias, FC with bias).
    Example: [bold]alexprof params alexnet-2012 --verify[/bold]
    """
    _report_command("params", model_ref(model, user_model, spec), input, batch, fmt, output,
                    force, verify, "macs", plot)


@app.command()
def flops(
    model: ModelArg = "alexnet", input: InputOpt = None, batch: BatchOpt = "1",
    convention: Annotated[str, typer.Option(
        "--convention", "-c",
        help="macs (default: conv+linear MACs without bias, as fvcore/thop/torchprofile) | "
        "flopcounter (torch FlopCounterMode) | ptflops (ptflops 0.7.5 per-layer lines) | "
        "aten (ptflops aten backend = torchinfo mult-adds).")] = "macs",
    fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False,
    verify: VerifyOpt = False, user_model: UserModelOpt = None, spec: SpecOpt = None,
    plot: PlotOpt = None,
) -> None:
    """MACs and FLOPs per layer (FLOPs = 2 x MACs), forward and backward, for a batch.

    Counts are for the whole batch. Backward is one training step's gradients:
    grad-input (absent for the first learned layer) plus grad-weight, 2 FLOPs per MAC.
    Example: [bold]alexprof flops alexnet --batch 128 --convention ptflops --verify[/bold]
    """
    _report_command("flops", model_ref(model, user_model, spec), input, batch, fmt, output,
                    force, verify, convention, plot)


@app.command()
def check(
    golden: Annotated[Path, typer.Argument(help="A golden JSON file (alexprof flops --format json).")],
    update: Annotated[bool, typer.Option("--update", help="Rewrite the golden file with today's counts.")] = False,
) -> None:
    """CI assertion: recompute the network a golden file names and diff every layer.

    Exits 0 when every field is equal, 1 on drift (printing each drifted field),
    2 when the file is unreadable. [bold]--update[/bold] rewrites it on purpose.
    """
    from alexprof.report import golden as g
    from alexprof.report.render import to_json, write_atomic

    doc = g.load(golden)
    report = g.recompute(doc, resolve_model)
    drifts = g.diff(doc, report)
    if update:
        write_atomic(golden, to_json(report.to_json()), replace=True)
        print(f"updated {golden} ({len(drifts)} field(s) changed)")
        return
    if not drifts:
        print(f"ok: {golden}: {doc['model']} {len(report.rows)} layers match "
              f"(input {'x'.join(map(str, report.input_shape))}, batch {report.batch}, "
              f"convention {report.convention})")
        return
    for d in drifts:
        print(f"drift: {d.layer}.{d.field}: golden {d.expected!r} -> now {d.actual!r}")
    raise CheckFailed(f"{golden}: {len(drifts)} field(s) drifted from the golden file "
                      "(alexprof check --update rewrites it)")


# --- commands defined in their own modules register on `app` when imported here -------------
# (one line per module; keep this block just above main())
from alexprof import cmd_compare  # noqa: E402,F401
from alexprof import cmd_roofline  # noqa: E402,F401
from alexprof import cmd_memtrace  # noqa: E402,F401
from alexprof import cmd_fit  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning expected failures into one line."""
    from typer.main import get_command

    from alexprof.report.render import error_line

    debug = _DEBUG or os.environ.get("ALEXPROF_DEBUG") not in (None, "", "0")
    args = sys.argv[1:] if argv is None else argv
    debug = debug or "--debug" in args
    command = get_command(app)
    try:
        result = command.main(args=args, prog_name="alexprof", standalone_mode=False)
    except AlexprofError as e:
        if debug:
            raise
        error_line(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except (typer.Exit, typer.Abort) as e:
        if isinstance(e, typer.Abort):
            error_line("aborted")
            return 1
        return e.exit_code
    except Exception as e:  # click's usage errors carry exit_code 2 and a one-line message
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        if isinstance(e, NoArgsIsHelpError) and e.ctx is not None:
            print(e.ctx.get_help())
            return 0
        if isinstance(e, ClickException):
            error_line(e.format_message().replace("\n", " "))
            return e.exit_code
        if debug:
            raise
        error_line(f"internal error: {type(e).__name__}: {e} (ALEXPROF_DEBUG=1 for the traceback)")
        return 3
    return result if isinstance(result, int) else 0
