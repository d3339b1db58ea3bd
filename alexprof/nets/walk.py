"""The one traversal of a network: enter, leaf and exit events in execution order.

Every analysis consumes it: counting (:func:`walk`, ``Net.leaves``), the memory model
(its forward replay of Sequential / Parallel / Side, the parameters it builds, its
notes: :mod:`alexprof.memory.replay`) and spec loading (:mod:`alexprof.nets.spec`,
which walks a file's tables and builds each descriptor when the walk reaches it, so
the shape that reaches a layer is worked out here and nowhere else).

The walk decides, once, two things about each leaf (:class:`Placed`): does autograd
need the gradient with respect to its input (some layer before it on its path holds a
parameter), and does it run only in training (it sits in a :class:`Side` branch).
No torch import here.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from alexprof.nets.composites import Parallel, Sequential, Side
from alexprof.nets.layers import Layer, Shape
from alexprof.nets.params import has_params
from alexprof.nets.shapes import ROOT
from alexprof.vocab import Vocab


class Form(Vocab):
    """How a node of the tree runs its children."""

    LEAF = "leaf"  # a layer: no children
    SEQUENTIAL = "Sequential"  # children in order, each on the output of the one before
    PARALLEL = "Parallel"  # branches on the same input, outputs concatenated or added
    SIDE = "Side"  # children in order on the input, output to the loss; the input goes on


FORMS: dict[type, Form] = {Sequential: Form.SEQUENTIAL, Parallel: Form.PARALLEL, Side: Form.SIDE}


def form_of(kind: type) -> Form:
    return FORMS.get(kind, Form.LEAF)


def row_name(path: str, call: int = 1) -> str:
    """The name a row shows: the layer's dotted path (``(root)`` for a user module's root
    itself), and ``#n`` for the n-th call of a module called more than once."""
    name = path or ROOT
    return name if call == 1 else f"{name}#{call}"


@dataclass(frozen=True)
class Placed:
    """A leaf layer placed in a network: where it sits, its shapes, what autograd needs."""

    path: str  # dotted path (``inception3a.branch2.conv``); a user module's name ("" = root)
    layer: Layer
    in_shape: Shape
    out_shape: Shape
    input_needs_grad: bool  # does autograd need the gradient w.r.t. this layer's input?
    training_only: bool = False  # inside a Side branch: runs in train mode only
    call: int = 1  # the n-th call of its module (a user's module may call one twice)
    in_backward: bool = True  # does the loss depend on its output (so backward runs it)?
    op: str = ""  # a functional call recorded from a forward ("add", "cat", "mean"); its
    # path is then its module's path plus ``.op`` (``layer1.0.add``); "" for a module's row
    via: str = ""  # with ``op``: the callable the forward called, as ``Tensor.__add__``
    # (``x + y``), ``Tensor.add``, ``torch.add``, ``F.relu``, ``torch.cat``

    @property
    def module(self) -> str:
        """The dotted name of the torch module whose forward ran this row ("" = root)."""
        if not self.op:
            return self.path
        return self.path[: len(self.path) - len(self.op)].rstrip(".")

    @property
    def name(self) -> str:
        """Its row's name: the path, ``#n`` for a repeat call (see :func:`row_name`)."""
        return row_name(self.path, self.call)


@dataclass(frozen=True)
class Enter:
    """A composite starts: its children come next."""

    path: str  # "" for the root, whose name is not a prefix
    form: Form
    in_shape: Shape


@dataclass(frozen=True)
class Exit:
    """A composite ends: every child has run."""

    path: str
    layer: Layer  # the composite (for a spec file, as just built from its children)
    in_shape: Shape
    out_shape: Shape  # what it hands on (a Side: its input)


Event = Enter | Placed | Exit
N = TypeVar("N")


class Source(Protocol[N]):
    """What the walk asks of a tree's nodes: descriptors, or a spec file's tables."""

    def open(self, node: N) -> tuple[Form, str, Sequence[N]]:
        """The node's form, its name and its children (checked before they are walked)."""

    def leaf(self, node: N, in_shape: Shape) -> Layer:
        """The descriptor of a leaf node, for the shape that reaches it."""

    def close(self, node: N, children: tuple[Layer, ...], in_shape: Shape) -> Layer:
        """The composite of a node, once its children are descriptors."""


class Descriptors:
    """The tree of an already built network: every node is its own descriptor."""

    def open(self, node: Layer) -> tuple[Form, str, Sequence[Layer]]:
        if isinstance(node, Parallel):
            return Form.PARALLEL, node.name, node.branches
        if isinstance(node, (Sequential, Side)):
            return form_of(type(node)), node.name, node.layers
        return Form.LEAF, node.name, ()

    def leaf(self, node: Layer, in_shape: Shape) -> Layer:
        return node

    def close(self, node: Layer, children: tuple[Layer, ...], in_shape: Shape) -> Layer:
        return node


def traverse(root: Sequential, in_shape: Shape) -> Iterator[Event]:
    """Enter / leaf / exit events of ``root`` for a per-sample ``in_shape``, in execution
    order.  Leaves get dotted paths (``inception3a.branch2.conv``); the root's own
    name is not a prefix (its Enter and Exit have the path "")."""
    yield from traverse_tree(root, in_shape, Descriptors())


def traverse_tree(root: N, in_shape: Shape, source: Source[N]) -> Iterator[Event]:
    """:func:`traverse` over any tree ``source`` can read (a spec file's tables)."""
    yield from _Walk(source).visit(root, in_shape, "", False, False, root=True)


def walk(root: Sequential, in_shape: Shape) -> Iterator[Placed]:
    """Every leaf in execution order, with its shapes."""
    return (e for e in traverse(root, in_shape) if isinstance(e, Placed))


Visit = Generator[Event, None, tuple[Layer, Shape, bool]]


class _Walk(Generic[N]):
    def __init__(self, source: Source[N]) -> None:
        self.source = source

    def visit(
        self, node: N, shape: Shape, prefix: str, needs_grad: bool, side: bool, root: bool = False
    ) -> Visit:
        """Events of ``node`` on ``shape``; returns its descriptor, its output shape and
        whether its output needs a gradient."""
        form, name, children = self.source.open(node)
        path = "" if root else f"{prefix}{name}"
        if form is Form.LEAF:
            layer = self.source.leaf(node, shape)
            placed = Placed(path, layer, shape, layer.output_shape(shape), needs_grad, side)
            yield placed
            return layer, placed.out_shape, needs_grad or has_params(layer)
        yield Enter(path, form, shape)
        inner = f"{path}." if path else ""
        built: list[Layer] = []
        outs: list[Shape] = []
        out, grad, any_grad = shape, needs_grad, needs_grad
        for child in children:
            if form is Form.PARALLEL:  # every branch sees the composite's input
                layer, o, g = yield from self.visit(child, shape, inner, needs_grad, side)
                outs.append(o)
                any_grad = any_grad or g
            else:
                layer, out, grad = yield from self.visit(
                    child, out, inner, grad, side or form is Form.SIDE
                )
            built.append(layer)
        composite = self.source.close(node, tuple(built), shape)
        if form is Form.PARALLEL:
            assert isinstance(composite, Parallel)
            out, grad = composite.merged(outs), any_grad
        elif form is Form.SIDE:  # its output goes to the loss; the main path gets the input
            out, grad = shape, needs_grad
        yield Exit(path, composite, shape, out)
        return composite, out, grad
