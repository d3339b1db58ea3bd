"""The analytic memory model of one training step, stage by stage.  No torch.

:func:`predict` replays the step that ``alexprof memtrace`` measures, on the
storage model of :mod:`alexprof.memory.engine` with the per-layer rules of
:mod:`alexprof.memory.rules`::

    x, y = rand(...), randint(...)            input
    model = build(net).to(device)             model     (parameters, BN buffers)
    out = model(x)                            forward   (outputs, what autograd keeps)
    loss = cross_entropy(out, y)              loss      (log-softmax, loss, total weight)
    loss.backward()                           backward  (parameter gradients)
    optimizer.step()                          step      (optimizer state, first step)
    optimizer.zero_grad()                     zero_grad (set_to_none: gradients freed)

The training loop keeps ``x``, ``y``, ``out`` and ``loss`` referenced to the
end.  ``allocated`` is what is alive after a stage; ``peak`` is the most alive
at any moment within it, counted at the granularity of whole aten ops (a
temporary inside one kernel, such as a cuDNN workspace, is not a tensor and
is not modelled).  On CUDA every storage is rounded up to 512 bytes, as the
caching allocator does; on CPU sizes are exact.

The optimizers follow torch 2.13: the single-tensor loop on CPU, the
``foreach`` path on CUDA (its default), SGD(lr=0.01, momentum=0.9 for
``sgd-momentum``) and Adam(lr=1e-3).  The step is the *first* one, so it
creates the state: momentum buffers (a clone of each gradient), Adam's
``exp_avg``/``exp_avg_sq`` (zeros like each parameter) and its ``step``
counters (float32 scalars on the CPU, also when the parameters are on CUDA).
Pure arithmetic: it works for any batch size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alexprof import nets as L
from alexprof.errors import UsageError, choose
from alexprof.memory.step import Step, forward, param_shapes, passthrough
from alexprof.memory.training import optimizer_step, training_loss
from alexprof.memory.engine import Buffer, Event, Param, Tape, Var
from alexprof.memory import lrn, rules  # noqa: F401  (the explicit index: registers every memory rule)
from alexprof.memory.stages import Stage, StageMemory, check_modelled
from alexprof.memory.vocab import Category, Holder, Saved
from alexprof.nets.net import Net

OPTIMIZERS = ("none", "sgd", "sgd-momentum", "adam")
DTYPES = ("float32", "float16", "bfloat16")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Kept:
    """A storage alive at the end of forward, and who keeps it."""

    layer: str
    tensor: str
    shape: tuple[int, ...]
    dtype: str
    bytes: int
    kept_by: tuple[str, ...]  # "relu1 (output, masks ...)", "the training loop"

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "tensor": self.tensor, "shape": list(self.shape),
                "dtype": self.dtype, "bytes": self.bytes, "kept_by": list(self.kept_by)}


@dataclass(frozen=True)
class Prediction:
    model: str
    device: str
    input_shape: tuple[int, ...]
    batch: int
    stored_batch: int
    dtype: str
    optimizer: str
    stages: tuple[StageMemory, ...]
    breakdown: dict[Category, int]  # bytes per part (Category.parts()), at the end of forward
    kept: tuple[Kept, ...]
    events: tuple[Event, ...] = field(repr=False, default=())
    notes: tuple[str, ...] = ()

    @property
    def peak(self) -> int:
        return max(s.peak for s in self.stages)

    def stage(self, name: Stage) -> StageMemory:
        return next(s for s in self.stages if s.stage == name)


def predict(net: Net, input_shape: tuple[int, ...] | None = None, batch: int = 1,
            dtype: str = "float32", optimizer: str = "sgd-momentum", device: str = "cuda",
            foreach: bool | None = None) -> Prediction:
    """Bytes alive after, and at most within, each stage of one training step.

    ``foreach`` picks the optimizer implementation (default: as torch does,
    ``foreach`` on CUDA, the single-tensor loop on CPU).
    """
    choose(DTYPES, dtype, "--dtype", option=True)
    choose(OPTIMIZERS, optimizer, "--optimizer", option=True)
    choose(DEVICES, device, "--device", option=True)
    if batch < 1:
        raise UsageError(f"--batch {batch} must be a positive integer")
    check_modelled(net)
    shape = tuple(input_shape or net.input_shape)
    stored = max(batch, net.stored_batch or batch)
    tape = Tape(device, dtype)
    step = Step(tape, batch)
    marks: dict[Stage, tuple[int, int]] = {}

    def stage(name: Stage) -> None:
        marks[name] = (tape.allocated, tape.peak)

    tape.begin(Stage.INPUT)
    x = tape.alloc("input", "x", Category.INPUTS, (stored, *shape))
    tape.alloc("input", "y", Category.INPUTS, (stored,), "int64")
    stage(Stage.INPUT)
    tape.begin(Stage.MODEL)
    params = _build(step, net.body, shape)
    stage(Stage.MODEL)
    tape.begin(Stage.FORWARD)
    out = run_sequential(step, net.body, Var(x), shape, "")
    out.buf.category = Category.OUTPUT  # the logits, referenced by the training loop
    stage(Stage.FORWARD)
    at_forward = dict(tape.live)
    kept = _kept(at_forward, tape.reasons)  # now: holders change as backward releases them
    tape.begin(Stage.LOSS)
    loss = training_loss(step, out)
    stage(Stage.LOSS)
    tape.begin(Stage.BACKWARD)
    tape.backward(loss)
    stage(Stage.BACKWARD)
    gradients = sum(p.grad.nbytes for p in params if p.grad is not None)
    tape.begin(Stage.STEP)
    state = optimizer_step(tape, params, optimizer, device == "cuda" if foreach is None else foreach)
    stage(Stage.STEP)
    tape.begin(Stage.ZERO_GRAD)
    for p in params:
        if p.grad is not None:
            tape.drop(p.grad, Holder.GRAD)
            p.grad = None
    stage(Stage.ZERO_GRAD)
    stages, prev = [], 0
    for name in Stage:
        allocated, peak = marks[name]
        stages.append(StageMemory(name, allocated, peak, allocated - prev))
        prev = allocated
    breakdown = _breakdown(at_forward, out.buf, marks, gradients, state)
    notes = _notes(device, optimizer, len(params), net.body, shape)
    return Prediction(net.name, device, shape, batch, stored, dtype, optimizer, tuple(stages),
                      breakdown, kept, tuple(tape.events), notes)


def _build(step: Step, body: L.Sequential, shape: tuple[int, ...]) -> list[Param]:
    """Module parameters (and BN buffers) in registration order, as ``to_empty`` allocates them."""
    params = []
    for placed in L.walk(body, shape):
        for key, pshape, kind in param_shapes(placed.layer):
            dt = "int64" if kind == "int64" else None
            category = Category.PARAMETERS if kind == "param" else Category.BUFFERS
            buf = step.tape.alloc(placed.name, key, category, pshape, dt, Holder.PARAM)
            if kind == "param":
                param = Param(f"{placed.name}.{key}", buf)
                step.params[param.name] = param
                params.append(param)
    return params


def run_sequential(step: Step, seq: L.Sequential, x: Var, shape: tuple[int, ...], prefix: str) -> Var:
    """``nn.Sequential.forward``: its local ``input`` is rebound child after child."""
    step.tape.hold(x.buf, Holder.PY)
    for child in seq.layers:
        y = _run(step, child, x, shape, prefix)
        step.tape.drop(x.buf, Holder.PY)
        x, shape = y, child.output_shape(shape)
    return x


def _run(step: Step, layer: L.Layer, x: Var, shape: tuple[int, ...], prefix: str) -> Var:
    if isinstance(layer, L.Sequential):
        return run_sequential(step, layer, x, shape, f"{prefix}{layer.name}.")
    if isinstance(layer, L.Side):
        return _run_side(step, layer, x, shape, f"{prefix}{layer.name}.")
    if isinstance(layer, L.Parallel):
        return _run_parallel(step, layer, x, shape, f"{prefix}{layer.name}.")
    placed = L.Placed(f"{prefix}{layer.name}", layer, shape, layer.output_shape(shape), x.requires_grad)
    return forward(step, placed, x)


def _run_side(step: Step, side: L.Side, x: Var, shape: tuple[int, ...], prefix: str) -> Var:
    """``SideModule.forward`` in training: its layers run on ``x``, the result is kept in
    ``self.output`` for the loss (alive until the next forward), and ``x`` goes on."""
    t = step.tape
    seq = L.Sequential(side.name, side.layers)
    out = run_sequential(step, seq, x, shape, prefix)
    t.hold(out.buf, Holder.MODULE)  # self.output = out
    t.drop(out.buf, Holder.PY)
    out.buf.category = Category.OUTPUT
    step.sides.append((side.loss_weight, out))
    return Var(t.hold(x.buf, Holder.PY), x.fn)


def _run_parallel(step: Step, par: L.Parallel, x: Var, shape: tuple[int, ...], prefix: str) -> Var:
    """``outs = [branch(x) for branch]``, then ``torch.cat(outs, 1)`` or a running sum."""
    t = step.tape
    outs = [_run(step, branch, x, shape, prefix) for branch in par.branches]
    out_shape = par.output_shape(shape)
    name = prefix.rstrip(".")
    if par.merge == "concat":
        buf = t.alloc(name, "output", Category.ACTIVATIONS, (step.batch, *out_shape))
        total = Var(buf, t.node(name, "CatBackward0", [o.fn for o in outs], [], passthrough))
    else:
        total = Var(t.hold(outs[0].buf, Holder.PY), outs[0].fn)
        for o in outs[1:]:
            buf = t.alloc(name, "output", Category.ACTIVATIONS, (step.batch, *out_shape))
            node = t.node(name, "AddBackward0", [total.fn, o.fn], [], passthrough)
            t.drop(total.buf, Holder.PY)
            total = Var(buf, node)
    for o in outs:
        t.drop(o.buf, Holder.PY)
    return total


def _breakdown(at_forward: dict[int, Buffer], logits: Buffer, marks: dict[Stage, tuple[int, int]],
               gradients: int, state: list[Buffer]) -> dict[Category, int]:
    def total(category: Category) -> int:
        return sum(b.nbytes for b in at_forward.values() if b.category == category)

    kept = sum(b.nbytes for b in at_forward.values() if b.category not in
               (Category.INPUTS, Category.PARAMETERS, Category.BUFFERS, Category.OUTPUT))
    return {
        Category.INPUTS: total(Category.INPUTS),
        Category.PARAMETERS: total(Category.PARAMETERS),
        Category.BUFFERS: total(Category.BUFFERS),
        Category.ACTIVATIONS: kept,
        Category.OUTPUT: logits.nbytes,
        Category.LOSS: marks[Stage.LOSS][0] - marks[Stage.FORWARD][0],
        Category.GRADIENTS: gradients,
        Category.OPTIMIZER_STATE: sum(b.nbytes for b in state),
    }


def _kept(at_forward: dict[int, Buffer], reasons: dict[str, str]) -> tuple[Kept, ...]:
    rows = []
    for buf in at_forward.values():
        if buf.category in (Category.INPUTS, Category.PARAMETERS, Category.BUFFERS):
            continue  # the logits stay: the training loop keeps them
        who = []
        for holder, n in buf.holders.items():
            if n and isinstance(holder, Saved):
                name = holder.node
                who.append(f"{name.replace(':', ' ')}: {reasons.get(name) or 'for its gradient'}")
            elif n and holder is Holder.PY:
                who.append("the training loop: out = model(x)")
            elif n and holder is Holder.MODULE:
                who.append("its SideModule (.output), for the auxiliary loss")
        rows.append(Kept(buf.layer, buf.role, buf.shape, buf.dtype, buf.nbytes, tuple(dict.fromkeys(who))))
    return tuple(rows)


def _notes(device: str, optimizer: str, n_params: int, body: L.Sequential,
           shape: tuple[int, ...]) -> tuple[str, ...]:
    notes = []
    if device == "cuda":
        notes.append("CUDA: every storage rounded up to 512 bytes (caching allocator block size)")
        if any(isinstance(p.layer, L.BatchNorm2d) for p in L.walk(body, shape)):
            notes.append("CUDA: cuDNN batch norm also keeps a reserve space whose size cuDNN "
                         "chooses; it is not modelled")
        if optimizer == "adam":
            notes.append(f"Adam's {n_params} step counters are float32 scalars in host memory "
                         f"({4 * n_params} bytes, not on the GPU)")
    return tuple(notes)
