"""A :class:`~alexprof.speed.roofline.Roofline` as text: table, markdown, csv or json."""

from __future__ import annotations

from typing import Any

from alexprof.nets.shapes import fmt_shape
from alexprof.report.render import Column, Table, csv_records, human, num, to_json
from alexprof.speed.roofline import Bound, Roofline


def seconds(s: float) -> str:
    """0.000123 -> '123 µs' (tables only)."""
    if s == 0:
        return "0"
    for factor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= factor:
            return f"{s / factor:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def percent(fraction: float) -> str:
    """0.4567 -> '45.7%'; small ones keep two significant digits: 0.0000123 -> '0.0012%'."""
    p = 100 * fraction
    return f"{p:.1f}%" if p >= 1 or p == 0 else f"{p:.2g}%"


def intensity(b: Bound) -> str:
    return "-" if b.intensity is None else f"{b.intensity:.3g}"


def roofline_text(result: Roofline, fmt: str, color: bool = False) -> str:
    """``alexprof roofline``'s output in ``fmt``."""
    if fmt == "json":
        return to_json(result.to_json())
    if fmt == "csv":
        return csv_records([_flat(layer) for layer in result.to_json()["layers"]])
    return table(result).to_text(fmt, color)


def _flat(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in layer.items() if k != "output_shape"}


def table(result: Roofline) -> Table:
    d = result.device
    columns = [
        Column.text("layer"),
        Column.text("type"),
        *map(Column.num, ["FLOPs", "bytes", "FLOP/B", "compute", "memory", "floor"]),
        Column.text("bound"),
        Column.num("bwd floor"),
        Column.text("bwd bound"),
    ]
    timed = result.timing is not None
    if timed:  # achieved: FLOP/s or B/s, by bound
        columns += map(Column.num, ["measured", "achieved", "of floor"])
    t = Table(
        f"{result.model}: roofline on {d.title} ({result.dtype}, batch {result.batch}, "
        f"input {fmt_shape(result.input_shape)})",
        columns,
        caption=f"peak {human(result.peak, 'FLOP/s')}, bandwidth {human(d.bandwidth, 'B/s')}, "
        f"ridge {result.ridge:.3g} FLOP/B: above it a layer is compute bound. FLOPs = 2 x "
        "conv/linear MACs (no bias); bytes = input + weights + output, each once. "
        f"Source: {d.source}.",
    )
    for row in result.rows:
        f, b = row.forward, row.backward
        cells = [
            row.name,
            row.type,
            num(f.flops),
            num(f.bytes),
            intensity(f),
            seconds(f.compute_s),
            seconds(f.memory_s),
            seconds(f.floor_s),
            f.bound,
            seconds(b.floor_s),
            b.bound,
        ]
        got = result.measured(row)
        if timed:
            cells += (
                ["-", "-", "-"]
                if got is None
                else [
                    seconds(got.seconds),
                    human(got.flops_per_s, "FLOP/s")
                    if f.bound == "compute"
                    else human(got.bytes_per_s, "B/s"),
                    percent(got.fraction),
                ]
            )
        t.add(*cells)
    fwd = result.forward()
    t.total = [
        "forward",
        "",
        num(fwd.flops),
        num(fwd.bytes),
        intensity(fwd),
        seconds(fwd.compute_s),
        seconds(fwd.memory_s),
        seconds(fwd.floor_s),
        "",
        seconds(result.backward().floor_s),
        "",
    ] + (["", "", ""] if timed else [])
    t.footer += footer(result)
    return t


def footer(result: Roofline) -> list[str]:
    fwd, bwd, upd, step = result.forward(), result.backward(), result.update, result.step()
    lines = [
        f"Training step floor {seconds(step.floor_s)} = forward {seconds(fwd.floor_s)} + "
        f"backward {seconds(bwd.floor_s)} ({human(bwd.flops, 'FLOP')}, {human(bwd.bytes, 'B')}) "
        f"+ SGD update {seconds(upd.floor_s)} ({human(upd.bytes, 'B')}: read w and g, write w).",
        f"Compute-bound layers hold {_share(result, 'compute')} of the forward floor; "
        f"memory-bound layers {_share(result, 'memory')}.",
    ]
    if result.device.derivation:
        lines.append(f"Peak figures: {result.device.derivation}.")
    lines.append(
        "Backward bytes: grad_output and the saved input read, grad_input written, "
        "weights read and their gradients written, each once."
    )
    if result.timing is not None:
        lines += timing_lines(result)
    return lines


def _share(result: Roofline, which: str) -> str:
    total = result.forward().floor_s
    part = sum(r.forward.floor_s for r in result.rows if r.forward.bound == which)
    return f"{100 * part / total:.1f}%" if total else "-"


def timing_lines(result: Roofline) -> list[str]:
    timing = result.timing
    assert timing is not None
    lines = [
        f"Measured on {timing.device}: median of {timing.repeats} after {timing.warmup} "
        f"warm-up; floors are for {result.device.title}. 'achieved' is FLOP/s for a "
        "compute-bound layer, bytes (of the model above) per second for a memory-bound one; "
        "'of floor' = floor / measured."
    ]
    if timing.step_s:
        step = result.step().floor_s
        lines.append(
            f"Measured training step {seconds(timing.step_s)}: "
            f"{percent(step / timing.step_s)} of its floor {seconds(step)}."
        )
    beaten = [r.name for r in result.rows if (m := result.measured(r)) and m.fraction > 1.0]
    if beaten:
        lines.append(
            "Faster than the floor: " + ", ".join(beaten) + ". A floor cannot be beaten on the "
            "device it describes: either these figures are not this device's, or the layer's "
            "data stayed in cache (faster than the memory bandwidth the floor assumes)."
        )
    return lines


def hardware_text(fmt: str) -> str:
    """``roofline --list-hardware``: the built-in devices, their figures and sources."""
    from alexprof.speed.devices import DEVICES, GiB

    if fmt == "json":
        return to_json(
            {"schema": "alexprof/1", "hardware": [d.to_json() for d in DEVICES.values()]}
        )
    if fmt == "csv":
        return csv_records(
            [
                {
                    **d.to_json(),
                    "peak_flops": ";".join(f"{k}={v:g}" for k, v in d.peak_flops.items()),
                }
                for d in DEVICES.values()
            ]
        )
    table = Table(
        "built-in devices (dense peaks; sparsity figures excluded)",
        [
            Column.text("name"),
            Column.text("device"),
            Column.text("peak FLOP/s by dtype"),
            Column.num("bandwidth"),
            Column.num("memory"),
        ],
    )
    for d in DEVICES.values():
        peaks = ", ".join(f"{k} {human(v, 'FLOP/s')}" for k, v in d.peak_flops.items())
        table.add(
            d.name,
            d.title,
            peaks,
            human(d.bandwidth, "B/s"),
            f"{d.memory / GiB:g} GiB" if d.memory else "-",
        )
        table.footer.append(
            f"{d.name}: {d.source}"
            + (f"; {d.derivation}" if d.derivation else "")
            + "".join(f"; {n}" for n in d.notes)
            + "."
        )
    return table.to_text(fmt)
