"""Shapes and the axis rules of PyTorch's convolution and pooling.  No torch import.

Shapes are per sample: ``(C, H, W)`` for feature maps and ``(F,)`` for vectors.
"""

from __future__ import annotations

from alexprof.errors import UsageError

Shape = tuple[int, ...]
Pair = tuple[int, int]
ROOT = "(root)"  # row name of a user module's root: its own parameters and functional calls


def pair(value: int | tuple[int, ...] | list[int], what: str) -> Pair:
    """Normalise ``k`` or ``(kh, kw)`` to ``(kh, kw)``."""
    if isinstance(value, bool):
        raise UsageError(f"{what}={value!r} must be an int or a pair of ints")
    if isinstance(value, int):
        return (value, value)
    items = tuple(value)
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise UsageError(f"{what}={value!r} must be an int or a pair of ints")
    return (items[0], items[1])


def positive(layer: str, **values: int | Pair) -> None:
    for key, value in values.items():
        for v in value if isinstance(value, tuple) else (value,):
            if v < 1:
                raise UsageError(f"layer {layer!r}: {key}={value!r} must be >= 1")


def non_negative(layer: str, **values: Pair) -> None:
    for key, value in values.items():
        if min(value) < 0:
            raise UsageError(f"layer {layer!r}: {key}={value!r} must be >= 0")


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(s) for s in shape)


def window_out(size: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a pooling window along one axis (PyTorch's pooling rule).

    ``floor((size + 2p - d(k-1) - 1 [+ s-1 with ceil_mode]) / s) + 1``, rounding
    toward minus infinity; with ``ceil_mode`` a last window that would start in
    the right padding is dropped.  In ceil mode a window wider than the input
    still yields one output (PyTorch allows it).  May return <= 0 (too small).
    """
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def conv_out(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    """Output length of a convolution along one axis; 0 when the dilated kernel
    is larger than the padded input (PyTorch refuses that)."""
    span = size + 2 * p - d * (k - 1) - 1
    return span // s + 1 if span >= 0 else 0
