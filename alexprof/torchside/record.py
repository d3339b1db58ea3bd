"""torch.nn.Module -> the calls its forward makes, recorded on the meta device.

The user's forward runs as the user wrote it: their module, their inputs (one
tensor of the requested shape), train mode, a batch of at least 2.  Nothing is
called again with arguments rebuilt by alexprof.  While it runs:

* forward hooks on every module note each module call; a module of a type alexprof
  models (:func:`~alexprof.torchside.bridge.reader_of`) is a *candidate* row;
* a ``TorchFunctionMode`` notes every torch call the forward makes on a tensor
  derived from the input (``x + y``, ``torch.cat``, ``F.relu6``, ``x.mean((2, 3))``,
  ``x.permute(...)``, and the ``F.conv2d`` inside ``nn.Conv2d``), with the module
  whose forward made it;
* a ``TorchDispatchMode`` charges each aten op's FLOPs, by FlopCounterMode's own
  formulas, to the call running it; every autograd node a call creates is noted,
  so that in the backward pass each op is charged to the call whose node runs it.

The step is run twice more, shapes only: at a second batch size, which tells each
tensor's batch dim (and a batch folded into another dim, as attention's
``B*heads``), and in eval mode, which tells the calls that run only in training.
:mod:`alexprof.torchside.extract` turns the calls into rows; :mod:`~alexprof.torchside.calls`
says what a call is.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves, tree_map
from torch.utils.flop_counter import FlopCounterMode

from alexprof.nets import Shape
from alexprof.torchside.bridge import reader_of
from alexprof.torchside.calls import (
    Arg,
    Call,
    RecorderError,
    _cxx_holds,
    _op_name,
    _ours,
    _via,
)
from alexprof.torchside.coldstart import compiler_left_cold

__all__ = ["BATCH", "PROBE", "Arg", "Call", "Recorder", "RecorderError", "record", "run"]

BATCH = 2  # the counting pass: BatchNorm in train mode refuses one value per channel
PROBE = 3  # the shapes pass: a dim that follows the batch is its batch dim

# Tensor methods and properties that read metadata: never a row.
_METADATA = frozenset(
    "__get__ size dim numel stride is_contiguous __len__ __bool__ __index__ __int__ "
    "__float__ __format__ __repr__ element_size data_ptr storage_offset is_floating_point "
    "is_complex __hash__ get_device type __reduce_ex__ tolist item __iter__ __contains__ "
    "requires_grad_ retain_grad __setstate__ untyped_storage __eq__ __ne__ equal "
    "has_names __array__ __dlpack__ __deepcopy__".split()
)
# Calls that make a new tensor from an input's metadata (its shape, dtype, device).
_CREATION = frozenset(
    "new_empty new_zeros new_ones new_full new_tensor zeros_like ones_like empty_like "
    "full_like rand_like randn_like randint_like".split()
)


class Recorder:
    """One forward (and backward) of a module on meta, every call noted."""

    def __init__(self, module: nn.Module, count: bool) -> None:
        self.module, self.count = module, count
        self.names = {m: n for n, m in module.named_modules()}
        self.calls: list[Call] = []
        self.kinds: dict[int, tuple[str, Any]] = {}
        self.keep: dict[int, torch.Tensor] = {}  # so that ids stay unique while recording
        self.frames: list[tuple[nn.Module, Call | None]] = []
        self.running: list[Call] = []  # torch calls in progress (innermost last)
        self.node_owner: dict[Any, Call] = {}
        self.entered: set[str] = set()  # every module whose forward ran
        self.mode: _Aten | None = None
        self.loss: torch.Tensor | None = None  # the training loss, until backward has run
        self.stray = [0, 0]  # FLOPs no call ran (forward, backward): shown, never dropped
        self.counter = FlopCounterMode(display=False)
        self.tids: dict[int, int] = {}  # id(tensor) -> tid
        self.sids: dict[int, int] = {}  # storage -> sid
        sentinel = torch.empty(0, device="meta")
        self.keep[id(sentinel)] = sentinel
        self.watched: dict[int, torch.Tensor] = {0: sentinel}  # tid -> tensor: its death is noted
        self.pending: list[int] = []  # deaths not yet given to a call
        self.made: list[Arg] = []  # constants made since the last call
        self.dead_at_end: list[int] = []  # deaths when the forward returned
        self.made_at_end: list[Arg] = []
        self.input: Arg | None = None  # the model's input, and what the forward returned
        self.outputs: list[Arg] = []

    def backward(self) -> None:
        """Run the backward from the training loss, charging each op to its call."""
        if self.loss is None or self.mode is None:
            return
        loss, self.loss = self.loss, None
        self.mode.backward = True
        with compiler_left_cold(), self.mode:
            loss.backward()

    # -- tensors ---------------------------------------------------------------------------

    @_ours
    def mark(self, t: torch.Tensor, role: str, param: Any = None) -> None:
        self.kinds[id(t)] = (role, param)
        self.keep[id(t)] = t

    def role(self, t: torch.Tensor) -> tuple[str, Any]:
        if isinstance(t, nn.Parameter):
            return ("param", t)
        return self.kinds.get(id(t), ("const", None))

    def arg(self, t: torch.Tensor) -> Arg:
        role, param = self.role(t)
        if id(t) not in self.tids:
            self.tids[id(t)] = len(self.tids) + 1
            self.keep[id(t)] = t
            if role != "param":
                self.watched[self.tids[id(t)]] = t
        storage = t.untyped_storage()._cdata
        sid = self.sids.setdefault(storage, len(self.sids) + 1)
        dtype = str(t.dtype).removeprefix("torch.")
        return Arg(tuple(t.shape), role, param, bool(t.requires_grad), tid=self.tids[id(t)],
                   sid=sid, dtype=dtype)  # fmt: skip

    def scan(self) -> None:
        """Note every watched tensor that nothing references any more but the recorder
        (its Python lifetime: the storage may live on, saved by autograd).  The sentinel
        (tid 0), held by the recorder alone, tells how many references that is; a tensor
        that C++ also holds (autograd saved it: ``_use_count() > 1``) holds one more on
        its Python object."""
        counts = {tid: sys.getrefcount(t) - _cxx_holds(t) for tid, t in self.watched.items()}
        for tid, n in counts.items():
            if tid and n <= counts[0]:
                del self.watched[tid]
                self.pending.append(tid)

    def begin(self, call: Call) -> None:
        self.scan()
        call.dead_before, self.pending = self.pending, []
        call.made_before, self.made = self.made, []

    @_ours
    def wrap(self, tree: Any) -> Any:
        return tree_map(lambda a: self.arg(a) if isinstance(a, torch.Tensor) else a, tree)

    # -- module hooks ----------------------------------------------------------------------

    def owner(self) -> Call | None:
        return next((c for _, c in reversed(self.frames) if c is not None), None)

    @_ours
    def pre(self, mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.entered.add(self.names[mod])
        call = None
        if reader_of(mod) is not None:
            call = Call(self.names[mod], "", module=mod, owner=self.owner())
            self.begin(call)
            call.args, call.kwargs = self.wrap(args), self.wrap(kwargs)
            call.params = list(mod.parameters())
            self.calls.append(call)
        self.frames.append((mod, call))

    @_ours
    def post(self, mod: nn.Module, args: Any, kwargs: Any, out: Any) -> None:
        _, call = self.frames.pop()
        if call is not None:
            call.outs = [self.arg(t) for t in tree_leaves(out) if isinstance(t, torch.Tensor)]

    # -- torch calls -----------------------------------------------------------------------

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = getattr(func, "__name__", "")
        if not self.frames or name in _METADATA:
            return func(*args, **kwargs)
        ins = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        roles = [self.role(t) for t in ins]
        if name in _CREATION or not any(r == "act" for r, _ in roles):
            out = func(*args, **kwargs)  # parameter preprocessing, constants
            params = [p for r, p in roles if r == "param"]
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor) and id(t) not in self.kinds:
                    if params and name not in _CREATION:
                        self.mark(t, "param", params[0])
                    else:
                        self.mark(t, "const")
                        known = t.untyped_storage()._cdata in self.sids or any(t is i for i in ins)
                        const = self.arg(t)
                        if not known:  # a new storage (not a buffer updated in place)
                            self.made.append(const)
            return out
        mod = self.frames[-1][0]
        call = Call(self.names[mod], _op_name(name), _via(func, name), owner=self.owner())
        self.begin(call)
        call.args, call.kwargs = self.wrap(args), self.wrap(kwargs)
        call.params = [p for r, p in roles if r == "param"]
        self.running.append(call)
        try:
            out = func(*args, **kwargs)
        finally:
            self.running.pop()
        outs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        if not outs:
            return out
        for t in outs:
            self.mark(t, "act")
        call.outs = [self.arg(t) for t in outs]
        self.calls.append(call)
        self.claim(call, outs)
        return out

    @_ours
    def claim(self, call: Call, outs: list[torch.Tensor]) -> None:
        """Every autograd node this call created is its own (the graph is walked from
        its outputs down to nodes that earlier calls created)."""
        todo = [t.grad_fn for t in outs if t.grad_fn is not None]
        while todo:
            node = todo.pop()
            if node is None or node in self.node_owner:
                continue
            self.node_owner[node] = call
            call.nodes.append(node)
            todo += [f for f, _ in node.next_functions if f is not None]

    @_ours
    def aten(self, func: Any, args: Any, kwargs: Any, out: Any, backward: bool) -> None:
        packet = func._overloadpacket
        if packet not in self.counter.flop_registry:
            return
        flops = int(self.counter.flop_registry[packet](*args, **kwargs, out_val=out))
        if backward:
            owner = self.node_owner.get(torch._C._current_autograd_node())
            if owner is None:
                self.stray[1] += flops
            else:
                owner.flops_backward += flops
        elif self.running:
            self.running[-1].flops += flops
        elif (holder := self.owner()) is not None:
            holder.flops += flops
        else:
            self.stray[0] += flops


class _Functions(TorchFunctionMode):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return self.recorder.function(func, args, kwargs or {})


class _Aten(TorchDispatchMode):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder, self.backward = recorder, False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.recorder.aten(func, args, kwargs or {}, out, self.backward)
        return out


def run(module: nn.Module, input_shape: Shape, batch: int, train: bool, count: bool) -> Recorder:
    """Run ``module`` once on a meta batch, recording every call and its forward FLOPs
    (with ``count``, also the backward's from the training loss, charged per call)."""
    from alexprof.torchside.replay import training_loss

    recorder = Recorder(module, count)
    module.train(train)
    hooks = [
        h
        for m in recorder.names
        for h in (
            m.register_forward_pre_hook(recorder.pre, with_kwargs=True),
            m.register_forward_hook(recorder.post, with_kwargs=True, always_call=True),
        )
    ]
    x = torch.empty((batch, *input_shape), device="meta")
    recorder.mark(x, "act")
    recorder.input = recorder.arg(x)
    recorder.input.batched, recorder.input.bdim = True, 0
    for t in [*module.parameters(), *module.buffers()]:  # their tensor and storage ids
        recorder.arg(t)
    recorder.mode = _Aten(recorder)
    try:
        with recorder.mode, _Functions(recorder):
            out = module(x)
    finally:
        for h in hooks:
            h.remove()
    recorder.outputs = [recorder.arg(t) for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
    recorder.scan()  # what the forward let go of when it returned (``out`` is held here)
    recorder.dead_at_end, recorder.pending = recorder.pending, []
    recorder.made_at_end, recorder.made = recorder.made, []
    grads = any(isinstance(t, torch.Tensor) and t.requires_grad for t in tree_leaves(out))
    if train and grads:  # nothing learned: no backward (every row's backward is 0)
        recorder.loss = training_loss(out, module)
        reached = _graph(recorder.loss.grad_fn)
        for call in recorder.calls:
            call.in_backward = any(node in reached for node in call.nodes)
        if count:
            recorder.backward()
    return recorder


def _graph(root: Any) -> set[Any]:
    """Every autograd node the backward from ``root`` can reach."""
    seen: set[Any] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo += [f for f, _ in node.next_functions]
    return seen


def batch_dims(counted: list[Call], probe: list[Call], batch: int, other: int) -> None:
    """Each tensor's batch dim, from the same calls at ``batch`` (train mode) and ``other``
    (eval mode), matched by module, op and call number.  A call that runs only in
    training has no twin: its tensors whose first dim is the batch are taken as batched."""
    twins = dict(zip(numbered_keys(probe), probe))
    for a_call, key in zip(counted, numbered_keys(counted)):
        b_call = twins.get(key)
        pairs = []
        if b_call is not None:
            pairs = list(zip(a_call.tensors() + a_call.outs, b_call.tensors() + b_call.outs))
        if len(pairs) != len(a_call.tensors() + a_call.outs) or any(
            len(a.shape) != len(b.shape) for a, b in pairs
        ):
            for a in a_call.tensors() + a_call.outs:
                first = bool(a.shape) and a.shape[0] == batch
                a.batched, a.bdim = first, 0 if first else None
            continue
        for a, b in pairs:
            diff = [i for i, (x, y) in enumerate(zip(a.shape, b.shape)) if x != y]
            if not diff:
                continue
            a.batched = True
            d = diff[0]
            if (
                len(diff) == 1
                and a.shape[d] % batch == 0
                and a.shape[d] * other == b.shape[d] * batch
            ):
                a.bdim, a.fold = d, a.shape[d] // batch


def record(
    module_factory: Any, input_shape: Shape, batch: int = BATCH
) -> tuple[list[Call], set[tuple[str, str, int]], Recorder]:
    """The calls of one training step at ``batch``, with batch dims resolved, and the
    (path, op, n-th call) keys that also run in eval mode (one eval pass at another batch
    size tells both)."""
    module = module_factory()  # one build for both passes: they change nothing but its mode
    with compiler_left_cold():
        counted = run(module, input_shape, batch, train=True, count=True)
        other = PROBE if batch != PROBE else PROBE + 1
        probe = run(module, input_shape, other, train=False, count=False)
    batch_dims(counted.calls, probe.calls, batch, other)
    return counted.calls, set(numbered_keys(probe.calls)), counted


def numbered_keys(calls: list[Call]) -> list[tuple[str, str, int]]:
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for c in calls:
        seen[c.key] = seen.get(c.key, 0) + 1
        keys.append((*c.key, seen[c.key]))
    return keys
