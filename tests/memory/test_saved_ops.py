"""What each new kind's memory rule keeps for backward equals what autograd saves.

``torch.autograd.graph.saved_tensors_hooks`` sees every tensor an op saves (shape, dtype,
storage).  Each case runs the torch module on a tiny CPU input (a non-leaf, as a conv's
output is) and the memory rule on a tape, and compares the saved tensors that are not
parameters or buffers: for a tensor sharing the input's or the output's storage, its
element count (a saved view, such as Linear's flattened ``mat1``, has its own shape);
for a fresh storage (a copy, a mask, statistics) its shape; and the dtype of each.

The checks run on CPU, not on meta: for a half-precision input the meta kernels of
batch norm and layer norm report float32 statistics, the CPU kernels the input's dtype
(:func:`test_meta_and_cpu_disagree_on_half_norm_statistics`).
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from alexprof import nets as L  # noqa: E402
from alexprof.memory.engine import Buffer, Node, Param, Tape, Var  # noqa: E402
from alexprof.memory.predict import predict  # noqa: F401, E402  (registers the rules)
from alexprof.memory.replay import build as build_params  # noqa: E402
from alexprof.memory.step import Step, forward  # noqa: E402
from alexprof.memory.strides import contiguous_strides  # noqa: E402
from alexprof.memory.vocab import Category  # noqa: E402
from tests.memory.opsnets import build  # noqa: E402

N = 2
HWC = (0, 2, 3, 1)  # the batch's (C, H, W) map seen channels-last: a permuted view
# (descriptor, per-sample shape of the tensor made, permutation applied to it or None)
CASES: list[tuple[L.Layer, tuple[int, ...], tuple[int, ...] | None]] = [
    *[(cls(f"{cls.kind}{'_' if inplace else ''}", inplace=inplace), (4, 3, 3), None)
      for cls in (L.ReLU6, L.Hardswish, L.Hardsigmoid, L.SiLU, L.LeakyReLU, L.ELU)
      for inplace in (False, True)],
    (L.Hardtanh("hardtanh", -2.0, 2.0), (4, 3, 3), None),
    (L.Hardtanh("hardtanh_", -2.0, 2.0, True), (4, 3, 3), None),
    (L.ELU("elu_alpha_", 0.5, True), (4, 3, 3), None),
    (L.Sigmoid("sigmoid"), (4, 3, 3), None),
    (L.GELU("gelu"), (4, 3, 3), None),
    (L.GELU("gelu_tanh", "tanh"), (4, 3, 3), None),
    (L.GELU("gelu_hwc"), (4, 3, 3), HWC),
    (L.Identity("identity"), (4, 3, 3), None),
    (L.StochasticDepth("sd_row", 0.5), (4, 3, 3), None),
    (L.StochasticDepth("sd_batch", 0.25, "batch"), (4, 3, 3), None),
    (L.StochasticDepth("sd_zero", 0.0), (4, 3, 3), None),
    (L.StochasticDepth("sd_one", 1.0), (4, 3, 3), None),
    (L.LayerScale("layer_scale", (4, 1, 1)), (4, 3, 3), None),
    (L.LayerScale("layer_scale_hwc", (4,)), (4, 3, 3), HWC),
    (L.LayerNorm("ln_hwc", (4,)), (4, 3, 3), HWC),
    (L.LayerNorm("ln_two_dims", (3, 4)), (5, 3, 4), None),
    (L.LayerNorm("ln_no_bias", (4,), bias=False), (5, 4), None),
    (L.LayerNorm("ln_no_affine", (4,), elementwise_affine=False), (5, 4), None),
    (L.GroupNorm("gn", 2, 4), (4, 3, 3), None),
    (L.GroupNorm("gn_no_affine", 4, 4, affine=False), (4, 3, 3), None),
    (L.BatchNorm2d("bn", 4), (4, 3, 3), None),
    (L.AdaptiveMaxPool2d("amp_1", (1, 1)), (4, 3, 3), None),
    (L.AdaptiveMaxPool2d("amp_2x3", (2, 3)), (4, 3, 3), None),
    (L.Mean("mean", (1, 2)), (4, 3, 3), None),
    (L.Mean("mean_keepdim", (1, 2), keepdim=True), (4, 3, 3), None),
    (L.Reshape("reshape", (4, 9)), (4, 3, 3), None),
    (L.Reshape("reshape_hwc_view", (9, 4)), (4, 3, 3), HWC),  # H and W merge: a view
    (L.Reshape("reshape_hwc_copy", (3, 12)), (4, 3, 3), HWC),  # W and C cannot: a copy
    (L.Permute("permute", (1, 2, 0)), (4, 3, 3), None),
    (L.Contiguous("contiguous_noop"), (4, 3, 3), None),
    (L.Contiguous("contiguous_hwc"), (4, 3, 3), HWC),
    (L.ChannelShuffle("shuffle", 2), (4, 3, 3), None),
    (L.Flatten("flatten_hwc"), (4, 3, 3), HWC),
    (L.Linear("linear_3d", 4, 5), (9, 4), None),
    (L.Linear("linear_4d", 4, 5), (3, 3, 4), None),
    (L.Linear("linear_4d_no_bias", 4, 5, bias=False), (3, 3, 4), None),
    (L.Linear("linear_hwc", 4, 5), (4, 3, 3), HWC),  # matmul: reshape copies
    (L.Linear("linear_hwc_no_bias", 4, 5, bias=False), (4, 3, 3), HWC),
]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
Saved = list[tuple[str, object, str]]  # (input / output / new, numel or shape, dtype)


def _sid(t: torch.Tensor) -> int:
    return t.untyped_storage()._cdata


def _entry(tag: str, shape: tuple[int, ...], dtype: str) -> tuple[str, object, str]:
    return (tag, shape if tag == "new" else math.prod(shape), dtype)


def torch_saved(layer: L.Layer, made: tuple[int, ...], perm: tuple[int, ...] | None,
                dtype: str, device: str = "cpu") -> Saved:
    with torch.device(device):
        module = build(layer).to(DTYPES[dtype])
    module.train()
    own = {_sid(t) for t in [*module.parameters(), *module.buffers()]}
    x0 = torch.ones((N, *made), dtype=DTYPES[dtype], device=device, requires_grad=True)
    x = x0 * 1 if perm is None else (x0 * 1).permute(perm)
    got: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: got.append(t) or t, lambda t: t):
        y = module(x)
    out = []
    for t in got:
        if _sid(t) in own:
            continue  # a parameter or a running statistic: no activation bytes
        tag = "input" if _sid(t) == _sid(x) else "output" if _sid(t) == _sid(y) else "new"
        out.append(_entry(tag, tuple(t.shape), str(t.dtype).removeprefix("torch.")))
    return sorted(out, key=repr)


def rule_saved(layer: L.Layer, made: tuple[int, ...], perm: tuple[int, ...] | None,
               dtype: str) -> Saved:
    full = (N, *made)
    strides = None
    if perm is not None:
        base = contiguous_strides(full)
        full, strides = tuple(full[d] for d in perm), tuple(base[d] for d in perm)
    placed = next(L.walk(L.Sequential("net", (layer,)), full[1:]))
    step = Step(Tape("cpu", dtype), N)
    build_params(step, [placed])
    xbuf = step.tape.alloc("input", "x", Category.ACTIVATIONS, full)
    x = Var(xbuf, Param("x", xbuf), strides)  # a tensor that needs a gradient
    y = forward(step, placed, x)
    out, seen, todo = [], set(), [y.fn]
    while todo:
        node = todo.pop()
        if not isinstance(node, Node) or id(node) in seen:
            continue
        seen.add(id(node))
        todo += list(node.edges)
        for buf in node.saved:
            out.append(_entry(_tag(buf, xbuf, y.buf), buf.shape, buf.dtype))
    return sorted(out, key=repr)


def _tag(buf: Buffer, x: Buffer, y: Buffer) -> str:
    return "input" if buf is x else "output" if buf is y else "new"


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("layer, made, perm", CASES, ids=[c[0].name for c in CASES])
def test_rule_keeps_what_autograd_saves(layer: L.Layer, made: tuple[int, ...],
                                        perm: tuple[int, ...] | None, dtype: str) -> None:
    assert rule_saved(layer, made, perm, dtype) == torch_saved(layer, made, perm, dtype)


def test_in_place_activations_keep_a_copy_or_their_result() -> None:
    """In place the output is the input's storage; Hardtanh/ReLU6/Hardswish/Hardsigmoid/SiLU
    keep a clone of the input (autograd copies it before it is overwritten), LeakyReLU and
    ELU keep their result: the input's storage (all 4 x 3 x 3 per sample, float32)."""
    one = (N, 4, 3, 3)
    for cls in (L.ReLU6, L.Hardswish, L.Hardsigmoid, L.SiLU):
        assert torch_saved(cls("a", inplace=True), one[1:], None, "float32") == [
            ("new", one, "float32")]
    for cls in (L.LeakyReLU, L.ELU):
        assert torch_saved(cls("a", inplace=True), one[1:], None, "float32") == [
            ("input", math.prod(one), "float32")]


def test_meta_and_cpu_disagree_on_half_norm_statistics() -> None:
    """BatchNorm2d on CPU keeps its batch mean and inverse std in the input's dtype for
    float16/bfloat16 (2 bytes a channel each); the meta kernel says float32.  So does
    LayerNorm's; GroupNorm's are the input's dtype on both."""
    bn, ln = L.BatchNorm2d("bn", 4), L.LayerNorm("ln", (4,))
    for dtype in ("float16", "bfloat16"):
        assert torch_saved(bn, (4, 3, 3), None, dtype) == [
            ("input", N * 4 * 3 * 3, dtype), ("new", (4,), dtype), ("new", (4,), dtype)]
        assert ("new", (4,), "float32") in torch_saved(bn, (4, 3, 3), None, dtype, "meta")
        assert ("new", (N, 5, 1), dtype) in torch_saved(ln, (5, 4), None, dtype)
        assert ("new", (N, 5, 1), "float32") in torch_saved(ln, (5, 4), None, dtype, "meta")
