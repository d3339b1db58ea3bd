"""One function per descriptor type, filled only by a decorator (no torch).

Cost formulas (:mod:`alexprof.counting.formulas`), memory rules (:mod:`alexprof.memory.rules`)
and torch builders (:mod:`alexprof.torchside.bridge`) are each one ``ByType``: a
second registration for the same type is refused, and a type with none is a
one-line :class:`~alexprof.errors.UsageError` naming the layer.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from alexprof.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


class ByType(Generic[F]):
    def __init__(self, what: str) -> None:
        self.what = what  # "cost formula", "memory rule", "torch builder"
        self._fns: dict[type, F] = {}

    def register(self, kind: type) -> Callable[[F], F]:
        """Decorator: ``fn`` handles descriptors of exactly ``kind``."""

        def add(fn: F) -> F:
            if kind in self._fns:
                raise RuntimeError(f"a {self.what} for {kind.__name__} is already registered")
            self._fns[kind] = fn
            return fn

        return add

    def of(self, layer: Any, name: str | None = None) -> F:
        """The function for ``layer``'s type (``name``: the layer's name in the network)."""
        try:
            return self._fns[type(layer)]
        except KeyError:
            raise UsageError(f"no {self.what} for layer {name or layer.name!r} of type "
                             f"{layer.kind}") from None
