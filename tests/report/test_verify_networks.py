"""The other families against what torch, FlopCounterMode and ptflops measure.

Small inputs keep it quick: the rules do not depend on the size (the full-size
networks are checked the same way by `alexprof flops MODEL --verify`).
"""

from __future__ import annotations

import pytest

from alexprof import load_model
from alexprof.report.verify import TOTAL, verify
from alexprof.torchside.measure import measure_all

SOURCES = ("torch", "flopcounter", "ptflops", "aten")
INPUTS = {"lenet5": (1, 32, 32), "vgg11": (3, 32, 32), "vgg16-bn": (3, 64, 64),
          "googlenet": (3, 96, 96), "googlenet-aux": (3, 96, 96)}


@pytest.fixture(scope="module", params=list(INPUTS))
def verified(request: pytest.FixtureRequest):
    net = load_model(request.param)
    shape = INPUTS[request.param]
    return verify(net, shape, 2, measure_all(net, shape, 2, SOURCES))


def test_no_unexplained_difference(verified) -> None:
    assert verified.failed == ()
    assert {c.source for c in verified.checks} == set(SOURCES)
    # the only explained difference: ptflops' returned total (functional double count)
    explained = {(c.layer, c.source) for c in verified.checks if c.status == "explained"}
    assert explained == {(TOTAL, "ptflops")}
    assert not any(c.status == "unmodelled" for c in verified.checks)


def test_lenet5_ptflops_total_extra_by_hand() -> None:
    net = load_model("lenet5")
    v = verify(net, net.input_shape, 1, measure_all(net, net.input_shape, 1, ("ptflops",)))
    total = next(c for c in v.checks if c.layer == TOTAL)
    # F.avg_pool2d is patched, tanh is not: s2 and s4 count their input twice
    assert total.measured - total.analytic == 6 * 28 * 28 + 16 * 10 * 10 == 6_304


def test_aux_heads_run_in_flopcounter_not_in_ptflops() -> None:
    net = load_model("googlenet-aux")
    shape = INPUTS["googlenet-aux"]
    measured = measure_all(net, shape, 1, ("flopcounter", "ptflops"))
    fc1 = 2 * 2048 * 1024  # forward FLOPs of aux1.fc1 for one sample
    assert measured["flopcounter"].per_layer["aux1.fc1"]["flops"] == fc1
    assert measured["flopcounter"].per_layer["aux1.fc1"]["flops_backward"] == 2 * fc1
    assert measured["ptflops"].per_layer.get("aux1.fc1", {}).get("macs", 0) == 0  # eval()


def test_inception_branch_backward_is_per_branch() -> None:
    """Branches share their input; each branch's backward is charged to it alone."""
    net = load_model("googlenet")
    shape = INPUTS["googlenet"]
    per_layer = measure_all(net, shape, 1, ("flopcounter",))["flopcounter"].per_layer
    reduce = per_layer["inception3a.branch3.reduce.conv"]
    macs = 12 * 12 * 192 * 16  # 96 -> 48 -> 24 -> 12 at inception3a; 1x1 conv 192 -> 16
    assert reduce["flops"] == 2 * macs
    assert reduce["flops_backward"] == 2 * (macs + macs)  # grad-input + grad-weight
    assert per_layer["inception3a.branch4.pool"]["flops_backward"] == 0
