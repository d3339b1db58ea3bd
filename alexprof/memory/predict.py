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

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from alexprof import nets as L
from alexprof.errors import UsageError, choose
from alexprof.memory import (  # noqa: F401  (the explicit index: registers every memory rule)
    graph,
    lrn,
    rules,
    rules_ops,
    rules_shapes,
)
from alexprof.memory.engine import Buffer, Event, Tape, Var
from alexprof.memory.replay import build, run_forward
from alexprof.memory.stages import Stage, StageMemory, check_modelled
from alexprof.memory.step import Step
from alexprof.memory.training import optimizer_step, training_loss, user_loss
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
        return {
            "layer": self.layer,
            "tensor": self.tensor,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "bytes": self.bytes,
            "kept_by": list(self.kept_by),
        }


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
    unmodelled: tuple[str, ...] = ()  # a user module's rows with no memory rule

    @property
    def peak(self) -> int:
        return max(s.peak for s in self.stages)

    def stage(self, name: Stage) -> StageMemory:
        return next(s for s in self.stages if s.stage == name)


def predict(
    net: Net,
    input_shape: tuple[int, ...] | None = None,
    batch: int = 1,
    dtype: str = "float32",
    optimizer: str = "sgd-momentum",
    device: str = "cuda",
    foreach: bool | None = None,
) -> Prediction:
    """Bytes alive after, and at most within, each stage of one training step.

    ``foreach`` picks the optimizer implementation (default: as torch does,
    ``foreach`` on CUDA, the single-tensor loop on CPU).
    """
    choose(DTYPES, dtype, "--dtype", option=True)
    choose(OPTIMIZERS, optimizer, "--optimizer", option=True)
    choose(DEVICES, device, "--device", option=True)
    if batch < 1:
        raise UsageError(f"--batch {batch} must be a positive integer")
    user = net.recorded is not None and net.graph is not None
    if not user:
        check_modelled(net)
    shape = tuple(input_shape or net.input_shape)
    stored = max(batch, net.stored_batch or batch)
    if user:
        events: tuple[L.Event, ...] = ()
        leaves = net.leaves(shape)
    else:
        events = tuple(L.traverse(net.body, shape))  # the one walk, for every part below
        leaves = [e for e in events if isinstance(e, L.Placed)]
    tape = Tape(device, dtype)
    step = Step(tape, batch)
    probe = _Probe(tape)
    with probe.stage(Stage.INPUT):
        x = tape.alloc("input", "x", Category.INPUTS, (stored, *shape))
        tape.alloc("input", "y", Category.INPUTS, (stored,), "int64")
    with probe.stage(Stage.MODEL):
        params = graph.build(step, net.graph) if net.graph is not None else build(step, leaves)
    with probe.stage(Stage.FORWARD):
        if net.graph is not None:
            outs = graph.run(step, leaves, net.graph, Var(x), params)
        else:
            outs = [run_forward(step, events, Var(x))]
        for out in outs:
            out.buf.category = Category.OUTPUT  # referenced by the training loop
    at_forward = dict(tape.live)
    kept = _kept(at_forward, tape.reasons)  # now: holders change as backward releases them
    with probe.stage(Stage.LOSS):
        loss = training_loss(step, outs[0]) if net.graph is None else user_loss(step, outs)
    with probe.stage(Stage.BACKWARD):
        tape.backward(loss)
    gradients = sum(p.grad.nbytes for p in params if p.grad is not None)
    with probe.stage(Stage.STEP):
        state = optimizer_step(
            tape, params, optimizer, device == "cuda" if foreach is None else foreach
        )
    with probe.stage(Stage.ZERO_GRAD):
        for p in params:
            if p.grad is not None:
                tape.drop(p.grad, Holder.GRAD)
                p.grad = None
    stages = probe.results()
    loss_bytes = stages[list(Stage).index(Stage.LOSS)].delta
    breakdown = _breakdown(at_forward, outs[0].buf, loss_bytes, gradients, state)
    notes = _notes(device, optimizer, len(params), leaves)
    return Prediction(
        net.name,
        device,
        shape,
        batch,
        stored,
        dtype,
        optimizer,
        stages,
        breakdown,
        kept,
        tuple(tape.events),
        notes,
        tuple(dict.fromkeys(step.unmodelled)),
    )


class _Probe:
    """Marks the stages on the tape, as :mod:`alexprof.torchside.tracer`'s probe marks
    the measured step: ``with probe.stage("forward"):``."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.marks: list[StageMemory] = []

    @contextlib.contextmanager
    def stage(self, name: Stage) -> Iterator[None]:
        assert name is list(Stage)[len(self.marks)], name  # every stage, in order
        self.tape.begin(name)  # its peak starts at what is allocated now
        yield
        before = self.marks[-1].allocated if self.marks else 0
        self.marks.append(
            StageMemory(name, self.tape.allocated, self.tape.peak, self.tape.allocated - before)
        )

    def results(self) -> tuple[StageMemory, ...]:
        assert len(self.marks) == len(Stage)
        return tuple(self.marks)


def _breakdown(
    at_forward: dict[int, Buffer], logits: Buffer, loss: int, gradients: int, state: list[Buffer]
) -> dict[Category, int]:
    def total(category: Category) -> int:
        return sum(b.nbytes for b in at_forward.values() if b.category == category)

    kept = sum(
        b.nbytes
        for b in at_forward.values()
        if b.category
        not in (Category.INPUTS, Category.PARAMETERS, Category.BUFFERS, Category.OUTPUT)
    )
    return {
        Category.INPUTS: total(Category.INPUTS),
        Category.PARAMETERS: total(Category.PARAMETERS),
        Category.BUFFERS: total(Category.BUFFERS),
        Category.ACTIVATIONS: kept,
        Category.OUTPUT: logits.nbytes,
        Category.LOSS: loss,
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
        rows.append(
            Kept(buf.layer, buf.role, buf.shape, buf.dtype, buf.nbytes, tuple(dict.fromkeys(who)))
        )
    return tuple(rows)


def _notes(device: str, optimizer: str, n_params: int, leaves: list[L.Placed]) -> tuple[str, ...]:
    notes = []
    if device == "cuda":
        notes.append("CUDA: every storage rounded up to 512 bytes (caching allocator block size)")
        if any(isinstance(p.layer, L.BatchNorm2d) for p in leaves):
            notes.append(
                "CUDA: cuDNN batch norm also keeps a reserve space whose size cuDNN "
                "chooses; it is not modelled"
            )
        if optimizer == "adam":
            notes.append(
                f"Adam's {n_params} step counters are float32 scalars in host memory "
                f"({4 * n_params} bytes, not on the GPU)"
            )
    return tuple(notes)
