"""A torch call recorded from a forward -> its descriptor, one reader per op.

Each reader gets the :class:`~alexprof.torchside.record.Call` (its arguments with
tensors as :class:`~alexprof.torchside.record.Arg`, batch dims resolved) and the row's
name, and returns the descriptor, or None when the call is one alexprof does not
describe exactly (the row is then ``unsupported``, with torch's numbers).  Dims are
turned from the batched tensor's into the sample's (:meth:`Arg.sample_dim`).
The caller checks every descriptor's shape rule against what ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from alexprof import nets as L
from alexprof.errors import UsageError
from alexprof.nets import Shape
from alexprof.torchside.bridge_base import output_pair
from alexprof.torchside.calls import Arg, Call

Reader = Callable[[Call, str], "L.Layer | None"]
READERS: dict[str, Reader] = {}


def reads(*ops: str) -> Callable[[Reader], Reader]:
    def add(read: Reader) -> Reader:
        for op in ops:
            READERS[op] = read
        return read

    return add


def read(call: Call, name: str) -> L.Layer | None:
    """The call's descriptor, or None (no reader, or fields no descriptor takes)."""
    reader = READERS.get(call.op)
    try:
        return reader(call, name) if reader is not None else None
    except (UsageError, TypeError, ValueError):  # e.g. mean over no dims; odd argument types
        return None


def _get(call: Call, i: int, key: str, default: Any = None) -> Any:
    if key in (call.kwargs or {}):
        return call.kwargs[key]
    return call.args[i] if len(call.args) > i else default


def _operand(other: Any, first: Arg) -> Shape | None:
    """The per-sample shape of a binary op's second operand (None: not one we describe)."""
    if not isinstance(other, Arg):
        return () if isinstance(other, (int, float, bool)) else None
    if other.batched:
        same = other.bdim == first.bdim and other.fold == first.fold
        return other.per_sample() if same and other.bdim is not None else None
    shape = tuple(other.shape)
    if len(shape) == len(first.shape) and first.bdim is not None:  # aligned with the batch
        if shape[first.bdim] != 1:
            return None
        shape = shape[: first.bdim] + shape[first.bdim + 1 :]
    return shape


def _binary(call: Call) -> tuple[Arg, Shape | None, Any] | None:
    first = call.first()
    if first is None or len(call.args) < 2:
        return None
    a, b = call.args[0], call.args[1]
    other = b if a is first else a
    shape = _operand(other, first)
    if shape is None:
        return None
    return first, (None if shape == first.per_sample() else shape), other


@reads("add", "add_", "sub", "sub_", "rsub")
def _add(call: Call, name: str) -> L.Layer | None:
    got = _binary(call)
    if got is None:
        return None
    return L.Add(name, got[1], "add" if call.op.startswith("add") else "sub")


@reads("mul", "mul_", "div", "div_")
def _mul(call: Call, name: str) -> L.Layer | None:
    got = _binary(call)
    if got is None:
        return None
    _, shape, other = got
    op = "mul" if call.op.startswith("mul") else "div"
    if op == "mul" and isinstance(other, Arg) and other.role == "param" and shape is not None:
        if math.prod(shape) == other.param.numel():
            return L.LayerScale(name, shape)
    return L.Mul(name, shape, op)


@reads("cat", "concat", "concatenate")
def _cat(call: Call, name: str) -> L.Layer | None:
    parts = list(_get(call, 0, "tensors", []))
    if not parts or not all(isinstance(t, Arg) and t.role == "act" for t in parts):
        return None
    dim = parts[0].sample_dim(_get(call, 1, "dim", 0))
    if dim is None or any(t.bdim != parts[0].bdim or t.fold != 1 for t in parts):
        return None
    return L.Cat(name, tuple(t.per_sample()[dim] for t in parts), dim)


@reads("mean")
def _mean(call: Call, name: str) -> L.Layer | None:
    first = call.first()
    dims = _get(call, 1, "dim")
    if first is None or dims is None:
        return None
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    mapped = [first.sample_dim(d) for d in dims]
    if None in mapped:
        return None
    return L.Mean(name, tuple(d for d in mapped if d is not None), bool(_get(call, 2, "keepdim")))


def _inplace(call: Call, i: int = 1) -> bool:
    return call.op.endswith("_") or bool(_get(call, i, "inplace", False))


_SIMPLE: dict[str, Callable[[Call, str], L.Layer]] = {
    "relu": lambda c, n: L.ReLU(n, _inplace(c)),
    "relu_": lambda c, n: L.ReLU(n, True),
    "relu6": lambda c, n: L.ReLU6(n, _inplace(c)),
    "hardswish": lambda c, n: L.Hardswish(n, _inplace(c)),
    "hardswish_": lambda c, n: L.Hardswish(n, True),
    "hardsigmoid": lambda c, n: L.Hardsigmoid(n, _inplace(c)),
    "silu": lambda c, n: L.SiLU(n, _inplace(c)),
    "silu_": lambda c, n: L.SiLU(n, True),
    "sigmoid": lambda c, n: L.Sigmoid(n),
    "tanh": lambda c, n: L.Tanh(n),
    "gelu": lambda c, n: L.GELU(n, _get(c, 1, "approximate", "none")),
    "leaky_relu": lambda c, n: L.LeakyReLU(n, _get(c, 1, "negative_slope", 0.01), _inplace(c, 2)),
    "elu": lambda c, n: L.ELU(n, _get(c, 1, "alpha", 1.0), _inplace(c, 2)),
    "softmax": lambda c, n: L.Softmax(n, _get(c, 1, "dim", -1)),
    "dropout": lambda c, n: L.Dropout(n, _get(c, 1, "p", 0.5)),
    "contiguous": lambda c, n: L.Contiguous(n),
    "clone": lambda c, n: L.Contiguous(n),
}
for _op, _make in _SIMPLE.items():
    reads(_op)(_make)


@reads("hardtanh", "hardtanh_")
def _hardtanh(call: Call, name: str) -> L.Layer:
    low, high = _get(call, 1, "min_val", -1.0), _get(call, 2, "max_val", 1.0)
    inplace = _inplace(call, 3)
    if (low, high) == (0.0, 6.0):
        return L.ReLU6(name, inplace)
    return L.Hardtanh(name, float(low), float(high), inplace)


@reads("layer_norm")
def _layer_norm(call: Call, name: str) -> L.Layer | None:
    weight, bias = _get(call, 2, "weight"), _get(call, 3, "bias")
    if any(isinstance(t, Arg) and t.role == "act" for t in (weight, bias)):
        return None
    return L.LayerNorm(
        name, tuple(_get(call, 1, "normalized_shape")), _get(call, 4, "eps", 1e-5),
        weight is not None, bias is not None,
    )  # fmt: skip


@reads("group_norm")
def _group_norm(call: Call, name: str) -> L.Layer | None:
    first, weight = call.first(), _get(call, 2, "weight")
    if first is None or first.bdim != 0:
        return None
    c = first.per_sample()[0]
    return L.GroupNorm(name, _get(call, 1, "num_groups"), c, _get(call, 4, "eps", 1e-5),
                       weight is not None)  # fmt: skip


def _param(t: Any) -> bool:
    return isinstance(t, Arg) and t.role == "param"


@reads("linear")
def _linear(call: Call, name: str) -> L.Layer | None:
    weight, bias = _get(call, 1, "weight"), _get(call, 2, "bias")
    if not _param(weight) or (bias is not None and not _param(bias)):
        return None
    out_features, in_features = weight.shape
    return L.Linear(name, in_features, out_features, bias is not None)


@reads("conv2d")
def _conv2d(call: Call, name: str) -> L.Layer | None:
    weight, bias = _get(call, 1, "weight"), _get(call, 2, "bias")
    if not _param(weight) or (bias is not None and not _param(bias)):
        return None
    stride, padding = _get(call, 3, "stride", 1), _get(call, 4, "padding", 0)
    dilation, groups = _get(call, 5, "dilation", 1), _get(call, 6, "groups", 1)
    out_c, in_per_group, kh, kw = weight.shape
    if isinstance(padding, str):
        dil = L.pair(dilation, "dilation")
        spans = (dil[0] * (kh - 1), dil[1] * (kw - 1))
        if padding == "valid":
            padding = 0
        elif any(s % 2 for s in spans):
            return None
        else:
            padding = (spans[0] // 2, spans[1] // 2)
    return L.Conv2d(name, in_per_group * groups, out_c, (kh, kw), stride, padding, dilation,
                    groups, bias is not None)  # fmt: skip


@reads("max_pool2d")
def _max_pool(call: Call, name: str) -> L.Layer | None:
    if _get(call, 6, "return_indices", False):
        return None
    k = _get(call, 1, "kernel_size")
    stride = _get(call, 2, "stride") or k
    return L.MaxPool2d(name, k, stride, _get(call, 3, "padding", 0), _get(call, 5, "ceil_mode",
                       False), _get(call, 4, "dilation", 1))  # fmt: skip


@reads("avg_pool2d")
def _avg_pool(call: Call, name: str) -> L.Layer | None:
    if _get(call, 6, "divisor_override") is not None:
        return None
    k = _get(call, 1, "kernel_size")
    stride = _get(call, 2, "stride") or k
    return L.AvgPool2d(name, k, stride, _get(call, 3, "padding", 0),
                       _get(call, 4, "ceil_mode", False),
                       _get(call, 5, "count_include_pad", True))  # fmt: skip


@reads("adaptive_avg_pool2d")
def _adaptive_avg(call: Call, name: str) -> L.Layer | None:
    size = output_pair(_get(call, 1, "output_size"))
    return None if size is None else L.AdaptiveAvgPool2d(name, size)


@reads("adaptive_max_pool2d")
def _adaptive_max(call: Call, name: str) -> L.Layer | None:
    size = output_pair(_get(call, 1, "output_size"))
    if size is None or _get(call, 2, "return_indices", False):
        return None
    return L.AdaptiveMaxPool2d(name, size)


@reads("view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as",
       "reshape_as", "squeeze_", "unsqueeze_")  # fmt: skip
def _reshape(call: Call, name: str) -> L.Layer | None:
    first = call.first()
    if first is None or not call.outs or (call.outs[0].bdim is None and call.outs[0].batched):
        return None
    return L.Reshape(name, call.outs[0].per_sample())


def _permutation(call: Call, rank: int) -> list[int] | None:
    op = call.op
    if op == "permute":
        dims = call.args[1:] if len(call.args) > 2 else _get(call, 1, "dims")
        dims = [dims] if isinstance(dims, int) else list(dims)
        return [d % rank for d in dims]
    if op in ("transpose", "swapaxes", "swapdims", "transpose_"):
        a, b = _get(call, 1, "dim0") % rank, _get(call, 2, "dim1") % rank
        perm = list(range(rank))
        perm[a], perm[b] = b, a
        return perm
    if op == "t":
        return [1, 0] if rank == 2 else list(range(rank))
    return None


@reads("permute", "transpose", "swapaxes", "swapdims", "t", "transpose_")
def _permute(call: Call, name: str) -> L.Layer | None:
    first = call.first()
    if first is None or not first.batched or first.bdim is None:
        return None
    perm = _permutation(call, len(first.shape))
    if perm is None:
        return None
    if first.fold > 1:  # the folded dim is a sample dim like the others
        return L.Permute(name, tuple(perm))
    out_b = perm.index(first.bdim)
    axes = [a for a in range(len(first.shape)) if a != first.bdim]
    return L.Permute(name, tuple(axes.index(perm[j]) for j in range(len(perm)) if j != out_b))


@reads("matmul", "mm", "bmm")
def _matmul(call: Call, name: str) -> L.Layer | None:
    first = call.first()
    if first is None or call.args[0] is not first or len(call.args) < 2:
        return None
    other = call.args[1]
    if not isinstance(other, Arg):
        return None
    if other.batched or len(other.shape) == len(first.shape) > 2:
        shape = _operand(other, first)
    else:  # a weight: it multiplies every sample alike
        shape = tuple(other.shape)
    if shape is None or len(shape) < 2:
        return None
    learned = other.role == "param" and other.param.numel() == math.prod(shape)
    return L.MatMul(name, shape, learned)


@reads("scaled_dot_product_attention")
def _attention(call: Call, name: str) -> L.Layer | None:
    q, k, v = (_get(call, i, key) for i, key in enumerate(("query", "key", "value")))
    if call.first() is not q or not all(isinstance(t, Arg) and t.batched for t in (k, v)):
        return None
    if _get(call, 3, "attn_mask") is not None:
        return None
    return L.ScaledDotProductAttention(
        name, k.per_sample(), v.per_sample(), bool(_get(call, 5, "is_causal", False))
    )


@reads("channel_shuffle", "native_channel_shuffle")
def _shuffle(call: Call, name: str) -> L.Layer | None:
    return L.ChannelShuffle(name, _get(call, 1, "groups"))


@reads("getitem", "chunk", "split", "unbind", "narrow", "select", "expand", "expand_as",
       "detach", "split_with_sizes", "tensor_split", "unsafe_chunk", "unsafe_split")  # fmt: skip
def _view(call: Call, name: str) -> L.Layer | None:
    out = call.outs[0] if call.outs else None
    if out is None or (out.batched and out.bdim is None):
        return None
    return L.View(name, out.per_sample())


@reads("interpolate", "upsample", "upsample_nearest", "upsample_bilinear")
def _interpolate(call: Call, name: str) -> L.Layer | None:
    """The result's size, as recorded: a scale factor was applied to this input only."""
    out = call.outs[0] if call.outs else None
    if out is None or len(out.per_sample()) != 3 or _get(call, 5, "recompute_scale_factor"):
        return None
    mode = _get(call, 3, "mode", "nearest")
    if call.op == "upsample_bilinear":
        mode = "bilinear"
    _, h, w = out.per_sample()
    return L.Upsample(name, (h, w), None, mode, _get(call, 4, "align_corners"))
