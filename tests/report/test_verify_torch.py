"""Every per-layer number equals what torch, FlopCounterMode and ptflops measure.

The measured side runs inside the test (torch modules on meta / CPU, real
FlopCounterMode, real ptflops); nothing measured is written down here.
"""

from __future__ import annotations

import pytest

from alexprof import load_model
from alexprof.nets.zoo import index as zoo
from alexprof.report.verify import TOTAL, verify
from alexprof.torchside.measure import measure_all
from alexprof.nets import walk

SOURCES = ("torch", "flopcounter", "ptflops", "aten")


# the AlexNets; the other families are verified in tests/test_verify_networks.py
@pytest.fixture(scope="module", params=[n for n in zoo.names() if n.startswith("alexnet")])
def verified(request: pytest.FixtureRequest):
    net = load_model(request.param)
    batch = 3
    return verify(net, net.input_shape, batch, measure_all(net, net.input_shape, batch, SOURCES))


def test_no_unexplained_difference(verified) -> None:
    assert verified.failed == ()
    layers = {c.layer for c in verified.checks}
    net = load_model(verified.model)
    leaves = [p.name for p in walk(net.body, net.input_shape)]
    assert {leaves[0], leaves[-1], TOTAL} <= layers
    assert {c.source for c in verified.checks} == set(SOURCES)


def test_params_match_numel_exactly(verified) -> None:
    params = [c for c in verified.checks if c.source == "torch"]
    assert params and all(c.status == "match" for c in params)


def test_only_known_quirks_are_explained(verified) -> None:
    explained = {(c.layer, c.source) for c in verified.checks if c.status == "explained"}
    # every AlexNet has ReLU and pooling: counted twice (linear-demo has neither)
    expected = {(TOTAL, "ptflops")} if verified.model.startswith("alexnet") else set()
    if verified.model == "alexnet-2012":  # grouped convs: FlopCounterMode's weight-grad quirk
        expected |= {("conv2", "flopcounter"), ("conv4", "flopcounter"),
                     ("conv5", "flopcounter"), (TOTAL, "flopcounter")}
    assert explained == expected


def test_grouped_conv_quirk_amount() -> None:
    net = load_model("alexnet-2012")
    v = verify(net, net.input_shape, 1, measure_all(net, net.input_shape, 1, ("flopcounter",)))
    conv4 = next(c for c in v.checks if c.layer == "conv4" and c.field == "flops_backward")
    macs = 13 * 13 * 3 * 3 * 192 * 384  # 112,140,288: H*W*k*k*(C_in/groups)*C_out
    assert conv4.analytic == 2 * (macs + macs)  # grad-input + grad-weight, 2 FLOPs per MAC
    assert conv4.measured - conv4.analytic == 2 * macs * (2 - 1)  # C_in instead of C_in/2


def test_ptflops_double_count_amount() -> None:
    net = load_model("alexnet")
    v = verify(net, net.input_shape, 1, measure_all(net, net.input_shape, 1, ("ptflops",)))
    total = next(c for c in v.checks if c.layer == TOTAL)
    relus = 96 * 54 * 54 + 256 * 26 * 26 + 384 * 12 * 12 * 2 + 256 * 12 * 12 + 4096 * 2
    pools = 96 * 54 * 54 + 256 * 26 * 26 + 256 * 12 * 12  # pooling counts its input elements
    assert total.status == "explained"
    assert total.measured - total.analytic == relus + pools == 1_098_496
