"""Two renderers still kept by the CLI: ``fit``'s result and the built-in device list.

Plain data in, text out, like :mod:`alexprof.views`; they belong beside it and move there
once the report package settles (the CLI only calls them).
"""

from __future__ import annotations

from typing import Any


def fit_document(result: Any, model: str) -> dict[str, Any]:
    p = result.prediction
    return {
        "schema": "alexprof/1", "model": model, "memory": result.memory,
        "reserve": result.reserve, "batch": result.batch,
        "peak_predicted": p.peak if p else None, "next_peak_predicted": result.next_peak,
        "device": p.device if p else None, "dtype": p.dtype if p else None,
        "optimizer": p.optimizer if p else None, "breakdown": dict(p.breakdown) if p else {},
        "stages": [{"stage": s.stage, "predicted": s.allocated, "peak_predicted": s.peak}
                   for s in p.stages] if p else [],
    }


def fit_text(result: Any, model: str, fmt: str, color: bool) -> str:
    from alexprof.memreport import MemRun
    from alexprof.memviews import breakdown_table, size, stage_table
    from alexprof.render import csv_records, to_json

    doc = fit_document(result, model)
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return csv_records([{k: doc[k] for k in ("model", "memory", "reserve", "batch",
                                                  "peak_predicted", "next_peak_predicted")}])
    budget = f"{size(result.memory)}" + (f" less {size(result.reserve)} reserved" if result.reserve else "")
    if not result.prediction:
        return (f"{model}: not even batch 1 fits in {budget}: its predicted peak is "
                f"{size(result.next_peak)}.\n")
    p = result.prediction
    lines = [
        f"{model}: the largest batch that fits in {budget} is {result.batch} "
        f"(predicted peak {p.peak:,} B = {size(p.peak)}; batch {result.batch + 1} would need "
        f"{result.next_peak:,} B; budget {result.budget:,} B). {p.device}, {p.dtype}, optimizer {p.optimizer}; "
        f"{result.tried} predictions searched.",
        "The peak is memory_allocated (tensors in 512-byte blocks on CUDA); the CUDA context, "
        "cuBLAS/cuDNN workspaces and fragmentation are outside it"
        + (f" and are covered by --reserve {size(result.reserve)}." if result.reserve
           else ": set them aside with --reserve."),
    ]
    text = "\n".join(lines) + "\n\n"
    tables = (stage_table(MemRun(p)), breakdown_table(p))
    return text + "\n".join(t.to_text(fmt, color) for t in tables)


def hardware_text(fmt: str) -> str:
    from alexprof.hardware import DEVICES, GiB
    from alexprof.render import Table, csv_records, human, to_json

    if fmt == "json":
        return to_json({"schema": "alexprof/1", "hardware": [d.to_json() for d in DEVICES.values()]})
    if fmt == "csv":
        return csv_records([{**d.to_json(), "peak_flops": ";".join(
            f"{k}={v:g}" for k, v in d.peak_flops.items())} for d in DEVICES.values()])
    table = Table("built-in devices (dense peaks; sparsity figures excluded)",
                  ["name", "device", "peak FLOP/s by dtype", "bandwidth", "memory"])
    table.right = {3, 4}
    for d in DEVICES.values():
        peaks = ", ".join(f"{k} {human(v, 'FLOP/s')}" for k, v in d.peak_flops.items())
        table.add(d.name, d.title, peaks, human(d.bandwidth, "B/s"),
                  f"{d.memory / GiB:g} GiB" if d.memory else "-")
        table.footer.append(f"{d.name}: {d.source}" + (f"; {d.derivation}" if d.derivation else "")
                            + "".join(f"; {n}" for n in d.notes) + ".")
    return table.to_text(fmt)
