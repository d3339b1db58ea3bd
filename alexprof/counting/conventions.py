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
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    Placed,
    ReLU,
    Softmax,
    Tanh,
    Unsupported,
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

    def runs(self, placed: Placed) -> bool:
        """Does this peer run the layer at all?"""
        return not (self.eval_mode and placed.training_only)

    def macs(self, layer: Layer, cost: Cost) -> int:
        macs = cost.macs + (cost.bias_adds if self.bias else 0)
        if type(layer) in self.elementwise:
            macs += cost.elements
        return macs

    def backward_macs(self, placed: Placed, cost: Cost) -> int:
        if cost.backward_macs is not None:
            return cost.backward_macs
        if not placed.in_backward:  # its output never reaches the loss: autograd skips it
            return 0
        grad_input = cost.macs if cost.grad_input_macs is None else cost.grad_input_macs
        grads = (grad_input if placed.input_needs_grad else 0) + (cost.macs if cost.weights else 0)
        grads += cost.grad_operand_macs
        if self.bias and cost.bias:
            grads += cost.bias_adds  # d(bias) sums grad_out over positions
        if type(placed.layer) in self.elementwise:
            grads += cost.elements if placed.input_needs_grad else 0
        return grads


class Patched(Vocab):
    """What ptflops' patched ``torch.nn.functional`` calls add to its returned total for a
    layer, on top of its module hook's per-layer line (see :mod:`alexprof.torchside.quirks`)."""

    NOTHING = "nothing"  # its forward calls nothing ptflops patches
    INPUT = "input elements"  # F.relu, F.*pool*, F.softmax: the input's element count again
    LRN = "local_response_norm"  # F.local_response_norm's patched mul, avg_pool3d, mul, add
    BY_TORCH_TYPE = "by torch type"  # a module alexprof does not model: measured per torch type


@dataclass(frozen=True)
class Ptflops:
    """What ptflops 0.7.5's pytorch backend does with one kind of layer."""

    counts_elements: bool = False  # its module hook puts Cost.elements on the layer's line
    patched: Patched = Patched.NOTHING


PTFLOPS: ByType[Ptflops] = ByType("ptflops behaviour")
for _kind, _fact in (
    (Conv2d, Ptflops()),
    (Linear, Ptflops()),  # hooked: MACs plus bias adds, no elements
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
):
    PTFLOPS.register(_kind)(_fact)
_PTFLOPS_ELEMENTWISE = frozenset(kind for kind, fact in PTFLOPS.items() if fact.counts_elements)

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
            "ptflops 0.7.5 pytorch backend module hooks: conv and linear with bias, ReLU by "
            "output elements, pooling by input elements, batch norm by input elements "
            "(x2 when affine), LRN/dropout/softmax/flatten/tanh zero; model.eval(), so "
            "training-only side branches count zero",
            bias=True,
            elementwise=_PTFLOPS_ELEMENTWISE,
            eval_mode=True,
        ),
        Convention(
            "aten",
            "ptflops aten backend = torchinfo mult-adds",
            "ptflops 0.7.5 aten backend, equal to torchinfo's mult-adds: conv and linear "
            "with bias, nothing else; model.eval(), so training-only side branches count zero",
            bias=True,
            elementwise=frozenset(),
            eval_mode=True,
        ),
    )
}
DEFAULT_CONVENTION = "macs"


def get_convention(name: str) -> Convention:
    return choose(CONVENTIONS, name, "convention")
