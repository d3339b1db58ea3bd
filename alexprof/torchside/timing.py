"""Time each layer of a network on this machine (imports torch: load it lazily).

Each leaf module is timed alone, forward only, on the very tensor it received
in one full forward pass: a few warm-up calls (allocator, cuDNN algorithm
choice, caches), then the median of ``repeats`` timed calls.  On CUDA every
call sits between two ``torch.cuda.Event(enable_timing=True)`` records and is
read after the end event synchronises, so the time is the GPU's, not the
launch's.  On CPU the wall clock (``time.perf_counter``) is used.  One whole
training step (forward, the loss of :func:`alexprof.torchside.replay.training_loss`,
backward, plain SGD step) is timed the same way.  Weights get PyTorch's default
initialisation and inputs are normal noise (uninitialised memory can hold denormals, which
slow CPU arithmetic).

TF32: for ``float32`` the run forbids TF32 tensor cores (cuDNN convolutions
would otherwise use them by default on Ampere and later), for ``tf32`` it
allows them; the previous settings are restored afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import time
from collections.abc import Callable, Iterator

import torch

from alexprof.errors import UsageError
from alexprof.nets import Shape
from alexprof.nets.net import Net
from alexprof.speed.roofline import Timing
from alexprof.torchside.bridge import leaf_modules, module_of

TORCH_DTYPES = {
    "float32": torch.float32,
    "tf32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def pick_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cpu", "cuda"):
        raise UsageError(f"--device {name!r}; valid: auto, cpu, cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: torch sees no CUDA device here; use --device cpu")
    return name


def describe(device: str) -> str:
    if device == "cuda":
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__})"
    return f"{cpu_model()}, torch {torch.__version__} on {torch.get_num_threads()} CPU thread(s)"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


@contextlib.contextmanager
def tf32(allowed: bool) -> Iterator[None]:
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def median_seconds(fn: Callable[[], object], device: str, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)  # elapsed_time is in milliseconds
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_layers(
    net: Net,
    input_shape: Shape,
    batch: int,
    dtype: str,
    device: str = "auto",
    warmup: int = 2,
    repeats: int = 5,
    threads: int | None = None,
) -> Timing:
    """Median forward seconds of every leaf layer, and of one training step.

    ``threads`` sets torch's CPU threads for the run (restored afterwards)."""
    if warmup < 0 or repeats < 1:
        raise UsageError(f"--repeats {repeats} must be >= 1 (warm-up {warmup} >= 0)")
    if threads is not None and threads < 1:
        raise UsageError(f"--threads {threads} must be a positive integer")
    device = pick_device(device)
    with tf32(dtype == "tf32"), cpu_threads(threads):
        module = initialised(module_of(net, device)).to(TORCH_DTYPES[dtype])
        module.train()
        x = torch.randn((batch, *input_shape), device=device, dtype=TORCH_DTYPES[dtype])
        per_layer = _per_layer(module, x, device, warmup, repeats)
        step = _step(module, x, device, warmup, repeats)
        notes = ("forward per layer under torch.no_grad(); dropout in training mode",)
        return Timing(describe(device), per_layer, step, warmup, repeats, notes)


def initialised(module: torch.nn.Module) -> torch.nn.Module:
    """PyTorch's default initialisation for every submodule that has one (the module
    was materialised from meta, so its memory holds whatever was there)."""
    with torch.no_grad():
        for sub in module.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
    return module


def _per_layer(
    module: torch.nn.Module, x: torch.Tensor, device: str, warmup: int, repeats: int
) -> dict[str, float]:
    inputs: dict[str, torch.Tensor] = {}
    leaves = leaf_modules(module)
    hooks = [leaf.register_forward_pre_hook(_keeper(inputs, name)) for name, leaf in leaves.items()]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for hook in hooks:
            hook.remove()
    seconds = {}
    with torch.no_grad():
        for name, leaf in leaves.items():
            inp = inputs[name]
            seconds[name] = median_seconds(functools.partial(leaf, inp), device, warmup, repeats)
    return seconds


def _keeper(store: dict[str, torch.Tensor], name: str) -> Callable[..., None]:
    def keep(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        store[name] = args[0]

    return keep


def _step(
    module: torch.nn.Module, x: torch.Tensor, device: str, warmup: int, repeats: int
) -> float:
    from alexprof.torchside.replay import (  # cross-entropy on 2-D outputs, side heads added
        training_loss,
    )

    optimizer = torch.optim.SGD(module.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        training_loss(module(x), module).backward()
        optimizer.step()

    return median_seconds(step, device, warmup, repeats)
