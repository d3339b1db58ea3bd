"""Every ptflops fact alexprof states, against real ptflops 0.7.5 (pytorch backend).

For each leaf kind (``conventions.PTFLOPS``): its module, as the torch builder makes it,
alone in an ``nn.Sequential``; its per-layer line must equal the ptflops convention's
figure and the returned total that plus :func:`quirks.ptflops_functional_extra`.  For each
callable a forward may call (``conventions.PATCHED_CALLABLES``, and the unpatched ones):
a tiny module whose forward calls it; the returned total must equal the extra predicted
for a hand-built :class:`Placed` row with that ``via``.  Expected numbers are derived by
hand in the comments; ptflops runs one sample, so every count is per sample.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable

import ptflops
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexprof import nets as L
from alexprof.counting.conventions import CONVENTIONS, PATCHED_CALLABLES, Patched
from alexprof.counting.formulas import cost_of
from alexprof.nets import Placed
from alexprof.nets.kinds import LEAVES
from alexprof.torchside.bridge import to_module
from alexprof.torchside.quirks import (
    ptflops_elementwise,
    ptflops_functional_extra,
    ptflops_line_hidden_by,
)

LINE = re.compile(r"^\s*\((?P<name>[^)]+)\): \w+\(\d+, [\d.]+% Params, (?P<macs>[\d.e+]+) Mac,")


def run_ptflops(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, dict[str, int]]:
    """ptflops' returned total and its per-layer lines (name -> MACs) for one sample."""
    text = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # F.upsample's deprecation
        total, _ = ptflops.get_model_complexity_info(
            module, shape, backend="pytorch", as_strings=False, print_per_layer_stat=True,
            ost=text, flops_units="Mac", param_units="", output_precision=20)
    assert total is not None, text.getvalue()
    lines = {m["name"]: round(float(m["macs"])) for m in map(LINE.match, text.getvalue().splitlines())
             if m}
    return total, lines


def run_aten(module: nn.Module, shape: tuple[int, ...]) -> int:
    total, _ = ptflops.get_model_complexity_info(
        module, shape, backend="aten", as_strings=False, print_per_layer_stat=False,
        ost=io.StringIO())
    return total


# (descriptor, per-sample input, its ptflops line, what patched functionals add): by hand
S = (3, 4, 5)  # 60 elements
MODULES = [
    # conv: H*W * C_out * C_in*k*k = 20 * 2*3*3*3 = 1080 MACs, bias 2*4*5 = 40
    (L.Conv2d("c", 3, 2, 3, 1, 1), S, 1080 + 40, 0),
    # linear over (3, 4, 5): 12 positions * (5*7 weights + 7 bias)
    (L.Linear("fc", 5, 7), S, 12 * (5 * 7 + 7), 0),  # F.linear is not patched
    (L.ReLU("r"), S, 60, 60),  # relu hook: output elements; F.relu again
    (L.Tanh("t"), S, 0, 0),
    (L.MaxPool2d("mp", 2), S, 60, 60),  # pool hook: input elements; F.max_pool2d again
    (L.AvgPool2d("ap", 2), S, 60, 60),
    (L.AdaptiveAvgPool2d("gap", 1), S, 60, 60),
    # F.local_response_norm: mul (60), avg_pool3d of the padded square ((3+1+1)*4*5 = 100),
    # mul (60), add (60)
    (L.LocalResponseNorm("lrn", 3), S, 0, 3 * 60 + 100),
    (L.Dropout("d", 0.5), S, 0, 0),
    (L.Softmax("sm", 1), S, 0, 60),  # not hooked; F.softmax is patched
    (L.BatchNorm2d("bn", 3), S, 2 * 60, 0),  # bn hook: input elements x2 (affine)
    (L.Flatten("f"), S, 0, 0),
    (L.ReLU6("r6"), S, 60, 0),  # relu hook; its forward calls F.hardtanh: not patched
    (L.Hardtanh("ht", -2.0, 2.0), S, 0, 0),  # no hook, F.hardtanh not patched
    (L.Hardswish("hs"), S, 0, 0),
    (L.Hardsigmoid("hsg"), S, 0, 0),
    (L.SiLU("si"), S, 0, 60),  # no hook; F.silu is patched
    (L.Sigmoid("sg"), S, 0, 0),
    (L.GELU("ge"), S, 60, 60),  # relu hook and F.gelu
    (L.GELU("get", "tanh"), S, 60, 60),
    (L.LeakyReLU("lr", 0.1), S, 60, 0),  # relu hook; F.leaky_relu not patched
    (L.ELU("el"), S, 60, 60),  # relu hook and F.elu
    (L.Identity("id"), S, 0, 0),
    (L.StochasticDepth("sd", 0.5), S, 0, 0),  # ptflops runs eval(): the identity
    (L.LayerScale("ls", (3, 1, 1)), S, 0, 0),  # x * gamma: Tensor.__mul__, not patched
    (L.LayerScale("lsc", (5,)), S, 0, 0),
    (L.LayerNorm("ln", (5,)), S, 60, 0),  # bn hook: nn.LayerNorm has no `affine`: x1
    (L.LayerNorm("ln2", (4, 5), elementwise_affine=False), S, 60, 0),
    (L.GroupNorm("gn", 3, 3), S, 2 * 60, 0),  # bn hook: nn.GroupNorm.affine: x2
    (L.GroupNorm("gn0", 1, 3, affine=False), S, 60, 0),
    (L.AdaptiveMaxPool2d("amp", (2, 2)), S, 60, 60),  # pool hook, F.adaptive_max_pool2d
    (L.Mean("me", (1, 2)), S, 0, 0),  # Tensor.mean: not patched
    (L.Reshape("rs", (12, 5)), S, 0, 0),
    (L.Permute("pe", (1, 2, 0)), S, 0, 0),
    (L.Contiguous("co"), S, 0, 0),
    (L.ChannelShuffle("cs", 3), (6, 4, 5), 0, 0),  # F.channel_shuffle: not patched
    # upsample hook: the output's elements, 3*8*10 = 240; the patched F.interpolate again
    (L.Upsample("up", None, (2.0, 2.0)), S, 240, 240),
    (L.Upsample("upb", (6, 7), None, "bilinear", False), S, 3 * 6 * 7, 3 * 6 * 7),
]


def test_every_leaf_kind_is_measured() -> None:
    assert {type(layer) for layer, *_ in MODULES} == set(LEAVES)


@pytest.mark.parametrize(("layer", "shape", "line", "extra"), MODULES,
                         ids=[layer.name for layer, *_ in MODULES])
def test_a_modules_line_and_total(layer: L.Layer, shape, line: int, extra: int) -> None:
    out = layer.output_shape(shape)
    placed = Placed(layer.name, layer, shape, out, input_needs_grad=False)
    conv = CONVENTIONS["ptflops"]
    assert conv.row_macs(placed, cost_of(layer, shape, out)) == line
    assert ptflops_functional_extra(placed) == extra
    total, lines = run_ptflops(nn.Sequential(OrderedDict([(layer.name, to_module(layer))])), shape)
    assert lines[layer.name] == line
    assert total == line + extra


class Forward(nn.Module):
    """A module whose forward is ``fn`` (looked up when it runs, as a user's would be)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def _iadd(x: torch.Tensor) -> torch.Tensor:
    x += x
    return x


W5, W57, B7 = torch.ones(5), torch.ones(7, 5), torch.ones(7)
ADD, MUL = L.Add("add"), L.Mul("mul")
MM = L.MatMul("mm", other=(3, 5, 4))  # (3, 4, 5) @ (3, 5, 4) -> (3, 4, 4)
UP = L.Unsupported("up", torch_type="interpolate", out=(3, 8, 10))  # 2x of (3, 4, 5)
# (via, descriptor, per-sample input, forward, ptflops' total): by hand
CALLS = [
    ("Tensor.__add__", ADD, S, lambda x: x + x, 0),  # operators are not patched
    ("Tensor.add", ADD, S, lambda x: x.add(x), 60),  # the broadcast result: 3*4*5
    ("torch.add", ADD, S, lambda x: torch.add(x, x), 60),
    ("Tensor.add_", ADD, S, lambda x: x.add_(x), 0),
    ("Tensor.__iadd__", ADD, S, _iadd, 0),
    ("torch.sub", L.Add("sub", op="sub"), S, lambda x: torch.sub(x, x), 0),
    ("Tensor.__mul__", MUL, S, lambda x: x * x, 0),
    ("Tensor.mul", L.Mul("se", other=(3, 1, 1)), S,  # an SE gate of shape (1, 3, 1, 1)
     lambda x: x.mul(x.mean((2, 3), keepdim=True)), 60),  # (1,3,4,5) vs (1,3,1,1): 60
    ("Tensor.mul", L.Mul("half", other=()), S, lambda x: x.mul(0.5), 60),  # a scalar
    # a batchless (5,) weight: ptflops aligns (1, 3, 4, 5) and (5,) at the first dim:
    # max(1,5) * 3 * 4 * 5 = 300 (torch's broadcast result has 60)
    ("torch.mul", L.Mul("w", other=(5,)), S, lambda x: torch.mul(x, W5), 300),
    ("Tensor.div", L.Mul("div", op="div"), S, lambda x: x.div(x), 0),
    ("Tensor.__matmul__", MM, S, lambda x: x @ x.transpose(-1, -2), 0),
    # input elements times other's last dim: 3*4*5 * 4 = 240 (= 3*4*4 outputs * k=5)
    ("torch.matmul", MM, S, lambda x: torch.matmul(x, x.transpose(-1, -2)), 240),
    ("Tensor.matmul", MM, S, lambda x: x.matmul(x.transpose(-1, -2)), 240),
    ("Tensor.__rmatmul__", MM, S, lambda x: x.transpose(-1, -2).__rmatmul__(x), 240),
    # (1, 4, 5) bmm (1, 5, 4): 1*4*5 * 4 = 80
    ("torch.bmm", L.MatMul("bmm", other=(5, 4)), (4, 5),
     lambda x: torch.bmm(x, x.transpose(1, 2)), 80),
    ("F.linear", L.Linear("fl", 5, 7), (5,), lambda x: F.linear(x, W57, B7), 0),
    # (1, 5) @ (5, 7): 5*7 = 35, plus the added bias' 7 elements
    ("torch.addmm", L.Linear("am", 5, 7), (5,), lambda x: torch.addmm(B7, x, W57.t()), 42),
    ("F.relu", L.ReLU("fr"), S, lambda x: F.relu(x), 60),  # input elements
    ("F.relu6", L.ReLU6("fr6"), S, lambda x: F.relu6(x), 60),  # patched, unlike nn.ReLU6's
    ("F.gelu", L.GELU("fg"), S, lambda x: F.gelu(x), 60),
    ("F.silu", L.SiLU("fs"), S, lambda x: F.silu(x), 60),
    ("F.elu", L.ELU("fe"), S, lambda x: F.elu(x), 60),
    ("F.hardtanh", L.Hardtanh("fh"), S, lambda x: F.hardtanh(x), 0),
    ("F.hardswish", L.Hardswish("fhs"), S, lambda x: F.hardswish(x), 0),
    ("F.leaky_relu", L.LeakyReLU("flr"), S, lambda x: F.leaky_relu(x), 0),
    ("torch.sigmoid", L.Sigmoid("fsg"), S, lambda x: torch.sigmoid(x), 0),
    ("Tensor.relu", L.ReLU("tr"), S, lambda x: x.relu(), 0),
    ("F.adaptive_avg_pool2d", L.AdaptiveAvgPool2d("fa", 1), S,
     lambda x: F.adaptive_avg_pool2d(x, 1), 60),
    ("F.adaptive_max_pool2d", L.AdaptiveMaxPool2d("fam", 1), S,
     lambda x: F.adaptive_max_pool2d(x, 1), 60),
    ("F.max_pool2d", L.MaxPool2d("fm", 2), S, lambda x: F.max_pool2d(x, 2), 60),
    ("F.softmax", L.Softmax("fsm", 1), S, lambda x: F.softmax(x, 1), 60),
    ("Tensor.softmax", L.Softmax("tsm", 1), S, lambda x: x.softmax(1), 0),
    ("F.layer_norm", L.LayerNorm("fln", (5,), elementwise_affine=False), S,
     lambda x: F.layer_norm(x, (5,)), 0),
    ("F.scaled_dot_product_attention", L.ScaledDotProductAttention("at", S, S), S,
     lambda x: F.scaled_dot_product_attention(x, x, x), 0),
    ("torch.cat", L.Cat("cat", (3, 3)), S, lambda x: torch.cat([x, x], 1), 0),
    ("Tensor.mean", L.Mean("tm", (1, 2)), S, lambda x: x.mean((2, 3)), 0),
    ("Tensor.reshape", L.Reshape("tr", (60,)), S, lambda x: x.reshape(1, 60), 0),
    ("Tensor.permute", L.Permute("tp", (1, 2, 0)), S, lambda x: x.permute(0, 2, 3, 1), 0),
    ("F.interpolate", UP, S, lambda x: F.interpolate(x, scale_factor=2), 3 * 8 * 10),
    ("F.interpolate", L.Unsupported("us", torch_type="interpolate", out=(3, 6, 7)), S,
     lambda x: F.interpolate(x, size=(6, 7)), 3 * 6 * 7),
    ("F.upsample", UP, S, lambda x: F.upsample(x, scale_factor=2), 2 * 240),  # and interpolate
    ("F.upsample_nearest", UP, S, lambda x: F.upsample_nearest(x, scale_factor=2), 240),
    # as the LRN module: mul 60, avg_pool3d (3+1+1)*4*5 = 100, mul 60, add 60
    ("F.local_response_norm", L.LocalResponseNorm("flrn", 3), S,
     lambda x: F.local_response_norm(x, 3), 280),
]


@pytest.mark.parametrize(("via", "layer", "shape", "fn", "expected"), CALLS,
                         ids=[f"{c[0]}-{c[1].name}" for c in CALLS])
def test_a_forwards_call(via: str, layer: L.Layer, shape, fn, expected: int) -> None:
    out = layer.output_shape(shape)
    placed = Placed(f"{layer.name}", layer, shape, out, False, op=layer.name, via=via)
    assert ptflops_functional_extra(placed) == expected
    total, lines = run_ptflops(Forward(fn), shape)
    assert total == expected
    assert lines == {}  # a functional call has no per-layer line
    conv = CONVENTIONS["ptflops"]
    assert conv.row_macs(placed, cost_of(layer, shape, out)) == 0  # so its row shows 0


def test_every_patched_callable_is_measured() -> None:
    """Each kind of patch is met above; a few spellings share each (F.avg_pool1d...)."""
    measured = {via for via, *_ in CALLS}
    assert {PATCHED_CALLABLES[v] for v in measured if v in PATCHED_CALLABLES} == (
        set(PATCHED_CALLABLES.values()))
    assert PATCHED_CALLABLES["F.avg_pool3d"] is Patched.INPUT
    assert "F.linear" not in PATCHED_CALLABLES and "Tensor.__matmul__" not in PATCHED_CALLABLES


def test_a_batchless_operand_of_the_inputs_rank_is_the_stated_limit() -> None:
    """A (3, 1, 1) parameter and an SE gate (1, 3, 1, 1) have the same per-sample shape;
    ptflops counts the first as max(1,3) * max(3,1) * 4 * 5 = 180 (aligning first dims),
    the prediction (a batched operand) is 60: documented in quirks.ptflops_elementwise."""
    gamma = torch.ones(3, 1, 1)
    total, _ = run_ptflops(Forward(lambda x: x.mul(gamma)), S)
    assert total == 3 * 3 * 4 * 5 == 180
    assert ptflops_elementwise(S, (3, 1, 1)) == 60


def test_ptflops_elementwise_by_hand() -> None:
    assert ptflops_elementwise((3, 4, 5), None) == 60
    assert ptflops_elementwise((3, 4, 5), ()) == 60
    assert ptflops_elementwise((4, 4, 8), (8,)) == 8 * 4 * 4 * 8  # (1,4,4,8) vs (8,)
    assert ptflops_elementwise((8,), (3, 8)) == 1 * 8 * 8  # (1,8) vs (1,3,8): max(8,3) * 8


def test_a_training_only_call_adds_nothing() -> None:
    layer = L.ReLU("r")
    placed = Placed("aux.r", layer, S, S, False, training_only=True, op="relu", via="F.relu")
    assert ptflops_functional_extra(placed) == 0


# ---- the aten backend: functional calls count by aten op, attention's kernel not at all
ATEN = [
    (L.MatMul("mm", other=(3, 5, 4)), lambda x: x @ x.transpose(-1, -2), "Tensor.__matmul__",
     3 * 4 * 4 * 5),  # aten.bmm: 3 heads * 4x4 outputs * k=5 = 240
    (L.Linear("fl", 5, 7), lambda x: F.linear(x, W57, B7), "F.linear",
     12 * 5 * 7 + 12 * 7),  # aten.addmm over 12 positions: 420 MACs + 84 bias adds
    (L.ScaledDotProductAttention("at", S, S), lambda x: F.scaled_dot_product_attention(x, x, x),
     "F.scaled_dot_product_attention", 0),  # CPU's fused kernel: no aten op it counts
    (L.Add("add"), lambda x: x + x, "Tensor.__add__", 0),
]


@pytest.mark.parametrize(("layer", "fn", "via", "expected"), ATEN, ids=[a[2] for a in ATEN])
def test_aten_counts_a_forwards_call(layer: L.Layer, fn, via: str, expected: int) -> None:
    out = layer.output_shape(S)
    placed = Placed(layer.name, layer, S, out, False, op=layer.name, via=via)
    assert CONVENTIONS["aten"].row_macs(placed, cost_of(layer, S, out)) == expected
    assert run_aten(Forward(fn), S) == expected


# ---- a class with its own __repr__ hides its layers' lines
class OwnRepr(nn.Module):
    """Like timm's SelectAdaptivePool2d: its class overrides __repr__."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)

    def __repr__(self) -> str:
        return "OwnRepr()"


def test_a_class_with_its_own_repr_hides_its_layers_lines() -> None:
    model = nn.Sequential(OrderedDict([("head", OwnRepr()), ("relu", nn.ReLU())]))
    total, lines = run_ptflops(model, S)
    # conv 1x1: 4*5 * 2*3 = 120 MACs + 2*4*5 = 40 bias; relu 2*4*5 = 40 twice (hook, F.relu)
    assert total == 120 + 40 + 2 * 40
    assert "conv" not in lines and "head" not in lines and lines["relu"] == 40
    own = {name for name, m in model.named_modules() if type(m).__repr__ is not nn.Module.__repr__}
    assert own == {"head"}
    assert ptflops_line_hidden_by("head.conv", own) == "head"
    assert ptflops_line_hidden_by("head", own) == "head"
    assert ptflops_line_hidden_by("relu", own) is None
    assert ptflops_line_hidden_by("header", {"head"}) is None  # a prefix of a name is not a parent
    assert ptflops_line_hidden_by("a.b", {"", "a"}) == ""  # the root hides everything
