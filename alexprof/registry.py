"""One entry per descriptor type, filled only by a decorator (no torch).

Cost formulas (:mod:`alexprof.counting.formulas`), memory rules (:mod:`alexprof.memory.rules`),
torch builders and extractions (:mod:`alexprof.torchside.bridge`), parameter shapes
(:mod:`alexprof.nets.params`) and ptflops' behaviour (:mod:`alexprof.counting.conventions`)
are each one ``ByType``: a second registration for the same type is refused, and a type
with none is a one-line :class:`~alexprof.errors.UsageError` naming the layer.  A test
(``tests/test_kinds.py``) checks that every descriptor kind has an entry in each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from alexprof.errors import UsageError

T = TypeVar("T")


class ByType(Generic[T]):
    """Descriptor type -> one entry (a function, or a fact about that kind)."""

    def __init__(self, what: str) -> None:
        self.what = what  # "cost formula", "memory rule", "torch builder", ...
        self._entries: dict[type, T] = {}

    def register(self, kind: type) -> Callable[[T], T]:
        """Decorator: ``entry`` is the one for descriptors of exactly ``kind``."""

        def add(entry: T) -> T:
            if kind in self._entries:
                raise RuntimeError(f"a {self.what} for {kind.__name__} is already registered")
            self._entries[kind] = entry
            return entry

        return add

    def of(self, layer: Any, name: str | None = None) -> T:
        """The entry for ``layer``'s type (``name``: the layer's name in the network)."""
        try:
            return self._entries[type(layer)]
        except KeyError:
            raise UsageError(
                f"no {self.what} for layer {name or layer.name!r} of type {layer.kind}"
            ) from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def items(self) -> list[tuple[type, T]]:
        """Every (type, entry), in registration order."""
        return list(self._entries.items())
