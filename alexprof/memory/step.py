"""What every memory rule shares: the step's tape and batch, the rule registry, and the
backward formulas most nodes use.  No torch import.

A rule (one per descriptor type, registered with :func:`rule`) replays what torch runs
for a layer in training mode; the rules themselves live in :mod:`alexprof.memory.rules`,
:mod:`alexprof.memory.lrn`, :mod:`alexprof.memory.rules_ops` and
:mod:`alexprof.memory.rules_shapes`, which :mod:`alexprof.memory.predict` imports to register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from alexprof import nets as L
from alexprof.memory.engine import Buffer, Edge, Node, Param, Tape, Var
from alexprof.memory.strides import keeps_channels_last
from alexprof.memory.vocab import Category, Holder
from alexprof.registry import ByType

Shape = tuple[int, ...]


@dataclass
class Step:
    """What the rules share: the tape, the batch, the parameters by name."""

    tape: Tape
    batch: int
    params: dict[str, Param] = field(default_factory=dict)
    sides: list[tuple[float, Var]] = field(default_factory=list)  # (loss weight, side output)
    unmodelled: list[str] = field(default_factory=list)  # rows with no rule (a user module)

    @property
    def cuda(self) -> bool:
        return self.tape.device == "cuda"

    def act(
        self,
        p: L.Placed,
        role: str,
        shape: Shape,
        dtype: str | None = None,
        category: Category = Category.ACTIVATIONS,
        holder: Holder = Holder.PY,
    ) -> Buffer:
        return self.tape.alloc(p.name, role, category, (self.batch, *shape), dtype, holder)

    def param(self, p: L.Placed, key: str) -> Param | None:
        return self.params.get(f"{p.name}.{key}")


def with_params(
    step: Step,
    p: L.Placed,
    x: Var,
    kind: str,
    saved: list[Buffer],
    why: str = "input, for the weight gradient",
) -> Node | None:
    """A node over the input and the layer's ``weight`` and ``bias`` (if any), whose
    backward allocates the input's gradient, then the weight's, then the bias's."""
    w, b = step.param(p, "weight"), step.param(p, "bias")
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    grads += [("grad_weight", w.buffer.shape, Category.GRADIENTS)] if w else []
    grads += [("grad_bias", b.buffer.shape, Category.GRADIENTS)] if b else []
    edges: list[Edge] = [x.fn] + [q for q in (w, b) if q is not None]
    return step.tape.node(p.name, kind, edges, saved, allocs(p.name, step.batch, grads), why)


Rule = Callable[[Step, L.Placed, Var], Var]
RULES: ByType[Rule] = ByType("memory rule")
rule = RULES.register  # @rule(L.Conv2d): what a layer allocates, keeps and frees


# kinds whose torch op writes a channels-last output for a channels-last input (the rules
# of the element-wise kinds pass their input's strides on themselves)
CHANNELS_LAST_KINDS = (
    L.Conv2d,
    L.MaxPool2d,
    L.AvgPool2d,
    L.AdaptiveAvgPool2d,
    L.AdaptiveMaxPool2d,
    L.BatchNorm2d,
    L.GroupNorm,
    L.ReLU,
    L.Tanh,
    L.Dropout,
    L.LocalResponseNorm,
    L.ChannelShuffle,
)


def forward(step: Step, p: L.Placed, x: Var) -> Var:
    y = RULES.of(p.layer, p.name)(step, p, x)
    if x.strides is not None and y.strides is None and isinstance(p.layer, CHANNELS_LAST_KINDS):
        full_in, full_out = (step.batch, *p.in_shape), (step.batch, *p.out_shape)
        y = replace(y, strides=keeps_channels_last(full_in, x.strides, full_out))
    return y


# -- backward formulas -----------------------------------------------------------------------


def allocs(name: str, batch: int, grads: list[tuple[str, Shape, Category]]) -> Callable:
    """A formula that allocates one output per needed edge, in the given order."""

    def backward(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        outs: list[Buffer | None] = [None] * len(node.edges)
        for i, (role, shape, category) in enumerate(grads):
            if node.needs(i):
                full = (batch, *shape) if category == Category.TEMPORARY else shape
                outs[i] = t.alloc(name, role, category, full, g.dtype, Holder.OUT)
        return outs

    return backward


def passthrough(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
    """A view's backward (flatten, squeeze, add of a scalar): the gradient itself, no storage."""
    return [t.hold(g, Holder.OUT) if node.needs(i) else None for i in range(len(node.edges))]
