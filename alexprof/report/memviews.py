"""``memtrace`` results -> text: stage table, breakdown, kept tensors, sweep.  No torch."""

from __future__ import annotations

from collections import defaultdict

from alexprof.memory.predict import Prediction
from alexprof.memory.stages import Stage
from alexprof.memory.vocab import Category
from alexprof.nets.shapes import fmt_shape
from alexprof.report.memreport import MemRun, csv_rows, document, torch_line
from alexprof.report.render import Column, Table, csv_records, to_json
from alexprof.report.status import StageStatus, mark


def size(n: int | None) -> str:
    """Binary units for tables: 4194304 -> '4 MiB', 1536 -> '1.5 KiB'."""
    if n is None:
        return "-"
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= factor:
            return f"{n / factor:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def signed(n: int | None) -> str:
    return "-" if n is None else f"{n:+,}" if n else "0"


def memtrace_text(runs: list[MemRun], fmt: str, color: bool = False) -> str:
    """``alexprof memtrace``'s output in ``fmt``: one run's tables, or a sweep's."""
    if fmt == "json":
        return to_json(document(runs))
    if fmt == "csv":
        return csv_records(csv_rows(runs))
    if len(runs) > 1:
        return sweep_table(runs).to_text(fmt, color)
    run = runs[0]
    parts = [stage_table(run), breakdown_table(run.prediction), kept_table(run.prediction)]
    return "\n".join(t.to_text(fmt, color) for t in parts)


def _title(p: Prediction, what: str) -> str:
    stored = f" (x holds {p.stored_batch})" if p.stored_batch != p.batch else ""
    return (
        f"{p.model}: {what} — {p.device}, batch {p.batch}{stored}, {p.dtype}, "
        f"optimizer {p.optimizer}"
    )


def stage_table(run: MemRun) -> Table:
    p, measured = run.prediction, run.trace is not None
    caption = (
        "bytes alive after each stage and the most alive within it (peak: at allocator "
        "level; ops: between two ops, which is what is predicted); "
        + (
            "CUDA: memory_allocated minus the warm-up, each storage rounded to 512 B"
            if p.device == "cuda"
            else "CPU: every allocation and free from torch.profiler"
        )
    )
    sizes = (
        ["allocated", "Δ", "predicted", "diff", "peak", "peak, ops", "peak predicted", "diff "]
        if measured
        else ["predicted", "Δ", "peak predicted"]
    )
    cols = [
        Column.text("stage"),
        *map(Column.num, sizes),
        *([Column.token("")] if measured else []),
        Column.text("what changes"),
    ]
    table = Table(_title(p, "memory of one training step"), cols, caption)
    changes = stage_changes(p)
    for r in run.rows:
        if measured:
            table.add(
                r.stage,
                size(r.allocated),
                size(r.delta),
                size(r.predicted),
                signed(r.diff),
                size(r.peak),
                size(r.peak_ops),
                size(r.peak_predicted),
                signed(r.peak_diff),
                mark(r.status),
                changes[r.stage],
            )
        else:
            table.add(
                r.stage,
                size(r.predicted),
                size(r.delta_predicted),
                size(r.peak_predicted),
                changes[r.stage],
            )
    table.footer += _footer(run)
    return table


def stage_changes(p: Prediction) -> dict[Stage, str]:
    """What each stage adds and frees, by category (temporaries net to zero)."""
    net: dict[Stage, dict[Category, int]] = {s: defaultdict(int) for s in Stage}
    for e in p.events:
        net[e.stage][e.buffer.category] += e.sign * e.buffer.nbytes
    out = {}
    for stage, cats in net.items():
        items = sorted(((c, n) for c, n in cats.items() if n), key=lambda cn: -abs(cn[1]))
        out[stage] = (
            ", ".join(f"{'+' if n > 0 else '−'}{size(abs(n))} {c.label}" for c, n in items)
            or "nothing"
        )
    return out


def _footer(run: MemRun) -> list[str]:
    p, lines = run.prediction, []
    top = max(p.stages, key=lambda s: s.peak)
    site = peak_site(p, top.stage)
    lines.append(
        f"Highest predicted peak: {size(top.peak)} ({top.peak:,} B) in {top.stage}"
        + (f", {site}" if site else "")
        + "."
    )
    rows = run.rows
    if run.trace is not None:
        same = sum(r.diff == 0 and r.peak_diff == 0 for r in rows)
        lines.append(
            f"{same} of {len(rows)} stages equal to the prediction to the byte (after the "
            f"stage and peak between ops); {StageStatus.EXACT.mark} every number equal, "
            f"{StageStatus.EXPLAINED.mark} the rest explained below, "
            f"{StageStatus.MISMATCH.mark} unexplained."
        )
        for r in rows:
            if r.reason:
                lines.append(f"{mark(r.status)} {r.stage}: {r.reason}.")
        if run.trace.device == "cuda":
            lines += _cuda_lines(run)
    lines += [f"{note}." for note in p.notes]
    if p.unmodelled:
        lines.append(
            f"{len(p.unmodelled)} row(s) without a memory rule, predicted as an output that "
            f"keeps nothing (the measurement tells the rest): {', '.join(p.unmodelled)}."
        )
    lines.append(torch_line(run.trace))
    return lines


def peak_site(p: Prediction, stage: Stage) -> str:
    events = [e for e in p.events if e.stage == stage and e.sign > 0]
    peak = p.stage(stage).peak
    hit = next((e for e in events if e.allocated == peak), None)
    if hit is None:
        return ""
    return (
        f"reached as {hit.buffer.layer} {hit.buffer.role} ({size(hit.buffer.nbytes)}) is allocated"
    )


def _cuda_lines(run: MemRun) -> list[str]:
    t = run.trace
    assert t is not None
    w = t.warmup or {}
    conf = t.allocator or "(unset: default allocator)"
    return [
        f"Allocator: PYTORCH_CUDA_ALLOC_CONF={conf}.",
        f"Warm-up on {w.get('device_name', '?')} (before the step, not in the rows): "
        f"{size(w.get('allocated'))} stay allocated = the cuBLAS workspaces of the main thread "
        "and of autograd's device thread "
        f"(CUBLAS_WORKSPACE_CONFIG={w.get('cublas_workspace_config')}); "
        f"the process uses {size(w.get('device_used'))} of {size(w.get('device_total'))} on the "
        f"device (CUDA context, cuDNN/cuBLAS handles, allocator cache {size(w.get('reserved'))}).",
    ]


def breakdown_table(p: Prediction) -> Table:
    table = Table(
        _title(p, "where the predicted bytes go"),
        [Column.text("part"), Column.num("bytes"), Column.num(""), Column.text("what")],
    )
    for part in Category.parts():
        n = p.breakdown.get(part, 0)
        if part is Category.BUFFERS and not n:
            continue
        table.add(part.label, f"{n:,}", size(n), part.description)
    return table


def kept_table(p: Prediction) -> Table:
    table = Table(
        f"{p.model}: tensors alive at the end of forward, each storage once",
        [
            Column.text("layer"),
            Column.text("tensor"),
            Column.token("shape"),
            Column.token("dtype"),
            Column.num("bytes"),
            Column.text("kept by"),
        ],
        caption="a storage shared by several layers (in-place ReLU, a flatten view, "
        "the next layer's input) is listed once, with everyone who keeps it",
        key=2,
    )  # layer and tensor name a row
    for k in p.kept:
        table.add(
            k.layer, k.tensor, fmt_shape(k.shape), k.dtype, size(k.bytes), "; ".join(k.kept_by)
        )
    table.total = ["total", "", "", "", size(sum(k.bytes for k in p.kept)), ""]
    return table


def sweep_table(runs: list[MemRun]) -> Table:
    p0, measured = runs[0].prediction, runs[0].trace is not None
    num, text, token = Column.num, Column.text, Column.token
    cols = (
        [
            num("batch"),
            num("after forward"),
            num("predicted"),
            num("peak, ops"),
            num("peak predicted"),
            text("peak stage"),
            token(""),
        ]
        if measured
        else [
            num("batch"),
            num("after forward"),
            num("peak predicted"),
            text("peak stage"),
            num("activations kept"),
        ]
    )
    table = Table(
        f"{p0.model}: batch sweep — {p0.device}, {p0.dtype}, optimizer {p0.optimizer}",
        cols,
        caption="after forward = parameters + inputs + what autograd keeps; peak = the "
        "highest of all stages",
    )
    for run in runs:
        p = run.prediction
        fwd = p.stage(Stage.FORWARD)
        top = max(p.stages, key=lambda s: s.peak)
        if measured:
            rows = run.rows
            fwd_m = next(r for r in rows if r.stage is Stage.FORWARD)
            table.add(
                p.batch,
                size(fwd_m.allocated),
                size(fwd.allocated),
                size(max(r.peak_ops or 0 for r in rows)),
                size(p.peak),
                top.stage,
                mark(StageStatus.worst(r.status for r in rows)),
            )
        else:
            table.add(
                p.batch,
                size(fwd.allocated),
                size(p.peak),
                top.stage,
                size(p.breakdown[Category.ACTIVATIONS]),
            )
    table.footer.append(torch_line(runs[0].trace))
    return table
