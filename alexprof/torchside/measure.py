"""The measured side: what torch, FlopCounterMode and ptflops report per layer.

Each ``measure_*`` function builds the network in torch, measures one source
and returns plain dicts keyed by layer name, so that :mod:`alexprof.report.verify`
never touches torch.  Nothing is patched by alexprof itself: FlopCounterMode
is a dispatch mode that exits in ``finally``; ptflops patches torch.functional
for the duration of its own call (that is how ptflops works, and why its
returned total differs from its per-layer lines; see :mod:`alexprof.torchside.quirks`).

Where it works the network lives on the ``meta`` device (no memory, no data).
ptflops runs on CPU with uninitialised weights because on meta its patched
tensor ops also see meta's Python decompositions of ``F.linear``, which would
inflate its total beyond what users see on a real device.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from alexprof.counting.rows import Measured
from alexprof.errors import UsageError, one_line
from alexprof.nets import Sequential, Shape, split_weights_bias
from alexprof.nets.net import Net
from alexprof.torchside import quirks
from alexprof.torchside.bridge import leaf_modules, module_of


def measure_params(net: Net | Sequential) -> Measured:
    """``numel`` of each module's own parameters (meta device): ``bias`` apart,
    every other parameter as weights (the split counting uses).  Every module is
    measured, containers too (their own parameters, usually none)."""
    module = module_of(net, "meta")
    per_layer: dict[str, dict[str, int]] = {}
    for name, mod in module.named_modules():  # keyed by torch's names: the root is ""
        own = mod.named_parameters(recurse=False)
        w, b = split_weights_bias((key, p.numel()) for key, p in own)
        per_layer[name] = {"weights": w, "bias": b, "params": w + b}
    total = sum(p.numel() for p in module.parameters())
    return Measured("torch", per_layer, total)


def measure_flopcounter(net: Net, input_shape: Shape, batch: int) -> Measured:
    """FlopCounterMode around one training step (forward, loss, backward), on meta.

    The total is FlopCounterMode's global count for the whole step.  Per layer,
    each module call is replayed alone under its own FlopCounterMode (see
    :mod:`alexprof.torchside.replay` for why FlopCounterMode's per-module view is not
    used); for a user's module, modules with children report their own FLOPs.
    """
    from alexprof.torchside.replay import replay_counts, step_total

    factory = getattr(net, "factory", None)
    if factory is not None and batch == 1:  # BatchNorm in train mode refuses one sample
        two = measure_flopcounter(net, input_shape, 2)
        halved = {k: {f: v // 2 for f, v in d.items()} for k, d in two.per_layer.items()}
        return Measured("flopcounter", halved, (two.total or 0) // 2, (BATCH_ONE,))
    total = step_total(module_of(net, "meta"), input_shape, batch)
    if factory is not None:  # a user's module: its own forward, each call charged its FLOPs
        from alexprof.torchside.extract import measured_flops

        counts = measured_flops(factory, input_shape, batch)
    else:
        counts = replay_counts(module_of(net, "meta"), input_shape, batch, own=False)
    per_layer = {name: {"flops": f, "flops_backward": b} for name, (f, b) in counts.items()}
    return Measured("flopcounter", per_layer, total)


BATCH_ONE = (
    "FlopCounterMode measured a user module's training step at batch 2 and halved it (its "
    "FLOPs grow linearly with the batch; a BatchNorm in train mode refuses a batch of 1)"
)


_PTFLOPS_LINE = re.compile(  # one module per line; a leaf has its numbers on the same line
    r"^(?P<indent>\s*)\((?P<name>[^)]+)\): \w+\("
    r"((?P<params>\d+), [\d.]+% Params, (?P<macs>[\d.e+]+) Mac,)?"
)


class PeerUnavailable(Exception):
    """A peer package that cannot be imported here: its sources are skipped, not fatal."""


def _import_ptflops() -> Any:
    """``import ptflops``, or :class:`PeerUnavailable` saying why not.  Not only ImportError:
    ptflops imports torchvision (and timm) when they are installed, and a torchvision built
    for another torch raises RuntimeError ("operator torchvision::nms does not exist")."""
    try:
        import ptflops
    except Exception as e:
        raise PeerUnavailable(f"ptflops cannot be imported ({one_line(e)})") from e
    return ptflops


def measure_ptflops(net: Net, input_shape: Shape, batch: int) -> Measured:
    """ptflops' pytorch backend: per-layer lines and its returned total.

    ptflops reports per sample (it runs one sample and divides by the batch it
    saw), so both are scaled by ``batch`` here.
    """
    ptflops = _import_ptflops()

    module = module_of(net, "cpu")
    leaves = leaf_modules(module)
    text = io.StringIO()
    total, _ = ptflops.get_model_complexity_info(
        module,
        tuple(input_shape),
        as_strings=False,
        print_per_layer_stat=True,
        ost=text,
        flops_units="Mac",
        param_units="",
        output_precision=20,
        backend="pytorch",
    )
    if total is None:
        raise UsageError("ptflops failed on this network (its message is above)")
    unprinted = _unprinted(module)
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
        if dotted in leaves and match["macs"] is not None:
            per_layer[dotted] = {"macs": round(float(match["macs"])) * batch}
    notes: tuple[str, ...] = ()
    if unprinted:
        notes = (f"{quirks.PTFLOPS_OWN_REPR}: {', '.join(sorted(unprinted))}",)
    return Measured("ptflops", per_layer, int(total) * batch, notes, frozenset(unprinted))


def _unprinted(module: Any) -> set[str]:
    """Modules inside one whose class defines its own ``__repr__``: ptflops prints that
    module through it, so no line of theirs appears (timm's SelectAdaptivePool2d)."""
    from torch import nn

    own = {
        name for name, mod in module.named_modules() if type(mod).__repr__ is not nn.Module.__repr__
    }
    return {name for name, _ in module.named_modules() if quirks.ptflops_line_hidden_by(name, own)}


def measure_ptflops_aten(net: Net, input_shape: Shape, batch: int) -> Measured:
    """ptflops' aten backend: MACs per top-level child and in total (one sample)."""
    ptflops = _import_ptflops()

    module = module_of(net, "cpu")
    text = io.StringIO()
    total, _ = ptflops.get_model_complexity_info(
        module,
        tuple(input_shape),
        as_strings=False,
        print_per_layer_stat=True,
        ost=text,
        flops_units="Mac",
        param_units="",
        backend="aten",
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
    return Measured(
        "aten",
        per_top,
        int(total) * batch,
        ("per top-level module: the aten backend only tracks direct children",),
    )


def measure_all(
    net: Net, input_shape: Shape, batch: int, sources: tuple[str, ...]
) -> dict[str, Measured]:
    """Every source of ``sources`` measured: "torch" (numel), "flopcounter", "ptflops", "aten"."""
    runners: dict[str, Callable[[], Measured]] = {
        "torch": lambda: measure_params(net),
        "flopcounter": lambda: measure_flopcounter(net, input_shape, batch),
        "ptflops": lambda: measure_ptflops(net, input_shape, batch),
        "aten": lambda: measure_ptflops_aten(net, input_shape, batch),
    }
    return {source: runners[source]() for source in sources}
