"""Immutable layer descriptors and their shape rules.

A descriptor says what a layer *is* (kernel, stride, channels, ...) and nothing
about tensors.  Shapes are per sample: ``(C, H, W)`` for feature maps and
``(F,)`` for vectors; the batch size is applied by the counters.

Shape rules follow PyTorch's documented formulas, e.g. for convolution and
max-pooling ``out = floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1``
(``ceil`` with ``ceil_mode``, where a window that would start in the right
padding is dropped).  Each descriptor validates its fields in
``__post_init__`` and names the bad value.  No torch import here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from alexprof.errors import ShapeError, UsageError
from alexprof.nets.shapes import (
    Pair,
    Shape,
    conv_out,
    fmt_shape,
    non_negative,
    pair,
    positive,
)


def need_rank(layer: Layer, in_shape: Shape, rank: int) -> None:
    if len(in_shape) != rank:
        want = "(C, H, W)" if rank == 3 else "(features,)"
        raise ShapeError(
            f"layer {layer.name!r} ({layer.kind}) expects a {want} input, got {fmt_shape(in_shape)}"
        )


def spatial(layer: Layer, in_shape: Shape, channels: int, hw: Pair) -> Shape:
    if hw[0] < 1 or hw[1] < 1:
        raise ShapeError(
            f"input too small: at layer {layer.name!r} ({layer.kind}) the spatial size "
            f"{fmt_shape(in_shape)} -> {fmt_shape((channels, *hw))} reaches zero"
        )
    return (channels, hw[0], hw[1])


@dataclass(frozen=True)
class Layer:
    """Base of every descriptor: a name unique within its parent."""

    name: str
    kind: ClassVar[str] = "Layer"

    def output_shape(self, in_shape: Shape) -> Shape:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_name(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise UsageError(f"layer name {self.name!r} must be letters, digits, '_' or '-'")


@dataclass(frozen=True)
class Conv2d(Layer):
    in_channels: int = 1
    out_channels: int = 1
    kernel_size: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    kind: ClassVar[str] = "Conv2d"

    def __post_init__(self) -> None:
        self._check_name()
        for key in ("kernel_size", "stride", "padding", "dilation"):
            object.__setattr__(self, key, pair(getattr(self, key), f"{self.name}.{key}"))
        positive(
            self.name,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            kernel_size=self.kernel_size,
            stride=self.stride,
            dilation=self.dilation,
            groups=self.groups,
        )
        non_negative(self.name, padding=self.padding)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise UsageError(
                f"layer {self.name!r}: groups={self.groups} must divide in_channels="
                f"{self.in_channels} and out_channels={self.out_channels}"
            )

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        if in_shape[0] != self.in_channels:
            raise ShapeError(
                f"layer {self.name!r} (Conv2d) expects {self.in_channels} input channels, "
                f"got {fmt_shape(in_shape)}"
            )
        hw = tuple(
            conv_out(
                in_shape[1 + i],
                self.kernel_size[i],
                self.stride[i],
                self.padding[i],
                self.dilation[i],
            )
            for i in range(2)
        )
        return spatial(self, in_shape, self.out_channels, hw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Linear(Layer):
    in_features: int = 1
    out_features: int = 1
    bias: bool = True
    kind: ClassVar[str] = "Linear"

    def __post_init__(self) -> None:
        self._check_name()
        positive(self.name, in_features=self.in_features, out_features=self.out_features)

    def output_shape(self, in_shape: Shape) -> Shape:
        """Any rank: the last dim holds the features (ConvNeXt's Linear on ``(H, W, C)``)."""
        if not in_shape or in_shape[-1] != self.in_features:
            where = " in its last dim" if len(in_shape) > 1 else ""
            raise ShapeError(
                f"layer {self.name!r} (Linear) expects {self.in_features} input features"
                f"{where}, got {fmt_shape(in_shape) or 'a scalar'}"
            )
        return (*in_shape[:-1], self.out_features)


@dataclass(frozen=True)
class _SameShape(Layer):
    def __post_init__(self) -> None:
        self._check_name()

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape


@dataclass(frozen=True)
class ReLU(_SameShape):
    inplace: bool = False
    kind: ClassVar[str] = "ReLU"


@dataclass(frozen=True)
class Tanh(_SameShape):
    kind: ClassVar[str] = "Tanh"


@dataclass(frozen=True)
class Dropout(_SameShape):
    p: float = 0.5
    kind: ClassVar[str] = "Dropout"

    def __post_init__(self) -> None:
        self._check_name()
        if not 0.0 <= self.p <= 1.0:
            raise UsageError(f"layer {self.name!r}: p={self.p} must be in [0, 1]")


@dataclass(frozen=True)
class Softmax(_SameShape):
    dim: int = 1
    kind: ClassVar[str] = "Softmax"


@dataclass(frozen=True)
class LocalResponseNorm(_SameShape):
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0
    kind: ClassVar[str] = "LocalResponseNorm"

    def __post_init__(self) -> None:
        self._check_name()
        positive(self.name, size=self.size)

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        return in_shape


@dataclass(frozen=True)
class BatchNorm2d(_SameShape):
    num_features: int = 1
    eps: float = 1e-5
    affine: bool = True
    kind: ClassVar[str] = "BatchNorm2d"

    def __post_init__(self) -> None:
        self._check_name()
        positive(self.name, num_features=self.num_features)

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        if in_shape[0] != self.num_features:
            raise ShapeError(
                f"layer {self.name!r} (BatchNorm2d) expects {self.num_features} channels, "
                f"got {fmt_shape(in_shape)}"
            )
        return in_shape


@dataclass(frozen=True)
class Flatten(Layer):
    kind: ClassVar[str] = "Flatten"

    def __post_init__(self) -> None:
        self._check_name()

    def output_shape(self, in_shape: Shape) -> Shape:
        return (math.prod(in_shape),)


@dataclass(frozen=True)
class Unsupported(Layer):
    """A layer alexprof does not model, carrying what torch measured for it:
    ``numel`` of its parameters and FlopCounterMode's forward/backward FLOPs for
    the batch it was recorded with (divided back to one sample).  Only the
    extraction of user modules creates these."""

    torch_type: str = ""
    out: Shape = ()
    weights: int = 0
    bias: int = 0
    flops: int = 0  # FlopCounterMode, forward, per sample
    flops_backward: int = 0  # FlopCounterMode, backward, per sample

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"unsupported:{self.torch_type}"

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.out
