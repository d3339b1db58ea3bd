"""Measured against predicted, stage by stage, with the reason for every difference.  No torch.

A stage row is ``exact`` when measured and predicted bytes are equal,
``explained`` when the difference is the CUDA allocator's own (whole blocks
handed out beyond the 512-rounded request, read from ``memory_snapshot``;
for peaks, temporaries inside kernels, proven by the storage tracker agreeing
with the prediction at op level), and ``mismatch`` otherwise.  A mismatch
fails the command (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alexprof.memory import Prediction
from alexprof.rows import SCHEMA


@dataclass(frozen=True)
class StageTrace:
    stage: str
    allocated: int  # bytes alive after the stage (CUDA: memory_allocated - warm-up)
    peak: int  # most bytes alive within the stage
    tracked: int  # what the storage tracker counts after the stage
    tracked_peak: int
    over_allocation: int = 0  # CUDA: bytes of whole blocks beyond the 512-rounded requests


@dataclass(frozen=True)
class Trace:
    device: str
    stages: tuple[StageTrace, ...]
    warmup: dict[str, Any] | None = None
    allocator: str = ""
    log: tuple[tuple, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class StageRow:
    stage: str
    predicted: int
    delta_predicted: int
    peak_predicted: int
    allocated: int | None = None
    delta: int | None = None
    peak: int | None = None
    status: str = ""  # exact | explained | mismatch ("" when only predicted)
    reason: str = ""

    @property
    def diff(self) -> int | None:
        return None if self.allocated is None else self.allocated - self.predicted

    @property
    def peak_diff(self) -> int | None:
        return None if self.peak is None else self.peak - self.peak_predicted


@dataclass(frozen=True)
class MemRun:
    prediction: Prediction
    trace: Trace | None = None

    @property
    def rows(self) -> tuple[StageRow, ...]:
        return compare(self.prediction, self.trace)

    @property
    def failed(self) -> tuple[StageRow, ...]:
        return tuple(r for r in self.rows if r.status == "mismatch")


def compare(pred: Prediction, trace: Trace | None) -> tuple[StageRow, ...]:
    rows = []
    prev = 0
    for p in pred.stages:
        if trace is None:
            rows.append(StageRow(p.stage, p.allocated, p.delta, p.peak))
            continue
        m = next(s for s in trace.stages if s.stage == p.stage)
        status, reason = _judge(p.allocated, p.peak, m)
        rows.append(StageRow(p.stage, p.allocated, p.delta, p.peak, m.allocated, m.allocated - prev,
                             m.peak, status, reason))
        prev = m.allocated
    return tuple(rows)


def _judge(predicted: int, peak_predicted: int, m: StageTrace) -> tuple[str, str]:
    if (m.allocated, m.peak) == (predicted, peak_predicted):
        return "exact", ""
    if (m.tracked, m.tracked_peak) != (predicted, peak_predicted):
        return "mismatch", (f"the storage tracker sees {m.tracked:,} B after / {m.tracked_peak:,} B "
                            f"peak, the model predicts {predicted:,} / {peak_predicted:,}")
    reasons = []
    if m.allocated != predicted:
        if m.allocated - predicted != m.over_allocation:
            return "mismatch", (f"allocated differs by {m.allocated - predicted:+,} B but whole "
                                f"blocks account for {m.over_allocation:+,} B")
        reasons.append(f"{m.over_allocation:,} B of whole cached blocks handed out beyond the "
                       "512-rounded requests (default allocator; expandable_segments:True avoids it)")
    if m.peak != peak_predicted:
        if m.peak < peak_predicted:
            return "mismatch", f"measured peak {m.peak:,} B is below the op-level peak {peak_predicted:,} B"
        reasons.append(f"peak +{m.peak - peak_predicted:,} B inside kernels (temporaries such as "
                       "cuDNN/cuBLAS workspaces, and whole blocks), not tensors: the tracker's "
                       "op-level peak equals the prediction")
    return "explained", "; ".join(reasons)


def run_json(run: MemRun) -> dict[str, Any]:
    """One run, as in the JSON contract (without the schema key)."""
    p, t = run.prediction, run.trace
    doc: dict[str, Any] = {
        "model": p.model, "device": p.device, "batch": p.batch, "dtype": p.dtype,
        "optimizer": p.optimizer, "input_shape": list(p.input_shape),
        "measured": t is not None,
        "stages": [_stage_json(r) for r in run.rows],
        "peak": max((r.peak for r in run.rows if r.peak is not None), default=None),
        "peak_predicted": p.peak,
        "breakdown": {**p.breakdown, "kept": [k.to_json() for k in p.kept]},
        "notes": list(p.notes),
    }
    if p.stored_batch != p.batch:
        doc["stored_batch"] = p.stored_batch
    if t is not None and t.device == "cuda":
        doc["allocator"] = {"PYTORCH_CUDA_ALLOC_CONF": t.allocator}
        doc["warmup"] = t.warmup
        doc["over_allocation"] = {s.stage: s.over_allocation for s in t.stages}
    return doc


def _stage_json(r: StageRow) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": r.stage, "allocated": r.allocated, "predicted": r.predicted,
                           "delta": r.delta, "delta_predicted": r.delta_predicted,
                           "diff": r.diff, "peak": r.peak, "peak_predicted": r.peak_predicted,
                           "peak_diff": r.peak_diff}
    if r.status:
        out["status"] = r.status
    if r.reason:
        out["reason"] = r.reason
    return out


def document(runs: list[MemRun]) -> dict[str, Any]:
    """One run: the contract's document; a sweep: the shared keys and a ``runs`` list."""
    if len(runs) == 1:
        return {"schema": SCHEMA, **run_json(runs[0])}
    first = runs[0].prediction
    return {"schema": SCHEMA, "model": first.model, "device": first.device, "dtype": first.dtype,
            "optimizer": first.optimizer, "batches": [r.prediction.batch for r in runs],
            "runs": [run_json(r) for r in runs]}


def csv_rows(runs: list[MemRun]) -> list[dict[str, Any]]:
    return [{"batch": run.prediction.batch, "stage": r.stage, "allocated": r.allocated,
             "predicted": r.predicted, "diff": r.diff, "peak": r.peak,
             "peak_predicted": r.peak_predicted, "peak_diff": r.peak_diff, "status": r.status}
            for run in runs for r in run.rows]
