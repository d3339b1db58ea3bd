"""The data flow of a user's recorded forward: which tensor each row reads and writes.

The rows of a recorded module (:class:`~alexprof.nets.walk.Placed`) are a flat list in
execution order; what connects them is recorded beside it, per row, as a :class:`Flow`:
the tensors it took and returned, each a tensor *object* (``id``) on a *storage*
(``storage``: a view, or an in-place op's result, shares its input's), and the Python
lifetimes around it: the tensors whose last reference went before the row began (a
local rebound, an expression's temporary) and the constants made before it
(``torch.rand`` of a drop path).  :class:`Graph` holds them with the module's own
tensors (every parameter and buffer, as ``to_empty`` allocates them) and the forward's
input and outputs.  The memory model replays it (:mod:`alexprof.memory.graph`).
No torch import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from alexprof.nets.shapes import Shape


@dataclass(frozen=True)
class FlowTensor:
    """A tensor a row took or returned, as it ran at the recorded batch."""

    id: int  # the tensor object
    storage: int  # its storage
    shape: Shape  # batched, at the recorded batch
    role: str  # "act" (derived from the input), "param", "const"
    dtype: str = "float32"
    batched: bool = False  # does it follow the batch?
    bdim: int | None = None  # its batch dim
    fold: int = 1  # >1: the batch is folded into ``bdim`` with this many per sample
    param: str = ""  # a parameter's name in the module (role "param")
    needs_grad: bool = False

    def full(self, batch: int) -> Shape:
        """Its shape at ``batch`` (a tensor that does not follow the batch keeps its own)."""
        if not self.batched or self.bdim is None:
            return tuple(self.shape)
        d = self.bdim
        return (*self.shape[:d], batch * self.fold, *self.shape[d + 1 :])

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Flow:
    """One row's tensors, and what the forward let go of or made just before it."""

    inputs: tuple[FlowTensor, ...]  # every tensor argument, in the call's order
    outputs: tuple[FlowTensor, ...]
    dead_before: tuple[int, ...] = ()  # tensor ids no Python reference holds any more
    made_before: tuple[FlowTensor, ...] = ()  # constants made since the row before

    def acts(self) -> tuple[FlowTensor, ...]:
        return tuple(t for t in self.inputs if t.role != "param")


@dataclass(frozen=True)
class Stored:
    """A parameter or buffer of the module."""

    name: str  # "layer1.0.conv1.weight"
    shape: Shape
    dtype: str  # "float32", or "int64" for num_batches_tracked (the model's dtype applies
    # to floating tensors only)
    learned: bool  # a parameter that requires grad (the optimizer's)
    id: int = 0  # its tensor and storage, as the rows name them
    storage: int = 0


@dataclass(frozen=True)
class Graph:
    """The recorded forward as data flow: one :class:`Flow` per recorded row (None for a
    row with no call: parameters no call used, FLOPs no call ran)."""

    input: FlowTensor
    flows: tuple[Flow | None, ...]  # aligned with the Net's recorded rows
    outputs: tuple[FlowTensor, ...]  # what the forward returned (kept by the training loop)
    dead_at_end: tuple[int, ...]  # tensors the forward let go of when it returned
    made_at_end: tuple[FlowTensor, ...]
    tensors: tuple[Stored, ...]  # every parameter, then every buffer, of the module
    batch: int  # the batch it was recorded at
