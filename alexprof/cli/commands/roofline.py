"""``alexprof roofline``: per-layer time floors on a device, optionally measured here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from alexprof.cli.load import load, reference
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
)
from alexprof.parse import positive_count, positive_int, positive_number

if TYPE_CHECKING:
    from alexprof.speed.devices import Device
    from alexprof.speed.roofline import Roofline

HardwareOpt = Annotated[
    str | None,
    typer.Option(
        "--hardware",
        "-H",
        metavar="NAME",
        help="A built-in device: gtx580, v100, a100-40gb, a100-80gb, h100, h200, xeon-e5-2690, "
        "epyc-7763 (`alexprof roofline --list-hardware` shows figures and sources).",
    ),
]
DtypeOpt = Annotated[
    str,
    typer.Option(
        "--dtype",
        help="float32 | tf32 | float16 | bfloat16 (sets bytes per element and which peak applies).",
    ),
]
PeakOpt = Annotated[
    str | None,
    typer.Option(
        "--peak-tflops", metavar="T", help="Peak TFLOP/s of another device (or override)."
    ),
]
BandwidthOpt = Annotated[
    str | None,
    typer.Option("--bandwidth", metavar="GB/s", help="Memory bandwidth in GB/s (10^9 bytes/s)."),
]
MeasureOpt = Annotated[
    bool,
    typer.Option(
        "--measure",
        help="Also time every layer (forward) and one training step here, "
        "with warm-up and the median of repeats (CUDA events on a GPU).",
    ),
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="Where --measure runs: auto | cpu | cuda.")
]
RepeatsOpt = Annotated[
    str, typer.Option("--repeats", metavar="N", help="Timed calls per layer for --measure.")
]
ThreadsOpt = Annotated[
    str | None,
    typer.Option(
        "--threads", metavar="N", help="torch CPU threads for --measure (default: torch's)."
    ),
]
ListOpt = Annotated[
    bool,
    typer.Option(
        "--list-hardware", help="List the built-in devices with their figures and sources."
    ),
]


def roofline(
    ctx: typer.Context,
    model: ModelArg = "alexnet",
    hardware: HardwareOpt = None,
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    peak_tflops: PeakOpt = None,
    bandwidth: BandwidthOpt = None,
    measure: MeasureOpt = False,
    device: DeviceOpt = "auto",
    repeats: RepeatsOpt = "5",
    threads: ThreadsOpt = None,
    list_hardware: ListOpt = False,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: PlotOpt = None,
    user_model: UserModelOpt = None,
    spec: SpecOpt = None,
) -> None:
    """Least time per layer on a device: FLOPs, bytes moved, intensity, compute and memory floors.

    Floor = max(FLOPs / peak, bytes / bandwidth); the larger term is the bound. Also the floor
    of a whole training step (forward + backward + SGD update). FLOPs = 2 x conv/linear MACs.
    Example: [bold]alexprof roofline alexnet --hardware gtx580 --batch 128[/bold]
    """
    from alexprof.report.output import emit
    from alexprof.report.render import check_format
    from alexprof.speed import devices as hw

    check_format(fmt)
    if list_hardware:
        from alexprof.report.roofline_view import hardware_text

        emit(lambda: hardware_text(fmt), output, force)
        return
    if plot is not None:
        from alexprof.report.plots import check_plot

        plot = check_plot(plot, force)
    target = hw.resolve(
        hardware,
        None if peak_tflops is None else positive_number(peak_tflops, "--peak-tflops", "19.5"),
        None if bandwidth is None else positive_number(bandwidth, "--bandwidth", "1555"),
        dtype,
    )
    times = positive_count(repeats, "--repeats")
    cores = None if threads is None else positive_count(threads, "--threads")
    result = compute(
        reference(model, user_model, spec),
        input,
        batch,
        dtype,
        target,
        measure,
        device,
        times,
        cores,
    )
    from alexprof.report.roofline_view import roofline_text

    emit(lambda: roofline_text(result, fmt, ctx.obj.color(output)), output, force)
    if plot is not None:
        from alexprof.report.plots import roofline_chart

        roofline_chart(
            plot,
            f"{result.model} on {target.title}, {dtype}, batch {result.batch}",
            result.peak,
            target.bandwidth,
            result.to_json()["layers"],
        )


def compute(
    model: str,
    input: str | None,
    batch: str,
    dtype: str,
    target: Device,
    measure: bool,
    device: str,
    repeats: int,
    threads: int | None = None,
) -> Roofline:
    from alexprof.speed.roofline import roofline as floors

    loaded = load(model, input)
    result = floors(loaded.net, target, positive_int(batch, "--batch"), dtype, loaded.shape)
    if measure:
        from alexprof.torchside.timing import time_layers

        result = result.with_timing(
            time_layers(
                loaded.net,
                loaded.shape,
                result.batch,
                dtype,
                device,
                repeats=repeats,
                threads=threads,
            )
        )
    return result
