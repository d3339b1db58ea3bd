"""descriptors -> analytic report: shapes walked once, one Cost per leaf."""

from __future__ import annotations

from alexprof.counting.conventions import DEFAULT_CONVENTION, get_convention
from alexprof.counting.formulas import cost_of
from alexprof.counting.rows import LayerRow, Report
from alexprof.errors import UsageError
from alexprof.nets import Shape
from alexprof.nets.net import Net


def count(
    net: Net,
    input_shape: Shape | None = None,
    batch: int = 1,
    convention: str = DEFAULT_CONVENTION,
) -> Report:
    """Per-layer parameters and MACs/FLOPs of ``net`` for a batch of ``batch``.

    Parameters do not depend on the batch; MACs, FLOPs and backward FLOPs are
    for the whole batch (per-sample counts times ``batch``).  The leaves come
    from the descriptors or, for a user's module, from its recorded forward pass;
    either way each is counted by the same formula registry.  Under a convention
    whose peer runs ``model.eval()``, training-only side branches count zero; a row
    recorded from a functional call gets what its convention counts for one
    (:meth:`~alexprof.counting.conventions.Convention.row_macs`).
    """
    if batch < 1:
        raise UsageError(f"batch={batch} must be a positive integer")
    conv = get_convention(convention)
    shape = net.input_shape if input_shape is None else input_shape
    rows = []
    for placed in net.leaves(shape):
        cost = cost_of(placed.layer, placed.in_shape, placed.out_shape)
        runs = conv.runs(placed)
        macs = conv.row_macs(placed, cost) * batch if runs else 0
        # a module called again shares its parameters: they are counted on its first call
        weights, bias = (cost.weights, cost.bias) if placed.call == 1 else (0, 0)
        rows.append(
            LayerRow(
                path=placed.path,
                type=placed.layer.kind,
                input_shape=placed.in_shape,
                output_shape=placed.out_shape,
                weights=weights,
                bias=bias,
                params=weights + bias,
                macs=macs,
                flops=2 * macs,
                flops_backward=2 * conv.backward_macs(placed, cost) * batch if runs else 0,
                call=placed.call,
                module=placed.module,
                via=placed.via,
            )
        )
    return Report(net.name, shape, batch, conv.name, tuple(rows))
