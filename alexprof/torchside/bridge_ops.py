"""descriptors <-> torch.nn.Module for the ops of modern CNNs: activations, identity,
stochastic depth, layer scale, layer and group norm, adaptive max pooling, channel
shuffle and the tensor ops a forward calls (mean, reshape, permute, contiguous).
Imports torch.

Each builder (``@builder``) sits beside its extraction (``@extracts``), as in
:mod:`alexprof.torchside.bridge`.  Where torch has no module for a descriptor, and for
timm's and torchvision's modules, see :mod:`alexprof.torchside.bridge_own`.  The
two-input ops (Add, Mul, Cat, MatMul, attention) have no module: they are read from a
user's forward only.
"""

from __future__ import annotations

from torch import nn

from alexprof import nets as L
from alexprof.torchside.bridge_base import builder, extracts, two

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
