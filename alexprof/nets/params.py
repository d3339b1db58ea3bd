"""The tensors a layer registers on its torch module, once per descriptor kind.  No torch.

Each kind states its parameters and buffers (name, shape, role, dtype) in the order
``nn.Module`` registers them.  Counting derives a layer's ``weights`` and ``bias`` from
them (:mod:`alexprof.counting.formulas`), the memory model allocates them when the model
is built (:mod:`alexprof.memory.predict`), and the walk asks :func:`has_params` whether
a layer makes the gradient flow (:mod:`alexprof.nets.walk`).  Composites own no tensors
(their leaves do); :class:`~alexprof.nets.layers.Unsupported` carries what torch
measured (``weights``, ``bias``) instead of shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from alexprof.nets.elementwise import (
    ELU,
    GELU,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LayerNorm,
    LayerScale,
    LeakyReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    StochasticDepth,
)
from alexprof.nets.layers import (
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    LocalResponseNorm,
    ReLU,
    Softmax,
    Tanh,
    Unsupported,
)
from alexprof.nets.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    Upsample,
)
from alexprof.nets.shapes import Shape
from alexprof.nets.tensorops import (
    Add,
    Cat,
    ChannelShuffle,
    Contiguous,
    MatMul,
    Mean,
    Mul,
    Permute,
    Reshape,
    ScaledDotProductAttention,
    View,
)
from alexprof.registry import ByType
from alexprof.vocab import Vocab


class Role(Vocab):
    """Why a module holds a tensor."""

    PARAMETER = "param"  # an nn.Parameter: learned, gets a gradient, counted in ``params``
    BUFFER = "buffer"  # module state that is not learned (BatchNorm's running statistics)


@dataclass(frozen=True)
class ModuleTensor:
    """One tensor a module registers (``conv1.weight``, ``bn.running_mean``)."""

    name: str  # its attribute on the module: "weight", "bias", "running_mean", ...
    shape: Shape  # its full shape (no batch)
    role: Role = Role.PARAMETER
    dtype: str | None = None  # None: the model's dtype (num_batches_tracked is int64)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


Shapes = Callable[[Any], tuple[ModuleTensor, ...]]  # (descriptor) -> its tensors
PARAMETER_SHAPES: ByType[Shapes] = ByType("parameter shapes")
tensors = PARAMETER_SHAPES.register  # @tensors(Conv2d): what a layer registers, in order


def parameter_shapes(layer: Layer) -> tuple[ModuleTensor, ...]:
    """The parameters and buffers of ``layer``'s module, in registration order."""
    return PARAMETER_SHAPES.of(layer)(layer)


@tensors(Conv2d)
def _conv(d: Conv2d) -> tuple[ModuleTensor, ...]:
    kh, kw = d.kernel_size
    weight = ModuleTensor("weight", (d.out_channels, d.in_channels // d.groups, kh, kw))
    return (weight, ModuleTensor("bias", (d.out_channels,))) if d.bias else (weight,)


@tensors(Linear)
def _linear(d: Linear) -> tuple[ModuleTensor, ...]:
    weight = ModuleTensor("weight", (d.out_features, d.in_features))
    return (weight, ModuleTensor("bias", (d.out_features,))) if d.bias else (weight,)


@tensors(BatchNorm2d)
def _batchnorm(d: BatchNorm2d) -> tuple[ModuleTensor, ...]:
    c = (d.num_features,)
    affine = (ModuleTensor("weight", c), ModuleTensor("bias", c)) if d.affine else ()
    stats = (
        ModuleTensor("running_mean", c, Role.BUFFER),
        ModuleTensor("running_var", c, Role.BUFFER),
        ModuleTensor("num_batches_tracked", (), Role.BUFFER, "int64"),
    )
    return affine + stats


@tensors(LayerNorm)
def _layernorm(d: LayerNorm) -> tuple[ModuleTensor, ...]:
    if not d.elementwise_affine:
        return ()
    weight = ModuleTensor("weight", d.normalized_shape)
    return (weight, ModuleTensor("bias", d.normalized_shape)) if d.bias else (weight,)


@tensors(GroupNorm)
def _groupnorm(d: GroupNorm) -> tuple[ModuleTensor, ...]:
    c = (d.num_channels,)
    return (ModuleTensor("weight", c), ModuleTensor("bias", c)) if d.affine else ()


@tensors(LayerScale)
def _layerscale(d: LayerScale) -> tuple[ModuleTensor, ...]:
    return (ModuleTensor("gamma", d.shape),)


NO_TENSORS: tuple[type[Layer], ...] = (
    ReLU6, Hardtanh, Hardswish, Hardsigmoid, SiLU, Sigmoid, GELU, LeakyReLU, ELU, Identity,
    StochasticDepth, AdaptiveMaxPool2d, Add, Mul, Cat, Mean, Reshape, Permute, Contiguous,
    ChannelShuffle, ScaledDotProductAttention, View, Upsample,
)  # fmt: skip


@tensors(MatMul)
def _matmul(d: MatMul) -> tuple[ModuleTensor, ...]:
    return (ModuleTensor("weight", d.other),) if d.learned else ()


def _none(d: Layer) -> tuple[ModuleTensor, ...]:
    return ()


for _kind in (
    ReLU,
    Tanh,
    MaxPool2d,
    AvgPool2d,
    AdaptiveAvgPool2d,
    LocalResponseNorm,
    Dropout,
    Softmax,
    Flatten,
    *NO_TENSORS,
):
    tensors(_kind)(_none)


def split_weights_bias(numels: Iterable[tuple[str, int]]) -> tuple[int, int]:
    """(weights, bias) of named parameter sizes: a parameter whose name (its last dotted
    part) is ``bias`` counts as bias, every other one as weights.  The one split used
    for descriptors, a user's modules and torch's ``numel``."""
    weights = bias = 0
    for name, numel in numels:
        if name.rsplit(".", 1)[-1] == "bias":
            bias += numel
        else:
            weights += numel
    return weights, bias


def weights_and_bias(layer: Layer) -> tuple[int, int]:
    """(weights, bias) of a layer's parameters (buffers are not parameters)."""
    if isinstance(layer, Unsupported):  # what torch measured
        return layer.weights, layer.bias
    return split_weights_bias(
        (t.name, t.numel) for t in parameter_shapes(layer) if t.role is Role.PARAMETER
    )


def has_params(layer: Layer) -> bool:
    """Does the layer hold a parameter (so the gradient flows from it on)?"""
    return sum(weights_and_bias(layer)) > 0
