"""LocalResponseNorm, op by op as ``F.local_response_norm`` runs it (4-D input).  No torch."""

from __future__ import annotations

from collections.abc import Callable

from alexprof import nets as L
from alexprof.errors import UsageError
from alexprof.memory.engine import Buffer, Node, Tape, Var
from alexprof.memory.step import Step, allocs, passthrough, rule
from alexprof.memory.vocab import Category, Holder


@rule(L.LocalResponseNorm)
def _lrn(step: Step, p: L.Placed, x: Var) -> Var:
    """``F.local_response_norm`` on a 4-D input, op by op::

    sq = x * x;  v = sq.view(N, 1, C, H, W)
    padded = pad(v, channels by (size//2, (size-1)//2))     kept by avg_pool3d
    avg = avg_pool3d(padded, (size, 1, 1)).squeeze(1).view(N, C, H, W)
    base = avg.mul(alpha).add(k)                            kept by pow; alpha kept by mul
    div = base ** beta                                      kept by the division
    out = x / div                                           (x kept by x*x and x/div)
    """
    t, lay = step.tape, p.layer
    c, h, w = p.in_shape
    size, beta_zero = lay.size, lay.beta == 0  # type: ignore[attr-defined]
    if beta_zero:
        raise UsageError(f"layer {p.name!r}: LocalResponseNorm with beta=0 is not modelled")
    like = [("grad", p.in_shape, Category.TEMPORARY)]
    sq = step.act(p, "x*x", p.in_shape, category=Category.TEMPORARY)
    n_sq = t.node(
        p.name,
        "MulBackward0",
        [x.fn, x.fn],
        [x.buf, x.buf],
        allocs(p.name, step.batch, like * 2),
        "x, for x*x",
    )
    n_view = t.node(p.name, "ViewBackward0", [n_sq], [], passthrough)
    padded_shape = (1, c + size - 1, h, w)
    padded = step.act(p, "padded squares", padded_shape)
    n_pad = t.node(
        p.name,
        "ConstantPadNdBackward0",
        [n_view],
        [],
        allocs(p.name, step.batch, [("grad", (1, c, h, w), Category.TEMPORARY)]),
    )
    t.drop(sq, Holder.PY)
    avg = step.act(p, "avg", (1, c, h, w), category=Category.TEMPORARY)
    n_avg = t.node(
        p.name,
        "AvgPool3DBackward0",
        [n_pad],
        [padded],
        allocs(p.name, step.batch, [("grad", padded_shape, Category.TEMPORARY)]),
        "its input, the padded squares",
    )
    t.drop(padded, Holder.PY)
    n_sqz = t.node(p.name, "SqueezeBackward1", [n_avg], [], passthrough)
    n_v2 = t.node(p.name, "ViewBackward0", [n_sqz], [], passthrough)
    alpha = t.number(p.name, "alpha")  # div.mul(alpha): a wrapped number, kept by the node
    scaled = step.act(p, "alpha*avg", p.in_shape, category=Category.TEMPORARY)
    n_mul = t.node(
        p.name,
        "MulBackward0",
        [n_v2, None],
        [alpha],
        allocs(p.name, step.batch, like),
        "alpha, a Python number as a float64 tensor",
    )
    t.drop(alpha, Holder.PY)
    k = t.number(p.name, "k")
    base = step.act(p, "k+alpha*avg", p.in_shape)
    n_add = t.node(p.name, "AddBackward0", [n_mul, None], [], passthrough)
    t.drop(k, Holder.PY)
    t.drop(scaled, Holder.PY)
    div = step.act(p, "(k+alpha*avg)**beta", p.in_shape)
    n_pow = t.node(
        p.name,
        "PowBackward0",
        [n_add],
        [base],
        _pow_backward(p, step.batch),
        "the base k+alpha*avg",
    )
    t.drop(base, Holder.PY)
    t.drop(avg, Holder.PY)
    out = step.act(p, "output", p.out_shape)
    n_div = t.node(
        p.name,
        "DivBackward0",
        [x.fn, n_pow],
        [x.buf, div],
        _div_backward(p, step.batch),
        "x and the divisor",
    )
    t.drop(div, Holder.PY)
    return Var(out, n_div)


def _pow_backward(p: L.Placed, batch: int) -> Callable:
    """``grad * (beta * base.pow(beta - 1))``: two temporaries, then the gradient."""

    def backward(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        powed = t.like(g, p.name, "base**(beta-1)")
        scaled = t.like(g, p.name, "beta*base**(beta-1)")
        grad = t.like(g, p.name, "grad", holder=Holder.OUT)
        t.drop(scaled, Holder.PY)
        t.drop(powed, Holder.PY)
        return [grad]

    return backward


def _div_backward(p: L.Placed, batch: int) -> Callable:
    """``x / div``: for ``div``, ``-grad * ((x / div) / div)`` (three temporaries);
    for ``x``, ``grad / div``.  torch 2.13 computes the ``div`` gradient first."""

    def backward(t: Tape, node: Node, g: Buffer) -> list[Buffer | None]:
        g_div = g_x = None
        if node.needs(1):
            temps = [t.like(g, p.name, r) for r in ("x/div", "x/div/div", "-grad")]
            g_div = t.like(g, p.name, "grad", holder=Holder.OUT)
            for tmp in reversed(temps):
                t.drop(tmp, Holder.PY)
        if node.needs(0):
            g_x = t.like(g, p.name, "grad", holder=Holder.OUT)
        return [g_x, g_div]

    return backward
