"""The stages of one training step, and what is known about each: predicted
(:class:`StageMemory`, from :mod:`alexprof.memory.predict`) and measured
(:class:`StageTrace`, from :mod:`alexprof.torchside.tracer`).  Both sides name the
stages with the same :class:`Stage` members, and both refuse, with the one message of
:func:`check_modelled`, a network they do not model.  No torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alexprof.errors import UsageError
from alexprof.vocab import Vocab

if TYPE_CHECKING:
    from alexprof.nets.net import Net


class Stage(Vocab):
    """A stage of one training step, in the order the step runs them.

    - INPUT: ``x, y = rand(...), randint(...)``: the batch and its targets.
    - MODEL: ``model = build(net).to(device)``: parameters and batch-norm buffers.
    - FORWARD: ``out = model(x)``: outputs, and what autograd keeps for backward.
    - LOSS: ``loss = cross_entropy(out, y)`` (plus each auxiliary classifier's, weighted).
    - BACKWARD: ``loss.backward()``: the parameter gradients.
    - STEP: ``optimizer.step()``, the first one: it creates the optimizer state.
    - ZERO_GRAD: ``optimizer.zero_grad(set_to_none=True)``: the gradients freed.
    """

    INPUT = "input"
    MODEL = "model"
    FORWARD = "forward"
    LOSS = "loss"
    BACKWARD = "backward"
    STEP = "step"
    ZERO_GRAD = "zero_grad"


def check_modelled(net: Net) -> Net:
    """``net`` if memtrace models it (it is written as descriptors), else the one refusal."""
    if net.recorded is not None:
        raise UsageError(
            f"model {net.name!r} is a user module recorded from torch; memtrace "
            "models networks written as descriptors (a zoo name or a --spec file)"
        )
    return net


@dataclass(frozen=True)
class StageMemory:
    stage: Stage
    allocated: int  # bytes alive after the stage
    peak: int  # most bytes alive at any moment within the stage
    delta: int  # allocated - allocated after the previous stage


@dataclass(frozen=True)
class StageTrace:
    stage: Stage
    allocated: int  # bytes alive after the stage (CUDA: memory_allocated - warm-up)
    peak: int  # most bytes alive within the stage, at allocator level
    ops_allocated: int  # the profiler's running sum after the stage (= allocated on CPU)
    peak_ops: int  # the peak at op boundaries (what the model predicts)
    over_allocation: int = 0  # CUDA: bytes of whole blocks beyond the 512-rounded requests


@dataclass(frozen=True)
class Trace:
    device: str
    stages: tuple[StageTrace, ...]
    warmup: dict[str, Any] | None = None
    allocator: str = ""
    log: tuple[str, ...] = field(default=(), repr=False)  # allocations and frees, one per line
    torch: str = ""  # torch.__version__ of the run: "2.13.0+cpu"
