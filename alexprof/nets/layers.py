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
from dataclasses import dataclass, field
from typing import ClassVar, Iterator, Union

from alexprof.errors import ShapeError, UsageError

Shape = tuple[int, ...]
Pair = tuple[int, int]
ROOT = "(root)"  # row name of a user module's root: its own parameters and functional calls


def pair(value: int | tuple[int, ...] | list[int], what: str) -> Pair:
    """Normalise ``k`` or ``(kh, kw)`` to ``(kh, kw)``."""
    if isinstance(value, bool):
        raise UsageError(f"{what}={value!r} must be an int or a pair of ints")
    if isinstance(value, int):
        return (value, value)
    items = tuple(value)
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise UsageError(f"{what}={value!r} must be an int or a pair of ints")
    return (items[0], items[1])


def _positive(layer: str, **values: int | Pair) -> None:
    for key, value in values.items():
        for v in value if isinstance(value, tuple) else (value,):
            if v < 1:
                raise UsageError(f"layer {layer!r}: {key}={value!r} must be >= 1")


def _non_negative(layer: str, **values: Pair) -> None:
    for key, value in values.items():
        if min(value) < 0:
            raise UsageError(f"layer {layer!r}: {key}={value!r} must be >= 0")


def _need(layer: Layer, in_shape: Shape, rank: int) -> None:
    if len(in_shape) != rank:
        want = "(C, H, W)" if rank == 3 else "(features,)"
        raise ShapeError(
            f"layer {layer.name!r} ({layer.kind}) expects a {want} input, got {fmt_shape(in_shape)}"
        )


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(s) for s in shape)


def window_out(size: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a pooling window along one axis (PyTorch's pooling rule).

    ``floor((size + 2p - d(k-1) - 1 [+ s-1 with ceil_mode]) / s) + 1``, rounding
    toward minus infinity; with ``ceil_mode`` a last window that would start in
    the right padding is dropped.  In ceil mode a window wider than the input
    still yields one output (PyTorch allows it).  May return <= 0 (too small).
    """
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def conv_out(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    """Output length of a convolution along one axis; 0 when the dilated kernel
    is larger than the padded input (PyTorch refuses that)."""
    span = size + 2 * p - d * (k - 1) - 1
    return span // s + 1 if span >= 0 else 0


def _spatial(layer: Layer, in_shape: Shape, channels: int, hw: Pair) -> Shape:
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
        _positive(self.name, in_channels=self.in_channels, out_channels=self.out_channels,
                  kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation,
                  groups=self.groups)
        _non_negative(self.name, padding=self.padding)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise UsageError(
                f"layer {self.name!r}: groups={self.groups} must divide in_channels="
                f"{self.in_channels} and out_channels={self.out_channels}"
            )

    def output_shape(self, in_shape: Shape) -> Shape:
        _need(self, in_shape, 3)
        if in_shape[0] != self.in_channels:
            raise ShapeError(
                f"layer {self.name!r} (Conv2d) expects {self.in_channels} input channels, "
                f"got {fmt_shape(in_shape)}"
            )
        hw = tuple(
            conv_out(in_shape[1 + i], self.kernel_size[i], self.stride[i], self.padding[i],
                     self.dilation[i])
            for i in range(2)
        )
        return _spatial(self, in_shape, self.out_channels, hw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Linear(Layer):
    in_features: int = 1
    out_features: int = 1
    bias: bool = True
    kind: ClassVar[str] = "Linear"

    def __post_init__(self) -> None:
        self._check_name()
        _positive(self.name, in_features=self.in_features, out_features=self.out_features)

    def output_shape(self, in_shape: Shape) -> Shape:
        _need(self, in_shape, 1)
        if in_shape[0] != self.in_features:
            raise ShapeError(
                f"layer {self.name!r} (Linear) expects {self.in_features} input features, "
                f"got {in_shape[0]}"
            )
        return (self.out_features,)


@dataclass(frozen=True)
class _Pool(Layer):
    kernel_size: Pair = (2, 2)
    stride: Pair | None = None  # None: equal to kernel_size, as in PyTorch
    padding: Pair = (0, 0)
    ceil_mode: bool = False

    def _normalise(self) -> None:
        self._check_name()
        stride = self.kernel_size if self.stride is None else self.stride
        object.__setattr__(self, "kernel_size", pair(self.kernel_size, f"{self.name}.kernel_size"))
        object.__setattr__(self, "stride", pair(stride, f"{self.name}.stride"))
        object.__setattr__(self, "padding", pair(self.padding, f"{self.name}.padding"))
        _positive(self.name, kernel_size=self.kernel_size, stride=self.stride)  # type: ignore[arg-type]
        _non_negative(self.name, padding=self.padding)
        for i in range(2):  # PyTorch: pad should be at most half of the kernel size
            if 2 * self.padding[i] > self.kernel_size[i]:
                raise UsageError(
                    f"layer {self.name!r}: padding={self.padding} must be at most half of "
                    f"kernel_size={self.kernel_size}"
                )

    def _pooled(self, in_shape: Shape, dilation: Pair) -> Shape:
        _need(self, in_shape, 3)
        assert self.stride is not None
        hw = tuple(
            window_out(in_shape[1 + i], self.kernel_size[i], self.stride[i], self.padding[i],
                       dilation[i], self.ceil_mode)
            for i in range(2)
        )
        return _spatial(self, in_shape, in_shape[0], hw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class MaxPool2d(_Pool):
    dilation: Pair = (1, 1)
    kind: ClassVar[str] = "MaxPool2d"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilation", pair(self.dilation, f"{self.name}.dilation"))
        self._normalise()
        _positive(self.name, dilation=self.dilation)

    def output_shape(self, in_shape: Shape) -> Shape:
        return self._pooled(in_shape, self.dilation)


@dataclass(frozen=True)
class AvgPool2d(_Pool):
    count_include_pad: bool = True
    kind: ClassVar[str] = "AvgPool2d"

    def __post_init__(self) -> None:
        self._normalise()

    def output_shape(self, in_shape: Shape) -> Shape:
        return self._pooled(in_shape, (1, 1))


@dataclass(frozen=True)
class AdaptiveAvgPool2d(Layer):
    output_size: Pair = (1, 1)
    kind: ClassVar[str] = "AdaptiveAvgPool2d"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "output_size", pair(self.output_size, f"{self.name}.output_size"))
        _positive(self.name, output_size=self.output_size)

    def output_shape(self, in_shape: Shape) -> Shape:
        _need(self, in_shape, 3)
        return _spatial(self, in_shape, in_shape[0], self.output_size)


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
        _positive(self.name, size=self.size)

    def output_shape(self, in_shape: Shape) -> Shape:
        _need(self, in_shape, 3)
        return in_shape


@dataclass(frozen=True)
class BatchNorm2d(_SameShape):
    num_features: int = 1
    eps: float = 1e-5
    affine: bool = True
    kind: ClassVar[str] = "BatchNorm2d"

    def __post_init__(self) -> None:
        self._check_name()
        _positive(self.name, num_features=self.num_features)

    def output_shape(self, in_shape: Shape) -> Shape:
        _need(self, in_shape, 3)
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
class Sequential(Layer):
    """Children applied one after another; names must be unique."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)
    kind: ClassVar[str] = "Sequential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        _unique(self.name, self.layers)

    def output_shape(self, in_shape: Shape) -> Shape:
        for layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape


@dataclass(frozen=True)
class Parallel(Layer):
    """Branches that all see the same input, merged by channel concatenation
    (Inception) or by elementwise addition (a residual block)."""

    branches: tuple[Layer, ...] = field(default_factory=tuple)
    merge: str = "concat"
    kind: ClassVar[str] = "Parallel"

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", tuple(self.branches))
        if self.merge not in ("concat", "add"):
            raise UsageError(f"layer {self.name!r}: merge={self.merge!r}; valid: 'concat', 'add'")
        if not self.branches:
            raise UsageError(f"layer {self.name!r}: a Parallel layer needs at least one branch")
        _unique(self.name, self.branches)

    def output_shape(self, in_shape: Shape) -> Shape:
        outs = [branch.output_shape(in_shape) for branch in self.branches]
        if self.merge == "add":
            if any(o != outs[0] for o in outs):
                raise ShapeError(
                    f"layer {self.name!r}: branches to add have different shapes "
                    + ", ".join(fmt_shape(o) for o in outs)
                )
            return outs[0]
        if any(len(o) != 3 or o[1:] != outs[0][1:] for o in outs):
            raise ShapeError(
                f"layer {self.name!r}: branches to concatenate differ in spatial size "
                + ", ".join(fmt_shape(o) for o in outs)
            )
        return (sum(o[0] for o in outs), *outs[0][1:])


@dataclass(frozen=True)
class Side(Layer):
    """A side branch that runs only in training: its layers see the input, their
    output goes to the loss with weight ``loss_weight``, and the main path carries
    the input on unchanged (GoogLeNet's auxiliary classifiers, weight 0.3)."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)
    loss_weight: float = 0.3
    kind: ClassVar[str] = "Side"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise UsageError(f"layer {self.name!r}: a Side branch needs at least one layer")
        if not 0.0 <= self.loss_weight:
            raise UsageError(f"layer {self.name!r}: loss_weight={self.loss_weight} must be >= 0")
        _unique(self.name, self.layers)

    def side_shape(self, in_shape: Shape) -> Shape:
        """The shape of the side output (what goes to the loss)."""
        for layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape

    def output_shape(self, in_shape: Shape) -> Shape:
        self.side_shape(in_shape)  # validates the branch
        return in_shape


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


Composite = Union[Sequential, Parallel, Side]


def _unique(parent: str, children: tuple[Layer, ...]) -> None:
    seen: set[str] = set()
    for child in children:
        if not isinstance(child, Layer):
            raise UsageError(f"layer {parent!r}: child {child!r} is not a layer descriptor")
        if child.name in seen:
            raise UsageError(f"layer {parent!r}: two children are named {child.name!r}")
        seen.add(child.name)


@dataclass(frozen=True)
class Placed:
    """A leaf layer placed in a network: its dotted name and its shapes."""

    name: str
    layer: Layer
    in_shape: Shape
    out_shape: Shape
    input_needs_grad: bool  # does autograd need the gradient w.r.t. this layer's input?
    training_only: bool = False  # inside a Side branch: runs in train mode only


def walk(root: Sequential, in_shape: Shape) -> Iterator[Placed]:
    """Every leaf in execution order, with shapes propagated from ``in_shape``.

    Leaves inside composites get dotted names (``inception3a.branch2.conv``);
    the root's own name is not a prefix.
    """
    yield from _children(root.layers, in_shape, "", False, False)


def _children(layers: tuple[Layer, ...], shape: Shape, prefix: str, needs_grad: bool,
              side: bool) -> Iterator[Placed]:
    main_grad = needs_grad
    for child in layers:
        for placed in _walk(child, shape, prefix, needs_grad, side):
            needs_grad = needs_grad or has_params(placed.layer)
            yield placed
        if isinstance(child, Side):
            needs_grad = main_grad  # a side branch's parameters do not feed the main path
        main_grad = needs_grad
        shape = child.output_shape(shape)


def _walk(layer: Layer, shape: Shape, prefix: str, needs_grad: bool,
          side: bool) -> Iterator[Placed]:
    if isinstance(layer, (Sequential, Side)):
        yield from _children(layer.layers, shape, f"{prefix}{layer.name}.", needs_grad,
                             side or isinstance(layer, Side))
    elif isinstance(layer, Parallel):
        for branch in layer.branches:
            yield from _walk(branch, shape, f"{prefix}{layer.name}.", needs_grad, side)
    else:
        yield Placed(f"{prefix}{layer.name}", layer, shape, layer.output_shape(shape), needs_grad,
                     side)


def has_params(layer: Layer) -> bool:
    if isinstance(layer, BatchNorm2d):
        return layer.affine
    if isinstance(layer, Unsupported):
        return layer.weights + layer.bias > 0
    return isinstance(layer, (Conv2d, Linear))
