"""The measured side of ``memtrace``: one real training step, stage by stage.  Imports torch.

The step runs under the profiler's memory events (:mod:`alexprof.torchside.profiler`),
which see every allocation and free in order without changing what torch does.
On CPU that is the whole measurement: bytes alive after each stage, the peak
within it at allocator level, and the peak at op boundaries (what the model
predicts; the difference is temporaries inside single kernels).

On CUDA the headline numbers come from the caching allocator itself
(``memory_allocated``, and ``max_memory_allocated`` after
``reset_peak_memory_stats``, with ``synchronize``), minus what the warm-up left
allocated: the cuBLAS/cuBLASLt workspaces of the main thread and of autograd's
device thread, reported on their own.  ``memory_snapshot`` tells how many bytes
active blocks hold beyond their 512-rounded requests (the default allocator may
hand out a whole cached block; with ``expandable_segments:True`` it never does).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

os.environ.setdefault(
    "TORCH_CPP_LOG_LEVEL", "ERROR"
)  # see alexprof.torchside.profiler (before torch loads)

import torch

from alexprof.errors import CheckFailed, UsageError
from alexprof.memory.engine import storage_bytes
from alexprof.memory.stages import Stage, StageTrace, Trace, check_modelled
from alexprof.nets.net import Net
from alexprof.torchside.profiler import Recorder, iter_log

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class DeviceOutOfMemory(CheckFailed):
    """The device ran out of memory in a stage (exit 1)."""

    def __init__(self, stage: Stage | str, batch: int, detail: str) -> None:  # str: "warm-up"
        super().__init__(f"out of memory in stage {str(stage)!r} at batch {batch}: {detail}")
        self.stage, self.batch = stage, batch


def cuda_available() -> bool:
    return torch.cuda.is_available()


def allocator_config() -> str:
    return os.environ.get("PYTORCH_CUDA_ALLOC_CONF", os.environ.get("PYTORCH_ALLOC_CONF", ""))


def run_step(
    net: Net,
    input_shape: tuple[int, ...],
    batch: int,
    dtype: str = "float32",
    optimizer: str = "sgd-momentum",
    device: str = "cpu",
    foreach: bool | None = None,
    log: bool = False,
    seed: int = 0,
) -> Trace:
    """Run one training step of ``net`` (descriptors, or a user's module) and measure
    every stage."""
    if net.recorded is None:
        check_modelled(net)
    if device == "cuda" and not cuda_available():
        raise UsageError(
            "--device cuda: no CUDA device is available here (torch "
            f"{torch.__version__}); use --device cpu or --predict-only"
        )
    torch.manual_seed(seed)
    dev, dt = torch.device(device), TORCH_DTYPES[dtype]
    warmup = None
    if device == "cuda":
        try:
            warmup = _cuda_warmup(net, input_shape, dt, optimizer, dev, foreach)
        except RuntimeError as e:
            _reraise(e, "warm-up", batch, dtype, device)
    probe = _Probe(
        device, warmup["allocated"] if warmup else 0, warmup["over_allocation"] if warmup else 0
    )
    try:
        with probe.recorder.session():
            _step(probe, net, input_shape, batch, dt, optimizer, dev, foreach)
    except RuntimeError as e:
        _reraise(e, probe.current, batch, dtype, device)
    return Trace(
        device,
        probe.results(),
        warmup,
        allocator_config() if device == "cuda" else "",
        tuple(iter_log(probe.recorder.stages())) if log else (),
        torch.__version__,
    )


def _step(
    probe: _Probe | _NoProbe,
    net: Net,
    shape: tuple[int, ...],
    batch: int,
    dt: torch.dtype,
    optimizer: str,
    dev: torch.device,
    foreach: bool | None,
) -> None:
    from torch.nn.functional import cross_entropy

    from alexprof.torchside.bridge import side_outputs, to_module

    stored = max(batch, net.stored_batch or batch)
    with probe.stage(Stage.INPUT):
        x = torch.rand((stored, *shape), dtype=dt, device=dev)
        y = torch.randint(
            0, max(net.num_classes, 1), (stored, 1) if net.stored_batch else (stored,), device=dev
        )
        xb, yb = (x[:batch], y[:batch].squeeze(1)) if net.stored_batch else (x, y)
    with probe.stage(Stage.MODEL):
        if net.factory is not None:  # a user's module: built on meta, as it was recorded
            model = net.factory()
        else:
            with torch.device("meta"):
                model = to_module(net.body)
        model = model.to(dtype=dt).to_empty(device=dev)
        with torch.no_grad():
            for m in model.modules():
                reset = getattr(m, "reset_parameters", None)
                if callable(reset):
                    reset()
        model.train()
        opt = _optimizer(model, optimizer, foreach)
    with probe.stage(Stage.FORWARD):
        out = model(xb)
    with probe.stage(Stage.LOSS):
        loss = cross_entropy(out, yb) if net.factory is None else user_loss(out, yb)
        for weight, side in side_outputs(model):  # GoogLeNet's auxiliary classifiers
            loss = loss + weight * cross_entropy(side, yb)
    with probe.stage(Stage.BACKWARD):
        loss.backward()
    with probe.stage(Stage.STEP):
        if opt is not None:
            opt.step()
    with probe.stage(Stage.ZERO_GRAD):
        (opt or model).zero_grad(set_to_none=True)
    del x, y, xb, yb, out, loss


def user_loss(out: Any, y: torch.Tensor) -> torch.Tensor:
    """The loss of a user's module: over every tensor it returned that needs a gradient
    (a tuple, a dict), ``cross_entropy(t, y)`` for an N x classes output (``y`` is
    class 0), else ``t.mean()``; the terms are summed in order."""
    from torch.nn.functional import cross_entropy
    from torch.utils._pytree import tree_leaves

    terms = [
        cross_entropy(t, y) if t.dim() == 2 else t.mean()
        for t in tree_leaves(out)
        if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    if not terms:
        raise UsageError("the model's output does not depend on its parameters; nothing to train")
    loss = terms[0]
    for term in terms[1:]:
        loss = loss + term
    return loss


def _optimizer(
    model: torch.nn.Module, name: str, foreach: bool | None
) -> torch.optim.Optimizer | None:
    params = list(model.parameters())
    if name == "none":
        return None
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3, foreach=foreach)
    return torch.optim.SGD(
        params, lr=0.01, momentum=0.9 if name == "sgd-momentum" else 0.0, foreach=foreach
    )


class _Probe:
    """Marks the stages for the recorder; on CUDA also reads the allocator at their edges."""

    def __init__(self, device: str, baseline: int, base_over: int) -> None:
        self.device, self.baseline, self.base_over = device, baseline, base_over
        self.recorder = Recorder(device)
        self.current: Stage | str = ""  # the stage running now
        self.cuda: dict[Stage, tuple[int, int, int]] = {}

    @contextlib.contextmanager
    def stage(self, name: Stage) -> Iterator[None]:
        self.current = name
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with self.recorder.stage(name):
            yield
        if self.device == "cuda":
            torch.cuda.synchronize()
            self.cuda[name] = (
                torch.cuda.memory_allocated() - self.baseline,
                torch.cuda.max_memory_allocated() - self.baseline,
                _over_allocation() - self.base_over,
            )

    def results(self) -> tuple[StageTrace, ...]:
        out = []
        stages = self.recorder.stages()
        if self.device == "cuda" and not any(s.log for s in stages):
            raise CheckFailed(
                "torch.profiler reported no CUDA allocation during the step; "
                "this torch build does not record CUDA memory events"
            )
        for s in stages:
            stage = Stage(s.stage)  # the profiler's mark, read back as the member it was
            if self.device == "cuda":
                allocated, peak, over = self.cuda[stage]
                out.append(StageTrace(stage, allocated, peak, s.allocated, s.peak_ops, over))
            else:
                out.append(StageTrace(stage, s.allocated, s.peak, s.allocated, s.peak_ops))
        return tuple(out)


class _NoProbe:
    """Stages without measuring (the warm-up step)."""

    def stage(self, name: Stage) -> contextlib.nullcontext:
        return contextlib.nullcontext()


def _cuda_warmup(
    net: Net,
    shape: tuple[int, ...],
    dt: torch.dtype,
    optimizer: str,
    dev: torch.device,
    foreach: bool | None,
) -> dict[str, Any]:
    """Create the CUDA context and every library workspace before the measured step: one
    unmeasured step of the same network at batch 1.  What stays allocated afterwards (with
    every tensor freed) is the library's: the cuBLAS/cuBLASLt workspaces of the main thread
    and of autograd's device thread (each thread has its own handle, each handle its own
    workspace).  The cache is then emptied so the measured step starts from a clean pool."""
    torch.cuda.init()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    _step(_NoProbe(), net, shape, 1, dt, optimizer, dev, foreach)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    free, total = torch.cuda.mem_get_info()
    return {
        "allocated": torch.cuda.memory_allocated(),
        "created": torch.cuda.memory_allocated() - before,
        "reserved": torch.cuda.memory_reserved(),
        "device_used": total - free,
        "device_total": total,
        "device_name": torch.cuda.get_device_name(),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG", "(default)"),
        "over_allocation": _over_allocation(),
    }


def _over_allocation() -> int:
    """Bytes that active blocks hold beyond their 512-rounded requests (whole blocks)."""
    extra = 0
    for segment in torch.cuda.memory_snapshot():
        for block in segment.get("blocks", ()):
            if block.get("state") == "active_allocated":
                requested = block.get("requested_size", block["size"])
                extra += block["size"] - storage_bytes(requested, "bool", "cuda")
    return extra


def _reraise(e: RuntimeError, stage: Stage | str, batch: int, dtype: str, device: str) -> None:
    if isinstance(e, torch.OutOfMemoryError):
        raise DeviceOutOfMemory(stage, batch, str(e).splitlines()[0]) from None
    text = str(e)
    if "not implemented for" in text:
        raise UsageError(
            f"--dtype {dtype} on {device}: torch {torch.__version__} cannot run this "
            f"step ({text.splitlines()[0]}); use --dtype float32, another --device, "
            "or --predict-only"
        ) from None
    raise e
