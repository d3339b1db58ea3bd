"""What the recorder notes of one call: its tensors (:class:`Arg`), the call itself
(:class:`Call`), and the name of the callable as the user wrote it (``x + y`` is
``Tensor.__add__``, ``x.add(y)`` is ``Tensor.add``: ptflops counts one and not the
other).  Imports torch.
"""

from __future__ import annotations

import dis
import os
import sys
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._pytree import tree_leaves

from alexprof.nets import Shape

_TORCH = str(torch.__file__).rsplit("/", 1)[0]
_HERE = os.path.dirname(__file__)  # the recorder's own frames are skipped too


class RecorderError(RuntimeError):
    """alexprof's own bookkeeping failed while the user's forward ran: a bug of
    alexprof's, never reported as the user's (:func:`_ours`)."""


def _ours(method: Any) -> Any:
    """Mark a recorder step as alexprof's own: a failure in it is a RecorderError."""

    @wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except RecorderError:
            raise
        except Exception as e:
            raise RecorderError(f"recording {method.__name__}: {type(e).__name__}: {e}") from e

    return run


@dataclass
class Arg:
    """A tensor a call took or returned."""

    shape: Shape  # batched, as it ran
    role: str  # "act" (derived from the input), "param" (a parameter or a view of one), "const"
    param: Any = None  # the nn.Parameter behind a "param"
    needs_grad: bool = False
    bdim: int | None = None  # its batch dim, once the shapes pass has run
    fold: int = 1  # >1: the batch is folded into ``bdim`` with this many per sample
    batched: bool = False  # does it follow the batch at all?
    tid: int = 0  # which tensor object (1, 2, ... in order of first sight; 0: not tracked)
    sid: int = 0  # which storage (views and in-place results share their input's)
    dtype: str = "float32"

    def per_sample(self) -> Shape:
        if not self.batched or self.bdim is None:
            return tuple(self.shape)
        if self.fold > 1:
            return (*self.shape[: self.bdim], self.fold, *self.shape[self.bdim + 1 :])
        return (*self.shape[: self.bdim], *self.shape[self.bdim + 1 :])

    def sample_dim(self, dim: int) -> int | None:
        """A batched dim of this tensor as a per-sample dim (None: the batch dim itself)."""
        rank = len(self.shape)
        d = dim % rank if rank else 0
        if not self.batched or self.bdim is None or self.fold > 1:
            return d
        if d == self.bdim:
            return None
        return d - 1 if d > self.bdim else d


@dataclass
class Call:
    """One module call or one torch call of the forward."""

    path: str  # the module: its dotted name ("" = root)
    op: str  # "" for a module call; else the torch call ("add", "cat", "conv2d", ...)
    via: str = (
        ""  # the callable, as ``Tensor.__add__`` / ``Tensor.add`` / ``torch.cat`` / ``F.relu``
    )
    module: nn.Module | None = None
    args: Any = ()  # positional args, tensors as Arg
    kwargs: Any = None  # keyword args, tensors as Arg
    outs: list[Arg] = field(default_factory=list)
    owner: Call | None = None  # the candidate module call it ran inside
    flops: int = 0  # FlopCounterMode's formulas, forward, whole batch
    flops_backward: int = 0
    params: list[nn.Parameter] = field(default_factory=list)  # parameters it used, in order
    nodes: list[Any] = field(default_factory=list)  # the autograd nodes it created
    in_backward: bool = False  # does the loss depend on one of its nodes?
    dead_before: list[int] = field(default_factory=list)  # tids whose last Python reference
    # went before this call began (the forward's locals, temporaries of an expression)
    made_before: list[Arg] = field(default_factory=list)  # constants made before it began

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.op)

    def tensors(self) -> list[Arg]:
        return [a for a in tree_leaves((self.args, self.kwargs)) if isinstance(a, Arg)]

    def first(self) -> Arg | None:
        """Its input: the first tensor derived from the model's input."""
        acts = [a for a in self.tensors() if a.role == "act"]
        return acts[0] if acts else None


def _cxx_holds(t: torch.Tensor) -> int:
    """1 when C++ also holds the tensor (then it holds a reference to its Python object)."""
    return int(t._use_count() > 1)  # type: ignore[attr-defined]


def _names() -> dict[int, str]:
    table: dict[int, str] = {}
    for prefix, space in (("torch.", torch), ("F.", F), ("Tensor.", torch.Tensor)):
        for attr in dir(space):
            obj = getattr(space, attr, None)
            if callable(obj):
                table.setdefault(id(obj), prefix + attr)
    return table


_VIA = _names()
_DUNDER = {"add": "__add__", "add_": "__iadd__", "mul": "__mul__", "mul_": "__imul__",
           "sub": "__sub__", "sub_": "__isub__", "div": "__truediv__", "div_": "__itruediv__",
           "matmul": "__matmul__", "rsub": "__rsub__"}  # fmt: skip


def _operator() -> bool:
    """Did the user's code reach this call through an operator (``x + y``, ``x @ w``)?"""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith((_TORCH, _HERE))):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return False
    return dis.opname[frame.f_code.co_code[frame.f_lasti]] == "BINARY_OP"


def _via(func: Any, name: str) -> str:
    if name in _DUNDER and _operator():
        return f"Tensor.{_DUNDER[name]}"
    return _VIA.get(id(func), f"{getattr(func, '__module__', '') or ''}.{name}".lstrip("."))


def _op_name(name: str) -> str:
    if name.startswith("__i") and name.endswith("__"):  # __iadd__ -> add_
        return name[3:-2].replace("truediv", "div") + "_"
    if name.startswith("__r") and name.endswith("__") and name != "__repr__":
        return name[3:-2].replace("truediv", "div")
    if name.startswith("__") and name.endswith("__"):
        return name[2:-2].replace("truediv", "div")
    return name
