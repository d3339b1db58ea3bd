"""Recorded calls -> placed rows, each with torch's numbers beside it.

A module of a type alexprof models becomes one row when its descriptor's shape
rule and parameter count agree with what ran; the torch calls inside it are then
its own.  Otherwise (a module alexprof does not model, or one whose descriptor does
not fit) its forward's torch calls become rows, one each, named after the module and
the op (``layer1.0.add``, ``layer1.0.add#2``), read by :mod:`alexprof.torchside.functional`.
A call no reader describes is ``unsupported``, carrying the FLOPs FlopCounterMode's
formulas give it and the parameters it used.  Parameters no row used stay on a
row of their module (``own parameters``), so totals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from alexprof import nets as L
from alexprof.errors import UsageError
from alexprof.nets import Placed, Shape, split_weights_bias
from alexprof.nets.flow import Flow, FlowTensor, Graph, Stored
from alexprof.nets.params import weights_and_bias
from alexprof.torchside import functional
from alexprof.torchside.bridge import reader_of
from alexprof.torchside.record import BATCH, Arg, Call, Recorder, record

STRAY = "(unattributed)"


@dataclass
class Row:
    """A row and the calls behind it."""

    path: str
    op: str
    via: str
    layer: L.Layer | None  # None until decided: unsupported
    call: Call
    flops: int = 0  # FlopCounterMode's formulas, whole recorded batch
    flops_backward: int = 0
    in_backward: bool = False
    module: nn.Module | None = None  # a merged row: the module it stands for
    extra: list[Call] = field(default_factory=list)  # a merged row: its other calls


def _leaf_name(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    return name if name and name.replace("_", "").replace("-", "").isalnum() else "layer"


def _fits(layer: L.Layer | None, call: Call) -> bool:
    first = call.first()
    if layer is None or first is None or not call.outs:
        return False
    if len(call.outs) != 1 and not isinstance(layer, L.View):  # chunk/split/unbind: a view
        return False
    out = call.outs[0]
    if (first.batched and first.bdim is None) or (out.batched and out.bdim is None):
        return False
    try:
        return layer.output_shape(first.per_sample()) == out.per_sample()
    except UsageError:  # ShapeError included: a per-sample rule that does not fit
        return False


def _module_row(call: Call) -> L.Layer | None:
    assert call.module is not None
    read = reader_of(call.module)
    first = call.first()
    if read is None or first is None or first.bdim not in (0, None):
        return None  # (a batch folded into dim 0 is a sample dim: the shape rule decides)
    try:
        layer = read(call.module, _leaf_name(call.path))
    except UsageError:
        return None
    if not _fits(layer, call) or layer is None:
        return None
    numel = sum(p.numel() for p in call.module.parameters())
    return layer if sum(weights_and_bias(layer)) == numel else None


def rows(calls: list[Call]) -> list[Row]:
    """The rows of a recording, in call order (FLOPs of absorbed calls summed)."""
    kept: dict[int, Row] = {}
    out: list[Row] = []
    for call in calls:
        holder = call.owner
        while holder is not None and id(holder) not in kept:
            holder = holder.owner
        if holder is not None:  # inside a module that is one row
            row = kept[id(holder)]
            row.flops += call.flops
            row.flops_backward += call.flops_backward
            row.in_backward = row.in_backward or call.in_backward
            if call.op == "":
                kept[id(call)] = row
            continue
        if call.op == "":
            layer = _module_row(call)
            if layer is not None:
                row = Row(call.path, "", "", layer, call, call.flops, call.flops_backward)
                kept[id(call)] = row
                out.append(row)
            continue
        path = f"{call.path}.{call.op}" if call.path else call.op
        layer = functional.read(call, _leaf_name(call.op))
        if not _fits(layer, call):
            layer = None
        out.append(Row(path, call.op, call.via, layer, call, call.flops, call.flops_backward,
                       call.in_backward))  # fmt: skip
    return out


def _merged(found: list[Row], by_name: dict[str, nn.Module]) -> list[Row]:
    """A leaf module alexprof does not model, whose calls no reader describes, is one
    ``unsupported`` row of its own type (``unsupported:AdaptiveAvgPool1d``)."""
    groups: dict[str, list[Row]] = {}
    for row in found:
        if row.op:
            groups.setdefault(row.call.path, []).append(row)
    odd = {
        path
        for path, group in groups.items()
        if path in by_name
        and not list(by_name[path].children())
        and all(r.layer is None for r in group)
    }
    out: list[Row] = []
    seen: dict[str, Row] = {}
    for row in found:
        if not (row.op and row.call.path in odd):
            out.append(row)
            continue
        path = row.call.path
        if path not in seen:
            merged = Row(path, "", "", None, row.call, 0, 0, False, by_name[path])
            seen[path] = merged
            out.append(merged)
        merged = seen[path]
        merged.flops += row.flops
        merged.flops_backward += row.flops_backward
        merged.in_backward = merged.in_backward or row.in_backward
        merged.extra.append(row.call)
    return out


def _numbered(items: list[Row]) -> list[int]:
    seen: dict[str, int] = {}
    numbers = []
    for row in items:
        seen[row.path] = seen.get(row.path, 0) + 1
        numbers.append(seen[row.path])
    return numbers


def placed_graph(module: nn.Module, recorder: Recorder, in_eval: set[tuple[str, str, int]],
                 calls: list[Call]) -> tuple[list[Placed], Graph]:  # fmt: skip
    """Placed rows of a recording (one per row, then parameters no row used), and the data
    flow between them (:class:`~alexprof.nets.flow.Graph`)."""
    names = {id(p): n for n, p in module.named_parameters(remove_duplicate=False)}
    claimed: set[int] = set()
    result: list[Placed] = []
    raw_seen: dict[tuple[str, str], int] = {}
    raw_number = {}
    for call in calls:
        raw_seen[call.key] = raw_seen.get(call.key, 0) + 1
        raw_number[id(call)] = raw_seen[call.key]
    found = _merged(rows(calls), dict(module.named_modules()))
    flows: list[Flow | None] = []
    for row, number in zip(found, _numbered(found)):
        call = row.call
        used = call.params + [p for c in row.extra for p in c.params]
        if row.module is not None:
            used += list(row.module.parameters())
        params = list({id(p): p for p in used if id(p) not in claimed}.values())
        if row.layer is None or any(weights_and_bias(row.layer)):  # it counts them
            claimed |= {id(p) for p in used}
        first = call.first()
        in_shape = first.per_sample() if first is not None else ()
        out_shape = call.outs[0].per_sample() if call.outs else ()
        layer = row.layer
        if layer is None:
            weights, bias = split_weights_bias((names.get(id(p), "weight"), p.numel())
                                               for p in params)  # fmt: skip
            kind = type(row.module).__name__ if row.module is not None else row.via
            layer = L.Unsupported(_leaf_name(row.op or row.path), kind, out_shape, weights, bias,
                                  row.flops // BATCH, row.flops_backward // BATCH)  # fmt: skip
        training_only = (call.path, call.op, raw_number[id(call)]) not in in_eval
        needs_grad = first is not None and first.needs_grad
        if row.module is not None and row.extra:
            out_shape = row.extra[-1].outs[0].per_sample() if row.extra[-1].outs else out_shape
            layer = replace(layer, out=out_shape) if isinstance(layer, L.Unsupported) else layer
        result.append(Placed(row.path, layer, in_shape, out_shape, needs_grad, training_only,
                             number, row.in_backward, row.op, row.via))  # fmt: skip
        last = row.extra[-1] if row.extra else call
        flows.append(Flow(tuple(_tensor(a, recorder, names) for a in call.tensors()),
                          tuple(_tensor(a, recorder, names) for a in last.outs)))  # fmt: skip
    result += _unclaimed(module, claimed, recorder)
    if any(recorder.stray):  # aten ops no call ran (a forward hook's own ops): never dropped
        f, b = recorder.stray
        layer = L.Unsupported("unattributed", "ops outside any call", (), 0, 0, f // BATCH,
                              b // BATCH)  # fmt: skip
        result.append(Placed(STRAY, layer, (), (), False))
    flows += [None] * (len(result) - len(flows))
    return result, _graph(module, recorder, calls, found, flows, names)


def _tensor(a: Arg, recorder: Recorder, names: dict[int, str]) -> FlowTensor:
    name = ""
    if a.role == "param" and recorder.tids.get(id(a.param)) == a.tid:
        name = names.get(id(a.param), "")
    return FlowTensor(a.tid, a.sid, tuple(a.shape), a.role, a.dtype, a.batched, a.bdim, a.fold,
                      name, a.needs_grad)  # fmt: skip


def _graph(module: nn.Module, recorder: Recorder, calls: list[Call], found: list[Row],
           flows: list[Flow | None], names: dict[int, str]) -> Graph:  # fmt: skip
    """Each call's deaths go to the first row that begins at or after it; so do the
    constants made before a row's own call (those made inside a module that is one row
    are its rule's to model)."""
    index = {id(c): i for i, c in enumerate(calls)}
    starts = [index[id(r.call)] for r in found]
    dead: list[list[int]] = [[] for _ in found]
    made: list[list[Arg]] = [[] for _ in found]
    end_dead, end_made = list(recorder.dead_at_end), list(recorder.made_at_end)
    at = 0
    for i, call in enumerate(calls):
        while at < len(starts) and starts[at] < i:
            at += 1
        if at < len(starts):
            dead[at] += call.dead_before
            if starts[at] == i:  # made inside a module's row: its rule models them
                made[at] += call.made_before
        else:
            end_dead[:0], end_made[:0] = call.dead_before, call.made_before
    out_flows: list[Flow | None] = []
    for i, flow in enumerate(flows):
        if flow is not None and i < len(found):
            consts = tuple(_const(a, recorder, names) for a in made[i])
            flow = replace(flow, dead_before=tuple(dead[i]), made_before=consts)
        out_flows.append(flow)
    known = {a.tid: a for c in calls for a in c.outs}  # batch dims resolved there
    assert recorder.input is not None
    return Graph(
        _tensor(recorder.input, recorder, names),
        tuple(out_flows),
        tuple(_tensor(known.get(a.tid, a), recorder, names) for a in recorder.outputs),
        tuple(end_dead),
        tuple(_const(a, recorder, names) for a in end_made),
        _stored(module, recorder),
        BATCH,
    )


def _const(a: Arg, recorder: Recorder, names: dict[int, str]) -> FlowTensor:
    """A constant the forward made: batched when its first dim is the batch."""
    first = bool(a.shape) and a.shape[0] == BATCH
    return replace(_tensor(a, recorder, names), batched=first, bdim=0 if first else None)


def _stored(module: nn.Module, recorder: Recorder) -> tuple[Stored, ...]:
    """Every parameter, then every buffer (``to_empty`` allocates them all)."""
    found: list[tuple[str, torch.Tensor, bool]] = [
        (n, p, p.requires_grad) for n, p in module.named_parameters()
    ]
    found += [(n, b, False) for n, b in module.named_buffers()]
    return tuple(
        Stored(n, tuple(t.shape), str(t.dtype).removeprefix("torch."), learned,
               recorder.tids.get(id(t), 0), recorder.sids.get(t.untyped_storage()._cdata, 0))
        for n, t, learned in found
    )  # fmt: skip


def _unclaimed(module: nn.Module, claimed: set[int], recorder: Recorder) -> list[Placed]:
    """A row per module for the parameters no row used (or never called)."""
    rows_: list[Placed] = []
    called = {c.path for c in recorder.calls} | recorder.entered
    for name, mod in module.named_modules():
        own = [(k, p) for k, p in mod.named_parameters(recurse=False) if id(p) not in claimed]
        if not own:
            continue
        claimed |= {id(p) for _, p in own}
        weights, bias = split_weights_bias((k, p.numel()) for k, p in own)
        why = "own parameters" if name in called else "never called"
        layer = L.Unsupported(_leaf_name(name), f"{type(mod).__name__} {why}", (), weights, bias)
        rows_.append(Placed(name, layer, (), (), False))
    return rows_


def extract(factory: Any, input_shape: Shape) -> tuple[list[Placed], Graph, nn.Module]:
    """The placed rows of the module ``factory`` builds (on meta), for one sample, the data
    flow between them, and that module."""
    calls, in_eval, recorder = record(factory, input_shape)
    leaves, graph = placed_graph(recorder.module, recorder, in_eval, calls)
    return leaves, graph, recorder.module


def measured_flops(factory: Any, input_shape: Shape, batch: int) -> dict[str, tuple[int, int]]:
    """FlopCounterMode's formulas per row path (calls of one path summed), at ``batch``."""
    calls, _, recorder = record(factory, input_shape, batch)
    totals: dict[str, tuple[int, int]] = {}
    if any(recorder.stray):
        totals[STRAY] = (recorder.stray[0], recorder.stray[1])
    for row in _merged(rows(calls), dict(recorder.module.named_modules())):
        f, b = totals.get(row.path, (0, 0))
        totals[row.path] = (f + row.flops, b + row.flops_backward)
    return totals
