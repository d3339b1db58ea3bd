"""Known behaviours of the peer tools, each predicting its exact effect.

A difference between alexprof and a peer counts as *explained* only when one
of these functions predicts it to the unit.  Each function is pure (no torch)
and returns the extra count the peer adds for one placed layer, per sample
unless stated; 0 when the quirk does not apply.
"""

from __future__ import annotations

import math

from alexprof.counting.conventions import PTFLOPS, Patched
from alexprof.counting.formulas import Cost
from alexprof.nets import Conv2d, LocalResponseNorm, Placed, Unsupported

FLOPCOUNTER_GROUPS = (
    "FlopCounterMode (torch 2.13) ignores groups in a grouped conv's weight gradient: it "
    "counts all C_in input channels instead of C_in/groups, adding 2*MACs*(groups-1)"
)
PTFLOPS_REPR = (
    "ptflops prints a module whose class defines its own __repr__ through that __repr__, so "
    "the modules inside it get no per-layer line (their MACs are in its total)"
)
PTFLOPS_DOUBLE = (
    "ptflops 0.7.5's returned total counts ReLU, pooling and softmax twice (module hook plus "
    "its patched torch.nn.functional call), and LRN's internal mul/avg_pool3d/add once "
    "(batch norm, tanh, torch.cat and the + of a residual add are not patched, so not "
    "doubled); pass backend_specific_config={'count_functional': False} to avoid it"
)


def flopcounter_grouped_wgrad(placed: Placed, cost: Cost) -> int:
    """Extra backward FLOPs FlopCounterMode reports for a grouped convolution."""
    layer = placed.layer
    if isinstance(layer, Conv2d) and layer.groups > 1:
        return 2 * cost.macs * (layer.groups - 1)
    return 0


def ptflops_functional_extra(placed: Placed) -> int:
    """Per-sample MACs that ptflops adds to its total through patched functionals
    (which layers call one: :data:`~alexprof.counting.conventions.PTFLOPS`).

    ``F.relu``, ``F.*pool*`` and ``F.softmax`` each add their input's element
    count.  ``F.local_response_norm`` calls the patched ``Tensor.mul`` (input
    squared), ``avg_pool3d`` over the channel-padded square, ``Tensor.mul`` by
    alpha and ``Tensor.add`` of k: three times the elements plus the padded
    tensor's ``(C + size//2 + (size-1)//2) * H * W``.  Among modules alexprof does
    not model, those whose ``forward`` calls a patched functional add its count too
    (measured one module at a time against ptflops 0.7.5, see ``_PTFLOPS_UNSUPPORTED``).
    """
    layer, shape = placed.layer, placed.in_shape
    if placed.training_only:
        return 0  # ptflops runs model.eval(): side branches do not run at all
    patched = PTFLOPS.of(layer, placed.name).patched
    if patched is Patched.INPUT:
        return math.prod(shape)
    if patched is Patched.LRN and isinstance(layer, LocalResponseNorm):
        c, h, w = shape
        padded = (c + layer.size // 2 + (layer.size - 1) // 2) * h * w
        return 3 * c * h * w + padded
    if (
        patched is Patched.BY_TORCH_TYPE
        and isinstance(layer, Unsupported)
        and layer.torch_type in _PTFLOPS_UNSUPPORTED
    ):
        return math.prod(shape if _PTFLOPS_UNSUPPORTED[layer.torch_type] == "in" else layer.out)
    return 0


# torch module -> the tensor whose elements ptflops' patched functional adds to its total
# (F.gelu, F.elu, F.prelu, F.silu, F.adaptive_max_pool2d: input; F.interpolate: output).
# LeakyReLU, ReLU6 (F.hardtanh), Hardswish, Sigmoid and Tanh call nothing it patches.
_PTFLOPS_UNSUPPORTED = {
    "GELU": "in",
    "ELU": "in",
    "PReLU": "in",
    "SiLU": "in",
    "AdaptiveMaxPool2d": "in",
    "Upsample": "out",
}
