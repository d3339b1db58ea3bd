"""The measured side: what torch, FlopCounterMode and ptflops report per layer.

Each ``measure_*`` function builds the network in torch, measures one source
and returns plain dicts keyed by layer name, so that :mod:`alexprof.compare`
never touches torch.  Nothing is patched by alexprof itself: FlopCounterMode
is a dispatch mode that exits in ``finally``; ptflops patches torch.functional
for the duration of its own call (that is how ptflops works, and why its
returned total differs from its per-layer lines; see :mod:`alexprof.quirks`).

Where it works the network lives on the ``meta`` device (no memory, no data).
ptflops runs on CPU with uninitialised weights because on meta its patched
tensor ops also see meta's Python decompositions of ``F.linear``, which would
inflate its total beyond what users see on a real device.
"""

from __future__ import annotations

import io
import re
from alexprof.errors import UsageError
from alexprof.layers import Sequential, Shape
from alexprof.rows import Measured
from alexprof.torch_bridge import build, leaf_modules


def measure_params(body: Sequential) -> Measured:
    """``numel`` of each leaf module's ``weight`` and ``bias`` (meta device)."""
    module = build(body, "meta")
    per_layer: dict[str, dict[str, int]] = {}
    for name, leaf in leaf_modules(module).items():
        weight = getattr(leaf, "weight", None)
        bias = getattr(leaf, "bias", None)
        w = weight.numel() if weight is not None else 0
        b = bias.numel() if bias is not None else 0
        per_layer[name] = {"weights": w, "bias": b, "params": w + b}
    total = sum(p.numel() for p in module.parameters())
    return Measured("torch", per_layer, total)


def measure_flopcounter(body: Sequential, input_shape: Shape, batch: int, classes: int) -> Measured:
    """FlopCounterMode around one training step (forward, CrossEntropyLoss, backward).

    The step runs twice on meta: forward alone, then forward + backward; the
    backward FLOPs of a layer are the difference.  (FlopCounterMode attributes
    backward ops to modules, but ``aten.mm`` of a forward and of a backward
    land under the same key, so the difference is what separates them.)
    """
    forward = _flop_step(body, input_shape, batch, classes, backward=False)
    both = _flop_step(body, input_shape, batch, classes, backward=True)
    per_layer = {
        name: {"flops": forward.get(name, 0), "flops_backward": both.get(name, 0) - forward.get(name, 0)}
        for name in both.keys() | forward.keys()
    }
    return Measured("flopcounter", per_layer, both.get("", 0))


def _flop_step(body: Sequential, input_shape: Shape, batch: int, classes: int,
               backward: bool) -> dict[str, int]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module = build(body, "meta")
    module.train()
    x = torch.empty((batch, *input_shape), device="meta")
    y = torch.zeros((batch,), dtype=torch.long, device="meta")
    counter = FlopCounterMode(display=False)
    with counter:
        out = module(x)
        if backward:
            loss = torch.nn.functional.cross_entropy(out, y)
            loss.backward()
    counts: dict[str, int] = {}
    for key, ops in counter.get_flop_counts().items():
        if key == "Global":
            counts[""] = sum(ops.values())
        elif "." in key:  # "Sequential.conv1" -> "conv1"
            counts[key.split(".", 1)[1]] = sum(ops.values())
    return counts


_PTFLOPS_LINE = re.compile(
    r"^(?P<indent>\s*)\((?P<name>[^)]+)\): \w+\((?P<params>\d+), [\d.]+% Params, "
    r"(?P<macs>[\d.e+]+) Mac,"
)


def measure_ptflops(body: Sequential, input_shape: Shape, batch: int) -> Measured:
    """ptflops' pytorch backend: per-layer lines and its returned total.

    ptflops reports per sample (it runs one sample and divides by the batch it
    saw), so both are scaled by ``batch`` here.
    """
    import ptflops

    module = build(body, "cpu")
    leaves = leaf_modules(module)
    text = io.StringIO()
    total, _ = ptflops.get_model_complexity_info(
        module, tuple(input_shape), as_strings=False, print_per_layer_stat=True, ost=text,
        flops_units="Mac", param_units="", output_precision=20, backend="pytorch",
    )
    if total is None:
        raise UsageError("ptflops failed on this network (its message is above)")
    per_layer: dict[str, dict[str, int]] = {}
    stack: list[tuple[int, str]] = []
    for line in text.getvalue().splitlines():
        match = _PTFLOPS_LINE.match(line)
        if not match:
            continue
        depth = len(match["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        dotted = ".".join([n for _, n in stack] + [match["name"]])
        stack.append((depth, match["name"]))
        if dotted in leaves:
            per_layer[dotted] = {"macs": round(float(match["macs"])) * batch}
    return Measured("ptflops", per_layer, int(total) * batch)


def measure_ptflops_aten(body: Sequential, input_shape: Shape, batch: int) -> Measured:
    """ptflops' aten backend: MACs per top-level child and in total (one sample)."""
    import ptflops

    module = build(body, "cpu")
    text = io.StringIO()
    total, _ = ptflops.get_model_complexity_info(
        module, tuple(input_shape), as_strings=False, print_per_layer_stat=True, ost=text,
        flops_units="Mac", param_units="", backend="aten",
    )
    if total is None:
        raise UsageError("ptflops (aten backend) failed on this network (its message is above)")
    per_top: dict[str, dict[str, int]] = {}
    current = None
    for line in text.getvalue().splitlines():
        if line.startswith("Module: "):
            current = line.split(":", 1)[1].strip()
            per_top.setdefault(current, {"macs": 0})
        elif current and line.startswith("aten.") and line.endswith(" Mac"):
            per_top[current]["macs"] += int(line.rsplit(":", 1)[1].split()[0]) * batch
    per_top.pop("Global", None)
    return Measured("aten", per_top, int(total) * batch,
                    ("per top-level module: the aten backend only tracks direct children",))
