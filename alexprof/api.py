"""The public entry points on anything that names a network: a zoo name, a spec file,
``path/file.py:factory``, a :class:`~alexprof.nets.net.Net`, or a live ``torch.nn.Module``
(a notebook's model object).  No torch import unless a module is given.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from alexprof.counting.analysis import count as _count
from alexprof.counting.conventions import DEFAULT_CONVENTION
from alexprof.counting.rows import Report
from alexprof.errors import UsageError
from alexprof.nets.net import Net
from alexprof.nets.resolve import resolve
from alexprof.nets.shapes import Shape

if TYPE_CHECKING:
    from alexprof.memory.fit import Fit
    from alexprof.memory.predict import Prediction


def _is_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def load_model(model: Any, input_shape: Shape | None = None) -> Net:
    """The :class:`~alexprof.nets.net.Net` of ``model``.

    ``model`` is a name (``"resnet50"``), a spec file, ``"file.py:factory"``, a Net, or a
    ``torch.nn.Module``.  A module (or a factory) is run once on meta tensors of
    ``input_shape`` (per sample, e.g. ``(3, 224, 224)``, required for them); the module
    itself is not changed: its weights stay where they are and its train/eval mode is kept.
    """
    if isinstance(model, Net):
        return model
    if isinstance(model, str):
        return resolve(model, None if input_shape is None else tuple(input_shape))
    if _is_module(model):
        from alexprof.torchside.usermodule import load_live

        if input_shape is None:
            raise UsageError(
                f"input_shape is required with a torch module ({type(model).__name__}): "
                "alexprof runs it once on that shape, e.g. input_shape=(3, 224, 224)"
            )
        return load_live(model, tuple(input_shape))
    raise UsageError(
        f"model={type(model).__name__!r}: expected a name, a spec file, 'file.py:factory', "
        "an alexprof Net or a torch.nn.Module"
    )


def count(
    model: Any,
    input_shape: Shape | None = None,
    batch: int = 1,
    convention: str = DEFAULT_CONVENTION,
) -> Report:
    """Per-layer parameters, MACs and FLOPs (forward and backward) of ``model``.

    The report is the one ``alexprof flops`` renders: ``.totals()``, ``.rows`` (one
    :class:`~alexprof.counting.rows.LayerRow` per layer or functional call) and
    ``.to_json()``.  ``model`` is anything :func:`load_model` takes::

        >>> import alexprof
        >>> alexprof.count("alexnet", batch=32).totals()["params"]
        50844008
        >>> # model = torchvision.models.resnet18()   (any nn.Module)
        >>> # alexprof.count(model, input_shape=(3, 224, 224)).totals()["macs"]
        >>> # 1814073344

    Parameters do not depend on ``batch``; MACs and FLOPs are for the whole batch.
    ``convention`` is one of ``alexprof flops --help``'s conventions (``macs``,
    ``flopcounter``, ``ptflops``, ``aten``).
    """
    net = load_model(model, input_shape)
    return _count(net, input_shape if not _is_module(model) else None, batch, convention)


def predict(
    model: Any,
    input_shape: Shape | None = None,
    batch: int = 1,
    dtype: str = "float32",
    optimizer: str = "sgd-momentum",
    device: str = "cuda",
    foreach: bool | None = None,
) -> Prediction:
    """The memory of one training step of ``model`` (anything :func:`load_model` takes,
    a live ``torch.nn.Module`` included), stage by stage; ``.peak`` is the op-level peak
    in bytes.  A module is recorded once on meta: any batch costs the same."""
    from alexprof.memory.predict import predict as _predict

    net = load_model(model, input_shape)
    return _predict(net, input_shape, batch, dtype, optimizer, device, foreach)


def fit(
    model: Any,
    memory: int | str,
    input_shape: Shape | None = None,
    dtype: str = "float32",
    optimizer: str = "sgd-momentum",
    device: str = "cuda",
    reserve: int = 0,
) -> Fit:
    """The largest batch whose predicted training step of ``model`` fits in ``memory``
    (bytes, or a size such as ``"16GiB"``); ``model`` as for :func:`predict`."""
    from alexprof.memory.fit import fit as _fit
    from alexprof.parse import byte_size

    size = byte_size(memory, "memory") if isinstance(memory, str) else memory
    net = load_model(model, input_shape)
    return _fit(net, size, input_shape, dtype, optimizer, device, reserve)
