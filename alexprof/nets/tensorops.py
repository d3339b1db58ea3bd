"""Descriptors of the tensor operations a ``forward`` calls itself: residual adds,
concatenations, gating products, means, reshapes and permutes, matrix products and
attention.  No torch import.

Shapes are per sample and dims count from the sample's first dim (0 = channels of a
``(C, H, W)`` map).  An op with a second operand records that operand's per-sample
shape (``other``): ``None`` when it is the input's own shape (a residual add), ``()``
for a scalar.  These are read from a user's ``forward``
(:mod:`alexprof.torchside.record`); the zoo merges branches with
:class:`~alexprof.nets.composites.Parallel` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from alexprof.errors import ShapeError, UsageError
from alexprof.nets.elementwise import broadcast
from alexprof.nets.layers import Layer
from alexprof.nets.shapes import Shape, fmt_shape, positive


def _dims(layer: Layer, dims: tuple[int, ...], rank: int) -> None:
    if any(not 0 <= d < rank for d in dims):
        raise ShapeError(
            f"layer {layer.name!r} ({layer.kind}) dims {dims} do not fit a rank-{rank} input"
        )


@dataclass(frozen=True)
class _Binary(Layer):
    other: Shape | None = None  # None: the input's shape; (): a scalar
    op: str = ""
    ops: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self._check_name()
        if self.other is not None:
            object.__setattr__(self, "other", tuple(self.other))
        op = self.op or self.ops[0]
        object.__setattr__(self, "op", op)
        if op not in self.ops:
            raise UsageError(f"layer {self.name!r}: op={op!r}; valid: {', '.join(self.ops)}")

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape if self.other is None else broadcast(self, in_shape, self.other)


@dataclass(frozen=True)
class Add(_Binary):
    """``x + y`` or ``x - y``: a residual add (``other=None``) or a broadcast one."""

    kind: ClassVar[str] = "Add"
    ops: ClassVar[tuple[str, ...]] = ("add", "sub")


@dataclass(frozen=True)
class Mul(_Binary):
    """``x * y`` or ``x / y``: squeeze-excitation and gating products, scalings."""

    kind: ClassVar[str] = "Mul"
    ops: ClassVar[tuple[str, ...]] = ("mul", "div")


@dataclass(frozen=True)
class Cat(Layer):
    """``torch.cat`` of tensors whose sizes along ``dim`` are ``sizes`` (the input is
    the first of them); every other dim agrees."""

    sizes: tuple[int, ...] = (1, 1)
    dim: int = 0
    kind: ClassVar[str] = "Cat"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "sizes", tuple(self.sizes))
        if not self.sizes:
            raise UsageError(f"layer {self.name!r}: sizes must not be empty")
        positive(self.name, sizes=self.sizes)  # type: ignore[arg-type]

    def output_shape(self, in_shape: Shape) -> Shape:
        _dims(self, (self.dim,), len(in_shape))
        if in_shape[self.dim] != self.sizes[0]:
            raise ShapeError(
                f"layer {self.name!r} (Cat) expects {self.sizes[0]} along dim {self.dim}, "
                f"got {fmt_shape(in_shape)}"
            )
        out = list(in_shape)
        out[self.dim] = sum(self.sizes)
        return tuple(out)


@dataclass(frozen=True)
class Mean(Layer):
    """``x.mean(dims)``: a global average pool over H and W is ``Mean((1, 2))``."""

    dims: tuple[int, ...] = (1, 2)
    keepdim: bool = False
    kind: ClassVar[str] = "Mean"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "dims", tuple(sorted(set(self.dims))))
        if not self.dims:  # torch's mean over no dims reduces every dim, the batch's too
            raise UsageError(f"layer {self.name!r}: dims must name at least one sample dim")

    def output_shape(self, in_shape: Shape) -> Shape:
        _dims(self, self.dims, len(in_shape))
        if self.keepdim:
            return tuple(1 if i in self.dims else s for i, s in enumerate(in_shape))
        return tuple(s for i, s in enumerate(in_shape) if i not in self.dims)


@dataclass(frozen=True)
class Reshape(Layer):
    """``view``/``reshape``/``flatten``/``unsqueeze`` to ``shape`` (per sample)."""

    shape: Shape = (1,)
    kind: ClassVar[str] = "Reshape"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "shape", tuple(self.shape))
        positive(self.name, shape=self.shape) if self.shape else None  # type: ignore[arg-type]

    def output_shape(self, in_shape: Shape) -> Shape:
        if math.prod(in_shape) != math.prod(self.shape):
            raise ShapeError(
                f"layer {self.name!r} (Reshape) cannot view {fmt_shape(in_shape)} as "
                f"{fmt_shape(self.shape)}"
            )
        return self.shape


@dataclass(frozen=True)
class Permute(Layer):
    """``permute(dims)`` or ``transpose(a, b)`` (a view): channels-last is ``(1, 2, 0)``."""

    dims: tuple[int, ...] = (0,)
    kind: ClassVar[str] = "Permute"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "dims", tuple(self.dims))
        if sorted(self.dims) != list(range(len(self.dims))):
            raise UsageError(f"layer {self.name!r}: dims={self.dims} is not a permutation")

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != len(self.dims):
            raise ShapeError(
                f"layer {self.name!r} (Permute) permutes {len(self.dims)} dims, "
                f"got {fmt_shape(in_shape)}"
            )
        return tuple(in_shape[d] for d in self.dims)


@dataclass(frozen=True)
class Contiguous(Layer):
    """``contiguous()`` after a permute: a copy into the standard layout."""

    kind: ClassVar[str] = "Contiguous"

    def __post_init__(self) -> None:
        self._check_name()

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape


@dataclass(frozen=True)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle of a ``(C, H, W)`` map in ``groups`` (``nn.ChannelShuffle``)."""

    groups: int = 2
    kind: ClassVar[str] = "ChannelShuffle"

    def __post_init__(self) -> None:
        self._check_name()
        positive(self.name, groups=self.groups)

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) < 2 or in_shape[0] % self.groups:  # torch: (N, C, *) with a *
            raise ShapeError(
                f"layer {self.name!r} (ChannelShuffle) needs channels divisible by "
                f"groups={self.groups}, got {fmt_shape(in_shape)}"
            )
        return in_shape


@dataclass(frozen=True)
class MatMul(Layer):
    """``x @ y`` with ``y`` of per-sample shape ``other``: ``(..., n, k) @ (..., k, m)``
    (attention's scores and their product with the values)."""

    other: Shape = (1, 1)
    learned: bool = False  # ``x @ W`` with ``W`` a parameter: its elements are weights
    kind: ClassVar[str] = "MatMul"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "other", tuple(self.other))
        if len(self.other) < 2:
            raise UsageError(f"layer {self.name!r}: other={self.other} needs at least 2 dims")

    def output_shape(self, in_shape: Shape) -> Shape:
        """A per-sample vector ``(k,)`` times ``(k, m)`` (a batch of rows) gives ``(m,)``."""
        if not in_shape or in_shape[-1] != self.other[-2]:
            raise ShapeError(
                f"layer {self.name!r} (MatMul) cannot multiply {fmt_shape(in_shape)} by "
                f"{fmt_shape(self.other)}"
            )
        if len(in_shape) == 1:
            return (*self.other[:-2], self.other[-1])
        batch = broadcast(self, in_shape[:-2], self.other[:-2])
        return (*batch, in_shape[-2], self.other[-1])


@dataclass(frozen=True)
class ScaledDotProductAttention(Layer):
    """``F.scaled_dot_product_attention(q, k, v)``: the input is the query
    ``(..., L, E)``; ``key`` is ``(..., S, E)`` and ``value`` ``(..., S, Ev)``."""

    key: Shape = (1, 1)
    value: Shape = (1, 1)
    causal: bool = False
    kind: ClassVar[str] = "ScaledDotProductAttention"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "key", tuple(self.key))
        object.__setattr__(self, "value", tuple(self.value))
        if len(self.key) < 2 or len(self.value) < 2 or self.key[-2] != self.value[-2]:
            raise UsageError(
                f"layer {self.name!r}: key {self.key} and value {self.value} must be "
                "(..., S, E) and (..., S, Ev)"
            )

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) < 2 or in_shape[-1] != self.key[-1]:
            raise ShapeError(
                f"layer {self.name!r} (ScaledDotProductAttention): query {fmt_shape(in_shape)} "
                f"and key {fmt_shape(self.key)} must share the last dim"
            )
        batch = broadcast(self, broadcast(self, in_shape[:-2], self.key[:-2]), self.value[:-2])
        return (*batch, in_shape[-2], self.value[-1])


@dataclass(frozen=True)
class View(Layer):
    """A view of part or all of the input, of per-sample ``shape``: indexing, ``chunk`` /
    ``split`` / ``unbind`` pieces (the first piece's shape), ``narrow``, ``select``,
    ``expand``, ``detach``.  No FLOPs, no storage of its own."""

    shape: Shape = ()
    kind: ClassVar[str] = "View"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "shape", tuple(self.shape))

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.shape
