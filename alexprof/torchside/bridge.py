"""descriptors -> torch.nn.Module.  Imports torch; load it only when measuring.

The module built from a network is an ``nn.Sequential`` whose children carry
the descriptor names, so ``named_modules()`` joins with report rows on
``name``.  Parallel branches become :class:`ParallelModule`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from alexprof import nets as L
from alexprof.registry import ByType

BUILDERS: ByType[Callable[[Any], nn.Module]] = ByType("torch builder")
builder = BUILDERS.register  # @builder(L.Conv2d): descriptor -> nn.Module


class ParallelModule(nn.Module):
    """Runs every branch on the same input; concatenates channels or adds."""

    def __init__(self, branches: dict[str, nn.Module], merge: str) -> None:
        super().__init__()
        for name, module in branches.items():
            self.add_module(name, module)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.children()]
        if self.merge == "add":
            total = outs[0]
            for out in outs[1:]:
                total = total + out
            return total
        return torch.cat(outs, dim=1)


class SideModule(nn.Module):
    """A training-only side branch: in train mode its layers run on the input and
    the result is kept in ``output`` for the loss; the input passes on unchanged."""

    def __init__(self, layers: dict[str, nn.Module], loss_weight: float) -> None:
        super().__init__()
        for name, module in layers.items():
            self.add_module(name, module)
        self.loss_weight = loss_weight
        self.output: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.output = None
        if self.training:
            out = x
            for layer in self.children():
                out = layer(out)
            self.output = out
        return x


def side_outputs(module: nn.Module) -> list[tuple[float, torch.Tensor]]:
    """(loss weight, output) of every side branch that ran in the last forward."""
    return [(m.loss_weight, m.output) for m in module.modules()
            if isinstance(m, SideModule) and m.output is not None]


@builder(L.Sequential)
def _sequential(d: L.Sequential) -> nn.Module:
    seq = nn.Sequential()
    for child in d.layers:
        seq.add_module(child.name, to_module(child))
    return seq


@builder(L.Parallel)
def _parallel(d: L.Parallel) -> nn.Module:
    return ParallelModule({b.name: to_module(b) for b in d.branches}, d.merge)


@builder(L.Side)
def _side(d: L.Side) -> nn.Module:
    return SideModule({c.name: to_module(c) for c in d.layers}, d.loss_weight)


@builder(L.Conv2d)
def _conv(d: L.Conv2d) -> nn.Module:
    return nn.Conv2d(d.in_channels, d.out_channels, d.kernel_size, d.stride, d.padding,
                     d.dilation, d.groups, d.bias)


@builder(L.Linear)
def _linear(d: L.Linear) -> nn.Module:
    return nn.Linear(d.in_features, d.out_features, d.bias)


@builder(L.ReLU)
def _relu(d: L.ReLU) -> nn.Module:
    return nn.ReLU(inplace=d.inplace)


@builder(L.MaxPool2d)
def _maxpool(d: L.MaxPool2d) -> nn.Module:
    return nn.MaxPool2d(d.kernel_size, d.stride, d.padding, d.dilation, ceil_mode=d.ceil_mode)


@builder(L.AvgPool2d)
def _avgpool(d: L.AvgPool2d) -> nn.Module:
    return nn.AvgPool2d(d.kernel_size, d.stride, d.padding, d.ceil_mode, d.count_include_pad)


@builder(L.AdaptiveAvgPool2d)
def _adaptive(d: L.AdaptiveAvgPool2d) -> nn.Module:
    return nn.AdaptiveAvgPool2d(d.output_size)


@builder(L.LocalResponseNorm)
def _lrn(d: L.LocalResponseNorm) -> nn.Module:
    return nn.LocalResponseNorm(d.size, d.alpha, d.beta, d.k)


@builder(L.Tanh)
def _tanh(d: L.Tanh) -> nn.Module:
    return nn.Tanh()


@builder(L.Dropout)
def _dropout(d: L.Dropout) -> nn.Module:
    return nn.Dropout(d.p)


@builder(L.Softmax)
def _softmax(d: L.Softmax) -> nn.Module:
    return nn.Softmax(d.dim)


@builder(L.BatchNorm2d)
def _batchnorm(d: L.BatchNorm2d) -> nn.Module:
    return nn.BatchNorm2d(d.num_features, d.eps, affine=d.affine)


@builder(L.Flatten)
def _flatten(d: L.Flatten) -> nn.Module:
    return nn.Flatten()


def to_module(layer: L.Layer) -> nn.Module:
    return BUILDERS.of(layer)(layer)


def build(body: L.Sequential, device: str = "meta", init: bool = False) -> nn.Module:
    """The torch module of a network on ``device``.

    On ``meta`` nothing is allocated.  Elsewhere the module is built on meta and
    materialised with ``to_empty`` (uninitialised memory, no init cost) unless
    ``init`` asks for PyTorch's default initialisation.
    """
    if init:
        with torch.device(device):
            return to_module(body)
    with torch.device("meta"):
        module = to_module(body)
    return module if device == "meta" else module.to_empty(device=device)


def module_of(net: Any, device: str = "meta") -> nn.Module:
    """The torch module of a :class:`~alexprof.nets.zoo.index.Net` (or of a bare descriptor
    body) on ``device``: built from its descriptors, or (a user's network) from
    its factory, which builds on meta."""
    if isinstance(net, L.Sequential):
        return build(net, device)
    if net.factory is None:
        return build(net.body, device)
    module = net.factory()
    return module if device == "meta" else module.to_empty(device=device)


def leaf_modules(module: nn.Module) -> dict[str, nn.Module]:
    """Leaf modules by dotted name, in registration order (= execution order here)."""
    return {name: m for name, m in module.named_modules() if name and not list(m.children())}
