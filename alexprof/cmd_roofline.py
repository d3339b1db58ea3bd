"""``alexprof roofline``: per-layer time floors on a device, optionally measured here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from alexprof.cli import (
    BatchOpt, ForceOpt, FormatOpt, InputOpt, ModelArg, OutputOpt, PlotOpt, SpecOpt,
    UserModelOpt, _color, app, model_ref, parse_batch, parse_input, resolve_model,
)
from alexprof.errors import UsageError

if TYPE_CHECKING:
    from alexprof.speed.devices import Device
    from alexprof.speed.roofline import Roofline

HardwareOpt = Annotated[Optional[str], typer.Option(
    "--hardware", "-H", metavar="NAME",
    help="A built-in device: gtx580, v100, a100-40gb, a100-80gb, h100, xeon-e5-2690, epyc-7763 "
    "(`alexprof roofline --list-hardware` shows figures and sources).")]


def parse_positive(text: str | None, flag: str, example: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a number; give e.g. {example}") from None
    if not value > 0 or value == float("inf"):
        raise UsageError(f"{flag} {text!r} must be a positive number such as {example}")
    return value


@app.command()
def roofline(
    model: ModelArg = "alexnet",
    hardware: HardwareOpt = None,
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: Annotated[str, typer.Option(
        "--dtype", help="float32 | tf32 | float16 | bfloat16 (sets bytes per element and which "
        "peak applies).")] = "float32",
    peak_tflops: Annotated[Optional[str], typer.Option(
        "--peak-tflops", metavar="T", help="Peak TFLOP/s of another device (or override).")] = None,
    bandwidth: Annotated[Optional[str], typer.Option(
        "--bandwidth", metavar="GB/s", help="Memory bandwidth in GB/s (10^9 bytes/s).")] = None,
    measure: Annotated[bool, typer.Option(
        "--measure", help="Also time every layer (forward) and one training step here, "
        "with warm-up and the median of repeats (CUDA events on a GPU).")] = False,
    device: Annotated[str, typer.Option(
        "--device", help="Where --measure runs: auto | cpu | cuda.")] = "auto",
    repeats: Annotated[str, typer.Option("--repeats", metavar="N",
                                         help="Timed calls per layer for --measure.")] = "5",
    threads: Annotated[Optional[str], typer.Option(
        "--threads", metavar="N", help="torch CPU threads for --measure (default: torch's).")] = None,
    list_hardware: Annotated[bool, typer.Option(
        "--list-hardware", help="List the built-in devices with their figures and sources.")] = False,
    fmt: FormatOpt = "table", output: OutputOpt = None, force: ForceOpt = False,
    plot: PlotOpt = None, user_model: UserModelOpt = None, spec: SpecOpt = None,
) -> None:
    """Least time per layer on a device: FLOPs, bytes moved, intensity, compute and memory floors.

    Floor = max(FLOPs / peak, bytes / bandwidth); the larger term is the bound. Also the floor
    of a whole training step (forward + backward + SGD update). FLOPs = 2 x conv/linear MACs.
    Example: [bold]alexprof roofline alexnet --hardware gtx580 --batch 128[/bold]
    """
    from alexprof.speed import devices as hw
    from alexprof.report.plots import check_plot
    from alexprof.report.render import check_format, emit

    check_format(fmt)
    if list_hardware:
        emit(hardware_text(fmt), output, force)
        return
    plot_path = check_plot(plot, force)
    target = hw.resolve(hardware, parse_positive(peak_tflops, "--peak-tflops", "19.5"),
                        parse_positive(bandwidth, "--bandwidth", "1555"), dtype)
    times = parse_count(repeats, "--repeats")
    cores = None if threads is None else parse_count(threads, "--threads")
    result = compute(model_ref(model, user_model, spec), input, batch, dtype, target, measure,
                     device, times, cores)
    from alexprof.report.roofline_view import roofline_text

    emit(roofline_text(result, fmt, _color(output)), output, force)
    if plot_path is not None:
        from alexprof.report.plots import roofline_chart

        roofline_chart(plot_path, f"{result.model} on {target.title}, {dtype}, batch {result.batch}",
                       result.peak, target.bandwidth, result.to_json()["layers"])


def parse_count(text: str, flag: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{flag} {text!r} must be a positive integer such as 5")
    return value


def compute(model: str, input: str | None, batch: str, dtype: str, target: Device,
            measure: bool, device: str, repeats: int, threads: int | None = None) -> Roofline:
    from alexprof.speed.roofline import roofline as floors

    net = resolve_model(model, parse_input(input))
    shape = parse_input(input) or net.input_shape
    result = floors(net, target, parse_batch(batch), dtype, shape)
    if measure:
        from alexprof.torchside.timing import time_layers

        result = result.with_timing(time_layers(net, shape, result.batch, dtype, device,
                                                repeats=repeats, threads=threads))
    return result


def hardware_text(fmt: str) -> str:
    from alexprof.speed.devices import DEVICES, GiB
    from alexprof.report.render import Table, csv_records, human, to_json

    if fmt == "json":
        return to_json({"schema": "alexprof/1", "hardware": [d.to_json() for d in DEVICES.values()]})
    if fmt == "csv":
        return csv_records([{**d.to_json(), "peak_flops": ";".join(
            f"{k}={v:g}" for k, v in d.peak_flops.items())} for d in DEVICES.values()])
    table = Table("built-in devices (dense peaks; sparsity figures excluded)",
                  ["name", "device", "peak FLOP/s by dtype", "bandwidth", "memory"])
    table.right = {3, 4}
    for d in DEVICES.values():
        peaks = ", ".join(f"{k} {human(v, 'FLOP/s')}" for k, v in d.peak_flops.items())
        table.add(d.name, d.title, peaks, human(d.bandwidth, "B/s"),
                  f"{d.memory / GiB:g} GiB" if d.memory else "-")
        table.footer.append(f"{d.name}: {d.source}" + (f"; {d.derivation}" if d.derivation else "")
                            + "".join(f"; {n}" for n in d.notes) + ".")
    return table.to_text(fmt)
