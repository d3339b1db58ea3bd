"""Bytes alive per stage from the profiler's allocation events.  Imports torch.

Why the profiler and not a ``TorchDispatchMode``: with any dispatch mode active,
torch treats every tensor as "subclass-like", and autograd then stops summing
gradients in place (a branch point such as the input of LocalResponseNorm, or
a residual join, gets a new storage per sum).  A dispatch-mode tracker would
measure a different step from the one users run.  ``torch.profiler`` with
``profile_memory=True`` changes nothing: the allocator reports every allocation
and free (``alloc_size`` > 0 or < 0), in order, inside the op that made it.

Each stage runs inside ``record_function("alexprof::stage::<name>")``.  Walking
the event tree in order gives, per stage:

* ``allocated``: the running sum at the end of the stage (bytes allocated
  during the step and still alive);
* ``peak``: the running sum's maximum within the stage, at allocator level:
  it includes temporaries that live and die *inside* one aten op (oneDNN/cuDNN
  buffers, a Python number wrapped as a tensor, a dtype conversion);
* ``peak_ops``: the maximum at op boundaries only, i.e. at the end of every
  top-level aten op (one not nested in another aten op) and after any
  allocation made outside an op.  This is what the analytic model predicts.

Only allocations on the measured device type count (on CUDA, the CPU scalars
that wrap Python numbers and Adam's step counters do not).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# the profiler's C++ side logs a warning when the step frees a block allocated before it
# started; it is expected here.  Only effective if torch is not imported yet.
os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")

import torch
from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile, record_function

MARK = "alexprof::stage::"


@dataclass
class StageBytes:
    stage: str
    allocated: int = 0
    peak: int = 0
    peak_ops: int = 0
    log: list[tuple[int, int, str]] = field(default_factory=list)  # (size, running sum, op path)


class Recorder:
    """``with recorder.session(): ... with recorder.stage("forward"): ...``, then
    ``recorder.stages()``."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._prof: profile | None = None
        self._stages: list[StageBytes] | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
        with _quiet_stderr():  # kineto prints a line when it starts and stops
            prof.__enter__()
        try:
            yield
        finally:
            with _quiet_stderr():
                prof.__exit__(None, None, None)
        self._prof, self._stages = prof, None

    @staticmethod
    def stage(name: str) -> record_function:
        return record_function(MARK + name)

    def stages(self) -> list[StageBytes]:
        assert self._prof is not None, "stages() after the session"
        if self._stages is None:
            self._stages = self._analyse(self._prof)
        return self._stages

    def _analyse(self, prof: profile) -> list[StageBytes]:
        result = prof.profiler.kineto_results if prof.profiler is not None else None
        if result is None:
            raise RuntimeError("torch.profiler returned no results")
        roots = result.experimental_event_tree()
        threads: dict[int, list[tuple]] = {}
        for root in sorted(roots, key=lambda e: e.start_time_ns):
            _flatten(root, (), False, threads.setdefault(root.start_tid, []))
        return _accumulate(heapq.merge(*threads.values(), key=lambda item: item[0]), self.device)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C++ logging) for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _flatten(event: Any, path: tuple[str, ...], in_op: bool, out: list[tuple]) -> None:
    """Events of one thread in order: (time, kind, ...)."""
    if event.tag == _EventType.Allocation:
        f = event.extra_fields
        out.append((event.start_time_ns, "alloc", f.alloc_size, f.device.type, in_op, path))
        return
    name = event.name
    top = not in_op and name.startswith("aten::")
    mark = name.startswith(MARK)
    if mark:
        out.append((event.start_time_ns, "mark", name[len(MARK) :]))
    for child in event.children:
        _flatten(child, (*path, name), in_op or top, out)
    if top:
        out.append((event.end_time_ns, "op_end", name))
    if mark:
        out.append((event.end_time_ns, "mark_end", name))


def _accumulate(items: Iterator[tuple], device: str) -> list[StageBytes]:
    stages: list[StageBytes] = []
    current = 0
    s: StageBytes | None = None  # the open stage
    for item in items:
        kind = item[1]
        if kind == "mark":
            s = StageBytes(item[2], current, current, current)
            stages.append(s)
            continue
        if kind == "mark_end":
            s = None
            continue
        if kind == "alloc" and item[3] == device:
            current += item[2]
        if s is None:
            continue
        if kind == "alloc":
            size, dev, in_op, path = item[2:]
            if dev != device:
                continue
            s.peak = max(s.peak, current)
            if not in_op:
                s.peak_ops = max(s.peak_ops, current)
            s.log.append((size, current, " > ".join(p for p in path if not p.startswith(MARK))))
        else:
            s.peak_ops = max(s.peak_ops, current)
        s.allocated = current
    return stages


def iter_log(stages: list[StageBytes]) -> Iterator[str]:
    for s in stages:
        for size, current, path in s.log:
            yield f"{s.stage:9} {size:+14,} -> {current:>14,}  {path}"


__all__ = ["Recorder", "StageBytes", "iter_log", "torch"]
