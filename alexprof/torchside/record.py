"""torch.nn.Module -> placed leaves, by running it on the meta device.

One forward pass in train mode, with hooks on every module, records each call
of a leaf module in order (its input and output shapes, whether its input
needs a gradient) and the aten ops each non-leaf module runs itself (its
functional calls).  A second pass in eval mode tells which leaves run only in
training.  Leaves of a kind alexprof models become descriptors; everything
else becomes an :class:`~alexprof.nets.Unsupported` row carrying what torch
measured (``numel`` and FlopCounterMode, see :mod:`alexprof.torchside.measure`), so it is
never counted as zero silently.  Shapes are per sample: the pass runs a batch
of :data:`BATCH` and measured FLOPs are divided by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from alexprof import nets as L
from alexprof.errors import UsageError
from alexprof.nets import Placed, Shape, row_name, split_weights_bias
from alexprof.torchside.bridge import reader_of
from alexprof.torchside.replay import replay, spec_of

BATCH = 2  # not 1: BatchNorm in train mode refuses one value per channel


@dataclass
class Call:
    name: str  # dotted module name ("" for the root)
    module: nn.Module
    in_shape: Shape
    out_shape: Shape
    needs_grad: bool
    single_output: bool
    spec: Any  # its arguments, for replaying the call alone (see alexprof.torchside.replay)
    call: int = 1  # the n-th call of this module in the forward


@dataclass
class Own:
    """What a module with children does itself: functional calls (and parameters)."""

    ops: list[str] = field(default_factory=list)
    in_shape: Shape | None = None
    out_shape: Shape = ()


class _OpLog(TorchDispatchMode):
    """Records the non-view aten ops run while a non-leaf module is innermost."""

    def __init__(self, stack: list[tuple[str, bool]], owns: dict[str, Own]) -> None:
        super().__init__()
        self.stack, self.owns = stack, owns

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.stack and not self.stack[-1][1] and not func.is_view:
            own = self.owns.setdefault(self.stack[-1][0], Own())
            op = func._overloadpacket.__name__
            if op not in own.ops:
                own.ops.append(op)
            first = next((a for a in tree_leaves(args) if isinstance(a, torch.Tensor)), None)
            if own.in_shape is None and first is not None:
                own.in_shape = tuple(first.shape[1:])
            last = next((o for o in tree_leaves(out) if isinstance(o, torch.Tensor)), None)
            own.out_shape = tuple(last.shape[1:]) if last is not None else own.out_shape
        return out


Event = tuple[str, Any]  # ("leaf", Call) or ("exit", name of a module with children)


def record(
    module: nn.Module, input_shape: Shape, train: bool
) -> tuple[list[Event], dict[str, Own]]:
    """Run ``module`` once on meta: leaf calls and non-leaf exits in order, own ops."""
    module.train(train)
    names = {m: n for n, m in module.named_modules()}
    leaf = {m: not list(m.children()) for m in names}
    stack: list[tuple[str, bool]] = []
    events: list[Event] = []
    counts: dict[str, int] = {}
    owns: dict[str, Own] = {}

    def pre(mod: nn.Module, args: tuple[Any, ...]) -> None:
        stack.append((names[mod], leaf[mod]))

    def post(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        stack.pop()
        name = names[mod]
        if not leaf[mod]:
            events.append(("exit", name))
            return
        counts[name] = counts.get(name, 0) + 1
        ins = [a for a in tree_leaves(args) if isinstance(a, torch.Tensor)]
        outs = [o for o in tree_leaves(out) if isinstance(o, torch.Tensor)]
        events.append(
            (
                "leaf",
                Call(
                    name,
                    mod,
                    tuple(ins[0].shape[1:]) if ins else (),
                    tuple(outs[0].shape[1:]) if outs else (),
                    bool(ins) and ins[0].requires_grad,
                    isinstance(out, torch.Tensor),
                    spec_of(args, kwargs),
                    counts[name],
                ),
            )
        )

    hooks = [
        h
        for m in names
        for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post, with_kwargs=True))
    ]
    x = torch.empty((BATCH, *input_shape), device="meta")
    try:
        with _OpLog(stack, owns):
            module(x)
    finally:
        for h in hooks:
            h.remove()
    return events, owns


# --- torch module -> descriptor (each kind's reader: alexprof.torchside.bridge) --------------


def descriptor(call: Call) -> L.Layer | None:
    """The descriptor of a leaf call, or None when alexprof does not model it exactly
    (an unknown type, or a mapped one whose shape rule disagrees with what ran)."""
    read = reader_of(call.module)
    if read is None or not call.single_output:
        return None
    name = call.name.rsplit(".", 1)[-1]
    try:
        layer = read(call.module, name if name.replace("_", "").isalnum() else "layer")
        if layer is None or layer.output_shape(call.in_shape) != call.out_shape:
            return None
    except UsageError:  # ShapeError included: a per-sample rule that does not fit
        return None
    return layer


# --- placed leaves -----------------------------------------------------------------------


def own_params(module: nn.Module, recurse: bool) -> tuple[int, int]:
    """(weights, bias) numel, split as everywhere (:func:`~alexprof.nets.split_weights_bias`)."""
    named = module.named_parameters(recurse=recurse)
    return split_weights_bias((key, p.numel()) for key, p in named)


def placed_leaves(
    module: nn.Module, input_shape: Shape, own_flops: dict[str, tuple[int, int]]
) -> list[Placed]:
    """Placed leaves of ``module`` (built on meta) in call order.

    ``own_flops`` holds FlopCounterMode's own (forward, backward) FLOPs of the
    modules with children, for a batch of :data:`BATCH`.
    """
    events, owns = record(module, input_shape, train=True)
    in_eval = {
        e[1].name if e[0] == "leaf" else e[1] for e in record(module, input_shape, False)[0]
    } | {""}
    by_name = dict(module.named_modules())
    placed: list[Placed] = []
    seen: set[str] = set()
    for kind, item in [*events, ("exit", "")]:
        if kind == "leaf":
            seen.add(item.name)
            placed.append(_leaf(item, item.name not in in_eval))
        elif item not in seen:  # a module with children: its own row, at its first exit
            seen.add(item)
            own = _own(
                item,
                by_name[item],
                owns.get(item, Own()),
                own_flops.get(item, (0, 0)),
                item not in in_eval,
            )
            placed += [own] if own is not None else []
    return placed + _never_called(by_name, seen)


def _never_called(by_name: dict[str, nn.Module], called: set[str]) -> list[Placed]:
    """Leaves the forward never calls still hold parameters: one row each, no FLOPs."""
    rows = []
    for name, mod in by_name.items():
        weights, bias = own_params(mod, recurse=False)
        if name in called or list(mod.children()) or not weights + bias:
            continue
        layer = L.Unsupported(
            name.rsplit(".", 1)[-1], f"{type(mod).__name__} never called", (), weights, bias
        )
        rows.append(Placed(name, layer, (), (), False))
    return rows


def _leaf(call: Call, training_only: bool) -> Placed:
    layer = descriptor(call)
    if layer is None:
        weights, bias = own_params(call.module, recurse=True)
        fwd, bwd = replay(call.module, call.spec)
        layer = L.Unsupported(
            call.name.rsplit(".", 1)[-1],
            type(call.module).__name__,
            call.out_shape,
            weights,
            bias,
            fwd // BATCH,
            bwd // BATCH,
        )
    return Placed(
        call.name, layer, call.in_shape, call.out_shape, call.needs_grad, training_only, call.call
    )


def _own(
    name: str, mod: nn.Module, own: Own, flops: tuple[int, int], training_only: bool
) -> Placed | None:
    weights, bias = own_params(mod, recurse=False)
    if not (own.ops or weights or bias or any(flops)):
        return None
    label = f"{type(mod).__name__} own: {' '.join(own.ops) or 'parameters'}"
    layer = L.Unsupported(
        row_name(name).rsplit(".", 1)[-1],
        label,
        own.out_shape,
        weights,
        bias,
        flops[0] // BATCH,
        flops[1] // BATCH,
    )
    return Placed(name, layer, own.in_shape or (), own.out_shape, True, training_only)
