"""Analytic counts: one pure formula per descriptor type, and named conventions.

Every formula maps ``(descriptor, input shape)`` (per sample) to a :class:`Cost`
of plain integers.  Formulas live in one registry filled only by the
:func:`formula` decorator; registering a type twice is an error.

The quantities (per sample):

* ``weights``/``bias``: learned parameters, counted separately, from the tensors each
  kind registers (:mod:`alexprof.nets.params`; memory allocates the same ones).
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from alexprof.nets import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    ReLU,
    Shape,
    Softmax,
    Tanh,
    Unsupported,
)
from alexprof.nets.params import weights_and_bias
from alexprof.registry import ByType


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
    weights, bias = weights_and_bias(d)  # C_out * C_in/groups * k_h * k_w, and C_out
    positions = out_shape[1] * out_shape[2]  # H_out * W_out
    return Cost(
        weights=weights,
        bias=bias,
        macs=positions * weights,  # each output position applies every weight once
        bias_adds=math.prod(out_shape) if d.bias else 0,
    )


@formula(Linear)
def linear_cost(d: Linear, in_shape: Shape, out_shape: Shape) -> Cost:
    weights, bias = weights_and_bias(d)  # in * out, and out
    return Cost(
        weights=weights,
        bias=bias,
        macs=weights,  # every weight multiplies one input once
        bias_adds=d.out_features if d.bias else 0,
    )


def _activation_cost(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(elements=math.prod(out_shape))


formula(ReLU)(_activation_cost)
formula(Tanh)(_activation_cost)


@formula(Unsupported)
def unsupported_cost(d: Unsupported, in_shape: Shape, out_shape: Shape) -> Cost:
    """What torch measured: FlopCounterMode counts 2 FLOPs per MAC."""
    return Cost(
        weights=d.weights, bias=d.bias, macs=d.flops // 2, backward_macs=d.flops_backward // 2
    )


def _pool_cost(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(elements=math.prod(in_shape))


formula(MaxPool2d)(_pool_cost)
formula(AvgPool2d)(_pool_cost)
formula(AdaptiveAvgPool2d)(_pool_cost)


@formula(BatchNorm2d)
def batchnorm_cost(d: BatchNorm2d, in_shape: Shape, out_shape: Shape) -> Cost:
    weights, bias = weights_and_bias(d)  # C and C when affine (running stats are buffers)
    return Cost(weights=weights, bias=bias, elements=math.prod(in_shape) * (2 if d.affine else 1))


def _free(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost()


for _kind in (Dropout, Flatten, Softmax, LocalResponseNorm):
    formula(_kind)(_free)
