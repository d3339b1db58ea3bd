"""Measured against predicted, stage by stage, with the reason for every difference.  No torch.

The model predicts bytes alive after each stage and the peak at op boundaries.
A stage row (:class:`~alexprof.report.status.StageStatus`) is ``exact`` when every
measured number equals its prediction; ``explained`` when the only differences are
named and counted: temporaries inside single kernels (allocator-level peak minus
op-level peak, measured by the profiler), and on CUDA with the default allocator whole
cached blocks handed out beyond the 512-rounded requests (from ``memory_snapshot``);
``mismatch`` otherwise, which fails the command (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alexprof.counting.rows import SCHEMA
from alexprof.memory import RULES_CHECKED_WITH
from alexprof.memory.predict import Prediction
from alexprof.memory.stages import Stage, StageTrace, Trace
from alexprof.report.status import StageStatus


@dataclass(frozen=True)
class StageRow:
    stage: Stage
    predicted: int
    delta_predicted: int
    peak_predicted: int
    allocated: int | None = None
    delta: int | None = None
    peak: int | None = None  # allocator level: kernel temporaries included
    peak_ops: int | None = None  # at op boundaries: what the model predicts
    status: StageStatus | None = None  # None when only predicted
    reason: str = ""

    @property
    def diff(self) -> int | None:
        return None if self.allocated is None else self.allocated - self.predicted

    @property
    def peak_diff(self) -> int | None:
        return None if self.peak_ops is None else self.peak_ops - self.peak_predicted

    @property
    def in_kernels(self) -> int | None:
        return None if self.peak is None or self.peak_ops is None else self.peak - self.peak_ops


@dataclass(frozen=True)
class MemRun:
    prediction: Prediction
    trace: Trace | None = None

    @property
    def rows(self) -> tuple[StageRow, ...]:
        return diff_stages(self.prediction, self.trace)

    @property
    def failed(self) -> tuple[StageRow, ...]:
        return tuple(r for r in self.rows if r.status is not None and r.status.failed)


def diff_stages(pred: Prediction, trace: Trace | None) -> tuple[StageRow, ...]:
    """One row per stage: the prediction, and where measured, the measurement, their
    differences and the status with its reason."""
    rows = []
    prev = 0
    for p in pred.stages:
        if trace is None:
            rows.append(StageRow(p.stage, p.allocated, p.delta, p.peak))
            continue
        m = next(s for s in trace.stages if s.stage == p.stage)
        status, reason = _judge(p.allocated, p.peak, m, trace)
        if status is StageStatus.MISMATCH and pred.unmodelled:
            status, reason = StageStatus.EXPLAINED, unmodelled_reason(pred, m, p.allocated)
        rows.append(
            StageRow(
                p.stage,
                p.allocated,
                p.delta,
                p.peak,
                m.allocated,
                m.allocated - prev,
                m.peak,
                m.peak_ops,
                status,
                reason,
            )
        )
        prev = m.allocated
    return tuple(rows)


def _judge(
    predicted: int, peak_predicted: int, m: StageTrace, trace: Trace
) -> tuple[StageStatus, str]:
    """Every difference must be the allocator's or a kernel's, and say how many bytes."""
    whole_blocks = trace.device == "cuda" and not expandable(trace.allocator)
    reasons = []
    if m.allocated != predicted:
        if not (whole_blocks and m.allocated - predicted == m.over_allocation > 0):
            return StageStatus.MISMATCH, (
                f"{m.allocated - predicted:+,} B after the stage, not explained "
                f"(whole blocks beyond the requests: {m.over_allocation:,} B)"
            )
        reasons.append(
            f"+{m.over_allocation:,} B after the stage are whole cached blocks handed out "
            "beyond the 512-rounded requests (memory_snapshot; default allocator)"
        )
    if m.peak_ops != peak_predicted:
        if not (whole_blocks and m.peak_ops > peak_predicted):
            return StageStatus.MISMATCH, (
                f"peak at op boundaries {m.peak_ops:,} B, predicted "
                f"{peak_predicted:,} B ({m.peak_ops - peak_predicted:+,})"
            )
        reasons.append(
            f"+{m.peak_ops - peak_predicted:,} B at the op-level peak, attributed to "
            "whole cached blocks (default allocator) but not checked block by block: "
            "run with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True for an exact peak"
        )
    if m.peak != m.peak_ops:
        if m.peak < m.peak_ops:
            return StageStatus.MISMATCH, (
                f"allocator peak {m.peak:,} B below the op-level peak {m.peak_ops:,} B"
            )
        inside = (
            "cuDNN/cuBLAS workspaces"
            if trace.device == "cuda"
            else "oneDNN buffers, wrapped numbers"
        )
        reasons.append(
            f"peak +{m.peak - m.peak_ops:,} B inside single kernels ({inside}: "
            "never a tensor between two ops)"
        )
    return (StageStatus.EXPLAINED, "; ".join(reasons)) if reasons else (StageStatus.EXACT, "")


def unmodelled_reason(pred: Prediction, m: StageTrace, predicted: int) -> str:
    """A user module's rows without a memory rule: the measurement's difference is
    theirs (their storages are counted as plain outputs that keep nothing)."""
    names = ", ".join(pred.unmodelled[:3]) + (", ..." if len(pred.unmodelled) > 3 else "")
    peak = m.peak_ops - pred.stage(m.stage).peak
    return (
        f"exact except for {len(pred.unmodelled)} unmodelled row(s) ({names}) holding "
        f"{m.allocated - predicted:+,} B after the stage, {peak:+,} B at the op-level peak "
        "(measured minus predicted)"
    )


def expandable(allocator: str) -> bool:
    return "expandable_segments:true" in allocator.replace(" ", "").lower()


def release(version: str) -> str:
    """'2.11.0+cu130' -> '2.11': the part the memory rules are checked per."""
    return ".".join(version.split("+", 1)[0].split(".")[:2])


def torch_json(trace: Trace | None) -> dict[str, Any]:
    """Which torch ran the step (None: prediction only) and which the rules were checked with."""
    return {"running": trace.torch if trace else None, "rules_checked_with": RULES_CHECKED_WITH}


def torch_line(trace: Trace | None) -> str:
    checked = f"the memory rules were checked against torch {RULES_CHECKED_WITH}"
    if trace is None:
        return f"Prediction only, no torch ran; {checked}."
    if release(trace.torch) == RULES_CHECKED_WITH:
        return f"torch {trace.torch} ran the step; {checked}."
    return (
        f"torch {trace.torch} ran the step; {checked}, another release: where a stage "
        "differs, the cause may be the version rather than the network."
    )


def run_json(run: MemRun) -> dict[str, Any]:
    """One run, as in the JSON contract (without the schema key)."""
    p, t = run.prediction, run.trace
    doc: dict[str, Any] = {
        "model": p.model,
        "device": p.device,
        "batch": p.batch,
        "dtype": p.dtype,
        "optimizer": p.optimizer,
        "input_shape": list(p.input_shape),
        "measured": t is not None,
        "torch": torch_json(t),
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
    out: dict[str, Any] = {
        "stage": r.stage,
        "allocated": r.allocated,
        "predicted": r.predicted,
        "delta": r.delta,
        "delta_predicted": r.delta_predicted,
        "diff": r.diff,
        "peak": r.peak,
        "peak_predicted": r.peak_predicted,
        "peak_ops": r.peak_ops,
        "peak_diff": r.peak_diff,
        "peak_in_kernels": r.in_kernels,
    }
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
    return {
        "schema": SCHEMA,
        "model": first.model,
        "device": first.device,
        "dtype": first.dtype,
        "optimizer": first.optimizer,
        "torch": torch_json(runs[0].trace),
        "batches": [r.prediction.batch for r in runs],
        "runs": [run_json(r) for r in runs],
    }


def csv_rows(runs: list[MemRun]) -> list[dict[str, Any]]:
    return [
        {
            "batch": run.prediction.batch,
            "stage": r.stage,
            "allocated": r.allocated,
            "predicted": r.predicted,
            "diff": r.diff,
            "peak": r.peak,
            "peak_predicted": r.peak_predicted,
            "peak_ops": r.peak_ops,
            "peak_diff": r.peak_diff,
            "status": r.status,
        }
        for run in runs
        for r in run.rows
    ]
