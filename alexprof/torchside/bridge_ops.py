"""descriptors <-> torch.nn.Module for the ops of modern CNNs: activations, identity,
stochastic depth, layer scale, layer and group norm, adaptive max pooling, channel
shuffle and the tensor ops a forward calls (mean, reshape, permute, contiguous).
Imports torch.

Each builder (``@builder``) sits beside its extraction (``@extracts``), as in
:mod:`alexprof.torchside.bridge`.  Where torch has no module for a descriptor, a small
one here does exactly what the descriptor says (:class:`StochasticDepth`,
:class:`LayerScale`, :class:`Mean`, :class:`Reshape`, :class:`Permute`,
:class:`Contiguous`).  Modules of timm and torchvision are read by their class name
and attributes (``@reads_named``), None where those do not fit the descriptor.  The
two-input ops (Add, Mul, Cat, MatMul, attention) have no module: they are read from a
user's forward only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from alexprof import nets as L
from alexprof.torchside.bridge_base import builder, extracts, reads_named, two

# --- activations: torch modules, fields as the descriptors name them --------------------


@builder(L.ReLU6)
def _relu6(d: L.ReLU6) -> nn.Module:
    return nn.ReLU6(inplace=d.inplace)


@extracts(L.ReLU6, nn.ReLU6)
def _relu6_of(m: nn.ReLU6, name: str) -> L.Layer | None:
    return L.ReLU6(name, inplace=m.inplace)


@builder(L.Hardtanh)
def _hardtanh(d: L.Hardtanh) -> nn.Module:
    return nn.Hardtanh(d.min_val, d.max_val, inplace=d.inplace)


@extracts(L.Hardtanh, nn.Hardtanh)
def _hardtanh_of(m: nn.Hardtanh, name: str) -> L.Layer | None:
    return L.Hardtanh(name, min_val=m.min_val, max_val=m.max_val, inplace=m.inplace)


@builder(L.Hardswish)
def _hardswish(d: L.Hardswish) -> nn.Module:
    return nn.Hardswish(inplace=d.inplace)


@extracts(L.Hardswish, nn.Hardswish)
def _hardswish_of(m: nn.Hardswish, name: str) -> L.Layer | None:
    return L.Hardswish(name, inplace=m.inplace)


@builder(L.Hardsigmoid)
def _hardsigmoid(d: L.Hardsigmoid) -> nn.Module:
    return nn.Hardsigmoid(inplace=d.inplace)


@extracts(L.Hardsigmoid, nn.Hardsigmoid)
def _hardsigmoid_of(m: nn.Hardsigmoid, name: str) -> L.Layer | None:
    return L.Hardsigmoid(name, inplace=m.inplace)


@builder(L.SiLU)
def _silu(d: L.SiLU) -> nn.Module:
    return nn.SiLU(inplace=d.inplace)


@extracts(L.SiLU, nn.SiLU)
def _silu_of(m: nn.SiLU, name: str) -> L.Layer | None:
    return L.SiLU(name, inplace=m.inplace)


@builder(L.Sigmoid)
def _sigmoid(d: L.Sigmoid) -> nn.Module:
    return nn.Sigmoid()


@extracts(L.Sigmoid, nn.Sigmoid)
def _sigmoid_of(m: nn.Sigmoid, name: str) -> L.Layer | None:
    return L.Sigmoid(name)


@builder(L.GELU)
def _gelu(d: L.GELU) -> nn.Module:
    return nn.GELU(approximate=d.approximate)


@extracts(L.GELU, nn.GELU)
def _gelu_of(m: nn.GELU, name: str) -> L.Layer | None:
    return L.GELU(name, approximate=m.approximate)


@builder(L.LeakyReLU)
def _leaky(d: L.LeakyReLU) -> nn.Module:
    return nn.LeakyReLU(d.negative_slope, inplace=d.inplace)


@extracts(L.LeakyReLU, nn.LeakyReLU)
def _leaky_of(m: nn.LeakyReLU, name: str) -> L.Layer | None:
    return L.LeakyReLU(name, negative_slope=m.negative_slope, inplace=m.inplace)


@builder(L.ELU)
def _elu(d: L.ELU) -> nn.Module:
    return nn.ELU(d.alpha, inplace=d.inplace)


@extracts(L.ELU, nn.ELU)
def _elu_of(m: nn.ELU, name: str) -> L.Layer | None:
    return L.ELU(name, alpha=m.alpha, inplace=m.inplace)


@builder(L.Identity)
def _identity(d: L.Identity) -> nn.Module:
    return nn.Identity()


@extracts(L.Identity, nn.Identity)
def _identity_of(m: nn.Identity, name: str) -> L.Layer | None:
    return L.Identity(name)


# --- norms and pooling ------------------------------------------------------------------


@builder(L.LayerNorm)
def _layernorm(d: L.LayerNorm) -> nn.Module:
    return nn.LayerNorm(d.normalized_shape, d.eps, d.elementwise_affine, d.bias)


@extracts(L.LayerNorm, nn.LayerNorm)
def _layernorm_of(m: nn.LayerNorm, name: str) -> L.Layer | None:
    """Without ``elementwise_affine`` torch registers no bias whatever ``bias`` said: the
    descriptor's default (True) is read back, which registers none either."""
    bias = m.bias is not None if m.elementwise_affine else True
    return L.LayerNorm(name, tuple(m.normalized_shape), m.eps, m.elementwise_affine, bias)


@builder(L.GroupNorm)
def _groupnorm(d: L.GroupNorm) -> nn.Module:
    return nn.GroupNorm(d.num_groups, d.num_channels, d.eps, d.affine)


@extracts(L.GroupNorm, nn.GroupNorm)
def _groupnorm_of(m: nn.GroupNorm, name: str) -> L.Layer | None:
    return L.GroupNorm(name, m.num_groups, m.num_channels, m.eps, m.affine)


@builder(L.AdaptiveMaxPool2d)
def _adaptive_max(d: L.AdaptiveMaxPool2d) -> nn.Module:
    return nn.AdaptiveMaxPool2d(d.output_size)


@extracts(L.AdaptiveMaxPool2d, nn.AdaptiveMaxPool2d)
def _adaptive_max_of(m: nn.AdaptiveMaxPool2d, name: str) -> L.Layer | None:
    """None with ``return_indices`` (two outputs) or a ``None`` size (the input's own)."""
    size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,) * 2
    if m.return_indices or None in size:
        return None
    return L.AdaptiveMaxPool2d(name, two(size))


@builder(L.ChannelShuffle)
def _shuffle(d: L.ChannelShuffle) -> nn.Module:
    return nn.ChannelShuffle(d.groups)


@extracts(L.ChannelShuffle, nn.ChannelShuffle)
def _shuffle_of(m: nn.ChannelShuffle, name: str) -> L.Layer | None:
    return L.ChannelShuffle(name, m.groups)


# --- alexprof's own modules, where torch has none ---------------------------------------


class StochasticDepth(nn.Module):
    """torchvision's ``stochastic_depth``: in training, each sample (``mode="row"``) or
    the whole batch (``"batch"``) is kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)``; the identity in eval or with ``p = 0``."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


@builder(L.StochasticDepth)
def _stochastic_depth(d: L.StochasticDepth) -> nn.Module:
    return StochasticDepth(d.p, d.mode)


@extracts(L.StochasticDepth, StochasticDepth)
def _stochastic_depth_of(m: StochasticDepth, name: str) -> L.Layer | None:
    return L.StochasticDepth(name, m.p, m.mode)


class LayerScale(nn.Module):
    """``x * gamma``, ``gamma`` a learned tensor of the descriptor's shape."""

    def __init__(self, shape: L.Shape, init: float = 1e-5) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full(tuple(shape), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


@builder(L.LayerScale)
def _layer_scale(d: L.LayerScale) -> nn.Module:
    return LayerScale(d.shape)


@extracts(L.LayerScale, LayerScale)
def _layer_scale_of(m: LayerScale, name: str) -> L.Layer | None:
    return L.LayerScale(name, tuple(m.gamma.shape))


class Mean(nn.Module):
    """``x.mean(dims, keepdim)`` over per-sample ``dims`` (the batch dim is kept)."""

    def __init__(self, dims: tuple[int, ...], keepdim: bool) -> None:
        super().__init__()
        self.dims = tuple(dims)
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean([d + 1 for d in self.dims], keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"dims={self.dims}, keepdim={self.keepdim}"


@builder(L.Mean)
def _mean(d: L.Mean) -> nn.Module:
    return Mean(d.dims, d.keepdim)


@extracts(L.Mean, Mean)
def _mean_of(m: Mean, name: str) -> L.Layer | None:
    return L.Mean(name, m.dims, m.keepdim)


class Reshape(nn.Module):
    """``x.reshape(batch, *shape)``: a per-sample ``shape``, the batch dim kept."""

    def __init__(self, shape: L.Shape) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


@builder(L.Reshape)
def _reshape(d: L.Reshape) -> nn.Module:
    return Reshape(d.shape)


@extracts(L.Reshape, Reshape)
def _reshape_of(m: Reshape, name: str) -> L.Layer | None:
    return L.Reshape(name, m.shape)


class Permute(nn.Module):
    """``x.permute(0, *(d + 1 for d in dims))``: per-sample ``dims``, the batch dim fixed."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, *(d + 1 for d in self.dims))

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


@builder(L.Permute)
def _permute(d: L.Permute) -> nn.Module:
    return Permute(d.dims)


@extracts(L.Permute, Permute)
def _permute_of(m: Permute, name: str) -> L.Layer | None:
    return L.Permute(name, m.dims)


class Contiguous(nn.Module):
    """``x.contiguous()``: a copy into the standard layout after a permute."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()


@builder(L.Contiguous)
def _contiguous(d: L.Contiguous) -> nn.Module:
    return Contiguous()


@extracts(L.Contiguous, Contiguous)
def _contiguous_of(m: Contiguous, name: str) -> L.Layer | None:
    return L.Contiguous(name)


# --- timm and torchvision, by class name and attributes ---------------------------------


def _probability(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def _leaf(m: nn.Module, params: tuple[str, ...]) -> bool:
    """No children, and exactly the parameters ``params``."""
    own = tuple(name for name, _ in m.named_parameters(recurse=False))
    return not list(m.children()) and own == params


@reads_named("StochasticDepth")
def _torchvision_stochastic_depth(m: nn.Module, name: str) -> L.Layer | None:
    """torchvision.ops.StochasticDepth(p, mode): the descriptor's own rule."""
    p, mode = _probability(getattr(m, "p", None)), getattr(m, "mode", None)
    if p is None or mode not in ("row", "batch") or not _leaf(m, ()):
        return None
    return L.StochasticDepth(name, p, mode)


@reads_named("DropPath")
def _timm_drop_path(m: nn.Module, name: str) -> L.Layer | None:
    """timm's DropPath(drop_prob, scale_by_keep): per sample, as ``mode="row"``; None
    without ``scale_by_keep`` (kept samples not scaled by ``1 / (1 - p)``)."""
    p = _probability(getattr(m, "drop_prob", None))
    if p is None or getattr(m, "scale_by_keep", True) is not True or not _leaf(m, ()):
        return None
    return L.StochasticDepth(name, p, "row")


@reads_named("LayerScale", "LayerScale2d")
def _timm_layer_scale(m: nn.Module, name: str) -> L.Layer | None:
    """timm's LayerScale (``x * gamma``, gamma ``(C,)`` on channels-last tokens) and
    LayerScale2d (gamma viewed as ``(1, C, 1, 1)``: shape ``(C, 1, 1)`` here, the same
    numel); None for ``inplace=True`` (``x.mul_(gamma)``, no new output)."""
    gamma = getattr(m, "gamma", None)
    if not isinstance(gamma, nn.Parameter) or gamma.dim() != 1 or not _leaf(m, ("gamma",)):
        return None
    if getattr(m, "inplace", False) is not False:
        return None
    c = gamma.shape[0]
    return L.LayerScale(name, (c, 1, 1) if type(m).__name__ == "LayerScale2d" else (c,))


@reads_named("Permute")
def _torchvision_permute(m: nn.Module, name: str) -> L.Layer | None:
    """torchvision.ops.misc.Permute(dims), dims with the batch dim first (ConvNeXt's
    ``[0, 2, 3, 1]``): None when it moves the batch dim."""
    dims = getattr(m, "dims", None)
    if not isinstance(dims, (list, tuple)) or not dims or not _leaf(m, ()):
        return None
    first, *rest = dims
    if first != 0 or sorted(dims) != list(range(len(dims))):
        return None
    return L.Permute(name, tuple(d - 1 for d in rest))


# --- resizing --------------------------------------------------------------------------


@builder(L.Upsample)
def _upsample(d: L.Upsample) -> nn.Module:
    return nn.Upsample(d.size, d.scale_factor, d.mode, d.align_corners)


@extracts(L.Upsample, nn.Upsample)
def _upsample_of(m: nn.Upsample, name: str) -> L.Layer | None:
    if getattr(m, "recompute_scale_factor", None):
        return None
    size, scale = m.size, m.scale_factor
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(size)
        return L.Upsample(name, size, None, m.mode, m.align_corners) if len(size) == 2 else None
    if scale is None:
        return None
    scale = (scale, scale) if isinstance(scale, (int, float)) else tuple(scale)
    return L.Upsample(name, None, scale, m.mode, m.align_corners) if len(scale) == 2 else None
