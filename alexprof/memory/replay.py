"""The model's part of the step on the tape, read off the one walk of the network.  No torch.

:func:`build` allocates the parameters and buffers (``model.to_empty``), and
:func:`run_forward` replays ``out = model(x)``: it consumes the walk's enter / leaf /
exit events (:func:`alexprof.nets.walk.traverse`) and keeps, per open composite, the
Python references its ``forward`` holds:

* ``nn.Sequential.forward`` rebinds its local ``input`` child after child (the old
  one is released when the next exists);
* ``ParallelModule.forward`` runs every branch on ``x``, then ``torch.cat(outs, 1)``
  or a running sum, and releases the branch outputs;
* ``SideModule.forward`` (training) runs its layers on ``x``, keeps the result in
  ``self.output`` for the loss, and returns ``x``.

Each leaf runs its memory rule (:mod:`alexprof.memory.rules`) on the walk's
:class:`~alexprof.nets.walk.Placed`, whose ``input_needs_grad`` must agree with the
autograd graph the tape has built so far.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from alexprof import nets as L
from alexprof.memory.engine import Param, Var
from alexprof.memory.step import Step, forward, passthrough
from alexprof.memory.vocab import Category, Holder
from alexprof.nets.params import Role, parameter_shapes


def build(step: Step, leaves: Iterable[L.Placed]) -> list[Param]:
    """Module parameters (and BN buffers) in registration order, as ``to_empty`` allocates them."""
    params = []
    for placed in leaves:
        for tensor in parameter_shapes(placed.layer):
            learned = tensor.role is Role.PARAMETER
            buf = step.tape.alloc(
                placed.name,
                tensor.name,
                Category.PARAMETERS if learned else Category.BUFFERS,
                tensor.shape,
                tensor.dtype,
                Holder.PARAM,
            )
            if learned:
                param = Param(f"{placed.name}.{tensor.name}", buf)
                step.params[param.name] = param
                params.append(param)
    return params


@dataclass
class _Open:
    """A composite whose ``forward`` is running: what its locals reference."""

    enter: L.Enter
    input: Var  # its argument ``x``
    current: Var | None = None  # Sequential / Side: the local rebound child after child
    outs: list[Var] = field(default_factory=list)  # Parallel: the branch outputs so far

    def child_input(self) -> Var:
        if self.enter.form is L.Form.PARALLEL:
            return self.input  # every branch runs on x
        assert self.current is not None
        return self.current


def run_forward(step: Step, events: Iterable[L.Event], x: Var) -> Var:
    """``model(x)`` in training mode: the walk's events of the root replayed on the tape."""
    t = step.tape
    stack: list[_Open] = []
    result: Var | None = None

    def hand_on(y: Var) -> None:  # a child's output reaches its parent
        nonlocal result
        if not stack:
            result = y
            return
        top = stack[-1]
        if top.enter.form is L.Form.PARALLEL:
            top.outs.append(y)
        else:
            assert top.current is not None
            t.drop(top.current.buf, Holder.PY)  # input = module(input): the old one is let go
            top.current = y

    for event in events:
        if isinstance(event, L.Enter):
            arg = stack[-1].child_input() if stack else x
            if event.form is not L.Form.PARALLEL:
                t.hold(arg.buf, Holder.PY)  # the forward's local ``input``
            stack.append(_Open(event, arg, arg if event.form is not L.Form.PARALLEL else None))
        elif isinstance(event, L.Placed):
            arg = stack[-1].child_input()
            if event.input_needs_grad != arg.requires_grad:
                raise RuntimeError(
                    f"model error: the walk and the tape disagree on whether "
                    f"{event.name}'s input needs a gradient"
                )
            hand_on(forward(step, event, arg))
        else:
            hand_on(_close(step, stack.pop(), event))
    assert result is not None
    return result


def _close(step: Step, frame: _Open, end: L.Exit) -> Var:
    t = step.tape
    if frame.enter.form is L.Form.SEQUENTIAL:
        assert frame.current is not None
        return frame.current
    if frame.enter.form is L.Form.SIDE:
        assert isinstance(end.layer, L.Side) and frame.current is not None
        out = frame.current
        t.hold(out.buf, Holder.MODULE)  # self.output = out
        t.drop(out.buf, Holder.PY)
        out.buf.category = Category.OUTPUT
        step.sides.append((end.layer.loss_weight, out))
        return Var(t.hold(frame.input.buf, Holder.PY), frame.input.fn)  # return x
    return _merge(step, frame, end)


def _merge(step: Step, frame: _Open, end: L.Exit) -> Var:
    """``torch.cat(outs, 1)`` or ``outs[0] + outs[1] + ...``, then the branch outputs go."""
    t, outs, name = step.tape, frame.outs, end.path
    assert isinstance(end.layer, L.Parallel)
    if end.layer.merge == "concat":
        buf = t.alloc(name, "output", Category.ACTIVATIONS, (step.batch, *end.out_shape))
        total = Var(buf, t.node(name, "CatBackward0", [o.fn for o in outs], [], passthrough))
    else:
        total = Var(t.hold(outs[0].buf, Holder.PY), outs[0].fn)
        for o in outs[1:]:
            buf = t.alloc(name, "output", Category.ACTIVATIONS, (step.batch, *end.out_shape))
            node = t.node(name, "AddBackward0", [total.fn, o.fn], [], passthrough)
            t.drop(total.buf, Holder.PY)
            total = Var(buf, node)
    for o in outs:
        t.drop(o.buf, Holder.PY)
    return total
