"""A user's recorded forward replayed on the tape as data flow.  No torch import.

The zoo's replay (:mod:`alexprof.memory.replay`) follows the walk's Sequential /
Parallel / Side events; a user's module has none: its rows are a flat list, and what
connects them is the :class:`~alexprof.nets.flow.Graph` recorded beside it.  Here every
tensor object of the forward is a :class:`~alexprof.memory.engine.Var` holding one
Python reference on its storage, from the row that made it until the recording saw its
last reference go (``Flow.dead_before``); the training loop holds the input and the
outputs to the end.  Each row's rule is fed the Vars of the tensors it took:

* one-input kinds (convolutions, norms, activations, pooling, layout ops) run their
  rule of :mod:`alexprof.memory.rules` on their first input;
* the kinds that take more than one tensor have a rule here (:data:`MULTI`), checked
  against ``torch.autograd.graph.saved_tensors_hooks`` by ``tests/memory/test_saved_ops.py``:

  - Add (and sub): keeps nothing; out of place a new storage, in place (``out +=
    identity``: the same tensor object comes back) the input's.  Backward passes the
    gradient on (``-grad`` for sub's second operand: a new storage); an operand the
    output broadcast is given ``sum_to`` its shape (a new, smaller storage).
  - Mul (and div): keeps the other operand for the input's gradient and the input for
    the other's (each only when the gradient it serves is needed); a Python number is
    wrapped as an 8-byte tensor for the call only (``MulBackward1`` keeps the Scalar).
  - Cat: keeps nothing; backward hands each input a slice of the gradient (a view).
  - View: nothing (a view of the input's storage).

  A result that shares an input's storage (a view, an in-place op) is that storage.
* a row alexprof does not model (``Unsupported``) allocates what it returned (unless it
  is a view of an input) and keeps nothing; its backward allocates each input's
  gradient.  What it really keeps is not known: the report names every such row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from alexprof import nets as L
from alexprof.memory.engine import Buffer, Node, Param, Tape, Var
from alexprof.memory.step import RULES, Step, forward
from alexprof.memory.vocab import Category, Holder, Saved
from alexprof.nets.flow import Flow, FlowTensor, Graph
from alexprof.nets.params import Role, parameter_shapes
from alexprof.registry import ByType

FLOATING = ("float32", "float16", "bfloat16", "float64")

MultiRule = Callable[["Replay", L.Placed, Flow, list[Var]], Var]
MULTI: ByType[MultiRule] = ByType("memory rule over several tensors")
multi = MULTI.register


@dataclass
class Replay:
    """The forward's tensors on the tape: tensor id -> Var, storage id -> Buffer."""

    step: Step
    graph: Graph
    vars: dict[int, Var] = field(default_factory=dict)
    bufs: dict[int, Buffer] = field(default_factory=dict)
    pinned: set[int] = field(default_factory=set)  # held by the training loop
    nodes: dict[int, Node] = field(default_factory=dict)  # every node a live tensor reaches

    @property
    def tape(self) -> Tape:
        return self.step.tape

    def full(self, t: FlowTensor) -> tuple[int, ...]:
        return t.full(self.step.batch)

    def alloc(self, p: L.Placed, role: str, t: FlowTensor) -> Buffer:
        dtype = self.tape.dtype if t.dtype in FLOATING else t.dtype
        return self.tape.alloc(p.name, role, Category.ACTIVATIONS, self.full(t), dtype)

    def var_of(self, t: FlowTensor, p: L.Placed) -> Var:
        """The Var of a tensor a row takes: its own, a new view of a known storage, or a
        constant the recording did not see made (allocated now, held to the end)."""
        if t.id in self.vars:
            return self.vars[t.id]
        if t.storage in self.bufs:
            buf = self.tape.hold(self.bufs[t.storage], Holder.PY)
        else:
            buf = self.alloc(p, "constant", t)
            self.bufs[t.storage] = buf
        self.vars[t.id] = Var(buf)
        return self.vars[t.id]

    def let_go(self, tid: int) -> None:
        var = self.vars.pop(tid, None)
        if var is not None and tid not in self.pinned:
            self.tape.drop(var.buf, Holder.PY)
            if isinstance(var.fn, Node):
                self.collect()

    def collect(self) -> None:
        """Free every node no live tensor's history reaches any more (a branch whose
        result was let go of): its saved storages go with it, as its C++ destructor
        releases them."""
        reached: set[int] = set()
        todo = [v.fn for v in self.vars.values() if isinstance(v.fn, Node)]
        while todo:
            node = todo.pop()
            if id(node) in reached:
                continue
            reached.add(id(node))
            self.nodes.setdefault(id(node), node)
            todo += [e for e in node.edges if isinstance(e, Node)]
        for key in [k for k in self.nodes if k not in reached]:
            node = self.nodes.pop(key)
            for buf in node.saved:
                self.tape.drop(buf, Saved(node.name))
            node.saved = ()

    def made(self, t: FlowTensor) -> None:
        """A constant the forward made (``torch.rand``): a new storage, or a view."""
        if t.id in self.vars:
            return
        if t.storage in self.bufs:
            buf = self.tape.hold(self.bufs[t.storage], Holder.PY)
        else:
            buf = self.tape.alloc("constant", "constant", Category.ACTIVATIONS, self.full(t),
                                  self.tape.dtype if t.dtype in FLOATING else t.dtype)  # fmt: skip
            self.bufs[t.storage] = buf
        self.vars[t.id] = Var(buf)


def build(step: Step, graph: Graph) -> list[Param]:
    """Every parameter and buffer of the module (``model.to(dtype).to_empty(device)``);
    the parameters that require grad, in ``model.parameters()`` order."""
    params = []
    for s in graph.tensors:
        dtype = step.tape.dtype if s.dtype in FLOATING else s.dtype
        category = Category.PARAMETERS if s.learned else Category.BUFFERS
        buf = step.tape.alloc(s.name, s.name, category, s.shape, dtype, Holder.PARAM)
        if s.learned:
            params.append(Param(s.name, buf))
    return params


def _aliases(step: Step, rows: list[L.Placed], graph: Graph, params: list[Param]) -> None:
    """``step.param(p, key)`` for each row: a module's row finds its module's
    parameters by name; a functional row the parameters it took, in the order of its
    descriptor's tensors."""
    by_name = {q.name: q for q in params}
    for p, flow in zip(rows, graph.flows):
        keys = [t.name for t in parameter_shapes(p.layer) if t.role is Role.PARAMETER]
        if not keys:
            continue
        if not p.op:
            found = [by_name.get(f"{p.path}.{k}" if p.path else k) for k in keys]
        else:
            taken = [t.param for t in (flow.inputs if flow else ()) if t.role == "param"]
            found = [by_name.get(n) for n in taken]
        for key, q in zip(keys, found):
            if q is not None:
                step.params[f"{p.name}.{key}"] = q


def run(step: Step, rows: list[L.Placed], graph: Graph, x: Var, params: list[Param]) -> list[Var]:
    """``out = model(x)``: every row on the Vars of its inputs; returns the outputs."""
    _aliases(step, rows, graph, params)
    r = Replay(step, graph)
    r.vars[graph.input.id], r.bufs[graph.input.storage] = x, x.buf
    r.pinned.add(graph.input.id)
    by_name = {q.name: q for q in params}
    live = {b.layer: b for b in step.tape.live.values() if b.category in
            (Category.PARAMETERS, Category.BUFFERS)}  # fmt: skip
    for s in graph.tensors:  # a parameter is its own Var: its gradient goes to .grad
        buf = live[s.name]
        r.vars[s.id], r.bufs[s.storage] = Var(buf, by_name.get(s.name)), buf
        r.pinned.add(s.id)
    for p, flow in zip(rows, graph.flows):
        if flow is None:
            continue
        for t in flow.made_before:
            r.made(t)
        for tid in flow.dead_before:
            r.let_go(tid)
        _row(r, p, flow)
    for t in graph.made_at_end:
        r.made(t)
    for tid in graph.dead_at_end:
        r.let_go(tid)
    return [r.vars[t.id] for t in graph.outputs]


def _row(r: Replay, p: L.Placed, flow: Flow) -> None:
    t = r.tape
    ins = [r.var_of(a, p) for a in flow.inputs]
    acts = [v for a, v in zip(flow.inputs, ins) if a.role != "param"]
    if not flow.outputs:
        return
    out = flow.outputs[0]
    if len(flow.outputs) > 1:  # chunk, split, unbind: one node, several outputs (unmodelled)
        y = _unmodelled(r, p, flow, ins)
    elif type(p.layer) in MULTI:
        y = MULTI.of(p.layer, p.name)(r, p, flow, ins)
    elif type(p.layer) not in RULES or not acts:
        y = _unmodelled(r, p, flow, ins)
    else:
        y = forward(r.step, p, acts[0])
    if isinstance(y.fn, Node):
        r.nodes.setdefault(id(y.fn), y.fn)
        y.fn.grad_shape = r.full(out)
    if out.id in r.vars:  # in place: the same tensor object, a new autograd history
        t.drop(y.buf, Holder.PY)
        r.vars[out.id] = y
        return
    r.vars[out.id] = y
    r.bufs.setdefault(out.storage, y.buf)
    for extra in flow.outputs[1:]:  # the fallback's other outputs (views or its own)
        if extra.id not in r.vars:
            r.made(extra)


# -- rules over several tensors ------------------------------------------------------------


def _in_place(flow: Flow) -> bool:
    return bool(flow.inputs) and flow.outputs[0].id == flow.inputs[0].id


def _sum_to(r: Replay, p: L.Placed, g: Buffer, shape: tuple[int, ...]) -> Buffer:
    """The engine's ``sum_to`` of a gradient to a broadcast operand's shape."""
    return r.tape.alloc(p.name, "grad, summed to shape", Category.TEMPORARY, shape, g.dtype,
                        Holder.OUT)  # fmt: skip


def _reduce(r: Replay, p: L.Placed, outs: list[Buffer | None], shapes: list[tuple[int, ...]],
            g: Buffer) -> list[Buffer | None]:  # fmt: skip
    """``validate_outputs``: each gradient whose shape is not its input's is summed to it."""
    result: list[Buffer | None] = []
    for buf, shape in zip(outs, shapes):
        if buf is not None and buf.shape != shape and math.prod(shape) != math.prod(buf.shape):
            small = _sum_to(r, p, g, shape)
            r.tape.drop(buf, Holder.OUT)
            buf = small
        result.append(buf)
    return result


@multi(L.Add)
def _add(r: Replay, p: L.Placed, flow: Flow, ins: list[Var]) -> Var:
    t, out = r.tape, flow.outputs[0]
    if len(ins) == 1:  # x + 1.0: a wrapped scalar for the call
        t.drop(t.number(p.name), Holder.PY)
    y = t.hold(ins[0].buf, Holder.PY) if _in_place(flow) else r.alloc(p, "output", out)
    shapes = [r.full(a) for a in flow.inputs]
    sub = isinstance(p.layer, L.Add) and p.layer.op == "sub"

    def backward(tape: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        outs: list[Buffer | None] = []
        for i in range(len(node.edges)):
            if not node.needs(i):
                outs.append(None)
            elif i == 1 and sub:  # -grad
                outs.append(tape.like(g, p.name, "grad_other", holder=Holder.OUT))
            else:
                outs.append(tape.hold(g, Holder.OUT))
        return _reduce(r, p, outs, shapes, g)

    node = t.node(p.name, "AddBackward0" if not sub else "SubBackward0",
                  [v.fn for v in ins], [], backward)  # fmt: skip
    return Var(y, node, ins[0].strides)


@multi(L.Mul)
def _mul(r: Replay, p: L.Placed, flow: Flow, ins: list[Var]) -> Var:
    t, out = r.tape, flow.outputs[0]
    x = ins[0]
    other = ins[1] if len(ins) > 1 else None
    if other is None:  # a Python number: wrapped for the call; the node keeps the Scalar
        t.drop(t.number(p.name), Holder.PY)
    y = t.hold(x.buf, Holder.PY) if _in_place(flow) else r.alloc(p, "output", out)
    div = isinstance(p.layer, L.Mul) and p.layer.op == "div"
    saved = []
    if x.fn is not None and other is not None:  # grad * other (or / other)
        saved.append(other.buf)
    if other is not None and other.fn is not None:  # grad * self; div: its result
        saved.append(y if div else x.buf)
    shapes = [r.full(a) for a in flow.inputs]
    full = r.full(out)

    def backward(tape: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        outs: list[Buffer | None] = []
        for i in range(len(node.edges)):
            if node.needs(i):
                outs.append(tape.alloc(p.name, f"grad_{i}", Category.TEMPORARY, full, g.dtype,
                                       Holder.OUT))  # fmt: skip
            else:
                outs.append(None)
        return _reduce(r, p, outs, shapes, g)

    kind = ("DivBackward" if div else "MulBackward") + ("0" if other is not None else "1")
    edges = [x.fn] if other is None else [x.fn, other.fn]
    node = t.node(p.name, kind, edges, saved, backward, "the other operand")
    return Var(y, node, x.strides)


@multi(L.Cat)
def _cat(r: Replay, p: L.Placed, flow: Flow, ins: list[Var]) -> Var:
    t = r.tape
    y = r.alloc(p, "output", flow.outputs[0])

    def backward(tape: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        return [
            tape.hold(g, Holder.OUT) if node.needs(i) else None for i in range(len(node.edges))
        ]  # fmt: skip  (slices: views of grad)

    return Var(y, t.node(p.name, "CatBackward0", [v.fn for v in ins], [], backward))


@multi(L.View)
def _view(r: Replay, p: L.Placed, flow: Flow, ins: list[Var]) -> Var:
    t, x = r.tape, ins[0]

    def backward(tape: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        return [tape.hold(g, Holder.OUT) if node.needs(0) else None]

    return Var(t.hold(x.buf, Holder.PY), t.node(p.name, "ViewBackward0", [x.fn], [], backward))


def _unmodelled(r: Replay, p: L.Placed, flow: Flow, ins: list[Var]) -> Var:
    """A row without a rule: its output (a view when it shares an input's storage), no
    saved tensor, and a gradient per input in backward."""
    t, out = r.tape, flow.outputs[0]
    r.step.unmodelled.append(p.name)
    if out.storage in r.bufs:
        y = t.hold(r.bufs[out.storage], Holder.PY)
    else:
        y = r.alloc(p, "output", out)
    acts = [(a, v) for a, v in zip(flow.inputs, ins) if v.fn is not None]
    shapes = [r.full(a) for a, _ in acts]

    def backward(tape: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        return [tape.alloc(p.name, "grad_input", Category.TEMPORARY, s, g.dtype, Holder.OUT)
                if node.needs(i) else None for i, s in enumerate(shapes)]  # fmt: skip

    kind = f"{p.layer.kind}:backward"
    return Var(y, t.node(p.name, kind, [v.fn for _, v in acts], [], backward))
