"""Activations, identity, stochastic depth, layer scale and the normalisations over any
trailing dims, as torch 2.13 runs them in training mode on CPU.  No torch import.

Every op here works element by element (the norms excepted), so its output keeps the
input's strides.  What is kept for backward (``saved``), checked against
``torch.autograd.graph.saved_tensors_hooks`` by ``tests/memory/test_saved_ops.py``:

* ReLU6, Hardtanh, Hardswish, Hardsigmoid, SiLU, GELU, LeakyReLU, ELU: the input.
  In place (``inplace=True``) the output is the input's storage, and
  Hardtanh/ReLU6/Hardswish/Hardsigmoid/SiLU keep a *copy* of the input, which autograd
  clones before overwriting it (``hardtanh_ > clone``): no byte saved over the
  out-of-place op.  In-place LeakyReLU and ELU keep their result (the input's storage,
  ``LeakyReluBackward1``/``EluBackward1``): nothing new.
* Sigmoid: its output.  Identity: nothing (no op, no node).
* StochasticDepth (torchvision's ``stochastic_depth``): ``p == 0`` returns the input;
  else a mask of the input's dtype, ``[N, 1, ...]`` (``row``) or ``[1, 1, ...]``
  (``batch``), ``bernoulli_(1-p)``, ``div_(1-p)`` (a Python number: 8 bytes for the
  call; none when ``p == 1``), then ``input * noise``, which keeps the mask only.
* LayerScale ``x * gamma``: the input (gamma is a parameter); backward: the input's
  gradient and ``grad * x`` at full size, summed to gamma's shape.
* LayerNorm: its input, and ``mean`` and ``rstd`` of shape ``(N, ..., 1, ...)`` (one per
  normalised row), in the input's dtype on CPU (float32 on CUDA for a half input).
* GroupNorm: its input, and ``mean`` and ``rstd`` of shape ``(N, groups)``, in the input's
  dtype.
"""

from __future__ import annotations

from collections.abc import Callable

from alexprof import nets as L
from alexprof.memory.engine import Buffer, Node, Tape, Var
from alexprof.memory.step import Step, allocs, rule, with_params
from alexprof.memory.vocab import Category, Holder

# kind -> (its autograd node, what it keeps out of place: "input" or "output")
_ACTIVATIONS: dict[type, tuple[str, str]] = {
    L.ReLU6: ("HardtanhBackward0", "input"),
    L.Hardtanh: ("HardtanhBackward0", "input"),
    L.Hardswish: ("HardswishBackward0", "input"),
    L.Hardsigmoid: ("HardsigmoidBackward0", "input"),
    L.SiLU: ("SiluBackward0", "input"),
    L.GELU: ("GeluBackward0", "input"),
    L.LeakyReLU: ("LeakyReluBackward0", "input"),
    L.ELU: ("EluBackward0", "input"),
    L.Sigmoid: ("SigmoidBackward0", "output"),
}
_KEEPS_RESULT_IN_PLACE = {L.LeakyReLU: "LeakyReluBackward1", L.ELU: "EluBackward1"}


def _grad_input(step: Step, p: L.Placed) -> Callable:
    return allocs(p.name, step.batch, [("grad_input", p.in_shape, Category.TEMPORARY)])


def _activation(step: Step, p: L.Placed, x: Var) -> Var:
    t, kind = step.tape, type(p.layer)
    node_kind, keeps = _ACTIVATIONS[kind]
    if not getattr(p.layer, "inplace", False):
        out = step.act(p, "output", p.out_shape)
        saved = [x.buf] if keeps == "input" else [out]
        why = f"{keeps}, for the gradient"
        node = t.node(p.name, node_kind, [x.fn], saved, _grad_input(step, p), why)
        return Var(out, node, x.strides)
    if kind in _KEEPS_RESULT_IN_PLACE:  # the result, which is the input's storage
        out = t.hold(x.buf, Holder.PY)
        node = t.node(
            p.name,
            _KEEPS_RESULT_IN_PLACE[kind],
            [x.fn],
            [out],
            _grad_input(step, p),
            "its result (in place: the input's storage)",
        )
        return Var(out, node, x.strides)
    copy = t.like(x.buf, p.name, "input, cloned", Category.ACTIVATIONS)  # before x is overwritten
    out = t.hold(x.buf, Holder.PY)
    why = "a copy of its input, cloned before the in-place op"
    node = t.node(p.name, node_kind, [x.fn], [copy], _grad_input(step, p), why)
    t.drop(copy, Holder.PY)
    return Var(out, node, x.strides)


for _kind in _ACTIVATIONS:
    rule(_kind)(_activation)


@rule(L.Identity)
def _identity(step: Step, p: L.Placed, x: Var) -> Var:
    return Var(step.tape.hold(x.buf, Holder.PY), x.fn, x.strides)


@rule(L.StochasticDepth)
def _stochastic_depth(step: Step, p: L.Placed, x: Var) -> Var:
    t, lay = step.tape, p.layer
    if lay.p == 0.0:  # type: ignore[attr-defined]  # returns its input
        return Var(t.hold(x.buf, Holder.PY), x.fn, x.strides)
    ones = (1,) * len(p.in_shape)
    shape = (step.batch, *ones) if lay.mode == "row" else (1, *ones)  # type: ignore[attr-defined]
    mask = t.alloc(p.name, "mask", Category.ACTIVATIONS, shape)  # empty(...).bernoulli_(1-p)
    if lay.p < 1.0:  # type: ignore[attr-defined]  # noise.div_(1-p): a wrapped Python number
        t.drop(t.number(p.name, "1-p"), Holder.PY)
    out = step.act(p, "output", p.out_shape)
    why = f"{mask.dtype} mask, scaled by 1/(1-p)"
    node = t.node(p.name, "MulBackward0", [x.fn], [mask], _grad_input(step, p), why)
    t.drop(mask, Holder.PY)
    return Var(out, node, x.strides)


@rule(L.LayerScale)
def _layer_scale(step: Step, p: L.Placed, x: Var) -> Var:
    gamma = step.param(p, "gamma")
    out = step.act(p, "output", p.out_shape)
    node = step.tape.node(
        p.name,
        "MulBackward0",
        [x.fn, gamma],
        [x.buf],
        _scale_backward(p, step.batch),
        "input, for gamma's gradient (gamma is a parameter)",
    )
    return Var(out, node, x.strides)


def _scale_backward(p: L.Placed, batch: int) -> Callable:
    """``grad * gamma`` for the input; ``grad * x`` summed to gamma's shape for gamma."""

    def backward(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        g_x = g_gamma = None
        if node.needs(0):
            g_x = t.like(g, p.name, "grad_input", holder=Holder.OUT)
        gamma = node.edges[1]
        if gamma is not None:
            full = t.like(g, p.name, "grad*x")
            shape = gamma.buffer.shape  # type: ignore[union-attr]
            g_gamma = t.alloc(p.name, "grad_gamma", Category.GRADIENTS, shape, g.dtype, Holder.OUT)
            t.drop(full, Holder.PY)
        return [g_x, g_gamma]

    return backward


def _stats(step: Step, p: L.Placed, shape: tuple[int, ...], half_float32: bool) -> list[Buffer]:
    t = step.tape
    stat = "float32" if half_float32 and step.cuda and t.dtype != "float32" else None
    return [t.alloc(p.name, r, Category.ACTIVATIONS, shape, stat) for r in ("mean", "rstd")]


@rule(L.LayerNorm)
def _layer_norm(step: Step, p: L.Placed, x: Var) -> Var:
    """``native_layer_norm``: output, mean, rstd (a non-contiguous input is copied inside
    the op and freed there; the node keeps the input as it was)."""
    k = len(p.layer.normalized_shape)  # type: ignore[attr-defined]
    out = step.act(p, "output", p.out_shape)
    mean, rstd = _stats(step, p, (step.batch, *p.in_shape[:-k], *(1,) * k), True)
    why = "input, mean and rstd"
    node = with_params(step, p, x, "NativeLayerNormBackward0", [x.buf, mean, rstd], why)
    for buf in (mean, rstd):
        step.tape.drop(buf, Holder.PY)
    return Var(out, node)


@rule(L.GroupNorm)
def _group_norm(step: Step, p: L.Placed, x: Var) -> Var:
    """``native_group_norm``: output, mean, rstd of (N, groups)."""
    groups = p.layer.num_groups  # type: ignore[attr-defined]
    out = step.act(p, "output", p.out_shape)
    mean, rstd = _stats(step, p, (step.batch, groups), False)
    why = "input, mean and rstd"
    node = with_params(step, p, x, "NativeGroupNormBackward0", [x.buf, mean, rstd], why)
    for buf in (mean, rstd):
        step.tape.drop(buf, Holder.PY)
    return Var(out, node)
