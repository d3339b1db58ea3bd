"""Named counting conventions: how each peer tool turns a layer's Cost into its MACs.

Whatever the convention, ``flops == 2 * macs``.  The default, ``macs``, is what fvcore,
thop and torchprofile report.  No torch import.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexprof.counting.formulas import Cost
from alexprof.errors import choose
from alexprof.nets import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Layer, MaxPool2d, Placed, ReLU,
)


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
        grads = cost.macs * ((1 if placed.input_needs_grad else 0) + (1 if cost.weights else 0))
        if self.bias and cost.bias:
            grads += cost.bias_adds  # d(bias) sums grad_out over positions
        if type(placed.layer) in self.elementwise:
            grads += cost.elements if placed.input_needs_grad else 0
        return grads


_PTFLOPS_MODULES = frozenset({ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d})

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "macs", "conv+linear MACs, no bias",
            "multiply-accumulates of conv and linear layers, bias excluded; what fvcore, "
            "thop and torchprofile report as their main figure; a training step's forward, so "
            "training-only side branches (GoogLeNet's auxiliary heads) count",
            bias=False, elementwise=frozenset(),
        ),
        Convention(
            "flopcounter", "FlopCounterMode",
            "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per conv/linear MAC, bias "
            "ignored, forward and backward (same MACs as 'macs')",
            bias=False, elementwise=frozenset(),
        ),
        Convention(
            "ptflops", "ptflops 0.7.5 pytorch backend, per-layer lines",
            "ptflops 0.7.5 pytorch backend module hooks: conv and linear with bias, ReLU by "
            "output elements, pooling by input elements, batch norm by input elements "
            "(x2 when affine), LRN/dropout/softmax/flatten/tanh zero; model.eval(), so "
            "training-only side branches count zero",
            bias=True, elementwise=_PTFLOPS_MODULES, eval_mode=True,
        ),
        Convention(
            "aten", "ptflops aten backend = torchinfo mult-adds",
            "ptflops 0.7.5 aten backend, equal to torchinfo's mult-adds: conv and linear "
            "with bias, nothing else; model.eval(), so training-only side branches count zero",
            bias=True, elementwise=frozenset(), eval_mode=True,
        ),
    )
}
DEFAULT_CONVENTION = "macs"


def get_convention(name: str) -> Convention:
    return choose(CONVENTIONS, name, "convention")
