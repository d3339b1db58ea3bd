"""The one row type shared by the analytic and the measured side.

A report is a list of :class:`LayerRow` (one per leaf layer, or per call of a module
called more than once; joined on ``name``) plus the context it was computed in.
Measured rows leave ``None`` in the fields their source does not measure.  Totals
are always the column sums of the rows (a test asserts that invariant on every
rendered report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alexprof.nets import Shape, row_name

SCHEMA = "alexprof/1"
COUNT_FIELDS = ("weights", "bias", "params", "macs", "flops", "flops_backward")


@dataclass(frozen=True)
class LayerRow:
    path: str  # the layer's dotted path; a user module's name ("" = its root), every call alike
    type: str
    input_shape: Shape
    output_shape: Shape
    weights: int | None = None
    bias: int | None = None
    params: int | None = None
    macs: int | None = None  # under the report's convention, whole batch
    flops: int | None = None  # 2 * macs
    flops_backward: int | None = None  # 2 * backward MACs, whole batch
    call: int = 1  # the n-th call of its module: one row per call, parameters on the first
    module: str | None = None  # the torch module whose forward ran it (None: ``path``)
    via: str = ""  # a functional row: the callable its forward called (``torch.cat``)

    @property
    def name(self) -> str:
        """The name the row shows (``relu``, ``relu#2``, ``(root)``): :func:`row_name`."""
        return row_name(self.path, self.call)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: getattr(self, key) for key in ROW_FIELDS}
        out["input_shape"] = list(self.input_shape)
        if self.via:
            out["module"], out["via"] = self.module, self.via
        out["output_shape"] = list(self.output_shape)
        return out


@dataclass(frozen=True)
class Report:
    model: str
    input_shape: Shape
    batch: int
    convention: str
    rows: tuple[LayerRow, ...]
    dtype: str = "float32"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def total(self, key: str) -> int:
        return sum(getattr(row, key) or 0 for row in self.rows)

    def totals(self) -> dict[str, int]:
        return {key: self.total(key) for key in COUNT_FIELDS}

    def table_rule_params(self) -> int:
        """The source material's mixed rule: conv weights only, FC weights + bias."""
        return sum(
            (row.weights or 0) + ((row.bias or 0) if row.type == "Linear" else 0)
            for row in self.rows
        )

    def heaviest(self, key: str) -> LayerRow | None:
        best = max(self.rows, key=lambda r: getattr(r, key) or 0, default=None)
        return best if best is not None and (getattr(best, key) or 0) > 0 else None

    def to_json(self) -> dict[str, Any]:
        totals: dict[str, Any] = self.totals()
        totals["params_table_rule"] = self.table_rule_params()
        return {
            "schema": SCHEMA,
            "model": self.model,
            "input_shape": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": self.convention,
            "layers": [row.to_json() for row in self.rows],
            "totals": totals,
        }


ROW_FIELDS = ("name", "type", "input_shape", "output_shape", *COUNT_FIELDS)  # a JSON layer's keys


@dataclass(frozen=True)
class Measured:
    """One source's per-layer numbers (whole batch) and its own returned total."""

    source: str
    per_layer: dict[str, dict[str, int]]
    total: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    unprinted: frozenset[str] = frozenset()  # modules the peer prints no line for (ptflops)
