"""Shape-preserving descriptors of modern CNNs: activations, identity, stochastic depth,
layer scale, and the normalisations over any trailing dims.  No torch import.

Each works on a tensor of any rank (per sample): ``(C, H, W)`` maps, ``(H, W, C)``
channels-last maps, ``(N, C)`` token sequences.  Fields mirror the torch modules they
are read from (``nn.Hardtanh(min_val, max_val)``, ``nn.GELU(approximate)``,
``nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)``...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from alexprof.errors import ShapeError, UsageError
from alexprof.nets.layers import Layer, _SameShape
from alexprof.nets.shapes import Shape, fmt_shape, positive


@dataclass(frozen=True)
class Hardtanh(_SameShape):
    """``clamp(x, min_val, max_val)``; :class:`ReLU6` is the (0, 6) case."""

    min_val: float = -1.0
    max_val: float = 1.0
    inplace: bool = False
    kind: ClassVar[str] = "Hardtanh"

    def __post_init__(self) -> None:
        self._check_name()
        if self.min_val >= self.max_val:
            raise UsageError(
                f"layer {self.name!r}: min_val={self.min_val} must be below max_val={self.max_val}"
            )


@dataclass(frozen=True)
class ReLU6(_SameShape):
    """``min(max(x, 0), 6)`` (MobileNet): torch's ``nn.ReLU6``, a Hardtanh(0, 6)."""

    inplace: bool = False
    kind: ClassVar[str] = "ReLU6"


@dataclass(frozen=True)
class Hardswish(_SameShape):
    """``x * relu6(x + 3) / 6`` (MobileNetV3)."""

    inplace: bool = False
    kind: ClassVar[str] = "Hardswish"


@dataclass(frozen=True)
class Hardsigmoid(_SameShape):
    """``relu6(x + 3) / 6`` (MobileNetV3's squeeze-excitation gate)."""

    inplace: bool = False
    kind: ClassVar[str] = "Hardsigmoid"


@dataclass(frozen=True)
class SiLU(_SameShape):
    """``x * sigmoid(x)`` (swish; EfficientNet)."""

    inplace: bool = False
    kind: ClassVar[str] = "SiLU"


@dataclass(frozen=True)
class Sigmoid(_SameShape):
    kind: ClassVar[str] = "Sigmoid"


@dataclass(frozen=True)
class GELU(_SameShape):
    """Gaussian error linear unit; ``approximate`` is ``"none"`` (erf) or ``"tanh"``."""

    approximate: str = "none"
    kind: ClassVar[str] = "GELU"

    def __post_init__(self) -> None:
        self._check_name()
        if self.approximate not in ("none", "tanh"):
            raise UsageError(
                f"layer {self.name!r}: approximate={self.approximate!r}; valid: 'none', 'tanh'"
            )


@dataclass(frozen=True)
class LeakyReLU(_SameShape):
    negative_slope: float = 0.01
    inplace: bool = False
    kind: ClassVar[str] = "LeakyReLU"


@dataclass(frozen=True)
class ELU(_SameShape):
    alpha: float = 1.0
    inplace: bool = False
    kind: ClassVar[str] = "ELU"


@dataclass(frozen=True)
class Identity(_SameShape):
    """Passes its input on (``nn.Identity``; a residual block's shortcut)."""

    kind: ClassVar[str] = "Identity"


@dataclass(frozen=True)
class StochasticDepth(_SameShape):
    """Drops the whole residual branch of a sample with probability ``p`` in training
    (``mode="row"``, per sample) or of the whole batch (``"batch"``); the identity in eval."""

    p: float = 0.0
    mode: str = "row"
    kind: ClassVar[str] = "StochasticDepth"

    def __post_init__(self) -> None:
        self._check_name()
        if not 0.0 <= self.p <= 1.0:
            raise UsageError(f"layer {self.name!r}: p={self.p} must be in [0, 1]")
        if self.mode not in ("row", "batch"):
            raise UsageError(f"layer {self.name!r}: mode={self.mode!r}; valid: 'row', 'batch'")


def broadcast(layer: Layer, a: Shape, b: Shape) -> Shape:
    """NumPy/PyTorch broadcasting of two per-sample shapes (trailing dims aligned)."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            raise ShapeError(
                f"layer {layer.name!r} ({layer.kind}) cannot broadcast "
                f"{fmt_shape(a)} with {fmt_shape(b)}"
            )
        out.append(max(x, y))
    return tuple(reversed(out))


@dataclass(frozen=True)
class LayerScale(Layer):
    """``x * gamma``: a learned per-channel scale (ConvNeXt, CaiT).  ``shape`` is
    gamma's shape as registered; it broadcasts against the input (``(C,)`` on a
    channels-last map, ``(C, 1, 1)`` on a channels-first one)."""

    shape: Shape = (1,)
    kind: ClassVar[str] = "LayerScale"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "shape", tuple(self.shape))
        positive(self.name, shape=self.shape)  # type: ignore[arg-type]

    def output_shape(self, in_shape: Shape) -> Shape:
        out = broadcast(self, in_shape, self.shape)
        if out != tuple(in_shape):
            raise ShapeError(
                f"layer {self.name!r} (LayerScale) of shape {fmt_shape(self.shape)} would "
                f"grow its input {fmt_shape(in_shape)}"
            )
        return out


@dataclass(frozen=True)
class LayerNorm(Layer):
    """Normalises over the trailing ``normalized_shape`` dims (``nn.LayerNorm``);
    channels-last ConvNeXt normalises ``(C,)`` of an ``(H, W, C)`` map."""

    normalized_shape: Shape = (1,)
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True
    kind: ClassVar[str] = "LayerNorm"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "normalized_shape", tuple(self.normalized_shape))
        if not self.normalized_shape:
            raise UsageError(f"layer {self.name!r}: normalized_shape must not be empty")
        positive(self.name, normalized_shape=self.normalized_shape)  # type: ignore[arg-type]

    def output_shape(self, in_shape: Shape) -> Shape:
        k = len(self.normalized_shape)
        if tuple(in_shape[-k:]) != self.normalized_shape or len(in_shape) < k:
            raise ShapeError(
                f"layer {self.name!r} (LayerNorm) normalises trailing dims "
                f"{fmt_shape(self.normalized_shape)}, got {fmt_shape(in_shape)}"
            )
        return in_shape


@dataclass(frozen=True)
class GroupNorm(Layer):
    """Normalises each of ``num_groups`` channel groups over the channels and all
    spatial dims (``nn.GroupNorm``); channels are dim 0 of the per-sample shape."""

    num_groups: int = 1
    num_channels: int = 1
    eps: float = 1e-5
    affine: bool = True
    kind: ClassVar[str] = "GroupNorm"

    def __post_init__(self) -> None:
        self._check_name()
        positive(self.name, num_groups=self.num_groups, num_channels=self.num_channels)
        if self.num_channels % self.num_groups:
            raise UsageError(
                f"layer {self.name!r}: num_groups={self.num_groups} must divide "
                f"num_channels={self.num_channels}"
            )

    def output_shape(self, in_shape: Shape) -> Shape:
        if not in_shape or in_shape[0] != self.num_channels:
            raise ShapeError(
                f"layer {self.name!r} (GroupNorm) expects {self.num_channels} channels, "
                f"got {fmt_shape(in_shape)}"
            )
        return in_shape


def elements(shape: Shape) -> int:
    return math.prod(shape)
