"""``fit`` results -> text: the summary, and the stage table and breakdown at that batch.

No torch.
"""

from __future__ import annotations

from typing import Any


def fit_document(result: Any, model: str) -> dict[str, Any]:
    p = result.prediction
    return {
        "schema": "alexprof/1",
        "model": model,
        "memory": result.memory,
        "reserve": result.reserve,
        "batch": result.batch,
        "peak_predicted": p.peak if p else None,
        "next_peak_predicted": result.next_peak,
        "device": p.device if p else None,
        "dtype": p.dtype if p else None,
        "optimizer": p.optimizer if p else None,
        "breakdown": dict(p.breakdown) if p else {},
        "stages": [
            {"stage": s.stage, "predicted": s.allocated, "peak_predicted": s.peak} for s in p.stages
        ]
        if p
        else [],
    }


def fit_text(result: Any, model: str, fmt: str, color: bool) -> str:
    from alexprof.report.memreport import MemRun
    from alexprof.report.memviews import breakdown_table, size, stage_table
    from alexprof.report.render import csv_records, prose, to_json

    doc = fit_document(result, model)
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return csv_records(
            [
                {
                    k: doc[k]
                    for k in (
                        "model",
                        "memory",
                        "reserve",
                        "batch",
                        "peak_predicted",
                        "next_peak_predicted",
                    )
                }
            ]
        )
    budget = f"{size(result.memory)}" + (
        f" less {size(result.reserve)} reserved" if result.reserve else ""
    )
    if not result.prediction:
        return (
            f"{model}: not even batch 1 fits in {budget}: its predicted peak is "
            f"{size(result.next_peak)}.\n"
        )
    p = result.prediction
    lines = [
        f"{model}: the largest batch that fits in {budget} is {result.batch} "
        f"(predicted peak {p.peak:,} B = {size(p.peak)}; batch {result.batch + 1} would need "
        f"{result.next_peak:,} B; budget {result.budget:,} B). "
        f"{p.device}, {p.dtype}, optimizer {p.optimizer}; "
        f"{result.tried} predictions searched.",
        "The peak is memory_allocated (tensors in 512-byte blocks on CUDA); the CUDA context, "
        "cuBLAS/cuDNN workspaces and fragmentation are outside it"
        + (
            f" and are covered by --reserve {size(result.reserve)}."
            if result.reserve
            else ": set them aside with --reserve."
        ),
    ]
    text = prose(lines) + "\n"
    tables = (stage_table(MemRun(p)), breakdown_table(p))
    return text + "\n".join(t.to_text(fmt, color) for t in tables)
