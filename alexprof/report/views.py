"""Reports -> text in each format, for the ``params``, ``flops`` and ``models`` commands."""

from __future__ import annotations

from typing import Any

from alexprof.counting.conventions import CONVENTIONS
from alexprof.counting.rows import Report
from alexprof.nets import row_name
from alexprof.nets.shapes import fmt_shape
from alexprof.report.render import Column, Table, csv_records, human, num, share, to_json
from alexprof.report.status import CheckStatus, mark
from alexprof.report.verify import SOURCES, TOTAL, Verification

PARAM_SOURCES = ("torch",)
FLOP_SOURCES = ("torch", "flopcounter", "ptflops", "aten")


def counts_text(
    report: Report,
    kind: str,
    fmt: str,
    verification: Verification | None = None,
    color: bool = False,
) -> str:
    """``alexprof params`` or ``flops`` output (``kind`` is 'params' or 'flops') in ``fmt``."""
    if fmt == "json":
        doc: dict[str, Any] = report.to_json()
        if verification is not None:
            doc["verification"] = verification_json(verification)
        return to_json(doc)
    if fmt == "csv":
        return csv_records([row.to_json() for row in report.rows])
    table = params_table(report) if kind == "params" else flops_table(report)
    if verification is not None:
        add_verification(table, report, verification)
    return table.to_text(fmt, color)


def params_table(report: Report) -> Table:
    total = report.total("params")
    table = Table(
        f"{report.model}: parameters per layer (input {fmt_shape(report.input_shape)})",
        [
            Column.text("layer"),
            Column.text("type"),
            Column.token("output"),
            Column.num("weights"),
            Column.num("bias"),
            Column.num("params"),
            Column.num("share"),
        ],
        caption="weights and bias counted separately; params = weights + bias",
    )
    for row in report.rows:
        table.add(
            row.name,
            row.type,
            fmt_shape(row.output_shape),
            num(row.weights),
            num(row.bias),
            num(row.params),
            share(row.params, total),
        )
    table.total = [
        "total",
        "",
        "",
        num(report.total("weights")),
        num(report.total("bias")),
        num(total),
        "100.0%",
    ]
    top = report.heaviest("params")
    if top is not None:
        table.footer.append(
            f"Most parameters: {top.name} ({top.params:,}, {share(top.params, total)} of all)."
        )
    table.footer.append(
        f"Total {total:,} parameters ({human(total)}); under the source table's rule "
        f"(conv without bias, FC with bias): {report.table_rule_params():,}."
    )
    fc = sum(row.params or 0 for row in report.rows if row.type == "Linear")
    if fc:
        table.footer.append(
            f"Fully connected layers: {fc:,} parameters ({share(fc, total)}), "
            f"{human(4 * fc, 'B')} in float32; convolutions: {share(total - fc, total)}."
        )
    table.footer.append(
        f"float32 weights: {human(4 * total, 'B')}; with gradients and SGD momentum: "
        f"{human(12 * total, 'B')}; with Adam: {human(16 * total, 'B')}."
    )
    table.footer += unsupported_note(report)
    return table


def flops_table(report: Report) -> Table:
    conv = CONVENTIONS[report.convention]
    total = report.total("flops")
    table = Table(
        f"{report.model}: arithmetic per layer (input {fmt_shape(report.input_shape)}, "
        f"batch {report.batch})",
        [
            Column.text("layer"),
            Column.text("type"),
            Column.token("output"),
            Column.num("MACs"),
            Column.num("FLOPs"),
            Column.num("backward FLOPs"),
            Column.num("share"),
        ],
        caption=f"convention '{conv.name}': {conv.description}. FLOPs = 2 x MACs; backward = "
        "one training step's gradients.",
    )
    for row in report.rows:
        table.add(
            row.name,
            row.type,
            fmt_shape(row.output_shape),
            num(row.macs),
            num(row.flops),
            num(row.flops_backward),
            share(row.flops, total),
        )
    table.total = [
        "total",
        "",
        "",
        num(report.total("macs")),
        num(total),
        num(report.total("flops_backward")),
        "100.0%",
    ]
    top = report.heaviest("flops")
    if top is not None:
        table.footer.append(
            f"Most arithmetic: {top.name} ({top.macs:,} MACs, {share(top.flops, total)} of the "
            f"forward FLOPs)."
        )
    step = total + report.total("flops_backward")
    table.footer.append(
        f"Forward {human(total, 'FLOP')}, "
        f"backward {human(report.total('flops_backward'), 'FLOP')}, "
        f"training step {human(step, 'FLOP')} for batch {report.batch}."
    )
    table.footer += unsupported_note(report)
    return table


def unsupported_note(report: Report) -> list[str]:
    """Rows alexprof does not model say where their numbers come from."""
    odd = [row.name for row in report.rows if row.type.startswith("unsupported:")]
    if not odd:
        return []
    return [
        f"Not modelled by alexprof ({', '.join(odd)}): these rows carry torch's numbers "
        "(numel; FlopCounterMode's FLOPs, MACs = FLOPs / 2) under every convention."
    ]


def add_verification(table: Table, report: Report, verification: Verification) -> None:
    sources = sorted({c.source for c in verification.checks}, key=list(SOURCES).index)
    table.columns += [Column.token(s) for s in sources]  # one mark per row and source
    for row, cells in zip(report.rows, table.rows):
        path = row_name(row.path)
        module = row_name(row.path if row.module is None else row.module)
        top = module.split(".", 1)[0]
        keys = {"torch": module, "aten": top}
        cells += [mark(verification.status(keys.get(s, path), s)) for s in sources]
    if table.total:
        table.total += [mark(verification.status(TOTAL, s)) for s in sources]
    table.footer.append(
        "Verified against: "
        + "; ".join(f"{s} = {SOURCES[s].description}" for s in sources)
        + (
            f"; skipped: {', '.join(s for s, _ in verification.skipped)} (cannot be imported here)"
            if verification.skipped
            else ""
        )
        + f". {CheckStatus.MATCH.mark} equal, {CheckStatus.EXPLAINED.mark} differs by a known peer "
        f"quirk (predicted exactly), {CheckStatus.UNMODELLED.mark} a row alexprof does not model "
        f"(its numbers are torch's), {CheckStatus.MISMATCH.mark} unexplained."
    )
    for reason, checks in verification.reasons().items():
        where = ", ".join(f"{c.layer} {c.field} {c.measured - c.analytic:+,}" for c in checks)
        table.footer.append(f"{checks[0].status.mark} {where}: {reason}.")
    table.footer += [f"{note}." for note in verification.notes]
    failed = verification.failed
    unmodelled = sum(c.status is CheckStatus.UNMODELLED for c in verification.checks)
    table.footer.append(
        f"Verification: {len(verification.checks) - len(failed) - unmodelled} of "
        f"{len(verification.checks)} checks agree or are explained"
        + (f", {unmodelled} concern rows alexprof does not model" if unmodelled else "")
        + (f"; {len(failed)} UNEXPLAINED." if failed else ".")
    )


def verification_json(v: Verification) -> dict[str, Any]:
    return {
        "passed": not v.failed,
        "sources": {s: SOURCES[s].description for s in sorted({c.source for c in v.checks})},
        **({"skipped": dict(v.skipped)} if v.skipped else {}),
        **({"notes": list(v.notes)} if v.notes else {}),
        "checks": [
            {
                "layer": c.layer,
                "source": c.source,
                "field": c.field,
                "analytic": c.analytic,
                "measured": c.measured,
                "status": c.status,
                **({"reason": c.reason} if c.reason else {}),
            }
            for c in v.checks
        ],
    }


def models_text(entries: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return to_json({"schema": "alexprof/1", "models": entries})
    if fmt == "csv":
        return csv_records(entries)
    table = Table(
        "networks known by name",
        [
            Column.text("model"),
            Column.token("input"),
            Column.num("params"),
            Column.num("MACs"),
            Column.text("description"),
        ],
    )
    for e in entries:
        table.add(
            e["name"],
            fmt_shape(e["input_shape"]),
            num(e["params"]),
            num(e["macs"]),
            e["description"],
        )
    return table.to_text(fmt)
