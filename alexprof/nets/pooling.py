"""Pooling descriptors: max and average pooling over windows, and adaptive average pooling.

Output sizes follow PyTorch's pooling rule (:func:`alexprof.nets.shapes.window_out`),
``ceil_mode`` included.  No torch import here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from alexprof.errors import UsageError
from alexprof.nets.layers import Layer, need_rank, spatial
from alexprof.nets.shapes import Pair, Shape, non_negative, pair, positive, window_out


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
        positive(self.name, kernel_size=self.kernel_size, stride=self.stride)  # type: ignore[arg-type]
        non_negative(self.name, padding=self.padding)
        for i in range(2):  # PyTorch: pad should be at most half of the kernel size
            if 2 * self.padding[i] > self.kernel_size[i]:
                raise UsageError(
                    f"layer {self.name!r}: padding={self.padding} must be at most half of "
                    f"kernel_size={self.kernel_size}"
                )

    def _pooled(self, in_shape: Shape, dilation: Pair) -> Shape:
        need_rank(self, in_shape, 3)
        assert self.stride is not None
        hw = tuple(
            window_out(
                in_shape[1 + i],
                self.kernel_size[i],
                self.stride[i],
                self.padding[i],
                dilation[i],
                self.ceil_mode,
            )
            for i in range(2)
        )
        return spatial(self, in_shape, in_shape[0], hw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class MaxPool2d(_Pool):
    dilation: Pair = (1, 1)
    kind: ClassVar[str] = "MaxPool2d"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilation", pair(self.dilation, f"{self.name}.dilation"))
        self._normalise()
        positive(self.name, dilation=self.dilation)

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
        positive(self.name, output_size=self.output_size)

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        return spatial(self, in_shape, in_shape[0], self.output_size)


@dataclass(frozen=True)
class AdaptiveMaxPool2d(Layer):
    """Global (or adaptive) max pooling to ``output_size``; ``return_indices`` is not modelled."""

    output_size: Pair = (1, 1)
    kind: ClassVar[str] = "AdaptiveMaxPool2d"

    def __post_init__(self) -> None:
        self._check_name()
        object.__setattr__(self, "output_size", pair(self.output_size, f"{self.name}.output_size"))
        positive(self.name, output_size=self.output_size)

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        return spatial(self, in_shape, in_shape[0], self.output_size)


@dataclass(frozen=True)
class Upsample(Layer):
    """Resizes a ``(C, H, W)`` map to ``size``, or by ``scale_factor`` (``floor(H * s)``, as
    torch), with ``mode`` "nearest", "bilinear", ... (``nn.Upsample``, ``F.interpolate``)."""

    size: Pair | None = None
    scale_factor: tuple[float, float] | None = None
    mode: str = "nearest"
    align_corners: bool | None = None
    kind: ClassVar[str] = "Upsample"

    def __post_init__(self) -> None:
        self._check_name()
        if (self.size is None) == (self.scale_factor is None):
            raise UsageError(f"layer {self.name!r}: give exactly one of size and scale_factor")
        if self.size is not None:
            object.__setattr__(self, "size", pair(self.size, f"{self.name}.size"))
            positive(self.name, size=self.size)
        else:
            s = self.scale_factor
            scale = (s, s) if isinstance(s, (int, float)) else tuple(s)  # type: ignore[arg-type]
            if len(scale) != 2 or min(scale) <= 0:
                raise UsageError(f"layer {self.name!r}: scale_factor={s!r} must be positive")
            object.__setattr__(self, "scale_factor", (float(scale[0]), float(scale[1])))

    def output_shape(self, in_shape: Shape) -> Shape:
        need_rank(self, in_shape, 3)
        if self.size is not None:
            return (in_shape[0], *self.size)
        assert self.scale_factor is not None
        hw = tuple(math.floor(in_shape[1 + i] * self.scale_factor[i]) for i in range(2))
        return spatial(self, in_shape, in_shape[0], hw)  # type: ignore[arg-type]
