"""Layout ops, reductions, max pooling to a size, and Linear over more than one dim.
No torch import.

Whether an op copies depends on the input's strides, which the tape tracks on
:class:`~alexprof.memory.engine.Var` (``strides``; None when contiguous): a
``permute`` is a view with permuted strides, and ops that work element by element
keep their input's layout (:mod:`alexprof.memory.rules_ops`).  What each keeps:

* Permute: nothing (a view: ``PermuteBackward0``).
* Reshape: nothing.  A view where torch's ``computeStride`` can express the new shape
  on the old strides (any contiguous input); else ``clone`` then ``_unsafe_view``: a
  new contiguous storage.
* Contiguous: nothing.  The input itself when it is contiguous (no op, no node); else
  a copy (``CloneBackward0``).
* Mean: nothing (``MeanBackward1`` keeps the shape only); backward allocates the
  input's gradient (``grad.expand(...) / n``).
* ChannelShuffle: nothing (``native_channel_shuffle`` writes a new storage; its
  backward shuffles the gradient back: one storage the input's size).
* AdaptiveMaxPool2d: its input and int64 ``indices``, one per output element.
* Linear on ``(N, ..., features)``: contiguous input: ``addmm`` (``mm`` without bias)
  on a flattened view, which it keeps (the input's storage); a non-contiguous input
  goes through ``matmul``: ``reshape`` copies it (kept by ``mm``), and a bias is
  added in place (``AddBackward0``, which allocates the bias gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from alexprof import nets as L
from alexprof.memory.engine import Buffer, Node, Tape, Var
from alexprof.memory.step import Step, allocs, passthrough, rule, with_params
from alexprof.memory.strides import layout, strides_of, view_strides
from alexprof.memory.vocab import Category, Holder


def _full(step: Step, shape: tuple[int, ...]) -> tuple[int, ...]:
    return (step.batch, *shape)


def _copy(step: Step, p: L.Placed, x: Var, kind: str, role: str = "output") -> Var:
    """A contiguous copy with a node that keeps nothing (``clone``)."""
    out = step.act(p, role, p.in_shape)
    return Var(out, step.tape.node(p.name, kind, [x.fn], [], passthrough))


# -- layout ----------------------------------------------------------------------------------


@rule(L.Permute)
def _permute(step: Step, p: L.Placed, x: Var) -> Var:
    t, full = step.tape, (0, *(d + 1 for d in p.layer.dims))  # type: ignore[attr-defined]
    old = strides_of(x, _full(step, p.in_shape))
    strides = layout(_full(step, p.out_shape), tuple(old[d] for d in full))
    node = t.node(p.name, "PermuteBackward0", [x.fn], [], passthrough)
    return Var(t.hold(x.buf, Holder.PY), node, strides)


@rule(L.Reshape)
def reshape(step: Step, p: L.Placed, x: Var) -> Var:
    """``reshape`` (also ``flatten``) to the placed output shape: a view when it can be."""
    t, old, new = step.tape, _full(step, p.in_shape), _full(step, p.out_shape)
    strides = view_strides(old, strides_of(x, old), new)
    if strides is not None:  # view: shares the storage
        node = t.node(p.name, "ViewBackward0", [x.fn], [], passthrough)
        return Var(t.hold(x.buf, Holder.PY), node, layout(new, strides))
    copy = _copy(step, p, x, "CloneBackward0")  # clone(contiguous) then _unsafe_view
    return Var(copy.buf, t.node(p.name, "UnsafeViewBackward0", [copy.fn], [], passthrough))


@rule(L.Contiguous)
def _contiguous(step: Step, p: L.Placed, x: Var) -> Var:
    if x.strides is None:  # already contiguous: returns itself, records nothing
        return Var(step.tape.hold(x.buf, Holder.PY), x.fn)
    return _copy(step, p, x, "CloneBackward0")


# -- reductions, shuffles, pooling -------------------------------------------------------------


def _keeps_nothing(step: Step, p: L.Placed, x: Var, kind: str) -> Var:
    """A new output and a node that keeps nothing; backward: the input's gradient."""
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    out = step.act(p, "output", p.out_shape)
    return Var(out, step.tape.node(p.name, kind, [x.fn], [], allocs(p.name, step.batch, grads)))


@rule(L.Mean)
def _mean(step: Step, p: L.Placed, x: Var) -> Var:
    return _keeps_nothing(step, p, x, "MeanBackward1")


@rule(L.Upsample)
def _upsample(step: Step, p: L.Placed, x: Var) -> Var:
    """``upsample_nearest2d`` / ``upsample_bilinear2d``: the backward needs only sizes."""
    bilinear = isinstance(p.layer, L.Upsample) and p.layer.mode == "bilinear"
    kind = "UpsampleBilinear2DBackward0" if bilinear else "UpsampleNearest2DBackward0"
    return _keeps_nothing(step, p, x, kind)


@rule(L.ChannelShuffle)
def _shuffle(step: Step, p: L.Placed, x: Var) -> Var:
    return _keeps_nothing(step, p, x, "ChannelShuffleBackward0")


@rule(L.AdaptiveMaxPool2d)
def _adaptive_max(step: Step, p: L.Placed, x: Var) -> Var:
    out = step.act(p, "output", p.out_shape)
    idx = step.act(p, "indices", p.out_shape, "int64")
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    node = step.tape.node(
        p.name,
        "AdaptiveMaxPool2DBackward0",
        [x.fn],
        [x.buf, idx],
        allocs(p.name, step.batch, grads),
        "input and int64 argmax indices",
    )
    step.tape.drop(idx, Holder.PY)
    return Var(out, node)


# -- Linear over (N, ..., features) ------------------------------------------------------------


def linear_nd(step: Step, p: L.Placed, x: Var) -> Var:
    """``F.linear`` on an input of three or more dims (torch 2.13 ``at::linear``)."""
    t, bias = step.tape, bool(p.layer.bias)  # type: ignore[attr-defined]
    full = _full(step, p.in_shape)
    flat = view_strides(full, strides_of(x, full), (math.prod(full[:-1]), full[-1]))
    if x.strides is None or (flat is not None and not bias):
        # contiguous: _flatten_nd_linear (addmm on a view); without bias matmul folds
        # the leading dims with a view the same way (mm, then _unsafe_view)
        out = step.act(p, "output", p.out_shape)
        node = with_params(step, p, x, "AddmmBackward0" if bias else "MmBackward0", [x.buf])
        view = "ViewBackward0" if bias else "UnsafeViewBackward0"
        return Var(out, t.node(p.name, view, [node], [], passthrough))
    mat = x
    if flat is None:  # matmul's reshape copies the input, which mm keeps
        rows = (step.batch * math.prod(p.in_shape[:-1]), p.in_shape[-1])
        mat = Var(t.alloc(p.name, "input, contiguous", Category.ACTIVATIONS, rows), x.fn)
    out = step.act(p, "output", p.out_shape)
    w = step.param(p, "weight")
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    grads += [("grad_weight", w.buffer.shape, Category.GRADIENTS)] if w else []
    mm = t.node(
        p.name,
        "MmBackward0",
        [x.fn, w],
        [mat.buf],
        allocs(p.name, step.batch, grads),
        "input, for the weight gradient",
    )
    if mat is not x:
        t.drop(mat.buf, Holder.PY)
    node = t.node(p.name, "UnsafeViewBackward0", [mm], [], passthrough)
    if bias:  # output.add_(bias): in place
        b = step.param(p, "bias")
        node = t.node(p.name, "AddBackward0", [node, b], [], _add_bias(p))
    return Var(out, node)


def _add_bias(p: L.Placed) -> Callable:
    """``out.add_(bias)``'s backward: the gradient passes on; the bias's is summed to shape."""

    def backward(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        bias = node.edges[1]
        shape = bias.buffer.shape  # type: ignore[union-attr]
        grad_b = t.alloc(p.name, "grad_bias", Category.GRADIENTS, shape, g.dtype, Holder.OUT)
        return [t.hold(g, Holder.OUT) if node.needs(0) else None, grad_b]

    return backward
