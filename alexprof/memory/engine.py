"""A pure-Python model of tensor storages and of PyTorch's autograd engine.

The analytic memory model (:mod:`alexprof.memory.predict`) replays one training step
as a sequence of storage allocations and frees, without torch.  It thinks in
*storages*, not tensors: an in-place ReLU, a flatten (a view) or a gradient
passed through a view share the storage they came from, so it is counted once.

A :class:`Buffer` is one storage.  It stays alive while anything holds it,
and holders are named so that a report can say *why* it is alive: each is a
:class:`~alexprof.memory.vocab.Holder` (a Python reference, the engine's input
buffer, ``param.grad``, ...) or a :class:`~alexprof.memory.vocab.Saved` naming the
autograd node that keeps it for backward.  What the storage is, its
:class:`~alexprof.memory.vocab.Category`, says where the report counts it.

The backward pass follows the engine of torch 2.13 on one device (the CPU
engine, and the CUDA device thread, run one node at a time):

1. among the nodes whose inputs are complete, the one created last runs first
   (the ready queue orders by sequence number, highest first);
2. a node allocates its outputs (and any temporaries of its formula), then its
   incoming gradient is released, then its saved tensors;
3. each output is handed to the next node's input buffer; a second gradient
   for the same input is summed in place into the first when the buffer holds
   the only reference to it (else into the new one, else ``old + new``: a new
   storage); gradients of parameters are stolen into ``.grad``;
4. the output list is dropped.

A Python number passed where an op takes a tensor (``x.mul(0.5)``,
``t += 1``) becomes an 8-byte CPU tensor for the length of the call (longer if
autograd saves it): :meth:`Tape.number`.  It costs CPU memory only.

These rules were read off real allocation traces (``alexprof.torchside.profiler``) and
are checked byte for byte against them by the test suite.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

from alexprof.memory.stages import Stage
from alexprof.memory.vocab import Category, Holder, HolderKey, Saved, holder_key

ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int64": 8, "bool": 1}
CUDA_BLOCK = 512  # the CUDA caching allocator rounds every block up to a multiple of 512 bytes


def storage_bytes(elements: int, dtype: str, device: str) -> int:
    """Bytes a storage occupies: exact on CPU, rounded up to 512 on CUDA (0 stays 0)."""
    raw = elements * ITEMSIZE[dtype]
    if device == "cuda" and raw:
        return -(-raw // CUDA_BLOCK) * CUDA_BLOCK
    return raw


@dataclass(eq=False)
class Buffer:
    """One storage: who made it, what it is, and who keeps it alive."""

    id: int
    layer: str  # the layer (or stage) that allocated it
    role: str  # "output", "indices", "mask", "grad_weight", ...
    category: Category
    dtype: str
    shape: tuple[int, ...]  # full shape, batch included
    nbytes: int
    stage: Stage = Stage.INPUT  # the stage that allocated it
    holders: Counter[HolderKey] = field(default_factory=Counter)

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Event:
    stage: Stage
    sign: int  # +1 allocated, -1 freed
    buffer: Buffer
    allocated: int  # bytes alive right after the event


@dataclass(eq=False)
class Param:
    """A leaf tensor that requires grad (a weight or bias)."""

    name: str
    buffer: Buffer
    grad: Buffer | None = None


BackwardFn = Callable[["Tape", "Node", Buffer], list[Buffer | None]]
Edge = Union["Node", Param, None]


@dataclass(eq=False)
class Node:
    """An autograd node: where its output gradients go, what it saved, its formula."""

    seq: int
    name: str  # "conv1:ConvolutionBackward0"
    layer: str
    edges: tuple[Edge, ...]
    saved: tuple[Buffer, ...]
    backward: BackwardFn
    inbuf: Buffer | None = None
    deps: int = 0
    grad_shape: tuple[int, ...] | None = None  # its gradient's shape, where the storage
    # delivered may be larger (a slice of a concatenation's gradient); None: the storage's

    def needs(self, i: int) -> bool:
        return self.edges[i] is not None


@dataclass(frozen=True)
class Var:
    """A tensor: a storage plus the node (or parameter) its gradient flows to, and its
    strides when they are not the standard contiguous ones (a permuted view)."""

    buf: Buffer
    fn: Edge = None
    strides: tuple[int, ...] | None = None  # None: contiguous

    @property
    def requires_grad(self) -> bool:
        return self.fn is not None


class Tape:
    """Live storages, their total, the peak within the current stage, and every event."""

    def __init__(self, device: str, dtype: str) -> None:
        self.device, self.dtype = device, dtype
        self.live: dict[int, Buffer] = {}
        self.allocated = 0
        self.peak = 0
        self.stage = Stage.INPUT  # until begin() names the first stage
        self.events: list[Event] = []
        self.reasons: dict[str, str] = {}  # node name -> what it keeps, and why
        self._ids = 0
        self._seq = 0

    # -- storages ---------------------------------------------------------------------------
    def alloc(
        self,
        layer: str,
        role: str,
        category: Category,
        shape: tuple[int, ...],
        dtype: str | None = None,
        holder: HolderKey = Holder.PY,
    ) -> Buffer:
        dt = dtype or self.dtype
        self._ids += 1
        buf = Buffer(
            self._ids,
            layer,
            role,
            Category(category),
            dt,
            tuple(shape),
            storage_bytes(math.prod(shape), dt, self.device),
            self.stage,
        )
        buf.holders[holder_key(holder)] += 1
        self.live[buf.id] = buf
        self.allocated += buf.nbytes
        self.peak = max(self.peak, self.allocated)
        self.events.append(Event(self.stage, +1, buf, self.allocated))
        return buf

    def number(self, layer: str, role: str = "python number") -> Buffer:
        """A Python scalar wrapped as a float64/int64 CPU tensor (0 bytes on the GPU's books)."""
        buf = self.alloc(layer, role, Category.TEMPORARY, (), "float64")
        if self.device != "cpu" and buf.nbytes:
            self.allocated -= buf.nbytes
            buf.nbytes = 0
            self.events[-1] = Event(self.stage, +1, buf, self.allocated)
        return buf

    def like(
        self,
        buf: Buffer,
        layer: str,
        role: str,
        category: Category = Category.TEMPORARY,
        holder: HolderKey = Holder.PY,
    ) -> Buffer:
        return self.alloc(layer, role, category, buf.shape, buf.dtype, holder)

    def hold(self, buf: Buffer, holder: HolderKey) -> Buffer:
        if buf.id not in self.live:
            raise RuntimeError(f"model error: {buf.layer} {buf.role} is held after it was freed")
        buf.holders[holder_key(holder)] += 1
        return buf

    def drop(self, buf: Buffer, holder: HolderKey) -> None:
        key = holder_key(holder)
        if buf.holders[key] < 1:
            raise RuntimeError(f"model error: {buf.layer} {buf.role} is not held by {str(key)!r}")
        buf.holders[key] -= 1
        if not +buf.holders:
            del self.live[buf.id]
            self.allocated -= buf.nbytes
            self.events.append(Event(self.stage, -1, buf, self.allocated))

    def begin(self, stage: Stage) -> None:
        """Start a stage: its peak starts at what is allocated now (reset_peak_memory_stats)."""
        self.stage = Stage(stage)
        self.peak = self.allocated

    # -- autograd ---------------------------------------------------------------------------
    def node(
        self,
        layer: str,
        kind: str,
        inputs: list[Edge],
        saved: list[Buffer],
        backward: BackwardFn,
        why: str = "",
    ) -> Node | None:
        """Record an autograd node if any input needs a gradient (else autograd records nothing).

        ``why`` says what the saved storages are for (shown in reports)."""
        if not any(e is not None for e in inputs):
            return None
        self._seq += 1
        name = f"{layer}:{kind}"
        self.reasons[name] = why
        for buf in saved:
            self.hold(buf, Saved(name))
        return Node(self._seq, name, layer, tuple(inputs), tuple(saved), backward)

    def backward(self, root: Var) -> None:
        """``root.backward()``: a seed of ones, then the engine until the graph is done."""
        seed = self.alloc(
            "loss", "seed", Category.TEMPORARY, root.buf.shape, root.buf.dtype, Holder.SEED
        )
        if isinstance(root.fn, Node):
            _count_deps(root.fn)
            self._deliver(root.fn, seed)
            ready = [(-root.fn.seq, root.fn.seq, root.fn)]
            while ready:
                node = heapq.heappop(ready)[2]
                for nxt in self._run(node):
                    heapq.heappush(ready, (-nxt.seq, nxt.seq, nxt))
        self.drop(seed, Holder.SEED)

    def _run(self, node: Node) -> list[Node]:
        grad = node.inbuf
        outs = node.backward(self, node, grad) if grad is not None else [None] * len(node.edges)
        if grad is not None:
            self.drop(grad, Holder.INBUF)
        node.inbuf = None
        for buf in node.saved:
            self.drop(buf, Saved(node.name))
        ready = []
        for edge, g in zip(node.edges, outs):
            if isinstance(edge, Param):
                if g is not None:
                    self._accumulate_param(edge, g)
            elif isinstance(edge, Node):
                if g is not None:
                    self._deliver(edge, g)
                edge.deps -= 1
                if edge.deps == 0:
                    ready.append(edge)
        for g in outs:
            if g is not None:
                self.drop(g, Holder.OUT)
        return ready

    def _deliver(self, node: Node, grad: Buffer) -> None:
        old = node.inbuf
        if old is None:
            node.inbuf = self.hold(grad, Holder.INBUF)
        elif +old.holders == Counter({Holder.INBUF: 1}):  # old.add_(grad): no new storage
            pass
        elif +grad.holders == Counter({Holder.OUT: 1}):  # grad.add_(old)
            node.inbuf = self.hold(grad, Holder.INBUF)
            self.drop(old, Holder.INBUF)
        else:  # old + grad: a new storage of the gradient's shape
            shape = node.grad_shape or old.shape
            node.inbuf = self.alloc(node.layer, "grad_sum", Category.TEMPORARY, shape, old.dtype,
                                    Holder.INBUF)  # fmt: skip
            self.drop(old, Holder.INBUF)

    def _accumulate_param(self, param: Param, grad: Buffer) -> None:
        if param.grad is None:  # AccumulateGrad steals the fresh gradient: no copy
            grad.category, grad.role = Category.GRADIENTS, f"{param.name}.grad"
            param.grad = self.hold(grad, Holder.GRAD)
        # a second gradient for a shared parameter is added in place: no new storage


def _count_deps(root: Node) -> None:
    seen = {id(root)}
    stack = [root]
    while stack:
        for edge in stack.pop().edges:
            if isinstance(edge, Node):
                edge.deps += 1
                if id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append(edge)
