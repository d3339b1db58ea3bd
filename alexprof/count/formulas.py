"""Analytic counts: one pure formula per descriptor type, and named conventions.

Every formula maps ``(descriptor, input shape)`` (per sample) to a :class:`Cost`
of plain integers.  Formulas live in one registry filled only by the
:func:`formula` decorator; registering a type twice is an error.

The quantities (per sample):

* ``weights``/``bias``: learned parameters, counted separately.
* ``macs``: multiply-accumulates of the layer's dot products, bias excluded.
  Conv: ``H_out*W_out * k_h*k_w * (C_in/groups) * C_out``; linear: ``in*out``.
* ``bias_adds``: output elements that get a bias added (conv: ``C_out*H_out*W_out``,
  linear: ``out``).
* ``elements``: the count a "cheap op" convention charges (ReLU: output elements;
  pooling: *input* elements; batch norm: input elements, twice with affine).

A :class:`Convention` turns a Cost into the MAC figure that one peer tool
reports.  Whatever the convention, ``flops == 2 * macs`` (one multiply and one
add per MAC), and the backward figure of a training step is
``2 * (grad-input MACs + grad-weight MACs)`` plus, under conventions that count
them, bias and elementwise terms once more.  The grad-input term is absent for
a layer whose input does not need a gradient (the first learned layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, TypeVar

from alexprof.errors import choose
from alexprof.registry import ByType
from alexprof.layers import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Layer, Linear,
    LocalResponseNorm, MaxPool2d, Placed, ReLU, Shape, Softmax, Tanh, Unsupported,
)


@dataclass(frozen=True)
class Cost:
    """Per-sample costs of one layer (see module docstring for each field)."""

    weights: int = 0
    bias: int = 0
    macs: int = 0
    bias_adds: int = 0
    elements: int = 0
    backward_macs: int | None = None  # measured, for layers alexprof does not model


L = TypeVar("L", bound=Layer)
Formula = Callable[[L, Shape, Shape], Cost]
FORMULAS: ByType[Formula] = ByType("cost formula")
formula = FORMULAS.register  # @formula(Conv2d): the cost formula of a descriptor type


def cost_of(layer: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return FORMULAS.of(layer)(layer, in_shape, out_shape)


@formula(Conv2d)
def conv2d_cost(d: Conv2d, in_shape: Shape, out_shape: Shape) -> Cost:
    kh, kw = d.kernel_size
    weights = kh * kw * (d.in_channels // d.groups) * d.out_channels
    positions = out_shape[1] * out_shape[2]  # H_out * W_out
    return Cost(
        weights=weights,
        bias=d.out_channels if d.bias else 0,
        macs=positions * weights,  # each output position applies every weight once
        bias_adds=math.prod(out_shape) if d.bias else 0,
    )


@formula(Linear)
def linear_cost(d: Linear, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(
        weights=d.in_features * d.out_features,
        bias=d.out_features if d.bias else 0,
        macs=d.in_features * d.out_features,
        bias_adds=d.out_features if d.bias else 0,
    )


def _activation_cost(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(elements=math.prod(out_shape))


formula(ReLU)(_activation_cost)
formula(Tanh)(_activation_cost)


@formula(Unsupported)
def unsupported_cost(d: Unsupported, in_shape: Shape, out_shape: Shape) -> Cost:
    """What torch measured: FlopCounterMode counts 2 FLOPs per MAC."""
    return Cost(weights=d.weights, bias=d.bias, macs=d.flops // 2,
                backward_macs=d.flops_backward // 2)


def _pool_cost(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(elements=math.prod(in_shape))


formula(MaxPool2d)(_pool_cost)
formula(AvgPool2d)(_pool_cost)
formula(AdaptiveAvgPool2d)(_pool_cost)


@formula(BatchNorm2d)
def batchnorm_cost(d: BatchNorm2d, in_shape: Shape, out_shape: Shape) -> Cost:
    n = d.num_features if d.affine else 0
    return Cost(weights=n, bias=n, elements=math.prod(in_shape) * (2 if d.affine else 1))


def _free(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost()


for _kind in (Dropout, Flatten, Softmax, LocalResponseNorm):
    formula(_kind)(_free)


# --- conventions ------------------------------------------------------------

@dataclass(frozen=True)
class Convention:
    """How one peer tool turns a layer's Cost into its reported MACs."""

    name: str
    title: str
    description: str
    bias: bool  # are bias additions counted?
    elementwise: frozenset[type]  # layer types whose ``elements`` are counted
    eval_mode: bool = False  # the peer runs model.eval(): training-only side branches skipped

    def runs(self, placed: Placed) -> bool:
        """Does this peer run the layer at all?"""
        return not (self.eval_mode and placed.training_only)

    def macs(self, layer: Layer, cost: Cost) -> int:
        macs = cost.macs + (cost.bias_adds if self.bias else 0)
        if type(layer) in self.elementwise:
            macs += cost.elements
        return macs

    def backward_macs(self, placed: Placed, cost: Cost) -> int:
        if cost.backward_macs is not None:
            return cost.backward_macs
        grads = cost.macs * ((1 if placed.input_needs_grad else 0) + (1 if cost.weights else 0))
        if self.bias and cost.bias:
            grads += cost.bias_adds  # d(bias) sums grad_out over positions
        if type(placed.layer) in self.elementwise:
            grads += cost.elements if placed.input_needs_grad else 0
        return grads


_PTFLOPS_MODULES = frozenset({ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d})

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "macs", "conv+linear MACs, no bias",
            "multiply-accumulates of conv and linear layers, bias excluded; what fvcore, "
            "thop and torchprofile report as their main figure; a training step's forward, so "
            "training-only side branches (GoogLeNet's auxiliary heads) count",
            bias=False, elementwise=frozenset(),
        ),
        Convention(
            "flopcounter", "FlopCounterMode",
            "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per conv/linear MAC, bias "
            "ignored, forward and backward (same MACs as 'macs')",
            bias=False, elementwise=frozenset(),
        ),
        Convention(
            "ptflops", "ptflops 0.7.5 pytorch backend, per-layer lines",
            "ptflops 0.7.5 pytorch backend module hooks: conv and linear with bias, ReLU by "
            "output elements, pooling by input elements, batch norm by input elements "
            "(x2 when affine), LRN/dropout/softmax/flatten/tanh zero; model.eval(), so "
            "training-only side branches count zero",
            bias=True, elementwise=_PTFLOPS_MODULES, eval_mode=True,
        ),
        Convention(
            "aten", "ptflops aten backend = torchinfo mult-adds",
            "ptflops 0.7.5 aten backend, equal to torchinfo's mult-adds: conv and linear "
            "with bias, nothing else; model.eval(), so training-only side branches count zero",
            bias=True, elementwise=frozenset(), eval_mode=True,
        ),
    )
}
DEFAULT_CONVENTION = "macs"


def get_convention(name: str) -> Convention:
    return choose(CONVENTIONS, name, "convention")
