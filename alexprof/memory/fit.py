"""Capacity planning: the largest batch whose predicted training step fits in memory.

Pure arithmetic on :func:`alexprof.memory.predict` (no torch).  The predicted
peak is what ``torch.cuda.memory_allocated`` would reach (tensors, rounded to
the allocator's 512-byte blocks on CUDA).  It does not include what lives
outside the caching allocator's tensors: the CUDA context, the cuBLAS/cuDNN
workspaces created at warm-up, and fragmentation.  ``reserve`` sets those
bytes aside explicitly; nothing is added silently.  Sizes typed by a user are
parsed by :func:`alexprof.parse.byte_size`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alexprof.errors import UsageError
from alexprof.memory.predict import Prediction, predict
from alexprof.nets.net import Net

MAX_BATCH = 2**40  # the search stops here: a bound, not a claim about any device


@dataclass(frozen=True)
class Fit:
    memory: int  # bytes given
    reserve: int  # bytes set aside for what the prediction does not cover
    batch: int  # largest batch that fits (0: not even batch 1)
    prediction: Prediction | None  # at ``batch`` (None when batch is 0)
    next_peak: int | None  # predicted peak at batch + 1: the first one that does not fit
    tried: int  # how many predictions the search made

    @property
    def budget(self) -> int:
        return self.memory - self.reserve


def largest_batch(fits: Callable[[int], bool], limit: int = MAX_BATCH) -> tuple[int, int]:
    """Largest n in [1, limit] with fits(n) for a monotone ``fits``; 0 if none.

    Doubling then bisection: O(log n) calls.  Returns (n, calls made).
    """
    calls = 1
    if not fits(1):
        return 0, calls
    lo, hi = 1, 2
    while hi <= limit:
        calls += 1
        if not fits(hi):
            break
        lo, hi = hi, hi * 2
    else:
        return limit, calls
    while hi - lo > 1:  # fits(lo) and not fits(hi)
        mid = (lo + hi) // 2
        calls += 1
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo, calls


def fit(
    net: Net,
    memory: int,
    input_shape: tuple[int, ...] | None = None,
    dtype: str = "float32",
    optimizer: str = "sgd-momentum",
    device: str = "cuda",
    reserve: int = 0,
) -> Fit:
    if reserve >= memory:
        raise UsageError(f"--reserve {reserve:,} B leaves nothing of --memory {memory:,} B")
    peaks: dict[int, int] = {}

    def peak(batch: int) -> int:
        if batch not in peaks:
            peaks[batch] = predict(net, input_shape, batch, dtype, optimizer, device).peak
        return peaks[batch]

    batch, tried = largest_batch(lambda b: peak(b) <= memory - reserve)
    prediction = predict(net, input_shape, batch, dtype, optimizer, device) if batch else None
    return Fit(memory, reserve, batch, prediction, peak(batch + 1), tried)
