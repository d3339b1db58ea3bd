"""Random fields and per-sample shapes: every new descriptor's ``output_shape`` equals what
torch computes on meta tensors with a batch of 2, and where torch refuses the shape the
descriptor raises ShapeError.  The module kinds run their torch builder's module; the
two-input ops (read from a user's forward) run the torch call they are read from.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alexprof import nets as L
from alexprof.errors import ShapeError, UsageError
from alexprof.nets import Shape
from alexprof.torchside.bridge import to_module

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCH = 2
dim = st.integers(1, 5)


def meta(*shape: int) -> torch.Tensor:
    return torch.empty(shape, device="meta")


def torch_out(fn: Callable[[], torch.Tensor]) -> Shape | None:
    """The per-sample shape torch computes, or None when torch refuses."""
    try:
        return tuple(fn().shape[1:])
    except (RuntimeError, IndexError, ValueError):
        return None


def module_out(layer: L.Layer, shape: Shape, train: bool = False) -> Shape | None:
    with torch.device("meta"):
        module = to_module(layer)
    module.train(train)
    return torch_out(lambda: module(meta(BATCH, *shape)))


def agrees(layer: L.Layer, shape: Shape, expected: Shape | None) -> None:
    """The descriptor says what torch computed; where torch refused, it raises ShapeError."""
    if expected is None:
        with pytest.raises(ShapeError):
            layer.output_shape(shape)
    else:
        assert layer.output_shape(shape) == expected


shapes = st.lists(dim, min_size=1, max_size=4).map(tuple)
SAME_SHAPE: list[Callable[[st.DataObject], L.Layer]] = [
    lambda d: L.ReLU6("r6", d.draw(st.booleans())),
    lambda d: L.Hardtanh("ht", -1.0, d.draw(st.floats(0.0, 6.0)), d.draw(st.booleans())),
    lambda d: L.Hardswish("hs", d.draw(st.booleans())),
    lambda d: L.Hardsigmoid("hg", d.draw(st.booleans())),
    lambda d: L.SiLU("si", d.draw(st.booleans())),
    lambda d: L.Sigmoid("sg"),
    lambda d: L.GELU("ge", d.draw(st.sampled_from(["none", "tanh"]))),
    lambda d: L.LeakyReLU("lr", d.draw(st.floats(0.0, 1.0)), d.draw(st.booleans())),
    lambda d: L.ELU("el", d.draw(st.floats(0.1, 2.0)), d.draw(st.booleans())),
    lambda d: L.Identity("id"),
    lambda d: L.StochasticDepth("sd", d.draw(st.floats(0.0, 1.0)),
                                d.draw(st.sampled_from(["row", "batch"]))),
    lambda d: L.Contiguous("co"),
]


@FAST
@given(data=st.data(), shape=shapes, train=st.booleans())
def test_shape_preserving_ops(data: st.DataObject, shape: Shape, train: bool) -> None:
    layer = data.draw(st.sampled_from(SAME_SHAPE))(data)
    out = module_out(layer, shape, train)  # StochasticDepth draws its mask in training
    assert out == shape
    agrees(layer, shape, out)


@FAST
@given(data=st.data(), shape=st.lists(dim, min_size=1, max_size=3).map(tuple))
def test_layer_scale(data: st.DataObject, shape: Shape) -> None:
    # gamma of rank <= the input's: each dim the input's, 1 or any size (may not broadcast)
    rank = data.draw(st.integers(1, len(shape)))
    gamma = tuple(data.draw(st.sampled_from([s, 1, data.draw(dim)])) for s in shape[-rank:])
    layer = L.LayerScale("ls", gamma)
    out = module_out(layer, shape)
    agrees(layer, shape, out if out == shape else None)  # a gamma that grows x is refused


@FAST
@given(data=st.data(), shape=st.lists(dim, min_size=1, max_size=3).map(tuple),
       affine=st.booleans(), bias=st.booleans())
def test_layer_norm(data: st.DataObject, shape: Shape, affine: bool, bias: bool) -> None:
    k = data.draw(st.integers(1, len(shape)))
    normalized = list(shape[-k:])
    if data.draw(st.booleans()):  # one dim changed: torch refuses unless drawn the same
        normalized[data.draw(st.integers(0, k - 1))] = data.draw(dim)
    layer = L.LayerNorm("ln", tuple(normalized), elementwise_affine=affine, bias=bias)
    agrees(layer, shape, module_out(layer, shape))


@FAST
@given(groups=st.integers(1, 4), per_group=st.integers(1, 3), c=st.integers(1, 12),
       spatial=st.lists(dim, max_size=2), affine=st.booleans(), same=st.booleans())
def test_group_norm(groups, per_group, c, spatial, affine, same) -> None:
    channels = groups * per_group
    # without affine torch never reads num_channels (any C divisible by the groups runs);
    # the descriptor's num_channels is the module's, so another C is refused: drawn only
    # where torch refuses it too (its weight has num_channels)
    shape = (channels if same or not affine else c, *spatial)
    layer = L.GroupNorm("gn", groups, channels, affine=affine)
    agrees(layer, shape, module_out(layer, shape))


@FAST
@given(shape=st.lists(dim, min_size=3, max_size=4).map(tuple),
       size=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_adaptive_max_pool(shape: Shape, size) -> None:
    layer = L.AdaptiveMaxPool2d("amp", size)
    agrees(layer, shape, module_out(layer, shape))  # rank 4 (a 5-d tensor): both refuse


def test_adaptive_max_pool_needs_a_map() -> None:
    # torch would read a (2, H, W) tensor as one unbatched map of 2 channels
    with pytest.raises(ShapeError):
        L.AdaptiveMaxPool2d("amp", 1).output_shape((4, 4))


@FAST
@given(data=st.data(), shape=shapes, keepdim=st.booleans())
def test_mean(data: st.DataObject, shape: Shape, keepdim: bool) -> None:
    dims = data.draw(st.sets(st.integers(0, len(shape)), min_size=1, max_size=len(shape)))
    layer = L.Mean("me", tuple(dims), keepdim)  # a dim == the rank does not exist
    agrees(layer, shape, module_out(layer, shape))


@FAST
@given(data=st.data(), shape=shapes)
def test_reshape(data: st.DataObject, shape: Shape) -> None:
    target = data.draw(st.one_of(
        st.just((math.prod(shape),)),
        st.permutations(shape).map(tuple),
        st.lists(dim, max_size=3).map(tuple),  # mostly another element count
    ))
    layer = L.Reshape("rs", target)
    agrees(layer, shape, module_out(layer, shape))


@FAST
@given(data=st.data(), shape=shapes)
def test_permute(data: st.DataObject, shape: Shape) -> None:
    rank = data.draw(st.sampled_from([len(shape), data.draw(st.integers(1, 4))]))
    layer = L.Permute("pe", tuple(data.draw(st.permutations(range(rank)))))
    agrees(layer, shape, module_out(layer, shape))


@FAST
@given(shape=st.lists(dim, min_size=1, max_size=2).map(tuple), c=st.integers(1, 12),
       groups=st.integers(1, 4))
def test_channel_shuffle(shape: Shape, c: int, groups: int) -> None:
    layer = L.ChannelShuffle("cs", groups)
    agrees(layer, (c, *shape), module_out(layer, (c, *shape)))


@FAST
@given(data=st.data(), shape=st.lists(dim, min_size=1, max_size=3).map(tuple),
       n_out=dim, bias=st.booleans())
def test_linear_over_any_rank(data: st.DataObject, shape: Shape, n_out: int, bias: bool) -> None:
    n_in = data.draw(st.sampled_from([shape[-1], data.draw(dim)]))
    layer = L.Linear("fc", n_in, n_out, bias)
    agrees(layer, shape, module_out(layer, shape))


# ---- the two-input ops: the torch call each is read from ------------------------------


def operand(data: st.DataObject, shape: Shape) -> Shape:
    """A second operand's per-sample shape of rank <= the input's: each dim the input's,
    1 or any size (which may not broadcast)."""
    rank = data.draw(st.integers(0, len(shape)))
    return tuple(data.draw(st.sampled_from([s, 1, data.draw(dim)])) for s in shape[len(shape) -
                                                                                    rank:])


def tensor_of(other: Shape, shape: Shape) -> torch.Tensor:
    """``other`` as torch sees it: batched when of the input's rank, else batchless."""
    return meta(BATCH, *other) if len(other) == len(shape) else meta(*other)


BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}


@FAST
@given(data=st.data(), shape=st.lists(dim, min_size=1, max_size=3).map(tuple))
def test_add_and_mul(data: st.DataObject, shape: Shape) -> None:
    op = data.draw(st.sampled_from(list(BINARY)))
    kind = L.Add if op in ("add", "sub") else L.Mul
    how = data.draw(st.sampled_from(["same", "scalar", "shape"]))
    x = meta(BATCH, *shape)
    if how == "same":  # a residual: other=None
        layer, y = kind("b", None, op), x
    elif how == "scalar":
        layer, y = kind("b", (), op), torch.tensor(2.0, device="meta")
    else:
        other = operand(data, shape)
        layer, y = kind("b", other, op), tensor_of(other, shape)
    agrees(layer, shape, torch_out(lambda: BINARY[op](x, y)))


@FAST
@given(data=st.data(), shape=st.lists(dim, min_size=1, max_size=3).map(tuple),
       more=st.lists(dim, min_size=1, max_size=3))
def test_cat(data: st.DataObject, shape: Shape, more: list[int]) -> None:
    d = data.draw(st.integers(0, len(shape)))  # d == rank: no such dim
    sizes = (shape[d] if d < len(shape) else 1, *more)
    layer = L.Cat("cat", sizes, d)

    def cat() -> torch.Tensor:
        parts = [list(shape) for _ in sizes]
        for part, size in zip(parts, sizes):
            if d < len(shape):
                part[d] = size
        return torch.cat([meta(BATCH, *p) for p in parts], d + 1)

    agrees(layer, shape, torch_out(cat))


def test_cat_checks_the_inputs_size() -> None:
    with pytest.raises(ShapeError):
        L.Cat("cat", (3, 4), 0).output_shape((2, 5))  # the input is the first of the sizes


def batch_dims(data: st.DataObject, lead: Shape) -> Shape:
    """Batch dims broadcasting against ``lead``: each its size or 1, rank <= its rank."""
    rank = data.draw(st.integers(0, len(lead)))
    return tuple(data.draw(st.sampled_from([s, 1])) for s in lead[len(lead) - rank:])


@FAST
@given(data=st.data(), lead=st.lists(dim, max_size=2).map(tuple), n=dim, k=dim, m=dim)
def test_matmul(data: st.DataObject, lead: Shape, n: int, k: int, m: int) -> None:
    k2 = data.draw(st.sampled_from([k, data.draw(dim)]))
    shape, other = (*lead, n, k), (*batch_dims(data, lead), k2, m)
    layer = L.MatMul("mm", other)
    y = meta(BATCH, *other) if len(other) == len(shape) else meta(*other)
    agrees(layer, shape, torch_out(lambda: torch.matmul(meta(BATCH, *shape), y)))


def test_matmul_of_a_per_sample_vector_is_a_row_of_the_batched_product() -> None:
    # a batch of vectors (B, k) @ (k, m) is B rows: each sample's (k,) @ (k, m) = (m,)
    out = torch.empty(2, 3, device="meta") @ torch.empty(3, 4, device="meta")
    assert L.MatMul("mm", (3, 4)).output_shape((3,)) == tuple(out.shape[1:]) == (4,)
    with pytest.raises(ShapeError):
        L.MatMul("mm", (3, 4)).output_shape((5,))


@FAST
@given(data=st.data(), lead=st.lists(dim, max_size=2).map(tuple), length=dim, e=dim, s=dim,
       ev=dim, causal=st.booleans())
def test_scaled_dot_product_attention(data: st.DataObject, lead: Shape, length: int, e: int,
                                      s: int, ev: int, causal: bool) -> None:
    e2 = data.draw(st.sampled_from([e, data.draw(dim)]))
    kv = tuple(data.draw(st.sampled_from([b, 1])) for b in lead)  # key's and value's heads
    shape, key, value = (*lead, length, e), (*kv, s, e2), (*kv, s, ev)
    layer = L.ScaledDotProductAttention("at", key, value, causal)
    out = torch_out(lambda: F.scaled_dot_product_attention(
        meta(BATCH, *shape), meta(BATCH, *key), meta(BATCH, *value), is_causal=causal))
    agrees(layer, shape, out)


# ---- gaps the sweeps found in the descriptors (nets/ is not this file's to change) -----


def test_mean_over_no_dims_is_refused() -> None:
    # torch's mean over no dims reduces every dim, the batch too: not a per-sample op
    assert torch_out(lambda: meta(BATCH, 3, 4).mean(())) == ()
    with pytest.raises(UsageError, match="at least one"):
        L.Mean("me", ())


def test_channel_shuffle_of_vectors() -> None:
    agrees(L.ChannelShuffle("cs", 2), (4,), module_out(L.ChannelShuffle("cs", 2), (4,)))


def test_attention_broadcasts_the_values_heads() -> None:
    layer = L.ScaledDotProductAttention("at", (1, 6, 5), (3, 6, 7))
    out = torch_out(lambda: F.scaled_dot_product_attention(
        meta(BATCH, 1, 4, 5), meta(BATCH, 1, 6, 5), meta(BATCH, 3, 6, 7)))
    assert layer.output_shape((1, 4, 5)) == out == (3, 4, 7)
