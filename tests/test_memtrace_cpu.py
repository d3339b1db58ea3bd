"""The prediction equals a real CPU training step to the byte, at every stage (after and peak).

torch is the oracle: :func:`alexprof.memtrace.run_step` runs the step and tracks every
storage torch allocates and frees.  On a failure the message shows the first stage that
differs and the tracker's storage log for it.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from alexprof import layers as L  # noqa: E402
from alexprof import zoo  # noqa: E402
from alexprof.memory import predict  # noqa: E402
from alexprof.memtrace import iter_log, run_step  # noqa: E402

ALEXNETS = ("alexnet", "alexnet-d2l", "alexnet-2012", "alexnet-torchvision")
# every optimizer for every AlexNet, and batches 1 and 2 for each
PLAN = [(net, batch, opt) for net in ALEXNETS
        for batch, opt in ((1, "none"), (2, "sgd"), (1, "sgd-momentum"), (2, "adam"))]


def assert_exact(net: zoo.Net, batch: int, optimizer: str, dtype: str = "float32",
                 foreach: bool | None = None) -> None:
    trace = run_step(net, net.input_shape, batch, dtype, optimizer, "cpu", foreach=foreach, log=True)
    pred = predict(net, net.input_shape, batch, dtype, optimizer, "cpu", foreach=foreach)
    for m, p in zip(trace.stages, pred.stages):
        assert m.stage == p.stage
        if (m.allocated, m.peak) != (p.allocated, p.peak):
            log = "\n".join(line for line in iter_log(trace) if line.startswith(m.stage))
            pytest.fail(f"{net.name} batch {batch} {optimizer} {dtype}: stage {m.stage}: measured "
                        f"{m.allocated:,} B after / {m.peak:,} B peak, predicted {p.allocated:,} / "
                        f"{p.peak:,}\n{log}")


@pytest.mark.parametrize("name, batch, optimizer", PLAN)
def test_alexnets_exact_at_every_stage(name: str, batch: int, optimizer: str) -> None:
    assert_exact(zoo.get(name), batch, optimizer)


def test_linear_demo_exact() -> None:
    assert_exact(zoo.get("linear-demo"), 256, "sgd-momentum")


def test_foreach_optimizers_exact() -> None:
    """The CUDA default (foreach) implementations, run on CPU where they can be checked."""
    assert_exact(zoo.get("alexnet-2012"), 1, "adam", foreach=True)
    assert_exact(zoo.get("linear-demo"), 3, "sgd-momentum", foreach=True)


def test_half_precision_exact() -> None:
    assert_exact(zoo.get("alexnet-d2l"), 1, "adam", dtype="bfloat16")
    assert_exact(zoo.get("linear-demo"), 5, "adam", dtype="float16")


def _net(name: str, shape: tuple[int, ...], *layers: L.Layer) -> zoo.Net:
    return zoo.Net(name, "", shape, L.Sequential(name, layers), 10)


C = L.Conv2d
OTHER_NETS = [
    _net("pool-first", (3, 12, 12), L.MaxPool2d("pool0", 2), C("conv1", 3, 8, 3), L.ReLU("relu1"),
         L.Flatten("flatten"), L.Linear("fc", 8 * 4 * 4, 10)),
    _net("bn-avgpool", (3, 12, 12), C("conv1", 3, 8, 3, bias=False), L.BatchNorm2d("bn1", num_features=8),
         L.ReLU("relu1", inplace=True), L.AvgPool2d("avg", 2), L.AdaptiveAvgPool2d("gap", (1, 1)),
         L.Flatten("flatten"), L.Linear("fc", 8, 10)),
    _net("dropout-edges", (3, 8, 8), C("conv1", 3, 4, 3), L.Dropout("d0", 0.0), L.Dropout("d1", 1.0),
         L.Flatten("f"), L.Softmax("sm"), L.Linear("fc", 144, 10, bias=False)),
    _net("inception", (4, 8, 8), C("stem", 4, 8, 3, padding=1), L.ReLU("r0", inplace=True),
         L.Parallel("mix", (C("b1", 8, 4, 1),
                            L.Sequential("b2", (C("red", 8, 4, 1), L.ReLU("r", inplace=True),
                                                C("c3", 4, 6, 3, padding=1))),
                            L.Sequential("b3", (L.MaxPool2d("p", 3, stride=1, padding=1),
                                                C("proj", 8, 2, 1))))),
         L.ReLU("r1"), L.AdaptiveAvgPool2d("gap", (2, 2)), L.Flatten("flatten"), L.Linear("fc", 48, 10)),
    _net("residual", (4, 8, 8), C("stem", 4, 8, 3, padding=1), L.ReLU("r0", inplace=True),
         L.Parallel("block", (L.Sequential("body", (C("c1", 8, 8, 3, padding=1), L.ReLU("r", inplace=True),
                                                    C("c2", 8, 8, 3, padding=1))),
                              L.Sequential("skip", ())), merge="add"),
         L.ReLU("r1", inplace=True), L.Flatten("flatten"), L.Linear("fc", 512, 10)),
]


@pytest.mark.parametrize("net", OTHER_NETS, ids=lambda n: n.name)
def test_other_layers_and_branches_exact(net: zoo.Net) -> None:
    """Batch norm, pooling variants, dropout p=0/1, softmax, Inception and residual branches."""
    assert_exact(net, 3, "adam")
    assert_exact(net, 1, "sgd-momentum")


def test_tracker_counts_a_storage_once() -> None:
    """A view and an in-place result share their storage; freeing the last reference frees it."""
    from alexprof.memtrace import StorageTracker

    tracker = StorageTracker("cpu")
    with tracker:
        x = torch.empty(256)  # 1 KiB
        view = x[:128]
        x.add_(1)
        assert tracker.current == 1024
        del x
        assert tracker.current == 1024  # the view keeps the storage
        del view
        assert tracker.current == 0
        assert tracker.peak == 1024


def test_the_comparison_can_fail() -> None:
    """Predicting the foreach Adam for a single-tensor step gets the step's peak wrong."""
    net = zoo.get("linear-demo")
    trace = run_step(net, net.input_shape, 3, "float32", "adam", "cpu", foreach=False)
    wrong = predict(net, net.input_shape, 3, "float32", "adam", "cpu", foreach=True)
    # two 4 MiB weights.  foreach holds a sqrt of every exp_avg_sq at once (2 x 4 MiB); the
    # loop holds at most fc1's denom, fc2's sqrt and fc2's denom (3 x 4 MiB): 4 MiB more
    assert trace.stages[5].peak - wrong.stage("step").peak == 4 * (1 << 20)
