"""A user's ``torch.nn.Module`` -> a :class:`~alexprof.nets.net.Net`: built on the meta
device, run once, its leaves recorded (:mod:`alexprof.torchside.record`).  Imports torch.

Every failure in the user's code (factory, return type, forward) is one
:class:`~alexprof.errors.UsageError` line naming the cause.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from alexprof.errors import UsageError, one_line
from alexprof.nets import Sequential, Shape, fmt_shape
from alexprof.nets.net import Net


def meta_factory(ref: str, factory: Callable[[], Any]) -> Callable[[], Any]:
    """A callable that builds the user's module on meta: inside ``torch.device('meta')``
    when the factory allows it, else normally and then moved to meta."""
    import torch

    _no_arguments(ref, factory)

    def checked(module: Any) -> Any:
        if not isinstance(module, torch.nn.Module):
            raise UsageError(
                f"--model {ref!r}: the factory returned {type(module).__name__}, "
                "not a torch.nn.Module"
            )
        return module

    try:
        with torch.device("meta"):
            first = [checked(factory())]
    except UsageError:
        raise
    except Exception as e:  # e.g. it loads weights: build it for real, and say so
        meta_error = f"{type(e).__name__}: {e}"
    else:

        def build() -> Any:  # the module built to check is the first one handed out
            return first.pop() if first else checked(_call(ref, factory, meta=True))

        return build
    checked(_call(ref, factory, meta=False))  # a failure here is the one error line
    print(
        f"alexprof: note: --model {ref!r} cannot be built on the meta device ({meta_error}); "
        "built on the CPU instead, weights included",
        file=sys.stderr,
    )
    return lambda: _call(ref, factory, meta=False).to("meta")


def _no_arguments(ref: str, factory: Callable[..., Any]) -> None:
    """A factory must build the module alone: name the arguments it requires."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: just call it
        return
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)  # fmt: skip
    needed = [p.name for p in params if p.kind in kinds and p.default is p.empty]
    if needed:
        raise UsageError(
            f"--model {ref!r}: the factory needs arguments ({', '.join(needed)}); give a "
            "callable that takes none (a small wrapper function or functools.partial)"
        )


def _call(ref: str, factory: Callable[[], Any], meta: bool) -> Any:
    import torch

    try:
        if meta:
            with torch.device("meta"):
                return factory()
        return factory()
    except Exception as e:
        raise UsageError(f"--model {ref!r}: the factory raised {one_line(e)}") from e


def load_module(ref: str, factory: Callable[[], Any], input_shape: Shape) -> Net:
    """Load, build on meta, run once and extract the placed leaves of a user module."""
    from alexprof.torchside.extract import extract
    from alexprof.torchside.record import RecorderError

    build = meta_factory(ref, factory)
    try:
        leaves, graph, module = extract(build, input_shape)
    except (UsageError, RecorderError):  # a RecorderError is alexprof's bug, not the user's
        raise
    except TypeError as e:
        if "required positional argument" not in str(e) or "forward()" not in str(e):
            raise _forward_error(ref, input_shape, e) from e
        raise UsageError(
            f"--model {ref!r}: its forward takes more than one input ({one_line(e)}); alexprof "
            f"calls it with one tensor of --input's shape ({fmt_shape(input_shape)} per "
            "sample): wrap it in a module whose forward takes one"
        ) from e
    except Exception as e:  # the user's forward: any failure is theirs
        raise _forward_error(ref, input_shape, e) from e
    kind = type(module).__name__
    return Net(
        ref,
        f"user module {kind} from {ref}",
        input_shape,
        Sequential("user", ()),
        0,
        recorded=tuple(leaves),
        factory=build,
        graph=graph,
    )


def _forward_error(ref: str, input_shape: Shape, e: Exception) -> UsageError:
    from alexprof.torchside.record import BATCH

    return UsageError(
        f"--model {ref!r}: forward (and backward) on a meta tensor of shape "
        f"{BATCH}x{fmt_shape(input_shape)} failed: {one_line(e)}"
    )


def meta_copy(module: Any) -> Any:
    """A copy of a live module whose parameters and buffers are meta tensors of the same
    shapes: nothing is copied but the module objects, and the original is untouched."""
    import copy

    import torch

    memo: dict[int, Any] = {}
    for p in module.parameters():
        memo[id(p)] = torch.nn.Parameter(torch.empty_like(p, device="meta"), p.requires_grad)
    for b in module.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(module, memo)


def load_live(module: Any, input_shape: Shape) -> Net:
    """A live ``nn.Module`` (weights anywhere, any mode) as a Net, by its meta copy."""
    kind = type(module).__name__
    return load_module(f"<{kind} object>", lambda: meta_copy(module), input_shape)
