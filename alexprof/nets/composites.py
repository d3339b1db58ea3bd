"""Composite descriptors: layers made of layers.

``Sequential`` applies its children in order, ``Parallel`` runs branches on the same
input and merges them (channel concat or elementwise add), ``Side`` is a training-only
branch whose output goes to the loss.  Child names must be unique within a parent.
No torch import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from alexprof.errors import ShapeError, UsageError
from alexprof.nets.layers import Layer, Shape, fmt_shape


@dataclass(frozen=True)
class Sequential(Layer):
    """Children applied one after another; names must be unique."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)
    kind: ClassVar[str] = "Sequential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        _unique(self.name, self.layers)

    def output_shape(self, in_shape: Shape) -> Shape:
        for layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape


@dataclass(frozen=True)
class Parallel(Layer):
    """Branches that all see the same input, merged by channel concatenation
    (Inception) or by elementwise addition (a residual block)."""

    branches: tuple[Layer, ...] = field(default_factory=tuple)
    merge: str = "concat"
    kind: ClassVar[str] = "Parallel"

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", tuple(self.branches))
        if self.merge not in ("concat", "add"):
            raise UsageError(f"layer {self.name!r}: merge={self.merge!r}; valid: 'concat', 'add'")
        if not self.branches:
            raise UsageError(f"layer {self.name!r}: a Parallel layer needs at least one branch")
        _unique(self.name, self.branches)

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.merged([branch.output_shape(in_shape) for branch in self.branches])

    def merged(self, outs: list[Shape]) -> Shape:
        """The shape of the merge of the branches' outputs ``outs``."""
        if self.merge == "add":
            if any(o != outs[0] for o in outs):
                raise ShapeError(
                    f"layer {self.name!r}: branches to add have different shapes "
                    + ", ".join(fmt_shape(o) for o in outs)
                )
            return outs[0]
        if any(len(o) != 3 or o[1:] != outs[0][1:] for o in outs):
            raise ShapeError(
                f"layer {self.name!r}: branches to concatenate differ in spatial size "
                + ", ".join(fmt_shape(o) for o in outs)
            )
        return (sum(o[0] for o in outs), *outs[0][1:])


@dataclass(frozen=True)
class Side(Layer):
    """A side branch that runs only in training: its layers see the input, their
    output goes to the loss with weight ``loss_weight``, and the main path carries
    the input on unchanged (GoogLeNet's auxiliary classifiers, weight 0.3)."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)
    loss_weight: float = 0.3
    kind: ClassVar[str] = "Side"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise UsageError(f"layer {self.name!r}: a Side branch needs at least one layer")
        if not 0.0 <= self.loss_weight:
            raise UsageError(f"layer {self.name!r}: loss_weight={self.loss_weight} must be >= 0")
        _unique(self.name, self.layers)

    def side_shape(self, in_shape: Shape) -> Shape:
        """The shape of the side output (what goes to the loss)."""
        for layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape

    def output_shape(self, in_shape: Shape) -> Shape:
        self.side_shape(in_shape)  # validates the branch
        return in_shape


Composite = Sequential | Parallel | Side


def _unique(parent: str, children: tuple[Layer, ...]) -> None:
    seen: set[str] = set()
    for child in children:
        if not isinstance(child, Layer):
            raise UsageError(f"layer {parent!r}: child {child!r} is not a layer descriptor")
        if child.name in seen:
            raise UsageError(f"layer {parent!r}: two children are named {child.name!r}")
        seen.add(child.name)
