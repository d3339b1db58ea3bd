"""Random layer configurations: analytic shapes, params and FLOPs equal torch's.

torch runs for real on CPU (small tensors); FlopCounterMode and ptflops'
module hooks are the FLOP oracles.  When torch refuses a configuration,
alexprof must refuse it too (and vice versa).
"""

from __future__ import annotations

import io

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from alexprof.counting.conventions import CONVENTIONS
from alexprof.counting.formulas import cost_of
from alexprof.errors import AlexprofError
from alexprof.nets import AvgPool2d, Conv2d, Linear, MaxPool2d, Placed
from alexprof.torchside.quirks import flopcounter_grouped_wgrad
from alexprof.torchside.bridge import to_module

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
small = st.integers(1, 4)
pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731


def analytic_shape(layer, shape):
    try:
        return layer.output_shape(shape)
    except AlexprofError:
        return None


def torch_shape(module: nn.Module, x: torch.Tensor):
    try:
        with torch.no_grad():
            return tuple(module(x).shape[1:])
    except RuntimeError:
        return None


@settings(max_examples=300, **SETTINGS)
@given(cin_g=small, cout_g=small, groups=st.integers(1, 3), k=pairs(1, 5), s=pairs(1, 3),
       p=pairs(0, 3), d=pairs(1, 3), hw=pairs(1, 20), bias=st.booleans(), batch=st.integers(1, 2))
def test_conv2d(cin_g, cout_g, groups, k, s, p, d, hw, bias, batch) -> None:
    layer = Conv2d("conv", cin_g * groups, cout_g * groups, k, s, p, d, groups, bias)
    module = to_module(layer)
    shape = (layer.in_channels, *hw)
    x = torch.randn(batch, *shape)
    out = analytic_shape(layer, shape)
    assert out == torch_shape(module, x)
    if out is None:
        return
    cost = cost_of(layer, shape, out)
    assert cost.weights == module.weight.numel()
    assert cost.bias == (module.bias.numel() if bias else 0)
    # FlopCounterMode, forward and a backward that needs grad-input and grad-weight
    x.requires_grad_(True)
    with FlopCounterMode(display=False) as fwd:
        y = module(x)
    with FlopCounterMode(display=False) as bwd:
        y.sum().backward()
    placed = Placed("conv", layer, shape, out, input_needs_grad=True)
    conv = CONVENTIONS["flopcounter"]
    assert fwd.get_total_flops() == 2 * conv.macs(layer, cost) * batch
    analytic_bwd = 2 * conv.backward_macs(placed, cost) * batch
    quirk = flopcounter_grouped_wgrad(placed, cost) * batch  # 0 unless groups > 1
    assert bwd.get_total_flops() == analytic_bwd + quirk


@settings(max_examples=300, **SETTINGS)
@given(c=small, k=pairs(1, 4), s=pairs(1, 3), p=pairs(0, 2), d=pairs(1, 2), hw=pairs(1, 16),
       ceil=st.booleans())
def test_maxpool2d(c, k, s, p, d, hw, ceil) -> None:
    try:
        layer = MaxPool2d("pool", k, s, p, ceil_mode=ceil, dilation=d)
    except AlexprofError:  # alexprof refuses padding > kernel/2: torch must refuse it too
        assert torch_shape(nn.MaxPool2d(k, s, p, d, ceil_mode=ceil), torch.randn(1, c, *hw)) is None
        return
    shape = (c, *hw)
    assert analytic_shape(layer, shape) == torch_shape(to_module(layer), torch.randn(1, *shape))


@settings(max_examples=200, **SETTINGS)
@given(c=small, k=pairs(1, 4), s=pairs(1, 3), p=pairs(0, 2), hw=pairs(1, 16), ceil=st.booleans())
def test_avgpool2d(c, k, s, p, hw, ceil) -> None:
    try:
        layer = AvgPool2d("pool", k, s, p, ceil_mode=ceil)
    except AlexprofError:
        assert torch_shape(nn.AvgPool2d(k, s, p, ceil_mode=ceil), torch.randn(1, c, *hw)) is None
        return
    shape = (c, *hw)
    assert analytic_shape(layer, shape) == torch_shape(to_module(layer), torch.randn(1, *shape))


@settings(max_examples=100, **SETTINGS)
@given(n_in=st.integers(1, 64), n_out=st.integers(1, 64), bias=st.booleans(),
       batch=st.integers(1, 3))
def test_linear(n_in, n_out, bias, batch) -> None:
    layer = Linear("fc", n_in, n_out, bias)
    module = to_module(layer)
    x = torch.randn(batch, n_in, requires_grad=True)
    cost = cost_of(layer, (n_in,), (n_out,))
    assert cost.weights + cost.bias == sum(p.numel() for p in module.parameters())
    with FlopCounterMode(display=False) as fwd:
        y = module(x)
    with FlopCounterMode(display=False) as bwd:
        y.sum().backward()
    assert fwd.get_total_flops() == 2 * n_in * n_out * batch
    placed = Placed("fc", layer, (n_in,), (n_out,), input_needs_grad=True)
    assert bwd.get_total_flops() == 2 * CONVENTIONS["flopcounter"].backward_macs(placed, cost) * batch


@pytest.mark.parametrize("seed", range(3))
def test_ptflops_conv_hook_matches_ptflops_convention(seed: int) -> None:
    import ptflops

    gen = torch.Generator().manual_seed(seed)
    draw = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=gen))  # noqa: E731
    groups = draw(1, 3)
    layer = Conv2d("conv", draw(1, 4) * groups, draw(1, 4) * groups, draw(1, 5), draw(1, 3),
                   draw(0, 2), groups=groups, bias=bool(seed % 2))
    shape = (layer.in_channels, 24, 24)
    module = nn.Sequential(to_module(layer))
    macs, _ = ptflops.get_model_complexity_info(module, shape, as_strings=False,
                                                print_per_layer_stat=False, ost=io.StringIO())
    out = layer.output_shape(shape)
    assert macs == CONVENTIONS["ptflops"].macs(layer, cost_of(layer, shape, out))
