"""The loss and the optimizer step on the tape (torch 2.13 semantics).  No torch.

``cross_entropy`` is ``log_softmax`` (keeps its output) then ``nll_loss`` (a
scalar loss and a scalar total weight, which it keeps).  The optimizer step is
the *first* one: it creates the state.  SGD with momentum clones each gradient
into its momentum buffer; Adam makes ``exp_avg`` and ``exp_avg_sq`` (zeros like
the parameter) and a float32 ``step`` counter that lives on the CPU, then, in
the single-tensor loop (CPU default), ``denom = (exp_avg_sq.sqrt() / c).add_(eps)``
per parameter (two temporaries, the previous ``denom`` freed when rebound), or
in the ``foreach`` path (CUDA default) ``_foreach_sqrt`` of every ``exp_avg_sq``
at once (plus a CPU scalar ``tensor(1.0)`` to bump the steps).
"""

from __future__ import annotations

from alexprof.memory.engine import Buffer, Param, Tape, Var
from alexprof.memory.step import Step, allocs, passthrough
from alexprof.memory.vocab import Category, Holder


def training_loss(step: Step, out: Var) -> Var:
    """``loss = cross_entropy(out, y)``, then for each side branch (GoogLeNet's auxiliary
    classifiers) ``loss = loss + w * cross_entropy(side, y)``: ``w`` is a Python number,
    wrapped as a CPU tensor that the multiplication keeps; each sum is a new scalar."""
    t = step.tape
    loss = cross_entropy(step, out)
    for _weight, side in step.sides:  # the weight is a wrapped scalar: 8 bytes, any value
        term = cross_entropy(step, side)
        w = t.number("loss", "side loss weight")
        w.category = Category.LOSS  # kept by the product until backward
        scaled = t.alloc("loss", "weighted side loss", Category.LOSS, ())
        n_mul = t.node(
            "loss",
            "MulBackward0",
            [term.fn, None],
            [w],
            allocs("loss", 1, [("grad", (), Category.TEMPORARY)]),  # grad * w: one element
            "the loss weight, a Python number",
        )
        t.drop(w, Holder.PY)
        t.drop(term.buf, Holder.PY)
        total = t.alloc("loss", "loss", Category.LOSS, ())
        n_add = t.node("loss", "AddBackward0", [loss.fn, n_mul], [], passthrough)
        t.drop(loss.buf, Holder.PY)
        t.drop(scaled, Holder.PY)
        loss = Var(total, n_add)
    return loss


def user_loss(step: Step, outs: list[Var]) -> Var:
    """A user module's loss (:func:`alexprof.torchside.tracer.user_loss`): over every
    output that needs a gradient, ``cross_entropy`` of an N x classes one, else
    ``mean()`` (a scalar; its backward ``grad.expand(shape) / numel`` is one storage the
    output's size), summed in order (each sum a new scalar; the terms then go)."""
    t = step.tape
    terms = []
    for out in outs:
        if out.fn is None:
            continue
        if len(out.buf.shape) == 2:
            terms.append(cross_entropy(step, out))
            continue
        loss = t.alloc("loss", "mean", Category.LOSS, ())
        grad = [("grad", out.buf.shape[1:], Category.TEMPORARY)]
        terms.append(Var(loss, t.node("loss", "MeanBackward0", [out.fn], [],
                                      allocs("loss", step.batch, grad))))  # fmt: skip
    total = terms[0]
    for term in terms[1:]:
        buf = t.alloc("loss", "loss", Category.LOSS, ())
        node = t.node("loss", "AddBackward0", [total.fn, term.fn], [], passthrough)
        if total is not terms[0]:
            t.drop(total.buf, Holder.PY)
        total = Var(buf, node)
    for term in terms[1:] if len(terms) > 1 else ():
        t.drop(term.buf, Holder.PY)
    if len(terms) > 1:
        t.drop(terms[0].buf, Holder.PY)
    return total


def cross_entropy(step: Step, logits: Var) -> Var:
    """``log_softmax`` (kept: its output) then ``nll_loss`` (a scalar and its total weight)."""
    t = step.tape
    grad = [("grad", logits.buf.shape[1:], Category.TEMPORARY)]
    logp = t.alloc("loss", "log_softmax", Category.LOSS, logits.buf.shape)
    n_ls = t.node(
        "loss",
        "LogSoftmaxBackward0",
        [logits.fn],
        [logp],
        allocs("loss", step.batch, grad),
        "output: log-probabilities",
    )
    loss = t.alloc("loss", "loss", Category.LOSS, ())
    weight = t.alloc("loss", "total_weight", Category.LOSS, ())
    n_nll = t.node(
        "loss",
        "NllLossBackward0",
        [n_ls],
        [logp, weight],
        allocs("loss", step.batch, grad),
        "log-probabilities and total weight",
    )
    t.drop(weight, Holder.PY)
    t.drop(logp, Holder.PY)
    return Var(loss, n_nll)


def optimizer_step(t: Tape, params: list[Param], optimizer: str, foreach: bool) -> list[Buffer]:
    with_grad = [p for p in params if p.grad is not None]
    state: list[Buffer] = []
    if optimizer == "sgd-momentum":  # first step: buf = grad.clone()
        state = [
            t.like(p.grad, p.name, "momentum_buffer", Category.OPTIMIZER_STATE, Holder.STATE)
            for p in with_grad
            if p.grad is not None  # every one of them: with_grad holds those with a gradient
        ]
    elif optimizer == "adam":
        for p in with_grad:
            if t.device == "cpu":  # the step counter lives on the CPU
                state.append(
                    t.alloc(p.name, "step", Category.OPTIMIZER_STATE, (), "float32", Holder.STATE)
                )
            state += [
                t.like(p.buffer, p.name, key, Category.OPTIMIZER_STATE, Holder.STATE)
                for key in ("exp_avg", "exp_avg_sq")
            ]
        _adam_temporaries(t, with_grad, foreach)
    return state


def _adam_temporaries(t: Tape, params: list[Param], foreach: bool) -> None:
    if foreach:  # _foreach_add_(steps, tensor(1.0)); sqrt of every exp_avg_sq at once
        if t.device == "cpu":
            t.drop(t.alloc("adam", "one", Category.TEMPORARY, (), "float32"), Holder.PY)
        sqrts = [t.like(p.buffer, p.name, "sqrt(exp_avg_sq)") for p in params]
        for buf in sqrts:
            t.drop(buf, Holder.PY)
        return
    denom = None  # per parameter, in order:
    for p in params:
        _number_call(t, p.name)  # step_t += 1
        _number_call(t, p.name)  # exp_avg_sq.mul_(beta2)
        root = t.like(p.buffer, p.name, "sqrt(exp_avg_sq)")  # denom = (exp_avg_sq.sqrt()
        scalar = t.number(p.name)  # / bias_correction2_sqrt)
        new = t.like(p.buffer, p.name, "denom")
        t.drop(scalar, Holder.PY)
        t.drop(root, Holder.PY)
        _number_call(t, p.name)  # .add_(eps)
        if denom is not None:
            t.drop(denom, Holder.PY)
        denom = new
    if denom is not None:
        t.drop(denom, Holder.PY)


def _number_call(t: Tape, name: str) -> None:
    """An in-place op given a Python number: the wrapped scalar lives for the call."""
    t.drop(t.number(name), Holder.PY)
