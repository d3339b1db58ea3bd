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

from typing import Any

from torch import nn

from alexprof import nets as L
from alexprof.torchside.bridge_base import builder, extracts, output_pair

# --- activations: torch modules whose fields are named as the descriptors' ------------

# descriptor kind -> (torch module, the fields both share: constructor keywords and attributes)
_SAME_FIELDS: dict[type[L.Layer], tuple[type[nn.Module], tuple[str, ...]]] = {
    L.ReLU6: (nn.ReLU6, ("inplace",)),
    L.Hardtanh: (nn.Hardtanh, ("min_val", "max_val", "inplace")),
    L.Hardswish: (nn.Hardswish, ("inplace",)),
    L.Hardsigmoid: (nn.Hardsigmoid, ("inplace",)),
    L.SiLU: (nn.SiLU, ("inplace",)),
    L.Sigmoid: (nn.Sigmoid, ()),
    L.GELU: (nn.GELU, ("approximate",)),
    L.LeakyReLU: (nn.LeakyReLU, ("negative_slope", "inplace")),
    L.ELU: (nn.ELU, ("alpha", "inplace")),
    L.Identity: (nn.Identity, ()),
}


def _same_fields(kind: type[L.Layer], torch_type: type[nn.Module], fields: tuple[str, ...]) -> None:
    """Register the builder and extraction of a kind whose fields torch names alike."""

    def build(d: Any) -> nn.Module:
        return torch_type(**{f: getattr(d, f) for f in fields})

    def read(m: Any, name: str) -> L.Layer | None:
        return kind(name, **{f: getattr(m, f) for f in fields})

    builder(kind)(build)
    extracts(kind, torch_type)(read)


for _kind, (_torch_type, _fields) in _SAME_FIELDS.items():
    _same_fields(_kind, _torch_type, _fields)


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
    size = output_pair(m.output_size)
    return None if m.return_indices or size is None else L.AdaptiveMaxPool2d(name, size)


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
