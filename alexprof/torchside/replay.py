"""FlopCounterMode, per module, by replaying each module call alone (imports torch).

FlopCounterMode's own per-module view cannot be used for backward: its module
tracker leaves a module "entered" until the gradient of the module's input is
complete, so when Inception branches share an input, the backward of one
branch is charged to the others as well.  Here one forward pass in train mode
records every module call (shapes, dtypes and ``requires_grad`` of its tensor
arguments); each call is then run again alone on meta under its own
FlopCounterMode, forward and then backward from its outputs, and only the
global count of each replay is used.  A module with children gets its *own*
FLOPs (functional calls in its ``forward``): its replay minus its direct
children's replays.  Nothing is patched; hooks are removed in ``finally``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

from alexprof.errors import UsageError
from alexprof.nets import Shape

Spec = tuple[
    list[Any], dict[str, Any]
]  # (args, kwargs); a tensor as ("tensor", shape, dtype, grad)


def spec_of(args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Spec:
    """What it takes to call a module again alone: tensors by shape, dtype, grad."""

    def one(a: Any) -> Any:
        if isinstance(a, torch.Tensor):
            return ("tensor", tuple(a.shape), a.dtype, a.requires_grad)
        return a

    return [one(a) for a in args], {k: one(v) for k, v in (kwargs or {}).items()}


def _make(item: Any) -> Any:
    if not (isinstance(item, tuple) and item[:1] == ("tensor",)):
        return item
    _, shape, dtype, needs_grad = item
    t = torch.empty(shape, dtype=dtype, device="meta", requires_grad=needs_grad)
    return t.clone() if needs_grad else t  # a non-leaf, so in-place layers may run


def replay(module: nn.Module, spec: Spec) -> tuple[int, int]:
    """FlopCounterMode's forward and backward FLOPs of one module call, run alone."""
    args = [_make(a) for a in spec[0]]
    kwargs = {k: _make(v) for k, v in spec[1].items()}
    with FlopCounterMode(display=False) as fwd:
        out = module(*args, **kwargs)
    outs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor) and t.requires_grad]
    outs += [t for _, t in side_outputs(module)]
    if not outs:
        return fwd.get_total_flops(), 0
    with FlopCounterMode(display=False) as bwd:
        torch.autograd.backward(outs, [torch.empty_like(t) for t in outs])
    return fwd.get_total_flops(), bwd.get_total_flops()


def side_outputs(module: nn.Module) -> list[tuple[float, torch.Tensor]]:
    from alexprof.torchside.bridge import side_outputs as outputs

    return outputs(module)


def record_calls(
    module: nn.Module, input_shape: Shape, batch: int, leaves_only: bool
) -> list[tuple[str, nn.Module, Spec]]:
    """Every module call of one train-mode forward on meta, in call order."""
    calls: list[tuple[str, nn.Module, Spec]] = []
    names = {m: n for n, m in module.named_modules()}

    def pre(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        calls.append((names[mod], mod, spec_of(args, kwargs)))

    hooks = [
        m.register_forward_pre_hook(pre, with_kwargs=True)
        for m in names
        if not leaves_only or not list(m.children())
    ]
    module.train()
    try:
        module(torch.empty((batch, *input_shape), device="meta"))
    finally:
        for h in hooks:
            h.remove()
    return calls


def replay_counts(
    module: nn.Module, input_shape: Shape, batch: int, own: bool
) -> dict[str, tuple[int, int]]:
    """(forward, backward) FLOPs per leaf module, summed over its calls; with ``own``
    also each module with children's own FLOPs; keyed by torch's module names (root: "")."""
    totals: dict[str, tuple[int, int]] = {}
    for name, mod, spec in record_calls(module, input_shape, batch, leaves_only=not own):
        f, b = replay(mod, spec)
        old = totals.get(name, (0, 0))
        totals[name] = (old[0] + f, old[1] + b)
    counts: dict[str, tuple[int, int]] = {}
    for name, mod in module.named_modules():
        if name not in totals:
            continue
        f, b = totals[name]
        for child, _ in mod.named_children():
            cf, cb = totals.get(f"{name}.{child}" if name else child, (0, 0))
            f, b = f - cf, b - cb
        counts[name] = (f, b)
    return counts


def training_loss(out: Any, module: nn.Module) -> torch.Tensor:
    """A scalar loss over every tensor the model returned, plus each side branch's
    output times its loss weight.  2-D outputs get cross-entropy against class 0,
    anything else a sum: neither adds FLOPs that FlopCounterMode counts."""

    def loss(t: torch.Tensor) -> torch.Tensor:
        if t.dim() == 2:
            target = torch.zeros(t.shape[0], dtype=torch.long, device=t.device)
            return torch.nn.functional.cross_entropy(t, target)
        return t.sum()

    terms = [loss(t) for t in tree_leaves(out) if isinstance(t, torch.Tensor) and t.requires_grad]
    terms += [w * loss(t) for w, t in side_outputs(module)]
    if not terms:
        raise UsageError("the model's output does not depend on its parameters; nothing to train")
    return sum(terms[1:], terms[0])


def step_total(module: nn.Module, input_shape: Shape, batch: int) -> int:
    """FlopCounterMode's global count of one training step (forward, loss, backward)."""
    module.train()
    x = torch.empty((batch, *input_shape), device="meta")
    with FlopCounterMode(display=False) as counter:
        training_loss(module(x), module).backward()
    return counter.get_total_flops()
