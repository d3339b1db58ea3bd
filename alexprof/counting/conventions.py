"""Named counting conventions: how each peer tool turns a layer's Cost into its MACs.

Whatever the convention, ``flops == 2 * macs``.  The default, ``macs``, is what fvcore,
thop and torchprofile report.  What ptflops does with each kind of layer is declared
once per kind (:data:`PTFLOPS`), for its convention here and its quirks.  No torch import.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexprof.counting.formulas import Cost
from alexprof.errors import choose
from alexprof.nets import (
    ELU,
    GELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Cat,
    ChannelShuffle,
    Contiguous,
    Conv2d,
    Dropout,
    Flatten,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    Layer,
    LayerNorm,
    LayerScale,
    LeakyReLU,
    Linear,
    LocalResponseNorm,
    MatMul,
    MaxPool2d,
    Mean,
    Mul,
    Permute,
    Placed,
    ReLU,
    ReLU6,
    Reshape,
    ScaledDotProductAttention,
    Sigmoid,
    SiLU,
    Softmax,
    StochasticDepth,
    Tanh,
    Unsupported,
    Upsample,
    View,
)
from alexprof.registry import ByType
from alexprof.vocab import Vocab


@dataclass(frozen=True)
class Convention:
    """How one peer tool turns a layer's Cost into its reported MACs."""

    name: str
    title: str
    description: str
    bias: bool  # are bias additions counted?
    elementwise: frozenset[type]  # layer types whose ``elements`` are counted
    eval_mode: bool = False  # the peer runs model.eval(): training-only side branches skipped
    module_hooks: bool = False  # the peer counts through module forward hooks only: a row
    # recorded from a functional call (``Placed.via``) has no hook, so no figure of its own
    unseen: frozenset[type] = frozenset()  # layer types the peer does not count at all

    def runs(self, placed: Placed) -> bool:
        """Does this peer run the layer at all?"""
        return not (self.eval_mode and placed.training_only)

    def macs(self, layer: Layer, cost: Cost) -> int:
        """The MACs of a module's row (a layer that is a module of its own)."""
        if type(layer) in self.unseen:
            return 0
        macs = cost.macs + (cost.bias_adds if self.bias else 0)
        if type(layer) in self.elementwise:
            macs += cost.elements
        return macs

    def row_macs(self, placed: Placed, cost: Cost) -> int:
        """The MACs on ``placed``'s own row.  A row recorded from a functional call
        (``placed.via``) never gets a module hook's ``elements``, and nothing at all from
        a peer that counts through module hooks (ptflops: what its patched callables add
        goes to its total only, :func:`alexprof.torchside.quirks.ptflops_functional_extra`)."""
        if not placed.via:
            return self.macs(placed.layer, cost)
        if self.module_hooks or type(placed.layer) in self.unseen:
            return 0
        return cost.macs + (cost.bias_adds if self.bias else 0)

    def backward_macs(self, placed: Placed, cost: Cost) -> int:
        if type(placed.layer) in self.unseen:
            return 0
        if cost.backward_macs is not None:
            return cost.backward_macs
        if not placed.in_backward:  # its output never reaches the loss: autograd skips it
            return 0
        grad_input = cost.macs if cost.grad_input_macs is None else cost.grad_input_macs
        grads = (grad_input if placed.input_needs_grad else 0) + (cost.macs if cost.weights else 0)
        grads += cost.grad_operand_macs
        if self.bias and cost.bias:
            grads += cost.bias_adds  # d(bias) sums grad_out over positions
        if type(placed.layer) in self.elementwise and not placed.via:
            grads += cost.elements if placed.input_needs_grad else 0
        return grads


class Patched(Vocab):
    """What ptflops' patched ``torch.nn.functional`` and tensor calls add to its returned
    total for a layer, on top of its module hook's per-layer line (see
    :mod:`alexprof.torchside.quirks`; ``patch_functional`` and ``patch_tensor_ops`` of
    ptflops 0.7.5's ``pytorch_engine.py``).

    - NOTHING: its forward calls nothing ptflops patches
    - INPUT: F.relu, F.gelu, F.silu, F.*pool*, F.softmax...: the input's element count again
    - LRN: F.local_response_norm's patched mul, avg_pool3d, mul, add
    - BY_TORCH_TYPE: a module alexprof does not model: measured per torch type
    - BY_CALLABLE: a two-input op, only ever recorded from a forward: see ``PATCHED_CALLABLES``
    - ELEMENTWISE: torch.add, Tensor.add, torch.mul, Tensor.mul: ptflops' own broadcast
    - MATMUL: torch.matmul, torch.mm, torch.bmm and their Tensor methods: input x other[-1]
    - ADDMM: torch.addmm, Tensor.addmm, torch.baddbmm: the matmul's count plus the added tensor's
    - INTERPOLATE: F.interpolate and what calls it: the result's element count
    - UPSAMPLE: F.upsample: counted itself, then again by the F.interpolate it calls
    """

    NOTHING = "nothing"
    INPUT = "input elements"
    LRN = "local_response_norm"
    BY_TORCH_TYPE = "by torch type"
    BY_CALLABLE = "by the callable"
    ELEMENTWISE = "elementwise"
    MATMUL = "matmul"
    ADDMM = "addmm"
    INTERPOLATE = "interpolate"
    UPSAMPLE = "upsample"


@dataclass(frozen=True)
class Ptflops:
    """What ptflops 0.7.5's pytorch backend does with one kind of layer (its module as the
    torch builder makes it): does ``MODULES_MAPPING`` hook its exact type, and does its
    ``forward`` call a patched callable."""

    counts_elements: bool = False  # its module hook puts Cost.elements on the layer's line
    patched: Patched = Patched.NOTHING


PTFLOPS: ByType[Ptflops] = ByType("ptflops behaviour")
for _kind, _fact in (
    (Conv2d, Ptflops()),
    (Linear, Ptflops()),  # hooked: MACs plus bias adds, no elements; F.linear is not patched
    (ReLU, Ptflops(True, Patched.INPUT)),
    (MaxPool2d, Ptflops(True, Patched.INPUT)),
    (AvgPool2d, Ptflops(True, Patched.INPUT)),
    (AdaptiveAvgPool2d, Ptflops(True, Patched.INPUT)),
    (BatchNorm2d, Ptflops(True)),
    (Softmax, Ptflops(False, Patched.INPUT)),
    (LocalResponseNorm, Ptflops(False, Patched.LRN)),
    (Tanh, Ptflops()),
    (Dropout, Ptflops()),
    (Flatten, Ptflops()),
    (Unsupported, Ptflops(False, Patched.BY_TORCH_TYPE)),
    # the relu hook (output elements) on nn.ReLU6/LeakyReLU/ELU/GELU; ReLU6 and LeakyReLU
    # call F.hardtanh and F.leaky_relu (not patched), ELU and GELU the patched F.elu, F.gelu
    (ReLU6, Ptflops(True)),
    (LeakyReLU, Ptflops(True)),
    (ELU, Ptflops(True, Patched.INPUT)),
    (GELU, Ptflops(True, Patched.INPUT)),
    (SiLU, Ptflops(False, Patched.INPUT)),  # not hooked; F.silu is patched
    (Hardtanh, Ptflops()),  # not hooked; F.hardtanh, F.hardswish, F.hardsigmoid and
    (Hardswish, Ptflops()),  # torch.sigmoid are not patched
    (Hardsigmoid, Ptflops()),
    (Sigmoid, Ptflops()),
    (AdaptiveMaxPool2d, Ptflops(True, Patched.INPUT)),  # pool hook; F.adaptive_max_pool2d
    # the bn hook: input elements, doubled when the module has a true ``affine``:
    # nn.GroupNorm has one, nn.LayerNorm has ``elementwise_affine`` (Cost.elements says so)
    (LayerNorm, Ptflops(True)),
    (GroupNorm, Ptflops(True)),
    (Identity, Ptflops()),
    # nn.Upsample: hooked (the output's elements), and its F.interpolate is patched
    (Upsample, Ptflops(True, Patched.INTERPOLATE)),
    (ChannelShuffle, Ptflops()),  # F.channel_shuffle: not patched
    # alexprof's own modules (torchside/bridge_own.py): not hooked; eval-mode identity,
    # ``x * gamma`` (Tensor.__mul__), Tensor.mean, reshape, permute, contiguous: not patched
    (StochasticDepth, Ptflops()),
    (LayerScale, Ptflops()),
    (Mean, Ptflops()),
    (Reshape, Ptflops()),
    (Permute, Ptflops()),
    (Contiguous, Ptflops()),
    *((kind, Ptflops(False, Patched.BY_CALLABLE)) for kind in (Add, Mul, Cat, MatMul, View)),
    (ScaledDotProductAttention, Ptflops(False, Patched.BY_CALLABLE)),
):
    PTFLOPS.register(_kind)(_fact)
_PTFLOPS_ELEMENTWISE = frozenset(kind for kind, fact in PTFLOPS.items() if fact.counts_elements)


def _spelled(patched: Patched, *names: str) -> dict[str, Patched]:
    return dict.fromkeys(names, patched)


# ``Placed.via`` -> what ptflops 0.7.5 adds to its total for that call; a callable not
# listed adds nothing (``x + y``, ``x * y``, ``x @ y``, ``Tensor.add_``, torch.cat,
# Tensor.mean, F.linear (its patch is commented out), F.hardtanh, F.layer_norm,
# F.scaled_dot_product_attention, ...).  ``patch_functional`` and ``patch_tensor_ops``
# replace these attributes while ptflops runs, so a forward that looks them up then (and
# ``Tensor.__rmatmul__``, which calls torch.matmul; F.upsample*, which call F.interpolate;
# F.local_response_norm, which calls Tensor.mul, Tensor.add and F.avg_pool3d) is counted.
PATCHED_CALLABLES: dict[str, Patched] = {
    **_spelled(
        Patched.INPUT,
        *(f"F.{f}" for f in ("relu", "prelu", "elu", "relu6", "gelu", "silu", "softmax")),
        *(f"F.{k}_pool{n}d" for k in ("avg", "max") for n in (1, 2, 3)),
        *(f"F.adaptive_{k}_pool{n}d" for k in ("avg", "max") for n in (1, 2, 3)),
    ),
    **_spelled(Patched.ELEMENTWISE, "torch.add", "Tensor.add", "torch.mul", "Tensor.mul"),
    **_spelled(
        Patched.MATMUL,
        *(f"{o}.{f}" for o in ("torch", "Tensor") for f in ("matmul", "mm", "bmm")),
        "Tensor.__rmatmul__",
    ),
    **_spelled(Patched.ADDMM, "torch.addmm", "Tensor.addmm", "torch.baddbmm"),
    **_spelled(Patched.INTERPOLATE, "F.interpolate", "F.upsample_nearest", "F.upsample_bilinear"),
    "F.upsample": Patched.UPSAMPLE,
    "F.local_response_norm": Patched.LRN,
}


def ptflops_patched(placed: Placed) -> Patched:
    """What ptflops' patches count for ``placed``: by the callable a recorded functional
    row came from (``placed.via``), else by its kind's :data:`PTFLOPS` fact."""
    if placed.via:
        return PATCHED_CALLABLES.get(placed.via, Patched.NOTHING)
    return PTFLOPS.of(placed.layer, placed.name).patched


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "macs",
            "conv+linear MACs, no bias",
            "multiply-accumulates of conv and linear layers, bias excluded; what fvcore, "
            "thop and torchprofile report as their main figure; a training step's forward, so "
            "training-only side branches (GoogLeNet's auxiliary heads) count",
            bias=False,
            elementwise=frozenset(),
        ),
        Convention(
            "flopcounter",
            "FlopCounterMode",
            "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per conv/linear MAC, bias "
            "ignored, forward and backward (same MACs as 'macs')",
            bias=False,
            elementwise=frozenset(),
        ),
        Convention(
            "ptflops",
            "ptflops 0.7.5 pytorch backend, per-layer lines",
            "ptflops 0.7.5 pytorch backend module hooks: conv and linear with bias, "
            "ReLU/ReLU6/LeakyReLU/ELU/GELU by output elements, pooling by input elements, "
            "batch and group norm by input elements (x2 when affine), layer norm by input "
            "elements, every other module zero; a functional call in a forward has no hook "
            "(zero); model.eval(), so training-only side branches count zero",
            bias=True,
            elementwise=_PTFLOPS_ELEMENTWISE,
            eval_mode=True,
            module_hooks=True,
        ),
        Convention(
            "aten",
            "ptflops aten backend (~ torchinfo mult-adds)",
            "ptflops 0.7.5 aten backend: conv and linear with bias and matrix products (aten "
            "convolution, addmm, mm, bmm), functional calls too, nothing else (not "
            "attention's fused kernel); model.eval(), so training-only side branches count "
            "zero; torchinfo's mult-adds are this plus each BatchNorm's weight and bias",
            bias=True,
            elementwise=frozenset(),
            eval_mode=True,
            unseen=frozenset({ScaledDotProductAttention}),
        ),
    )
}
DEFAULT_CONVENTION = "macs"


def get_convention(name: str) -> Convention:
    return choose(CONVENTIONS, name, "convention")
