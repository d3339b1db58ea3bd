"""The two registries of the torch bridge and their decorators.  Imports torch.

:mod:`alexprof.torchside.bridge` (the classic layers, containers, building) and
:mod:`alexprof.torchside.bridge_ops` (the ops of modern CNNs) both fill them, each
builder (``@builder``) beside its extraction (``@extracts``); a third-party class
(timm, torchvision) is read by its class name and attributes (``@reads_named``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from alexprof import nets as L
from alexprof.registry import ByType

BUILDERS: ByType[Callable[[Any], nn.Module]] = ByType("torch builder")
builder = BUILDERS.register  # @builder(L.Conv2d): descriptor -> nn.Module

Reader = Callable[[Any, str], "L.Layer | None"]  # (torch module, descriptor name) -> descriptor


@dataclass(frozen=True)
class Extraction:
    """Which torch module type a descriptor kind is recorded from, and how."""

    torch_type: type[nn.Module]
    read: Reader


EXTRACTIONS: ByType[Extraction] = ByType("torch extraction")

# class name -> the reader of a third-party module of that name (not torch's own classes)
NAMED_READERS: dict[str, Reader] = {}


def extracts(kind: type[L.Layer], torch_type: type[nn.Module]) -> Callable[[Reader], Reader]:
    """Decorator: ``read`` turns a ``torch_type`` module into a ``kind`` descriptor."""

    def add(read: Reader) -> Reader:
        EXTRACTIONS.register(kind)(Extraction(torch_type, read))
        return read

    return add


def reads_named(*class_names: str) -> Callable[[Reader], Reader]:
    """Decorator: ``read`` turns a module of a class so named, outside torch (timm's
    ``DropPath``), into a descriptor, or returns None when its attributes do not fit."""

    def add(read: Reader) -> Reader:
        for name in class_names:
            if name in NAMED_READERS:
                raise RuntimeError(f"a reader for class name {name} is already registered")
            NAMED_READERS[name] = read
        return read

    return add


def two(value: Any) -> L.Pair:
    """A torch module's ``int`` or pair field as the descriptor's pair."""
    return L.pair(value, "a torch module's field")


def output_pair(size: Any) -> L.Pair | None:
    """An adaptive pool's ``output_size`` as a pair; None where an entry is None (that
    dim keeps the input's size, which no descriptor says)."""
    both = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    return None if None in both else two(both)
