"""Analytic versus measured, field by field, with the reason for every difference.

:func:`verify` is pure: it takes what :mod:`alexprof.torchside.measure` returned and the
descriptors, and produces :class:`Check` rows.  A check
(:class:`~alexprof.report.status.CheckStatus`) is ``match``, ``explained`` (a quirk in
:mod:`alexprof.torchside.quirks` predicts the measured value exactly), ``unmodelled``
(the row is torch's own) or ``mismatch``.  Only ``mismatch`` fails a verification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alexprof.counting.analysis import count
from alexprof.counting.formulas import cost_of
from alexprof.counting.rows import Measured, Report
from alexprof.nets import Placed, Shape, Unsupported, row_name
from alexprof.nets.net import Net
from alexprof.report.status import CheckStatus
from alexprof.torchside import quirks

TOTAL = "(total)"


@dataclass(frozen=True)
class Source:
    """A peer that measures what alexprof counts."""

    name: str  # as ``--verify`` output and the JSON name it: "flopcounter"
    fields: tuple[str, ...]  # the report fields it measures, per layer
    convention: str  # the counting convention its numbers follow
    description: str  # what it is, in the verification footer and JSON


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "torch",
            ("weights", "bias", "params"),
            "macs",
            "numel() of each module's weight and bias",
        ),
        Source(
            "flopcounter",
            ("flops", "flops_backward"),
            "flopcounter",
            "torch.utils.flop_counter.FlopCounterMode, one training step",
        ),
        Source(
            "ptflops", ("macs",), "ptflops", "ptflops.get_model_complexity_info, pytorch backend"
        ),
        Source("aten", ("macs",), "aten", "ptflops.get_model_complexity_info, aten backend"),
    )
}


@dataclass(frozen=True)
class Check:
    layer: str
    source: str
    field: str
    analytic: int
    measured: int
    status: CheckStatus
    reason: str = ""


@dataclass(frozen=True)
class Verification:
    model: str
    input_shape: Shape
    batch: int
    checks: tuple[Check, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (source, why): a peer that could not run here
    notes: tuple[str, ...] = ()  # what a peer could not show, and why (not failures)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status.failed)

    def status(self, layer: str, source: str) -> CheckStatus | None:
        """The worst status of ``layer``'s checks against ``source`` (None: not checked)."""
        return CheckStatus.worst(
            c.status for c in self.checks if c.layer == layer and c.source == source
        )

    def reasons(self) -> dict[str, list[Check]]:
        """Each distinct reason with the checks it covers (mismatches under their own)."""
        grouped: dict[str, list[Check]] = {}
        for c in self.checks:
            if c.reason:
                grouped.setdefault(c.reason, []).append(c)
        return grouped


NO_LINE = (
    "ptflops prints no line for the functional calls a container module makes itself "
    "(only for the module types it hooks); this row's figure is torch's alone"
)
UNMODELLED = (
    "alexprof does not model these layers or functional calls: their rows carry torch's "
    "numel and FlopCounterMode's FLOPs (MACs = FLOPs / 2 under every convention), which this "
    "peer need not agree with"
)


def _judge(
    layer: str,
    source: str,
    field: str,
    analytic: int,
    measured: int,
    quirk: int = 0,
    reason: str = "",
    unmodelled: bool = False,
) -> Check:
    """``quirk``: the exact extra a named peer behaviour predicts; ``unmodelled``: the
    number involves rows alexprof does not model, so a difference is reported, not failed."""
    if measured == analytic:
        return Check(layer, source, field, analytic, measured, CheckStatus.MATCH)
    if quirk and measured == analytic + quirk:
        return Check(layer, source, field, analytic, measured, CheckStatus.EXPLAINED, reason)
    if unmodelled:
        return Check(layer, source, field, analytic, measured, CheckStatus.UNMODELLED, UNMODELLED)
    return Check(
        layer,
        source,
        field,
        analytic,
        measured,
        CheckStatus.MISMATCH,
        f"unexplained difference from {SOURCES[source].description}",
    )


def _unsupported(p: Placed) -> bool:
    return isinstance(p.layer, Unsupported)


def verify(
    net: Net,
    input_shape: Shape,
    batch: int,
    measured: dict[str, Measured],
    skipped: dict[str, str] | None = None,
) -> Verification:
    """``skipped``: sources that could not be measured here (their package does not import),
    with why; they get no checks and no column."""
    placed = {p.name: p for p in net.leaves(input_shape)}
    checks: list[Check] = []
    for source, result in measured.items():
        peer = SOURCES[source]
        report = count(net, input_shape, batch, peer.convention)
        check = _CHECKERS[source]
        checks += check(report, placed, result, batch, peer.fields)
    notes = tuple(note for result in measured.values() for note in result.notes)
    if "flopcounter" in measured:
        notes += _cpu_attention(net, input_shape, batch, placed)
    skips = tuple((skipped or {}).items())
    return Verification(net.name, input_shape, batch, tuple(checks), skips, notes)


def _cpu_attention(
    net: Net, input_shape: Shape, batch: int, placed: dict[str, Placed]
) -> tuple[str, ...]:
    """What a FlopCounterMode run on the CPU would miss: attention rows count 0 there."""
    report = count(net, input_shape, batch, SOURCES["flopcounter"].convention)
    missed = sum(
        quirks.flopcounter_cpu_attention(placed[r.name], r.flops or 0, r.flops_backward or 0)
        for r in report.rows
    )
    if not missed:
        return ()
    return (f"{quirks.FLOPCOUNTER_CPU_ATTENTION}: a CPU run counts {missed:,} FLOPs fewer",)


Checker = Callable[[Report, dict[str, Placed], Measured, int, tuple[str, ...]], list[Check]]


def _groups(report: Report, placed: dict[str, Placed], source: str) -> dict[str, list[str]]:
    """Row names by the unit a peer counts: torch's numel per module (a functional row
    counts toward the module whose forward ran it); FLOPs per module or functional op,
    the calls of a module called more than once (``relu``, ``relu#2``) summed.  ptflops
    prints a line per hooked module only, so functional rows go to its total alone."""
    groups: dict[str, list[str]] = {}
    for row in report.rows:
        p = placed[row.name]
        if p.op and source in ("ptflops", "aten"):
            continue
        groups.setdefault(p.module if source == "torch" else row.path, []).append(row.name)
    return groups


def _per_layer(
    report: Report, placed: dict[str, Placed], result: Measured, batch: int, fields: tuple[str, ...]
) -> list[Check]:
    """One check per torch module (or functional op) and field."""
    rows = {row.name: row for row in report.rows}
    checks = []
    for path, names in _groups(report, placed, result.source).items():
        module = row_name(path)
        odd = any(_unsupported(placed[n]) for n in names)
        got = result.per_layer.get(path)
        if got is None and path in result.unprinted:
            continue  # ptflops cannot print this module's line: checked in its total
        if got is None:  # absent from the peer's output: never read as a measured 0
            peer_gap = odd and result.source in ("ptflops", "aten")
            status, why = (
                (CheckStatus.UNMODELLED, NO_LINE)
                if peer_gap
                else (
                    CheckStatus.MISMATCH,
                    f"no row for this layer in the output of {SOURCES[result.source].description}",
                )
            )
            checks += [
                Check(
                    module,
                    result.source,
                    field,
                    sum(getattr(rows[n], field) or 0 for n in names),
                    0,
                    status,
                    why,
                )
                for field in fields
            ]
            continue
        for field in fields:
            analytic = sum(getattr(rows[n], field) or 0 for n in names)
            quirk, reason = 0, ""
            if result.source == "flopcounter" and field == "flops_backward":
                quirk = batch * sum(
                    quirks.flopcounter_grouped_wgrad(
                        placed[n], cost_of(placed[n].layer, placed[n].in_shape, placed[n].out_shape)
                    )
                    for n in names
                )
                reason = quirks.FLOPCOUNTER_GROUPS
            checks.append(
                _judge(
                    module,
                    result.source,
                    field,
                    analytic,
                    got.get(field, 0),
                    quirk,
                    reason,
                    odd and result.source in ("ptflops", "aten"),
                )
            )
    return checks


def _torch(
    report: Report, placed: dict[str, Placed], result: Measured, batch: int, fields: tuple[str, ...]
) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    checks.append(_judge(TOTAL, "torch", "params", report.total("params"), result.total or 0))
    return checks


def _flopcounter(
    report: Report, placed: dict[str, Placed], result: Measured, batch: int, fields: tuple[str, ...]
) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    quirk = sum(c.measured - c.analytic for c in checks if c.status is CheckStatus.EXPLAINED)
    analytic = report.total("flops") + report.total("flops_backward")
    checks.append(
        _judge(
            TOTAL,
            "flopcounter",
            "flops+flops_backward",
            analytic,
            result.total or 0,
            quirk,
            quirks.FLOPCOUNTER_GROUPS,
        )
    )
    return checks


def _ptflops(
    report: Report, placed: dict[str, Placed], result: Measured, batch: int, fields: tuple[str, ...]
) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    extra = batch * sum(quirks.ptflops_functional_extra(p) for p in placed.values())
    checks.append(
        _total(
            report,
            result,
            checks,
            extra,
            quirks.PTFLOPS_DOUBLE,
            any(map(_unsupported, placed.values())),
        )
    )
    return checks


def _total(
    report: Report, result: Measured, checks: list[Check], quirk: int, reason: str, unmodelled: bool
) -> Check:
    """The returned total against the analytic one plus the predicted quirk; where
    rows are unmodelled, also plus the per-row differences already reported."""
    analytic, measured = report.total("macs"), result.total or 0
    check = _judge(TOTAL, result.source, "macs", analytic, measured, quirk, reason)
    if not check.status.failed or not unmodelled:
        return check
    known = quirk + sum(
        c.measured - c.analytic for c in checks if c.status is CheckStatus.UNMODELLED
    )
    rest = measured - analytic - known
    note = f"{UNMODELLED}; of the difference, {known:+,} is predicted or shown per layer" + (
        f" and {rest:+,} comes from functional calls inside unmodelled code" if rest else ""
    )
    return Check(TOTAL, result.source, "macs", analytic, measured, CheckStatus.UNMODELLED, note)


def _aten(
    report: Report, placed: dict[str, Placed], result: Measured, batch: int, fields: tuple[str, ...]
) -> list[Check]:
    """The aten backend reports per top-level child: analytic rows are summed the same
    way (a root module's own functional calls have no child, so only the total has them)."""
    tops: dict[str, tuple[int, bool]] = {}
    for row in report.rows:
        top = placed[row.name].module.split(".", 1)[0]
        if top:  # not the root's own row
            macs, odd = tops.get(top, (0, False))
            tops[top] = (macs + (row.macs or 0), odd or _unsupported(placed[row.name]))
    checks = [
        _judge(
            top, "aten", "macs", macs, result.per_layer.get(top, {}).get("macs", 0), unmodelled=odd
        )
        for top, (macs, odd) in tops.items()
    ]
    checks.append(_total(report, result, checks, 0, "", any(map(_unsupported, placed.values()))))
    return checks


_CHECKERS: dict[str, Checker] = {
    "torch": _torch,
    "flopcounter": _flopcounter,
    "ptflops": _ptflops,
    "aten": _aten,
}
