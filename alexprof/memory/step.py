"""What every memory rule shares: the step's tape and batch, the rule registry, and the
backward formulas most nodes use.  No torch import.

A rule (one per descriptor type, registered with :func:`rule`) replays what torch runs
for a layer in training mode; the rules themselves live in :mod:`alexprof.memory.rules`
and :mod:`alexprof.memory.lrn`, which :mod:`alexprof.memory.predict` imports to register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from alexprof import nets as L
from alexprof.memory.engine import Buffer, Node, Param, Tape, Var
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


Rule = Callable[[Step, L.Placed, Var], Var]
RULES: ByType[Rule] = ByType("memory rule")
rule = RULES.register  # @rule(L.Conv2d): what a layer allocates, keeps and frees


def forward(step: Step, p: L.Placed, x: Var) -> Var:
    return RULES.of(p.layer, p.name)(step, p, x)


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
