"""Strides of a tensor on the tape, as torch computes them.  No torch import.

A :class:`~alexprof.memory.engine.Var` records its strides when they are not the
contiguous ones (``strides``, None otherwise): a ``permute`` is a view with permuted
strides, and whether a later ``reshape``, ``contiguous``, ``flatten`` or ``linear``
copies depends on them.  A channels-last map (the strides of ``permute(0, 2, 3, 1)``'s
contiguous copy seen through ``permute(0, 3, 1, 2)``) stays channels-last through
convolutions, pooling, batch and group norm and element-wise ops (torch picks the
output's memory format from the input's); :func:`keeps_channels_last` applies that.
"""

from __future__ import annotations

import math

from alexprof.memory.engine import Var

Strides = tuple[int, ...]


def contiguous_strides(shape: tuple[int, ...]) -> Strides:
    out, step = [], 1
    for size in reversed(shape):
        out.append(step)
        step *= size
    return tuple(reversed(out))


def is_contiguous(shape: tuple[int, ...], strides: Strides) -> bool:
    """torch's ``is_contiguous``: dims of size 1 may have any stride."""
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def strides_of(x: Var, shape: tuple[int, ...]) -> Strides:
    return x.strides if x.strides is not None else contiguous_strides(shape)


def layout(shape: tuple[int, ...], strides: Strides) -> Strides | None:
    """What a Var records: None for a contiguous tensor."""
    return None if is_contiguous(shape, strides) else strides


def view_strides(old: tuple[int, ...], strides: Strides, new: tuple[int, ...]) -> Strides | None:
    """torch's ``computeStride`` (aten/src/ATen/TensorUtils.cpp): the strides of
    ``view(new)``, or None when no view can express it (``reshape`` then copies)."""
    if math.prod(old) == 0 or not old:
        return contiguous_strides(new)
    out = [0] * len(new)
    view_d, base = len(new) - 1, strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old) - 1, -1, -1):
        tensor_numel *= old[d]
        if d == 0 or (old[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new[view_d] == 1):
                out[view_d] = view_numel * base
                view_numel *= new[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base, tensor_numel, view_numel = strides[d - 1], 1, 1
    return tuple(out) if view_d == -1 else None


def channels_last(shape: tuple[int, ...]) -> Strides:
    _, c, h, w = shape
    return (c * h * w, 1, w * c, c)


def keeps_channels_last(
    in_shape: tuple[int, ...], x: Strides | None, out_shape: tuple[int, ...]
) -> Strides | None:
    """The strides of a 4-D op's output whose input had strides ``x``: channels-last in,
    channels-last out (None: contiguous)."""
    if x is None or len(in_shape) != 4 or len(out_shape) != 4 or x != channels_last(in_shape):
        return None
    return layout(out_shape, channels_last(out_shape))
