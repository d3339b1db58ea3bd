"""Per-layer roofline: the least time a layer can take on a device.

A layer must do its arithmetic and move its data.  At best it does the
arithmetic at the device's peak and moves the data at its memory bandwidth, so
its time is at least ``max(flops / peak, bytes / bandwidth)``: the *floor*.
Which term is larger is the layer's *bound* ("compute" or "memory"; a tie, such
as a layer that does no work, is listed as "memory").  The arithmetic intensity
``flops / bytes`` decides it: above the device's ridge point
``peak / bandwidth`` a layer is compute bound.

FLOPs are the analytic report's under the 'macs' convention (conv and linear
only, bias excluded) with ``flops = 2 * macs``, forward and backward.

Bytes are a minimum-traffic model, every tensor at the dtype's size:

* forward: read the input and the weights (and bias), write the output, each
  once.  Flatten is a view and moves nothing.
* backward: read grad_output and the layer's saved forward input; write
  grad_input when the input needs a gradient (not before the first learned
  layer); for a learned layer also read the weights (to form grad_input) and
  write the weight and bias gradients.  A layer whose backward computes nothing
  (before the first learned layer) moves nothing.
* update: plain SGD ``w -= lr * g``: 2 FLOPs per parameter; read w and g,
  write w.

Real kernels move more (caches are finite, im2col copies, saved pooling
indices are int64), so a measured time only approaches its floor.  The floor
of a training step is the sum of the per-layer floors, forward and backward,
plus the update: layers run one after another and none can beat its own bound.
No torch import here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from alexprof.counting.analysis import count
from alexprof.counting.formulas import cost_of
from alexprof.counting.rows import SCHEMA
from alexprof.nets import Flatten, Placed, Shape
from alexprof.nets.net import Net
from alexprof.speed.devices import DTYPE_BYTES, Device

CONVENTION = "macs"


@dataclass(frozen=True)
class Bound:
    """Work of one pass of one layer (or a sum of them) and its time floors."""

    flops: int
    bytes: int
    compute_s: float  # flops / peak
    memory_s: float  # bytes / bandwidth
    floor_s: float  # max of the two for a layer; the sum of the layers' floors for a total

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s > self.memory_s else "memory"

    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes else None

    def __add__(self, other: Bound) -> Bound:
        return Bound(
            self.flops + other.flops,
            self.bytes + other.bytes,
            self.compute_s + other.compute_s,
            self.memory_s + other.memory_s,
            self.floor_s + other.floor_s,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "bytes": self.bytes,
            "intensity": self.intensity,
            "compute_floor_s": self.compute_s,
            "memory_floor_s": self.memory_s,
            "time_floor_s": self.floor_s,
            "bound": self.bound,
        }


ZERO = Bound(0, 0, 0.0, 0.0, 0.0)


def bound(flops: int, nbytes: int, peak: float, bandwidth: float) -> Bound:
    compute, memory = flops / peak, nbytes / bandwidth
    return Bound(flops, nbytes, compute, memory, max(compute, memory))


@dataclass(frozen=True)
class RoofRow:
    name: str
    type: str
    output_shape: Shape
    forward: Bound
    backward: Bound


@dataclass(frozen=True)
class Timing:
    """What ``--measure`` found: median forward seconds per layer, one training step."""

    device: str  # what ran it, in words
    per_layer: dict[str, float]
    step_s: float | None
    warmup: int
    repeats: int
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Achieved:
    """A timed forward pass of one layer against its floor."""

    seconds: float
    flops_per_s: float
    bytes_per_s: float  # the minimum bytes of the model, over the measured time
    fraction: float  # floor / measured: 1.0 means the layer ran at its floor


@dataclass(frozen=True)
class Roofline:
    model: str
    input_shape: Shape
    batch: int
    dtype: str
    device: Device
    rows: tuple[RoofRow, ...]
    update: Bound
    timing: Timing | None = None

    @property
    def peak(self) -> float:
        return self.device.peak(self.dtype)

    @property
    def ridge(self) -> float:
        """Intensity (FLOP/byte) above which a layer is compute bound."""
        return self.peak / self.device.bandwidth

    def forward(self) -> Bound:
        return sum((r.forward for r in self.rows), ZERO)

    def backward(self) -> Bound:
        return sum((r.backward for r in self.rows), ZERO)

    def step(self) -> Bound:
        return self.forward() + self.backward() + self.update

    def with_timing(self, timing: Timing) -> Roofline:
        return Roofline(
            self.model,
            self.input_shape,
            self.batch,
            self.dtype,
            self.device,
            self.rows,
            self.update,
            timing,
        )

    def measured(self, row: RoofRow) -> Achieved | None:
        """What a timed layer's forward achieved, or None when it was not timed."""
        if self.timing is None or row.name not in self.timing.per_layer:
            return None
        s = self.timing.per_layer[row.name]
        f = row.forward
        return Achieved(s, f.flops / s, f.bytes / s, f.floor_s / s)

    def to_json(self) -> dict[str, Any]:
        layers = []
        for row in self.rows:
            entry: dict[str, Any] = {
                "name": row.name,
                "type": row.type,
                "output_shape": list(row.output_shape),
                **row.forward.to_json(),
            }
            entry.update(backward_json(row.backward))
            got = self.measured(row)
            if got is not None:
                entry.update(
                    measured_s=got.seconds,
                    achieved_flops_per_s=got.flops_per_s,
                    achieved_bytes_per_s=got.bytes_per_s,
                    fraction_of_floor=got.fraction,
                )
            layers.append(entry)
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "model": self.model,
            "input_shape": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": CONVENTION,
            "hardware": self.device.to_json(),
            "peak_flops": self.peak,
            "ridge_intensity": self.ridge,
            "layers": layers,
            "totals": {
                "forward": self.forward().to_json(),
                "backward": self.backward().to_json(),
                "update": self.update.to_json(),
                "step": self.step().to_json(),
            },
        }
        if self.timing is not None:
            t = self.timing
            doc["measured"] = {
                "device": t.device,
                "warmup": t.warmup,
                "repeats": t.repeats,
                "step_s": t.step_s,
                "step_fraction_of_floor": self.step().floor_s / t.step_s if t.step_s else None,
                "notes": list(t.notes),
            }
        return doc


def backward_json(b: Bound) -> dict[str, Any]:
    """A backward Bound's fields as ``*_backward`` keys (``time_floor_backward_s``, ...)."""
    return {
        "flops_backward": b.flops,
        "bytes_backward": b.bytes,
        "intensity_backward": b.intensity,
        "compute_floor_backward_s": b.compute_s,
        "memory_floor_backward_s": b.memory_s,
        "time_floor_backward_s": b.floor_s,
        "bound_backward": b.bound,
    }


def forward_bytes(p: Placed, params: int, batch: int, size: int) -> int:
    """Input read, weights read, output written, each once (Flatten: a view, nothing)."""
    if isinstance(p.layer, Flatten):
        return 0
    return size * (batch * (math.prod(p.in_shape) + math.prod(p.out_shape)) + params)


def backward_bytes(p: Placed, params: int, batch: int, size: int) -> int:
    """grad_output and saved input read; grad_input written; weights read, grads written."""
    if isinstance(p.layer, Flatten) or not (p.input_needs_grad or params):
        return 0
    act_in, act_out = batch * math.prod(p.in_shape), batch * math.prod(p.out_shape)
    elements = act_out + act_in  # read grad_output, re-read the forward input
    if p.input_needs_grad:
        elements += act_in + params  # write grad_input; read the weights to form it
    elements += params  # write the weight and bias gradients
    return size * elements


def roofline(
    net: Net,
    device: Device,
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
) -> Roofline:
    """Floors of every layer of ``net`` for a batch of ``batch`` on ``device``."""
    peak, bandwidth, size = device.peak(dtype), device.bandwidth, DTYPE_BYTES[dtype]
    shape = net.input_shape if input_shape is None else input_shape
    report = count(net, shape, batch, CONVENTION)
    rows = []
    for p, r in zip(net.leaves(shape), report.rows):
        cost = cost_of(p.layer, p.in_shape, p.out_shape)
        params = cost.weights + cost.bias  # read on every call, even a module's second one
        rows.append(
            RoofRow(
                r.name,
                r.type,
                r.output_shape,
                bound(r.flops or 0, forward_bytes(p, params, batch, size), peak, bandwidth),
                bound(
                    r.flops_backward or 0, backward_bytes(p, params, batch, size), peak, bandwidth
                ),
            )
        )
    total = report.total("params")  # each parameter once (a repeated call's row has none)
    update = bound(2 * total, 3 * total * size, peak, bandwidth)
    return Roofline(net.name, shape, batch, dtype, device, tuple(rows), update)
