"""What each layer allocates in forward, keeps for backward, and allocates in backward.

One rule per descriptor type, registered with :func:`rule` (once per type).  A
rule replays the aten ops that torch 2.13's ``nn`` module runs for that layer in
training mode, on :class:`~alexprof.memory.engine.Tape`: every storage it allocates,
the autograd node it records, which storages that node saves, and the
backward formula's allocations, in order.  Shapes are per sample in the
descriptors; the batch is applied here.  No torch import.

What is kept for backward (``saved``), layer by layer:

* Conv2d: its input (for the weight gradient); the weight is a parameter.
* Linear: its input (``addmm``/``mm`` keep ``mat1``); over more dims see
  :func:`alexprof.memory.rules_shapes.linear_nd`.
* ReLU: its output (the gradient is masked where the output is 0); in place, it
  is the storage of the layer before.
* MaxPool2d: its input and the int64 argmax ``indices`` (one per output element).
* Dropout: on CPU a mask of the input's dtype (``empty_like().bernoulli_()``
  scaled by ``1/(1-p)``); on CUDA the fused kernel keeps a bool mask.
* LocalResponseNorm (``F.local_response_norm``, 4-D path): the channel-padded
  squares (for ``avg_pool3d``'s backward), ``k + alpha*avg`` (the base of the
  power) and its power ``beta`` (the divisor), and the input twice (``x*x``, ``x/div``).
* AdaptiveAvgPool2d: the input (``_adaptive_avg_pool2d``); nothing for 1x1 (a ``mean``).
* AvgPool2d: its input.  BatchNorm2d: its input, batch mean and inverse std (one per
  channel, in the input's dtype on CPU, also for float16/bfloat16; float32 on CUDA).
* Softmax, Tanh: the output.  Flatten: nothing (a view; a copy when its input is
  permuted and no view can express it, as Reshape).
"""

from __future__ import annotations

from alexprof import nets as L
from alexprof.memory.engine import Var
from alexprof.memory.rules_shapes import linear_nd, reshape
from alexprof.memory.step import Step, allocs, passthrough, rule
from alexprof.memory.step import with_params as _with_params
from alexprof.memory.vocab import Category, Holder

# -- layers ----------------------------------------------------------------------------------


@rule(L.Conv2d)
def _conv(step: Step, p: L.Placed, x: Var) -> Var:
    out = step.act(p, "output", p.out_shape)
    return Var(out, _with_params(step, p, x, "ConvolutionBackward0", [x.buf]))


@rule(L.Linear)
def _linear(step: Step, p: L.Placed, x: Var) -> Var:
    if len(p.in_shape) > 1:  # (N, ..., features): see rules_shapes.linear_nd
        return linear_nd(step, p, x)
    out = step.act(p, "output", p.out_shape)  # addmm (mm without bias)
    kind = "AddmmBackward0" if p.layer.bias else "MmBackward0"  # type: ignore[attr-defined]
    return Var(out, _with_params(step, p, x, kind, [x.buf]))


@rule(L.ReLU)
def _relu(step: Step, p: L.Placed, x: Var) -> Var:
    t = step.tape
    out = t.hold(x.buf, Holder.PY) if p.layer.inplace else step.act(p, "output", p.out_shape)  # type: ignore[attr-defined]
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    return Var(
        out,
        t.node(
            p.name,
            "ReluBackward0",
            [x.fn],
            [out],
            allocs(p.name, step.batch, grads),
            "output, to mask the gradient",
        ),
    )


@rule(L.MaxPool2d)
def _maxpool(step: Step, p: L.Placed, x: Var) -> Var:
    out = step.act(p, "output", p.out_shape)
    idx = step.act(p, "indices", p.out_shape, "int64")
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    node = step.tape.node(
        p.name,
        "MaxPool2DWithIndicesBackward0",
        [x.fn],
        [x.buf, idx],
        allocs(p.name, step.batch, grads),
        "input and int64 argmax indices",
    )
    step.tape.drop(idx, Holder.PY)  # without a node (input needs no grad) the indices die here
    return Var(out, node)


@rule(L.Dropout)
def _dropout(step: Step, p: L.Placed, x: Var) -> Var:
    t, prob = step.tape, p.layer.p  # type: ignore[attr-defined]
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    if prob == 0.0:  # at::dropout returns its input: no op, no node
        return Var(t.hold(x.buf, Holder.PY), x.fn)
    if prob < 1.0 and step.cuda:  # fused native_dropout: output + bool mask
        out = step.act(p, "output", p.out_shape)
        mask = step.act(p, "mask", p.in_shape, "bool")
        kind = "NativeDropoutBackward0"
    elif prob < 1.0:  # CPU: mask = empty_like(x).bernoulli_(1-p).div_(1-p); out = x * mask
        mask = step.act(p, "mask", p.in_shape)
        out = step.act(p, "output", p.out_shape)
        kind = "MulBackward0"
    else:  # p == 1: x * zeros(()) keeps a one-element zero
        mask = t.alloc(p.name, "zero", Category.ACTIVATIONS, ())
        out = step.act(p, "output", p.out_shape)
        kind = "MulBackward0"
    why = "bool mask" if kind.startswith("Native") else f"{mask.dtype} mask, scaled by 1/(1-p)"
    node = t.node(p.name, kind, [x.fn], [mask], allocs(p.name, step.batch, grads), why)
    t.drop(mask, Holder.PY)
    return Var(out, node)


@rule(L.Flatten)
def _flatten(step: Step, p: L.Placed, x: Var) -> Var:
    if x.strides is not None:  # a permuted input: flatten is a reshape, which may copy
        return reshape(step, p, x)
    t = step.tape
    return Var(t.hold(x.buf, Holder.PY), t.node(p.name, "ViewBackward0", [x.fn], [], passthrough))


def _one_node(step: Step, p: L.Placed, x: Var, kind: str, keeps: str, why: str) -> Var:
    """One op: an output, and a node that keeps its ``input`` or its ``output`` and whose
    backward allocates the input's gradient (pooling, tanh, softmax)."""
    grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
    out = step.act(p, "output", p.out_shape)
    saved = [x.buf] if keeps == "input" else [out]
    node = step.tape.node(p.name, kind, [x.fn], saved, allocs(p.name, step.batch, grads), why)
    return Var(out, node)


@rule(L.AdaptiveAvgPool2d)
def _adaptive(step: Step, p: L.Placed, x: Var) -> Var:
    if p.layer.output_size == (1, 1):  # type: ignore[attr-defined]  # a mean: keeps nothing
        grads = [("grad_input", p.in_shape, Category.TEMPORARY)]
        out = step.act(p, "output", p.out_shape)
        node = step.tape.node(
            p.name, "MeanBackward1", [x.fn], [], allocs(p.name, step.batch, grads)
        )
        return Var(out, node)
    return _one_node(step, p, x, "AdaptiveAvgPool2DBackward0", "input", "input")


@rule(L.AvgPool2d)
def _avgpool(step: Step, p: L.Placed, x: Var) -> Var:
    return _one_node(step, p, x, "AvgPool2DBackward0", "input", "input")


@rule(L.Tanh)
def _tanh(step: Step, p: L.Placed, x: Var) -> Var:
    return _one_node(step, p, x, "TanhBackward0", "output", "output, for 1 - tanh^2")


@rule(L.Softmax)
def _softmax(step: Step, p: L.Placed, x: Var) -> Var:
    return _one_node(step, p, x, "SoftmaxBackward0", "output", "output")


@rule(L.BatchNorm2d)
def _batchnorm(step: Step, p: L.Placed, x: Var) -> Var:
    """Training mode: ``native_batch_norm`` returns the output and the batch mean and
    inverse std, after an empty reserve.  The statistics are in the input's dtype on CPU
    (2 bytes a channel each for float16/bfloat16: torch 2.13's CPU kernel casts them
    back) and float32 on CUDA (the accumulation dtype; also what the meta kernel says)."""
    t, c = step.tape, (p.layer.num_features,)  # type: ignore[attr-defined]
    t.drop(t.number(p.name), Holder.PY)  # num_batches_tracked.add_(1)
    stat = "float32" if step.cuda and t.dtype in ("float16", "bfloat16") else None
    reserve = t.alloc(p.name, "reserve", Category.TEMPORARY, (0,), "bool")
    out = step.act(p, "output", p.out_shape)
    mean = t.alloc(p.name, "batch_mean", Category.ACTIVATIONS, c, stat)
    invstd = t.alloc(p.name, "batch_invstd", Category.ACTIVATIONS, c, stat)
    node = _with_params(
        step,
        p,
        x,
        "NativeBatchNormBackward0",
        [x.buf, mean, invstd],
        "input, batch mean and inverse std",
    )
    for buf in (reserve, mean, invstd):
        t.drop(buf, Holder.PY)
    return Var(out, node)
