"""The torch side of the modern ops: alexprof's own modules do what their descriptors say,
and modules of timm and torchvision are read by class name and attributes.

timm and torchvision are not installed here: the stand-ins below copy their classes'
``__init__`` and ``forward`` (timm/layers/drop.py, layer_scale.py; torchvision/ops/
stochastic_depth.py, misc.py), which is all the readers look at.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexprof import nets as L
from alexprof.torchside.bridge import reader_of, to_module


def read(module: nn.Module, name: str = "m") -> L.Layer | None:
    reader = reader_of(module)
    return None if reader is None else reader(module, name)


# ---- stand-ins for third-party classes (same names and attributes) ---------------------


class DropPath(nn.Module):  # timm
    def __init__(self, drop_prob: float = 0.0, scale_by_keep: bool = True) -> None:
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep


class StochasticDepth(nn.Module):  # torchvision.ops
    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode


class LayerScale(nn.Module):  # timm
    def __init__(self, dim: int, init_values: float = 1e-5, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(self.gamma) if self.inplace else x * self.gamma


class LayerScale2d(LayerScale):  # timm
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gamma = self.gamma.view(1, -1, 1, 1)
        return x.mul_(gamma) if self.inplace else x * gamma


class Permute(nn.Module):  # torchvision.ops.misc
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


def test_third_party_classes_are_read_by_name_and_attributes() -> None:
    assert read(DropPath(0.1)) == L.StochasticDepth("m", 0.1, "row")
    assert read(StochasticDepth(0.2, "batch")) == L.StochasticDepth("m", 0.2, "batch")
    assert read(LayerScale(8)) == L.LayerScale("m", (8,))
    assert read(LayerScale2d(8)) == L.LayerScale("m", (8, 1, 1))
    assert read(Permute([0, 2, 3, 1])) == L.Permute("m", (1, 2, 0))


def test_the_shapes_read_fit_what_the_modules_compute() -> None:
    x = torch.randn(2, 8, 3, 4)
    assert read(LayerScale2d(8)).output_shape((8, 3, 4)) == tuple(LayerScale2d(8)(x).shape[1:])
    tokens = torch.randn(2, 3, 4, 8)
    assert read(LayerScale(8)).output_shape((3, 4, 8)) == tuple(LayerScale(8)(tokens).shape[1:])
    assert read(Permute([0, 2, 3, 1])).output_shape((8, 3, 4)) == (3, 4, 8)


@pytest.mark.parametrize("module", [
    DropPath(0.1, scale_by_keep=False),  # kept samples not scaled by 1/(1-p)
    DropPath(1.5), DropPath(True),  # not a probability
    StochasticDepth(0.2, "sample"),
    LayerScale(8, inplace=True),  # x.mul_(gamma): no new output
    Permute([1, 0, 2, 3]),  # moves the batch dim
    Permute([0, 1, 1]),
], ids=lambda m: f"{type(m).__name__}")
def test_attributes_that_do_not_fit_read_as_none(module: nn.Module) -> None:
    assert reader_of(module) is not None and read(module) is None


def test_a_named_class_without_the_attributes_reads_as_none() -> None:
    class LayerScale(nn.Module):  # a user's own, with a (C, 1, 1) weight and no gamma
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4, 1, 1))

    assert read(LayerScale()) is None
    assert read(type("DropPath", (nn.Module,), {})()) is None


def test_torch_classes_match_their_exact_type_only() -> None:
    class MyReLU6(nn.ReLU6):
        pass

    assert reader_of(MyReLU6()) is None  # a subclass may change forward
    assert read(nn.ReLU6()) == L.ReLU6("m")  # not read as its base nn.Hardtanh
    assert read(nn.Hardtanh(-2.0, 2.0)) == L.Hardtanh("m", -2.0, 2.0)


@pytest.mark.parametrize("module", [
    nn.Flatten(start_dim=2), nn.Flatten(0), nn.AdaptiveMaxPool2d(2, return_indices=True),
    nn.AdaptiveMaxPool2d((None, 3)),
], ids=repr)
def test_torch_modules_the_descriptors_cannot_say_read_as_none(module: nn.Module) -> None:
    assert read(module) is None


def test_layer_norm_without_affine_reads_back_the_default_bias() -> None:
    module = nn.LayerNorm((4, 5), elementwise_affine=False, bias=False)
    assert module.bias is None and module.weight is None
    assert read(module) == L.LayerNorm("m", (4, 5), elementwise_affine=False, bias=True)


# ---- alexprof's own modules ------------------------------------------------------------


def test_stochastic_depth_follows_torchvisions_rule() -> None:
    torch.manual_seed(0)
    x = torch.ones(4000, 3)
    row = to_module(L.StochasticDepth("sd", 0.25, "row")).train()
    y = row(x)
    kept = y[:, 0] != 0
    assert torch.equal(y.unique(), torch.tensor([0.0, 1 / 0.75]))  # kept ones scaled 1/(1-p)
    assert (y == y[:, :1]).all()  # the whole sample is kept or dropped
    assert abs(kept.float().mean().item() - 0.75) < 0.03  # 4000 draws: 3 sigma is 0.021
    batch = to_module(L.StochasticDepth("sd", 0.5, "batch")).train()(x)
    assert batch.unique().numel() == 1  # one draw for the whole batch
    assert to_module(L.StochasticDepth("sd", 0.5)).eval()(x) is x
    assert to_module(L.StochasticDepth("sd", 0.0)).train()(x) is x


def test_layer_scale_mean_reshape_permute_keep_the_batch_dim() -> None:
    x = torch.randn(2, 3, 4, 5)
    scale = to_module(L.LayerScale("ls", (3, 1, 1)))
    assert torch.equal(scale(x), x * scale.gamma) and scale.gamma.shape == (3, 1, 1)
    assert torch.equal(to_module(L.Mean("me", (1, 2), True))(x), x.mean((2, 3), keepdim=True))
    assert to_module(L.Reshape("rs", (12, 5)))(x).shape == (2, 12, 5)
    permuted = to_module(L.Permute("pe", (1, 2, 0)))(x)
    assert torch.equal(permuted, x.permute(0, 2, 3, 1))
    out = to_module(L.Contiguous("co"))(permuted)
    assert out.is_contiguous() and torch.equal(out, permuted)
