"""Known behaviours of the peer tools, each predicting its exact effect.

A difference between alexprof and a peer counts as *explained* only when one
of these functions predicts it to the unit.  Each function is pure (no torch)
and returns the extra count the peer adds for one placed layer, per sample
unless stated; 0 when the quirk does not apply.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from alexprof.counting.conventions import Patched, ptflops_patched
from alexprof.counting.formulas import Cost
from alexprof.nets import (
    Add,
    Conv2d,
    LocalResponseNorm,
    Mul,
    Placed,
    ScaledDotProductAttention,
    Shape,
    Unsupported,
)

FLOPCOUNTER_GROUPS = (
    "FlopCounterMode (torch 2.13) ignores groups in a grouped conv's weight gradient: it "
    "counts all C_in input channels instead of C_in/groups, adding 2*MACs*(groups-1)"
)
PTFLOPS_DOUBLE = (
    "ptflops 0.7.5's returned total counts ReLU, pooling and softmax twice (module hook plus "
    "its patched torch.nn.functional call), GELU and ELU too, SiLU once (no hook, patched "
    "F.silu), LRN's internal mul/avg_pool3d/add once, and a forward's own calls of patched "
    "callables (F.relu, F.gelu, torch.add, Tensor.mul, torch.matmul, F.interpolate...), which "
    "have no line of their own (batch, layer and group norm, tanh, ReLU6, torch.cat, "
    "Tensor.mean and the +, * and @ operators are not patched, so not counted again); pass "
    "backend_specific_config={'count_functional': False} to avoid it"
)
PTFLOPS_OWN_REPR = (
    "ptflops 0.7.5 prints its per-layer lines through repr(model): a module whose class "
    "overrides __repr__ (timm's SelectAdaptivePool2d) prints its own text instead, so it and "
    "the layers inside it have no per-layer line (its total still counts them)"
)


def flopcounter_grouped_wgrad(placed: Placed, cost: Cost) -> int:
    """Extra backward FLOPs FlopCounterMode reports for a grouped convolution."""
    layer = placed.layer
    if isinstance(layer, Conv2d) and layer.groups > 1:
        return 2 * cost.macs * (layer.groups - 1)
    return 0


FLOPCOUNTER_CPU_ATTENTION = (
    "on the CPU, F.scaled_dot_product_attention on 4-D (batch, heads, L, E) tensors runs "
    "the fused kernel aten._scaled_dot_product_flash_attention_for_cpu, for which "
    "FlopCounterMode (torch 2.13) has no formula, forward or backward: it counts 0 (3-D "
    "calls take the math path and are counted); on meta, where --verify runs it, every "
    "call decomposes into two bmm's (four in backward) that it counts"
)


def flopcounter_cpu_attention(placed: Placed, forward_flops: int, backward_flops: int) -> int:
    """FLOPs a FlopCounterMode run on the CPU misses for one row: all of an attention
    row's (:data:`FLOPCOUNTER_CPU_ATTENTION`), nothing for any other row."""
    if isinstance(placed.layer, ScaledDotProductAttention) and len(placed.in_shape) == 3:
        return forward_flops + backward_flops
    return 0


def ptflops_functional_extra(placed: Placed) -> int:
    """Per-sample MACs that ptflops adds to its total through patched functionals
    (which layers call one: :data:`~alexprof.counting.conventions.PTFLOPS`; which
    callables are patched: :data:`~alexprof.counting.conventions.PATCHED_CALLABLES`).

    ``F.relu``, ``F.*pool*``, ``F.softmax`` (and ``F.gelu``, ``F.elu``, ``F.silu`` ...)
    each add their input's element count.  ``F.local_response_norm`` calls the patched
    ``Tensor.mul`` (input squared), ``avg_pool3d`` over the channel-padded square,
    ``Tensor.mul`` by alpha and ``Tensor.add`` of k: three times the elements plus the
    padded tensor's ``(C + size//2 + (size-1)//2) * H * W``.  Among modules alexprof does
    not model, those whose ``forward`` calls a patched functional add its count too
    (measured one module at a time against ptflops 0.7.5, see ``_PTFLOPS_UNSUPPORTED``).
    A row recorded from a functional call (``placed.via``) adds what the patch of that
    callable counts (:func:`ptflops_callable_count`), and nothing for an unpatched one.
    ptflops runs one sample, so these are per sample.
    """
    layer, shape = placed.layer, placed.in_shape
    if placed.training_only:
        return 0  # ptflops runs model.eval(): side branches do not run at all
    patched = ptflops_patched(placed)
    if placed.via:
        return ptflops_callable_count(placed, patched)
    if patched is Patched.INPUT:
        return math.prod(shape)
    if patched is Patched.LRN and isinstance(layer, LocalResponseNorm):
        return _lrn(layer, shape)
    if patched is Patched.INTERPOLATE:  # nn.Upsample's forward calls F.interpolate
        return ptflops_callable_count(placed, patched)
    if (
        patched is Patched.BY_TORCH_TYPE
        and isinstance(layer, Unsupported)
        and layer.torch_type in _PTFLOPS_UNSUPPORTED
    ):
        return math.prod(shape if _PTFLOPS_UNSUPPORTED[layer.torch_type] == "in" else layer.out)
    return 0


def _lrn(layer: LocalResponseNorm, shape: Shape) -> int:
    c, h, w = shape
    padded = (c + layer.size // 2 + (layer.size - 1) // 2) * h * w
    return 3 * c * h * w + padded


def ptflops_callable_count(placed: Placed, patched: Patched) -> int:
    """What ptflops 0.7.5's patch of the callable ``placed.via`` adds to its total, for one
    sample (``pytorch_ops.py``); the input is the call's first tensor, with the batch dim.

    * INPUT (``_numel_functional_flops_hook``): the input's elements.
    * ELEMENTWISE (``_elementwise_tensor_flops_hook``): see :func:`ptflops_elementwise`.
    * MATMUL (``_matmul_tensor_flops_hook``): ``prod(input.shape) * other.shape[-1]``, the
      input's elements times the result's last dim (``n*k*m`` for ``(n, k) @ (k, m)``).
    * ADDMM (``_addmm_tensor_flops_hook``): that for ``mat1 @ mat2`` plus the added
      tensor's elements, here the result's (a bias row, at batch 1); ``beta=0`` is not seen.
    * INTERPOLATE (``_interpolate_functional_flops_hook``): the result's elements; exact
      with ``size=`` or a whole scale factor (a fractional one counts
      ``input elements * scale**dims``, a float, which is not predicted here).
    * UPSAMPLE: ``F.upsample`` is patched and calls the patched ``F.interpolate``: twice that.
    """
    layer, shape, out = placed.layer, placed.in_shape, placed.out_shape
    if patched is Patched.INPUT:
        return math.prod(shape)
    if patched is Patched.ELEMENTWISE:
        return ptflops_elementwise(shape, layer.other if isinstance(layer, (Add, Mul)) else None)
    if patched in (Patched.MATMUL, Patched.ADDMM):
        product = math.prod(shape) * out[-1]
        return product + (math.prod(out) if patched is Patched.ADDMM else 0)
    if patched in (Patched.INTERPOLATE, Patched.UPSAMPLE):
        return math.prod(out) * (2 if patched is Patched.UPSAMPLE else 1)
    if patched is Patched.LRN and isinstance(layer, LocalResponseNorm):
        return _lrn(layer, shape)
    return 0


def ptflops_elementwise(in_shape: Shape, other: Shape | None) -> int:
    """``_elementwise_tensor_flops_hook`` of ptflops 0.7.5 for ``input`` (per-sample
    ``in_shape``, run with a batch of 1) and ``other`` (a descriptor's ``other``: None
    for the input's own shape, ``()`` for a scalar).

    It does not broadcast as torch does (aligning the *last* dims): it aligns the two
    shapes at their *first* dim and multiplies the larger size of each.  Equal ranks give
    the broadcast result's elements; ``(1, H, W, C) * (C,)`` counts ``C*H*W*C``.  An
    ``other`` of the input's per-sample rank or more is taken to carry the batch dim
    (a squeeze-excitation gate, a residual); a lower-rank one to be a batchless tensor
    (a parameter).  A batchless ``other`` of the input's rank (a ``(C, 1, 1)``
    parameter) cannot be told from a batched one by its per-sample shape: ptflops counts
    it as ``C*C*H*W``, this predicts ``C*H*W``.
    """
    if not other:  # the same shape, or a scalar: the input's elements
        return math.prod(in_shape)
    a = (1, *in_shape)
    b = (1, *other) if len(other) >= len(in_shape) else tuple(other)
    rank = max(len(a), len(b))
    a, b = a + (1,) * (rank - len(a)), b + (1,) * (rank - len(b))
    return math.prod(max(x, y) for x, y in zip(a, b))


def ptflops_line_hidden_by(module: str, own_repr: Collection[str]) -> str | None:
    """The module that hides ``module``'s per-layer line in ptflops' printout, or None.

    ``own_repr`` holds the dotted names ("" = the root) of the modules whose class
    overrides ``__repr__`` (in torch: ``type(m).__repr__ is not nn.Module.__repr__``);
    each of them, and every module inside one, prints no line (:data:`PTFLOPS_OWN_REPR`).
    The outermost such module is returned.
    """
    parts = module.split(".") if module else []
    for depth in range(len(parts) + 1):
        name = ".".join(parts[:depth])
        if name in own_repr:
            return name
    return None


# torch module -> the tensor whose elements ptflops' patched functional adds to its total,
# for modules the extraction leaves unmodelled (nn.PReLU: F.prelu; nn.Upsample: F.interpolate;
# nn.AdaptiveMaxPool2d with return_indices: F.adaptive_max_pool2d).  nn.GELU, ELU and SiLU
# are modelled now (conventions.PTFLOPS); they stay for a module read as Unsupported.
_PTFLOPS_UNSUPPORTED = {
    "GELU": "in",
    "ELU": "in",
    "PReLU": "in",
    "SiLU": "in",
    "AdaptiveMaxPool2d": "in",
    "Upsample": "out",
}
