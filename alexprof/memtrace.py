"""The measured side of ``memtrace``: one real training step, stage by stage.  Imports torch.

CPU has no allocator statistics, so every storage is tracked as it appears:
:class:`StorageTracker` is a ``TorchDispatchMode`` that sees the outputs of
every aten op (forward, backward and optimizer alike), registers each new
storage once (a view or an in-place result shares its storage) with a weakref
finalizer, and so knows the bytes alive after every op and when each storage
is freed.  It counts whole ops: a temporary inside one kernel is invisible.

On CUDA the numbers come from the caching allocator itself
(``memory_allocated``, ``max_memory_allocated`` after ``reset_peak_memory_stats``,
with ``synchronize``), minus what the warm-up left allocated (the cuBLAS
workspaces of the main thread and of autograd's device thread), which is
reported on its own.  The tracker runs there too, with sizes rounded to 512
bytes: what it sees is the op-level truth, so ``memory_allocated`` minus the
tracker is the allocator's doing (whole blocks handed out under the default
configuration, also read from ``memory_snapshot``) and, for peaks, temporaries
inside kernels (cuDNN workspaces).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Any, Callable, Iterator

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from alexprof.errors import CheckFailed, UsageError
from alexprof.memory import STAGES
from alexprof.memreport import StageTrace, Trace
from alexprof.memsim import storage_bytes
from alexprof.zoo import Net

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class DeviceOutOfMemory(CheckFailed):
    """The device ran out of memory in a stage (exit 1)."""

    def __init__(self, stage: str, batch: int, detail: str) -> None:
        super().__init__(f"out of memory in stage {stage!r} at batch {batch}: {detail}")
        self.stage, self.batch = stage, batch


class StorageTracker(TorchDispatchMode):
    """Bytes of live storages on one device type, updated after every aten op."""

    def __init__(self, device: str, log: bool = False) -> None:
        super().__init__()
        self.device, self.keep_log = device, log
        self.live: dict[int, int] = {}
        self.current = self.peak = 0
        self.stage = ""
        self.log: list[tuple] = []
        self._lock = threading.RLock()

    def begin(self, stage: str) -> None:
        with self._lock:
            self.stage, self.peak = stage, self.current

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type == self.device and t.layout == torch.strided:
                self._see(t, func)
        return out

    def _see(self, t: torch.Tensor, func: Any) -> None:
        storage = t.untyped_storage()
        key = id(storage)
        nbytes = storage_bytes(storage.nbytes(), "bool", self.device)  # bytes, rounded on CUDA
        with self._lock:
            old = self.live.get(key)
            if old == nbytes:
                return
            self.live[key] = nbytes
            self.current += nbytes - (old or 0)
            self.peak = max(self.peak, self.current)
            if self.keep_log:
                self.log.append((self.stage, +1, nbytes, str(func.overloadpacket.__name__),
                                 tuple(t.shape), str(t.dtype).replace("torch.", ""), self.current))
        if old is None:
            weakref.finalize(storage, self._free, key, tuple(t.shape))

    def _free(self, key: int, shape: tuple) -> None:
        with self._lock:
            nbytes = self.live.pop(key, 0)
            self.current -= nbytes
            if self.keep_log:
                self.log.append((self.stage, -1, nbytes, "free", shape, "", self.current))


def cuda_available() -> bool:
    return torch.cuda.is_available()


def allocator_config() -> str:
    return os.environ.get("PYTORCH_CUDA_ALLOC_CONF", os.environ.get("PYTORCH_ALLOC_CONF", ""))


def expandable_segments() -> bool:
    return "expandable_segments:true" in allocator_config().replace(" ", "").lower()


def run_step(net: Net, input_shape: tuple[int, ...], batch: int, dtype: str = "float32",
             optimizer: str = "sgd-momentum", device: str = "cpu", foreach: bool | None = None,
             log: bool = False, seed: int = 0) -> Trace:
    """Run one training step of ``net`` and measure every stage."""
    if device == "cuda" and not cuda_available():
        raise UsageError("--device cuda: no CUDA device is available here (torch "
                         f"{torch.__version__}); use --device cpu or --predict-only")
    torch.manual_seed(seed)
    dev, dt = torch.device(device), TORCH_DTYPES[dtype]
    warmup = None
    if device == "cuda":
        try:
            warmup = _cuda_warmup(net, input_shape, dt, optimizer, dev, foreach)
        except RuntimeError as e:
            _reraise(e, "warm-up", batch, dtype, device)
    probe = _Probe(device, warmup["allocated"] if warmup else 0,
                   warmup["over_allocation"] if warmup else 0, log)
    try:
        with probe.tracker:
            _step(probe, net, input_shape, batch, dt, optimizer, dev, foreach)
    except RuntimeError as e:
        _reraise(e, probe.tracker.stage, batch, dtype, device)
    return Trace(device, tuple(probe.stages), warmup,
                 allocator_config() if device == "cuda" else "", tuple(probe.tracker.log))


def _step(probe: "_Probe | _NoProbe", net: Net, shape: tuple[int, ...], batch: int, dt: torch.dtype,
          optimizer: str, dev: torch.device, foreach: bool | None) -> None:
    from torch.nn.functional import cross_entropy

    from alexprof.torch_bridge import to_module

    stored = max(batch, net.stored_batch or batch)
    with probe.stage("input"):
        x = torch.rand((stored, *shape), dtype=dt, device=dev)
        y = torch.randint(0, net.num_classes, (stored, 1) if net.stored_batch else (stored,), device=dev)
        xb, yb = (x[:batch], y[:batch].squeeze(1)) if net.stored_batch else (x, y)
    with probe.stage("model"):
        with torch.device("meta"):
            model = to_module(net.body)
        model = model.to(dtype=dt).to_empty(device=dev)
        with torch.no_grad():
            for m in model.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        model.train()
        opt = _optimizer(model, optimizer, foreach)
    with probe.stage("forward"):
        out = model(xb)
    with probe.stage("loss"):
        loss = cross_entropy(out, yb)
    with probe.stage("backward"):
        loss.backward()
    with probe.stage("step"):
        if opt is not None:
            opt.step()
    with probe.stage("zero_grad"):
        (opt or model).zero_grad(set_to_none=True)
    del x, y, xb, yb, out, loss


def _optimizer(model: torch.nn.Module, name: str, foreach: bool | None) -> torch.optim.Optimizer | None:
    params = list(model.parameters())
    if name == "none":
        return None
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3, foreach=foreach)
    return torch.optim.SGD(params, lr=0.01, momentum=0.9 if name == "sgd-momentum" else 0.0,
                           foreach=foreach)


class _Probe:
    """Reads the tracker (and on CUDA the allocator) at the edges of each stage."""

    def __init__(self, device: str, baseline: int, base_over: int, log: bool) -> None:
        self.device, self.baseline, self.base_over = device, baseline, base_over
        self.tracker = StorageTracker(device, log)
        self.stages: list[StageTrace] = []

    def stage(self, name: str) -> "_StageContext":
        return _StageContext(self, name)

    def start(self, name: str) -> None:
        self.tracker.begin(name)
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def finish(self, name: str) -> None:
        t = self.tracker
        if self.device != "cuda":
            self.stages.append(StageTrace(name, t.current, t.peak, t.current, t.peak))
            return
        torch.cuda.synchronize()
        self.stages.append(StageTrace(
            name, torch.cuda.memory_allocated() - self.baseline,
            torch.cuda.max_memory_allocated() - self.baseline, t.current, t.peak,
            _over_allocation() - self.base_over))


class _NoProbe:
    """Stages without measuring (the warm-up step)."""

    def stage(self, name: str) -> contextlib.nullcontext:
        return contextlib.nullcontext()


class _StageContext:
    def __init__(self, probe: _Probe, name: str) -> None:
        assert name in STAGES
        self.probe, self.name = probe, name

    def __enter__(self) -> None:
        self.probe.start(self.name)

    def __exit__(self, kind: type | None, *rest: object) -> None:
        if kind is None:
            self.probe.finish(self.name)


def _cuda_warmup(net: Net, shape: tuple[int, ...], dt: torch.dtype, optimizer: str,
                 dev: torch.device, foreach: bool | None) -> dict[str, Any]:
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


def _reraise(e: RuntimeError, stage: str, batch: int, dtype: str, device: str) -> None:
    if isinstance(e, torch.OutOfMemoryError):
        raise DeviceOutOfMemory(stage, batch, str(e).splitlines()[0]) from None
    text = str(e)
    if "not implemented for" in text:
        raise UsageError(f"--dtype {dtype} on {device}: torch {torch.__version__} cannot run this "
                         f"step ({text.splitlines()[0]}); use --dtype float32 or bfloat16, "
                         "or --predict-only") from None
    raise e


def iter_log(trace: Trace) -> Iterator[str]:
    for stage, sign, nbytes, op, shape, dtype, current in trace.log:
        yield f"{stage:9} {'+' if sign > 0 else '-'}{nbytes:>12,} {op:32} {shape} {dtype} -> {current:,}"


Runner = Callable[..., Trace]
