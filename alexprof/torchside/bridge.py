"""descriptors <-> torch.nn.Module, both directions declared per kind.  Imports torch;
load it only when measuring.

The module built from a network is an ``nn.Sequential`` whose children carry
the descriptor names, so ``named_modules()`` joins with report rows on
``name``.  Parallel branches become :class:`ParallelModule`.  Each leaf kind's
builder (``@builder``) sits beside its extraction (``@extracts``): the torch module
type it comes from in a user's network and how its fields are read back
(:mod:`alexprof.torchside.record`), or None where the descriptor cannot say it exactly.
The ops of modern CNNs (activations, norms, layer scale, reshapes) are in
:mod:`alexprof.torchside.bridge_ops` and :mod:`alexprof.torchside.bridge_own` (alexprof's
own modules, and timm's and torchvision's by class name); all fill
:mod:`alexprof.torchside.bridge_base`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from alexprof import nets as L
from alexprof.torchside import bridge_ops, bridge_own
from alexprof.torchside.bridge_base import (
    BUILDERS,
    EXTRACTIONS,
    NAMED_READERS,
    Extraction,
    Reader,
    builder,
    extracts,
    output_pair,
)
from alexprof.torchside.bridge_base import two as _two

__all__ = [
    "BUILDERS",
    "EXTRACTIONS",
    "Extraction",
    "Reader",
    "bridge_ops",
    "bridge_own",
    "reader_of",
]


def reader_of(module: nn.Module) -> Reader | None:
    """The reader for a module of exactly a registered torch type; for a class from
    outside torch (timm, torchvision, the user's own), the reader registered for its class
    name, which returns None where the module's attributes do not fit; else None
    (alexprof does not model it)."""
    exact = next((e.read for _, e in EXTRACTIONS.items() if type(module) is e.torch_type), None)
    if exact is not None or type(module).__module__.split(".")[0] == "torch":
        return exact
    return NAMED_READERS.get(type(module).__name__)


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
    return [
        (m.loss_weight, m.output)
        for m in module.modules()
        if isinstance(m, SideModule) and m.output is not None
    ]


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
    return nn.Conv2d(
        d.in_channels,
        d.out_channels,
        d.kernel_size,
        d.stride,
        d.padding,
        d.dilation,
        d.groups,
        d.bias,
    )


@extracts(L.Conv2d, nn.Conv2d)
def _conv_of(m: nn.Conv2d, name: str) -> L.Layer | None:
    padding: Any = m.padding
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        spans = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        if any(s % 2 for s in spans):
            return None  # asymmetric padding: not a descriptor
        padding = tuple(s // 2 for s in spans)
    return L.Conv2d(
        name,
        m.in_channels,
        m.out_channels,
        _two(m.kernel_size),
        _two(m.stride),
        _two(padding),
        _two(m.dilation),
        m.groups,
        m.bias is not None,
    )


@builder(L.Linear)
def _linear(d: L.Linear) -> nn.Module:
    return nn.Linear(d.in_features, d.out_features, d.bias)


@extracts(L.Linear, nn.Linear)
def _linear_of(m: nn.Linear, name: str) -> L.Layer | None:
    return L.Linear(name, m.in_features, m.out_features, m.bias is not None)


@builder(L.ReLU)
def _relu(d: L.ReLU) -> nn.Module:
    return nn.ReLU(inplace=d.inplace)


@extracts(L.ReLU, nn.ReLU)
def _relu_of(m: nn.ReLU, name: str) -> L.Layer | None:
    return L.ReLU(name, m.inplace)


@builder(L.MaxPool2d)
def _maxpool(d: L.MaxPool2d) -> nn.Module:
    return nn.MaxPool2d(d.kernel_size, d.stride, d.padding, d.dilation, ceil_mode=d.ceil_mode)


@extracts(L.MaxPool2d, nn.MaxPool2d)
def _maxpool_of(m: nn.MaxPool2d, name: str) -> L.Layer | None:
    if m.return_indices:
        return None
    return L.MaxPool2d(
        name, _two(m.kernel_size), _two(m.stride), _two(m.padding), m.ceil_mode, _two(m.dilation)
    )


@builder(L.AvgPool2d)
def _avgpool(d: L.AvgPool2d) -> nn.Module:
    return nn.AvgPool2d(d.kernel_size, d.stride, d.padding, d.ceil_mode, d.count_include_pad)


@extracts(L.AvgPool2d, nn.AvgPool2d)
def _avgpool_of(m: nn.AvgPool2d, name: str) -> L.Layer | None:
    return L.AvgPool2d(
        name, _two(m.kernel_size), _two(m.stride), _two(m.padding), m.ceil_mode, m.count_include_pad
    )


@builder(L.AdaptiveAvgPool2d)
def _adaptive(d: L.AdaptiveAvgPool2d) -> nn.Module:
    return nn.AdaptiveAvgPool2d(d.output_size)


@extracts(L.AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d)
def _adaptive_of(m: nn.AdaptiveAvgPool2d, name: str) -> L.Layer | None:
    size = output_pair(m.output_size)
    return None if size is None else L.AdaptiveAvgPool2d(name, size)


@builder(L.LocalResponseNorm)
def _lrn(d: L.LocalResponseNorm) -> nn.Module:
    return nn.LocalResponseNorm(d.size, d.alpha, d.beta, d.k)


@extracts(L.LocalResponseNorm, nn.LocalResponseNorm)
def _lrn_of(m: nn.LocalResponseNorm, name: str) -> L.Layer | None:
    return L.LocalResponseNorm(name, m.size, m.alpha, m.beta, m.k)


@builder(L.Tanh)
def _tanh(d: L.Tanh) -> nn.Module:
    return nn.Tanh()


@extracts(L.Tanh, nn.Tanh)
def _tanh_of(m: nn.Tanh, name: str) -> L.Layer | None:
    return L.Tanh(name)


@builder(L.Dropout)
def _dropout(d: L.Dropout) -> nn.Module:
    return nn.Dropout(d.p)


@extracts(L.Dropout, nn.Dropout)
def _dropout_of(m: nn.Dropout, name: str) -> L.Layer | None:
    return L.Dropout(name, m.p)


@builder(L.Softmax)
def _softmax(d: L.Softmax) -> nn.Module:
    return nn.Softmax(d.dim)


@extracts(L.Softmax, nn.Softmax)
def _softmax_of(m: nn.Softmax, name: str) -> L.Layer | None:
    return L.Softmax(name, m.dim if m.dim is not None else 1)


@builder(L.BatchNorm2d)
def _batchnorm(d: L.BatchNorm2d) -> nn.Module:
    return nn.BatchNorm2d(d.num_features, d.eps, affine=d.affine)


@extracts(L.BatchNorm2d, nn.BatchNorm2d)
def _batchnorm_of(m: nn.BatchNorm2d, name: str) -> L.Layer | None:
    return L.BatchNorm2d(name, m.num_features, m.eps, m.affine)


@builder(L.Flatten)
def _flatten(d: L.Flatten) -> nn.Module:
    return nn.Flatten()


@extracts(L.Flatten, nn.Flatten)
def _flatten_of(m: nn.Flatten, name: str) -> L.Layer | None:
    return L.Flatten(name) if (m.start_dim, m.end_dim) == (1, -1) else None


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
