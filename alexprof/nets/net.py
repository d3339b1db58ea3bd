"""A named network: its descriptors, or the leaves recorded from a user's torch module.

No torch import here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alexprof.errors import UsageError
from alexprof.nets.composites import Sequential
from alexprof.nets.flow import Graph
from alexprof.nets.shapes import Shape, fmt_shape
from alexprof.nets.walk import Placed, walk


@dataclass(frozen=True)
class Net:
    """A network: descriptors (``body``), or for a user's torch module the leaves
    recorded from one forward pass (``recorded``) and the module's ``factory``."""

    name: str
    description: str
    input_shape: Shape
    body: Sequential
    num_classes: int
    recorded: tuple[Placed, ...] | None = None  # leaves of an extracted torch module
    factory: Callable[[], Any] | None = None  # builds the user's nn.Module (current device)
    graph: Graph | None = None  # a user module: the data flow between its recorded rows
    batch: int = 1  # the batch size its source uses (memtrace's default)
    stored_batch: int | None = (
        None  # samples x and y hold when the step uses the first `batch` (a view)
    )

    def leaves(self, input_shape: Shape | None = None) -> list[Placed]:
        """Every leaf in execution order with its shapes, for ``input_shape``."""
        shape = self.input_shape if input_shape is None else tuple(input_shape)
        if self.recorded is None:
            return list(walk(self.body, shape))
        if shape != self.input_shape:
            raise UsageError(
                f"model {self.name!r} was recorded with input {fmt_shape(self.input_shape)}, "
                f"not {fmt_shape(shape)}; pass --input {','.join(map(str, shape))} when loading it"
            )
        return list(self.recorded)
