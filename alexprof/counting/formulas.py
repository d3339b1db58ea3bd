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
    ELU,
    GELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Cat,
    ChannelShuffle,
    Contiguous,
    Conv2d,
    Dropout,
    Flatten,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    Layer,
    LayerNorm,
    LayerScale,
    LeakyReLU,
    Linear,
    LocalResponseNorm,
    MatMul,
    MaxPool2d,
    Mean,
    Mul,
    Permute,
    ReLU,
    ReLU6,
    Reshape,
    ScaledDotProductAttention,
    Shape,
    Sigmoid,
    SiLU,
    Softmax,
    StochasticDepth,
    Tanh,
    Unsupported,
    Upsample,
    View,
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
    grad_input_macs: int | None = None  # MACs of the input's gradient (None: ``macs``)
    grad_operand_macs: int = 0  # MACs of the other operands' gradients (matmul, attention)


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
    positions = math.prod(in_shape[:-1])  # 1 for a vector; H*W for a channels-last map
    return Cost(
        weights=weights,
        bias=bias,
        macs=positions * weights,  # every weight multiplies one input per position
        bias_adds=math.prod(out_shape) if d.bias else 0,
    )


def _activation_cost(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost(elements=math.prod(out_shape))


for _active in (
    ReLU,
    Tanh,
    ReLU6,
    Hardtanh,
    Hardswish,
    Hardsigmoid,
    SiLU,
    Sigmoid,
    GELU,
    LeakyReLU,
    ELU,
    Upsample,  # the output's elements (ptflops' upsample hook); FlopCounterMode counts none
    Add,  # elements of the (broadcast) result, as ptflops' torch.add / Tensor.mul count
    Mul,
):
    formula(_active)(_activation_cost)


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
formula(AdaptiveMaxPool2d)(_pool_cost)


@formula(BatchNorm2d)
def batchnorm_cost(d: BatchNorm2d, in_shape: Shape, out_shape: Shape) -> Cost:
    weights, bias = weights_and_bias(d)  # C and C when affine (running stats are buffers)
    return Cost(weights=weights, bias=bias, elements=math.prod(in_shape) * (2 if d.affine else 1))


@formula(LayerNorm)
def layernorm_cost(d: LayerNorm, in_shape: Shape, out_shape: Shape) -> Cost:
    """ptflops' norm hook doubles its input elements only when the module has an
    ``affine`` attribute, which ``nn.LayerNorm`` lacks (it is ``elementwise_affine``)."""
    weights, bias = weights_and_bias(d)  # prod(normalized_shape) each when affine
    return Cost(weights=weights, bias=bias, elements=math.prod(in_shape))


@formula(GroupNorm)
def groupnorm_cost(d: GroupNorm, in_shape: Shape, out_shape: Shape) -> Cost:
    weights, bias = weights_and_bias(d)  # C and C when affine
    return Cost(weights=weights, bias=bias, elements=math.prod(in_shape) * (2 if d.affine else 1))


@formula(LayerScale)
def layerscale_cost(d: LayerScale, in_shape: Shape, out_shape: Shape) -> Cost:
    weights, _ = weights_and_bias(d)  # gamma
    return Cost(weights=weights, elements=math.prod(out_shape))


@formula(MatMul)
def matmul_cost(d: MatMul, in_shape: Shape, out_shape: Shape) -> Cost:
    """``(..., n, k) @ (..., k, m)``: ``k`` MACs per output element; the backward
    computes both operands' gradients, each as many MACs again."""
    macs = math.prod(out_shape) * in_shape[-1]
    if d.learned:  # the weight's gradient, as a layer's
        return Cost(weights=math.prod(d.other), macs=macs)
    return Cost(macs=macs, grad_operand_macs=macs)


@formula(ScaledDotProductAttention)
def attention_cost(d: ScaledDotProductAttention, in_shape: Shape, out_shape: Shape) -> Cost:
    """Scores ``q @ k^T`` (L*S*E per head) and their product with the values (L*S*Ev),
    as FlopCounterMode's attention formula and the math decomposition's two bmms count.
    Backward: grad q (L*S*E) is the input's; grad k (L*S*E), grad v and the scores'
    gradient (L*S*Ev each) are the operands'."""
    heads = math.prod(out_shape[:-2])
    length, e = in_shape[-2], in_shape[-1]
    s, ev = d.key[-2], d.value[-1]
    return Cost(
        macs=heads * length * s * (e + ev),
        grad_input_macs=heads * length * s * e,
        grad_operand_macs=heads * length * s * (e + 2 * ev),
    )


def _free(d: Layer, in_shape: Shape, out_shape: Shape) -> Cost:
    return Cost()


for _free_kind in (
    Dropout,
    Flatten,
    Softmax,
    LocalResponseNorm,
    Identity,
    StochasticDepth,
    Cat,
    Mean,
    Reshape,
    Permute,
    Contiguous,
    ChannelShuffle,
    View,
):
    formula(_free_kind)(_free)
