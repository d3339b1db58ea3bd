"""descriptors -> analytic report: shapes walked once, one Cost per leaf."""

from __future__ import annotations

from alexprof.counting import DEFAULT_CONVENTION, cost_of, get_convention
from alexprof.errors import UsageError
from alexprof.layers import Shape, walk
from alexprof.rows import LayerRow, Report
from alexprof.zoo import Net


def count(
    net: Net,
    input_shape: Shape | None = None,
    batch: int = 1,
    convention: str = DEFAULT_CONVENTION,
) -> Report:
    """Per-layer parameters and MACs/FLOPs of ``net`` for a batch of ``batch``.

    Parameters do not depend on the batch; MACs, FLOPs and backward FLOPs are
    for the whole batch (per-sample counts times ``batch``).
    """
    if batch < 1:
        raise UsageError(f"batch={batch} must be a positive integer")
    conv = get_convention(convention)
    shape = net.input_shape if input_shape is None else input_shape
    rows = []
    for placed in walk(net.body, shape):
        cost = cost_of(placed.layer, placed.in_shape, placed.out_shape)
        macs = conv.macs(placed.layer, cost) * batch
        rows.append(
            LayerRow(
                name=placed.name,
                type=placed.layer.kind,
                input_shape=placed.in_shape,
                output_shape=placed.out_shape,
                weights=cost.weights,
                bias=cost.bias,
                params=cost.weights + cost.bias,
                macs=macs,
                flops=2 * macs,
                flops_backward=2 * conv.backward_macs(placed, cost) * batch,
            )
        )
    return Report(net.name, shape, batch, conv.name, tuple(rows))
