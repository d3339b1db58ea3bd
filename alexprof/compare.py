"""Analytic versus measured, field by field, with the reason for every difference.

:func:`verify` is pure: it takes what :mod:`alexprof.measure` returned and the
descriptors, and produces :class:`Check` rows.  A check is ``match``,
``explained`` (a quirk in :mod:`alexprof.quirks` predicts the measured value
exactly) or ``mismatch``.  Only ``mismatch`` fails a verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from alexprof import quirks
from alexprof.analysis import count
from alexprof.counting import cost_of
from alexprof.layers import Placed, Shape, walk
from alexprof.rows import Measured, Report
from alexprof.zoo import Net

TOTAL = "(total)"

# source -> (fields it measures, the convention its numbers follow, what it is)
SOURCES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "torch": (("weights", "bias", "params"), "macs", "numel() of each module's weight and bias"),
    "flopcounter": (("flops", "flops_backward"), "flopcounter",
                    "torch.utils.flop_counter.FlopCounterMode, one training step"),
    "ptflops": (("macs",), "ptflops", "ptflops.get_model_complexity_info, pytorch backend"),
    "aten": (("macs",), "aten", "ptflops.get_model_complexity_info, aten backend"),
}


@dataclass(frozen=True)
class Check:
    layer: str
    source: str
    field: str
    analytic: int
    measured: int
    status: str  # "match" | "explained" | "mismatch"
    reason: str = ""


@dataclass(frozen=True)
class Verification:
    model: str
    input_shape: Shape
    batch: int
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "mismatch")

    def status(self, layer: str, source: str) -> str:
        statuses = {c.status for c in self.checks if c.layer == layer and c.source == source}
        for worst in ("mismatch", "explained", "match"):
            if worst in statuses:
                return worst
        return ""

    def reasons(self) -> dict[str, list[Check]]:
        """Each distinct reason with the checks it covers (mismatches under their own)."""
        grouped: dict[str, list[Check]] = {}
        for c in self.checks:
            if c.reason:
                grouped.setdefault(c.reason, []).append(c)
        return grouped


def _judge(layer: str, source: str, field: str, analytic: int, measured: int,
           quirk: int = 0, reason: str = "") -> Check:
    if measured == analytic:
        return Check(layer, source, field, analytic, measured, "match")
    if quirk and measured == analytic + quirk:
        return Check(layer, source, field, analytic, measured, "explained", reason)
    return Check(layer, source, field, analytic, measured, "mismatch",
                 f"unexplained difference from {SOURCES[source][2]}")


def verify(net: Net, input_shape: Shape, batch: int, measured: dict[str, Measured]) -> Verification:
    placed = {p.name: p for p in walk(net.body, input_shape)}
    checks: list[Check] = []
    for source, result in measured.items():
        fields, convention, _ = SOURCES[source]
        report = count(net, input_shape, batch, convention)
        check = _CHECKERS[source]
        checks += check(report, placed, result, batch, fields)
    return Verification(net.name, input_shape, batch, tuple(checks))


Checker = Callable[[Report, dict[str, Placed], Measured, int, tuple[str, ...]], list[Check]]


def _per_layer(report: Report, placed: dict[str, Placed], result: Measured, batch: int,
               fields: tuple[str, ...]) -> list[Check]:
    checks = []
    for row in report.rows:
        got = result.per_layer.get(row.name, {})
        for field in fields:
            analytic = getattr(row, field) or 0
            quirk, reason = 0, ""
            if result.source == "flopcounter" and field == "flops_backward":
                p = placed[row.name]
                quirk = quirks.flopcounter_grouped_wgrad(p, cost_of(p.layer, p.in_shape, p.out_shape))
                quirk, reason = quirk * batch, quirks.FLOPCOUNTER_GROUPS
            checks.append(_judge(row.name, result.source, field, analytic, got.get(field, 0),
                                 quirk, reason))
    return checks


def _torch(report: Report, placed: dict[str, Placed], result: Measured, batch: int,
           fields: tuple[str, ...]) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    checks.append(_judge(TOTAL, "torch", "params", report.total("params"), result.total or 0))
    return checks


def _flopcounter(report: Report, placed: dict[str, Placed], result: Measured, batch: int,
                 fields: tuple[str, ...]) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    quirk = sum(c.measured - c.analytic for c in checks if c.status == "explained")
    analytic = report.total("flops") + report.total("flops_backward")
    checks.append(_judge(TOTAL, "flopcounter", "flops+flops_backward", analytic,
                         result.total or 0, quirk, quirks.FLOPCOUNTER_GROUPS))
    return checks


def _ptflops(report: Report, placed: dict[str, Placed], result: Measured, batch: int,
             fields: tuple[str, ...]) -> list[Check]:
    checks = _per_layer(report, placed, result, batch, fields)
    extra = batch * sum(quirks.ptflops_functional_extra(p) for p in placed.values())
    checks.append(_judge(TOTAL, "ptflops", "macs", report.total("macs"), result.total or 0,
                         extra, quirks.PTFLOPS_DOUBLE))
    return checks


def _aten(report: Report, placed: dict[str, Placed], result: Measured, batch: int,
          fields: tuple[str, ...]) -> list[Check]:
    tops: dict[str, int] = {}
    for row in report.rows:
        top = row.name.split(".", 1)[0]
        tops[top] = tops.get(top, 0) + (row.macs or 0)
    checks = [
        _judge(top, "aten", "macs", macs, result.per_layer.get(top, {}).get("macs", 0))
        for top, macs in tops.items()
    ]
    checks.append(_judge(TOTAL, "aten", "macs", report.total("macs"), result.total or 0))
    return checks


_CHECKERS: dict[str, Checker] = {
    "torch": _torch, "flopcounter": _flopcounter, "ptflops": _ptflops, "aten": _aten,
}


def measure_all(net: Net, input_shape: Shape, batch: int, sources: tuple[str, ...]) -> dict[str, Measured]:
    """Run the measured side for ``sources`` (imports torch and ptflops)."""
    from alexprof import measure

    runners: dict[str, Callable[[], Measured]] = {
        "torch": lambda: measure.measure_params(net.body),
        "flopcounter": lambda: measure.measure_flopcounter(net.body, input_shape, batch,
                                                           net.num_classes),
        "ptflops": lambda: measure.measure_ptflops(net.body, input_shape, batch),
        "aten": lambda: measure.measure_ptflops_aten(net.body, input_shape, batch),
    }
    return {source: runners[source]() for source in sources}
