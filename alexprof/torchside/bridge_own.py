"""descriptors <-> torch.nn.Module where torch has no module: alexprof's own, each doing
exactly what its descriptor says (:class:`StochasticDepth`, :class:`LayerScale`,
:class:`Mean`, :class:`Reshape`, :class:`Permute`, :class:`Contiguous`), and the modules
of timm and torchvision, read by their class name and attributes (``@reads_named``),
None where those do not fit the descriptor.  Imports torch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from alexprof import nets as L
from alexprof.torchside.bridge_base import builder, extracts, reads_named

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
