"""Torch modules for the new single-input kinds, mirroring their descriptors, and small
networks that put each kind after a convolution.  Imports torch.

The torch builders of these kinds belong in ``alexprof.torchside`` (another change adds
them); until they are registered there, :func:`install_builders` registers these for
the length of one test (``monkeypatch``), so that ``run_step`` builds the same modules
the memory rules describe.  A kind whose builder is already registered keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from alexprof import nets as L
from alexprof.memory.predict import predict
from alexprof.memory.stages import Stage
from alexprof.nets.zoo import index as zoo
from alexprof.torchside.bridge import BUILDERS
from alexprof.torchside.tracer import run_step


class StochasticDepthModule(nn.Module):
    """torchvision.ops.StochasticDepth (torchvision 0.2x ``stochastic_depth``), verbatim."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return input
        survival_rate = 1.0 - self.p
        if self.mode == "row":
            size = [input.shape[0]] + [1] * (input.ndim - 1)
        else:
            size = [1] * input.ndim
        noise = torch.empty(size, dtype=input.dtype, device=input.device)
        noise = noise.bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return input * noise


class LayerScaleModule(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Lambda(nn.Module):
    """A tensor method call; dims are per sample, so they shift by one for the batch."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def _shift(dims: tuple[int, ...]) -> list[int]:
    return [d + 1 for d in dims]


TEST_BUILDERS: dict[type, Callable[[Any], nn.Module]] = {
    L.ReLU6: lambda d: nn.ReLU6(d.inplace),
    L.Hardtanh: lambda d: nn.Hardtanh(d.min_val, d.max_val, d.inplace),
    L.Hardswish: lambda d: nn.Hardswish(d.inplace),
    L.Hardsigmoid: lambda d: nn.Hardsigmoid(d.inplace),
    L.SiLU: lambda d: nn.SiLU(d.inplace),
    L.Sigmoid: lambda d: nn.Sigmoid(),
    L.GELU: lambda d: nn.GELU(d.approximate),
    L.LeakyReLU: lambda d: nn.LeakyReLU(d.negative_slope, d.inplace),
    L.ELU: lambda d: nn.ELU(d.alpha, d.inplace),
    L.Identity: lambda d: nn.Identity(),
    L.StochasticDepth: lambda d: StochasticDepthModule(d.p, d.mode),
    L.LayerScale: lambda d: LayerScaleModule(d.shape),
    L.LayerNorm: lambda d: nn.LayerNorm(d.normalized_shape, d.eps, d.elementwise_affine, d.bias),
    L.GroupNorm: lambda d: nn.GroupNorm(d.num_groups, d.num_channels, d.eps, d.affine),
    L.AdaptiveMaxPool2d: lambda d: nn.AdaptiveMaxPool2d(d.output_size),
    L.Mean: lambda d: Lambda(lambda x: x.mean(_shift(d.dims), keepdim=d.keepdim)),
    L.Reshape: lambda d: Lambda(lambda x: x.reshape(x.shape[0], *d.shape)),
    L.Permute: lambda d: Lambda(lambda x: x.permute(0, *_shift(d.dims))),
    L.Contiguous: lambda d: Lambda(lambda x: x.contiguous()),
    L.ChannelShuffle: lambda d: nn.ChannelShuffle(d.groups),
}


def build(layer: L.Layer) -> nn.Module:
    """The torch module of ``layer``: the registered builder, else the one above."""
    if type(layer) in BUILDERS:
        return BUILDERS.of(layer)(layer)
    return TEST_BUILDERS[type(layer)](layer)


def install_builders(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, make in TEST_BUILDERS.items():
        if kind not in BUILDERS:
            monkeypatch.setitem(BUILDERS._entries, kind, make)

def assert_exact(net: zoo.Net, batch: int, optimizer: str, dtype: str = "float32",
                 input_shape: tuple[int, ...] | None = None) -> None:
    """Every stage of one CPU step equals the prediction: bytes after it, peak between ops."""
    shape = input_shape or net.input_shape
    trace = run_step(net, shape, batch, dtype, optimizer, "cpu", log=True)
    pred = predict(net, shape, batch, dtype, optimizer, "cpu")
    assert [m.stage for m in trace.stages] == [p.stage for p in pred.stages] == list(Stage)
    for m, p in zip(trace.stages, pred.stages):
        if (m.allocated, m.peak_ops) != (p.allocated, p.peak) or m.peak < m.peak_ops:
            log = "\n".join(line for line in trace.log if line.startswith(m.stage))
            pytest.fail(f"{net.name} batch {batch} {optimizer} {dtype}: stage {m.stage}: measured "
                        f"{m.allocated:,} B after / {m.peak_ops:,} B peak between ops, predicted "
                        f"{p.allocated:,} / {p.peak:,}\n{log}")



def _net(name: str, shape: tuple[int, ...], *layers: L.Layer) -> zoo.Net:
    return zoo.Net(name, "", shape, L.Sequential(name, layers), 10)


C = L.Conv2d
NETS = [
    _net("activations", (3, 8, 8),
         C("conv1", 3, 4, 3, padding=1), L.ReLU6("relu6"), L.Hardtanh("htanh_", -2.0, 2.0, True),
         L.Hardswish("hswish"), C("conv2", 4, 4, 3, padding=1), L.Hardswish("hswish_", True),
         L.Hardsigmoid("hsig"), L.Hardsigmoid("hsig_", True), L.SiLU("silu"),
         L.SiLU("silu_", True), L.Sigmoid("sigmoid"), L.GELU("gelu"), L.GELU("gelu_tanh", "tanh"),
         L.ReLU6("relu6_", True), L.LeakyReLU("leaky", 0.1), L.LeakyReLU("leaky_", 0.2, True),
         L.ELU("elu"), L.ELU("elu_", 0.5, True), L.Identity("id"), L.Flatten("flatten"),
         L.Linear("fc", 4 * 8 * 8, 10)),
    _net("norms", (3, 6, 6),
         C("conv1", 3, 8, 3, padding=1), L.GroupNorm("gn", 2, 8), L.StochasticDepth("sd_row", 0.5),
         L.LayerScale("ls", (8, 1, 1)), L.GroupNorm("gn_plain", 4, 8, affine=False),
         L.StochasticDepth("sd_batch", 0.3, "batch"), L.StochasticDepth("sd0", 0.0),
         L.StochasticDepth("sd1", 1.0), C("conv2", 8, 8, 1), L.Permute("to_hwc", (1, 2, 0)),
         L.LayerNorm("ln", (8,)), L.Linear("pw1", 8, 16), L.GELU("gelu"),
         L.Linear("pw2", 16, 8, bias=False), L.LayerScale("ls_hwc", (8,)),
         L.LayerNorm("ln_wc", (6, 8), bias=False),
         L.LayerNorm("ln_plain", (8,), elementwise_affine=False),
         L.Permute("to_chw", (2, 0, 1)), L.Contiguous("contig"), C("conv3", 8, 4, 3),
         L.Mean("gap", (1, 2)), L.Linear("fc", 4, 10)),
    _net("layout", (3, 8, 8),
         C("conv1", 3, 6, 3, padding=1), L.Contiguous("contig_noop"), L.Permute("hwc", (1, 2, 0)),
         L.Reshape("tokens", (64, 6)), L.Reshape("back", (8, 8, 6)),
         L.Linear("fc_nc", 6, 6), L.Permute("chw", (2, 0, 1)), L.Reshape("flat_copy", (6, 64)),
         L.Reshape("map", (6, 8, 8)), L.ChannelShuffle("shuffle", 2), C("conv2", 6, 6, 1),
         L.AdaptiveMaxPool2d("amp", (2, 2)), L.Permute("hwc2", (1, 2, 0)),
         L.Linear("fc_nc_nobias", 6, 5, bias=False), L.Reshape("r3", (4, 5)),
         L.Mean("mean_keep", (0,), keepdim=True), L.Flatten("flatten"), L.Linear("fc", 5, 10)),
    _net("global-max", (3, 6, 6),
         C("conv1", 3, 4, 3), L.AdaptiveMaxPool2d("amp", (1, 1)), L.Flatten("flatten"),
         L.Linear("fc", 4, 10)),
    _net("upsample", (3, 4, 4),  # nearest and bilinear resizing keep nothing for backward
         C("conv1", 3, 4, 3, padding=1), L.Upsample("up", None, (2.0, 2.0)),
         C("conv2", 4, 4, 3, padding=1), L.Upsample("up_bilinear", (10, 12), None, "bilinear",
                                                    False), L.Flatten("flatten"),
         L.Linear("fc", 4 * 10 * 12, 10)),
    _net("flatten-permuted", (3, 6, 6),  # flatten of a permuted map copies
         C("conv1", 3, 4, 3), L.Permute("hwc", (1, 2, 0)), L.Flatten("flatten"),
         L.Linear("fc", 4 * 4 * 4, 10)),
]
