"""The stages of one training step, and what is known about each: predicted
(:class:`StageMemory`, from :mod:`alexprof.memory.predict`) and measured
(:class:`StageTrace`, from :mod:`alexprof.torchside.tracer`).  No torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAGES = ("input", "model", "forward", "loss", "backward", "step", "zero_grad")


@dataclass(frozen=True)
class StageMemory:
    stage: str
    allocated: int  # bytes alive after the stage
    peak: int  # most bytes alive at any moment within the stage
    delta: int  # allocated - allocated after the previous stage


@dataclass(frozen=True)
class StageTrace:
    stage: str
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
