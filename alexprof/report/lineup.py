"""Several networks side by side: the numbers behind ``alexprof compare``.

Per network (per sample unless stated): parameters, forward MACs under a
convention, training FLOPs (forward + backward, FLOPs = 2 x MACs), activation
memory for a batch, the layer holding the most parameters and the one doing
the most MACs, and parameters per MAC (how much arithmetic each weight buys).
No torch import here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from alexprof.counting.analysis import count
from alexprof.counting.conventions import DEFAULT_CONVENTION
from alexprof.counting.rows import SCHEMA
from alexprof.nets.net import Net
from alexprof.nets.shapes import fmt_shape
from alexprof.report.render import Column, Table, csv_records, human, num, to_json

ACTIVATIONS_NOTE = (
    "activations: what autograd keeps for backward at the end of the forward pass, float32 on "
    "CUDA (each storage once, 512-byte blocks), from the byte-exact memory model that "
    "`alexprof memtrace` checks against torch; '-' for a user module, whose memory is not modelled"
)


def activation_bytes(net: Net, input_shape: tuple[int, ...] | None, batch: int) -> int | None:
    """Bytes autograd keeps for backward after the forward pass of ``batch`` samples."""
    from alexprof.errors import UsageError
    from alexprof.memory.predict import predict
    from alexprof.memory.vocab import Category

    try:
        return predict(net, input_shape, batch, "float32", "none", "cuda").breakdown[
            Category.ACTIVATIONS
        ]
    except UsageError:
        return None  # a recorded user module: memtrace does not model it


@dataclass(frozen=True)
class Entry:
    model: str
    input_shape: tuple[int, ...]
    params: int
    macs: int  # forward, per sample, under ``convention``
    flops_train: int  # forward + backward FLOPs, per sample
    activation_bytes: int | None  # for ``batch`` samples (None: not modelled)
    largest_layer: str  # most parameters
    largest_layer_params: int
    heaviest_layer: str  # most MACs
    heaviest_layer_macs: int
    params_per_mac: float

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["input_shape"] = list(self.input_shape)
        return out


def entry(
    net: Net, input_shape: tuple[int, ...] | None, batch: int, convention: str = DEFAULT_CONVENTION
) -> Entry:
    report = count(net, input_shape, 1, convention)
    totals = report.totals()
    big, heavy = report.heaviest("params"), report.heaviest("macs")
    return Entry(
        model=net.name,
        input_shape=report.input_shape,
        params=totals["params"],
        macs=totals["macs"],
        flops_train=totals["flops"] + totals["flops_backward"],
        activation_bytes=activation_bytes(net, input_shape, batch),
        largest_layer=big.name if big else "-",
        largest_layer_params=big.params or 0 if big else 0,
        heaviest_layer=heavy.name if heavy else "-",
        heaviest_layer_macs=heavy.macs or 0 if heavy else 0,
        params_per_mac=totals["params"] / totals["macs"] if totals["macs"] else 0.0,
    )


def lineup_text(entries: list[Entry], batch: int, convention: str, fmt: str) -> str:
    """``alexprof compare``'s output in ``fmt``: one row per network."""
    if fmt == "json":
        return to_json(
            {
                "schema": SCHEMA,
                "batch": batch,
                "dtype": "float32",
                "convention": convention,
                "activations": ACTIVATIONS_NOTE,
                "models": [e.to_json() for e in entries],
            }
        )
    if fmt == "csv":
        return csv_records([e.to_json() for e in entries])
    table = Table(
        f"networks side by side (per sample; activations for batch {batch})",
        [
            Column.text("model"),
            Column.token("input"),
            Column.num("params"),
            Column.num("MACs"),
            Column.num("train FLOPs"),
            Column.num(f"activations @{batch}"),
            Column.token("largest layer"),
            Column.token("most MACs"),
            Column.num("params/MAC"),
        ],
        caption=f"MACs: forward, convention '{convention}'; train FLOPs: forward + backward "
        f"(FLOPs = 2 x MACs); {ACTIVATIONS_NOTE}.",
    )
    for e in entries:
        table.add(
            e.model,
            fmt_shape(e.input_shape),
            num(e.params),
            num(e.macs),
            human(e.flops_train, "FLOP"),
            "-" if e.activation_bytes is None else human(e.activation_bytes, "B"),
            f"{e.largest_layer} ({human(e.largest_layer_params)})",
            f"{e.heaviest_layer} ({human(e.heaviest_layer_macs)})",
            f"{e.params_per_mac:.4f}",
        )
    if len(entries) > 1:
        lean = min(entries, key=lambda e: e.params_per_mac)
        table.footer.append(
            f"Fewest parameters per MAC: {lean.model} ({lean.params_per_mac:.4f}); "
            f"most parameters: {max(entries, key=lambda e: e.params).model}; "
            f"most arithmetic: {max(entries, key=lambda e: e.macs).model}."
        )
    return table.to_text(fmt)
