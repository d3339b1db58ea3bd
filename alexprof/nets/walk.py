"""The one traversal of a network: every leaf in execution order, with its shapes.

No torch import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from alexprof.nets.composites import Parallel, Sequential, Side
from alexprof.nets.layers import BatchNorm2d, Conv2d, Layer, Linear, Shape, Unsupported


@dataclass(frozen=True)
class Placed:
    """A leaf layer placed in a network: its dotted name and its shapes."""

    name: str
    layer: Layer
    in_shape: Shape
    out_shape: Shape
    input_needs_grad: bool  # does autograd need the gradient w.r.t. this layer's input?
    training_only: bool = False  # inside a Side branch: runs in train mode only


def walk(root: Sequential, in_shape: Shape) -> Iterator[Placed]:
    """Every leaf in execution order, with shapes propagated from ``in_shape``.

    Leaves inside composites get dotted names (``inception3a.branch2.conv``);
    the root's own name is not a prefix.
    """
    yield from _children(root.layers, in_shape, "", False, False)


def _children(layers: tuple[Layer, ...], shape: Shape, prefix: str, needs_grad: bool,
              side: bool) -> Iterator[Placed]:
    main_grad = needs_grad
    for child in layers:
        for placed in _walk(child, shape, prefix, needs_grad, side):
            needs_grad = needs_grad or has_params(placed.layer)
            yield placed
        if isinstance(child, Side):
            needs_grad = main_grad  # a side branch's parameters do not feed the main path
        main_grad = needs_grad
        shape = child.output_shape(shape)


def _walk(layer: Layer, shape: Shape, prefix: str, needs_grad: bool,
          side: bool) -> Iterator[Placed]:
    if isinstance(layer, (Sequential, Side)):
        yield from _children(layer.layers, shape, f"{prefix}{layer.name}.", needs_grad,
                             side or isinstance(layer, Side))
    elif isinstance(layer, Parallel):
        for branch in layer.branches:
            yield from _walk(branch, shape, f"{prefix}{layer.name}.", needs_grad, side)
    else:
        yield Placed(f"{prefix}{layer.name}", layer, shape, layer.output_shape(shape), needs_grad,
                     side)


def has_params(layer: Layer) -> bool:
    if isinstance(layer, BatchNorm2d):
        return layer.affine
    if isinstance(layer, Unsupported):
        return layer.weights + layer.bias > 0
    return isinstance(layer, (Conv2d, Linear))
