"""The prediction equals a real CPU training step to the byte, at every stage.

torch is the oracle: :func:`alexprof.torchside.tracer.run_step` runs the step under the profiler's
allocation events.  At every stage the bytes alive after it and the peak between two ops
must equal the prediction; the allocator-level peak may only be higher (kernel
temporaries).  On a failure the message shows the stage and every allocation in it.
"""

from __future__ import annotations

import contextlib

import pytest

torch = pytest.importorskip("torch")

from alexprof import nets as L  # noqa: E402
from alexprof.nets.zoo import index as zoo  # noqa: E402
from alexprof.memory.predict import predict  # noqa: E402
from alexprof.memory.stages import Stage  # noqa: E402
from alexprof.torchside.tracer import run_step  # noqa: E402

ALEXNETS = ("alexnet", "alexnet-d2l", "alexnet-2012", "alexnet-torchvision")
# every optimizer for every AlexNet, and batches 1 and 2 for each
PLAN = [(net, batch, opt) for net in ALEXNETS
        for batch, opt in ((1, "none"), (2, "sgd"), (1, "sgd-momentum"), (2, "adam"))]


def assert_exact(net: zoo.Net, batch: int, optimizer: str, dtype: str = "float32",
                 foreach: bool | None = None) -> None:
    trace = run_step(net, net.input_shape, batch, dtype, optimizer, "cpu", foreach=foreach, log=True)
    pred = predict(net, net.input_shape, batch, dtype, optimizer, "cpu", foreach=foreach)
    assert [m.stage for m in trace.stages] == list(Stage)  # no stage silently missing
    assert [p.stage for p in pred.stages] == list(Stage)
    for m, p in zip(trace.stages, pred.stages):
        assert m.stage == p.stage
        if (m.allocated, m.peak_ops) != (p.allocated, p.peak) or m.peak < m.peak_ops:
            log = "\n".join(line for line in trace.log if line.startswith(m.stage))
            pytest.fail(f"{net.name} batch {batch} {optimizer} {dtype}: stage {m.stage}: measured "
                        f"{m.allocated:,} B after / {m.peak_ops:,} B peak between ops, predicted "
                        f"{p.allocated:,} / {p.peak:,}\n{log}")


@pytest.mark.parametrize("name, batch, optimizer", PLAN)
def test_alexnets_exact_at_every_stage(name: str, batch: int, optimizer: str) -> None:
    assert_exact(zoo.get(name), batch, optimizer)


def test_linear_demo_exact() -> None:
    assert_exact(zoo.get("linear-demo"), 256, "sgd-momentum")


@pytest.mark.parametrize("name, batch, optimizer", [
    ("lenet5", 4, "adam"),  # tanh, average pooling
    ("googlenet-aux", 2, "adam"),  # batch norm, Inception concat, two auxiliary losses
    ("googlenet", 1, "sgd-momentum"),
    ("vgg16-bn", 1, "sgd"),  # the biggest: 138 M parameters
])
def test_other_named_networks_exact(name: str, batch: int, optimizer: str) -> None:
    assert_exact(zoo.get(name), batch, optimizer)


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


def test_recorder_counts_storages_and_kernel_temporaries() -> None:
    """A view shares its storage; a Python number is an 8-byte tensor for one call."""
    from alexprof.torchside.profiler import Recorder

    rec = Recorder("cpu")
    with rec.session():
        with rec.stage("input"):
            x = torch.empty(256)  # 1 KiB
            view = x[:128]
            del x
        with rec.stage("forward"):
            y = view.mul(2.0)  # 512 B; 2.0 becomes a float64 tensor outside the op (8 B)
        with rec.stage("loss"):
            del view, y
    stages = {s.stage: s for s in rec.stages()}
    assert stages["input"].allocated == 1024
    assert stages["forward"].allocated == 1024 + 512
    assert stages["forward"].peak_ops == 1024 + 512 + 8  # the wrapped 2.0 at the end of mul
    assert stages["loss"].allocated == 0 and stages["loss"].peak == 1024 + 512


def test_a_dispatch_mode_would_change_the_step() -> None:
    """Why the measurement is not a TorchDispatchMode: with one active, autograd sums the two
    gradients reaching LRN's input out of place (two extra storages), without one in place."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from alexprof.torchside.profiler import Recorder

    class Passthrough(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            return func(*args, **(kwargs or {}))

    one = 8 * 5 * 5 * 4  # one gradient the size of x: 800 B

    def backward_allocations(mode: bool) -> int:
        """How many x-sized storages backward allocates."""
        x = torch.rand(1, 8, 5, 5, requires_grad=True)
        out = torch.nn.LocalResponseNorm(5)(x * 1.0).sum()
        rec = Recorder("cpu")
        with rec.session(), rec.stage("backward"):
            with Passthrough() if mode else contextlib.nullcontext():
                out.backward()
        return sum(size == one for size, _, _ in rec.stages()[0].log)

    assert backward_allocations(mode=True) - backward_allocations(mode=False) == 2


def test_the_comparison_can_fail() -> None:
    """Predicting the foreach Adam for a single-tensor step gets the step's peak wrong."""
    net = zoo.get("linear-demo")
    trace = run_step(net, net.input_shape, 3, "float32", "adam", "cpu", foreach=False)
    wrong = predict(net, net.input_shape, 3, "float32", "adam", "cpu", foreach=True)
    # two 4 MiB weights.  foreach holds a sqrt of every exp_avg_sq at once (2 x 4 MiB); the
    # loop holds at most fc1's denom, fc2's sqrt and fc2's denom (3 x 4 MiB) and the Python
    # number of `/ bias_correction2_sqrt` wrapped as an 8-byte tensor: 4 MiB + 8 B more
    assert trace.stages[5].peak_ops - wrong.stage("step").peak == 4 * (1 << 20) + 8


def test_memory_demo_script() -> None:
    """examples/memory_demo.py: the source's demonstration, every step equal to the prediction."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "examples" / "memory_demo.py"
    proc = subprocess.run([sys.executable, str(script), "--device", "cpu"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "X = torch.rand(1024, 1024)" in proc.stdout and "4,194,304" in proc.stdout
    assert "X1 = X[:256]" in proc.stdout
    assert proc.stdout.rstrip().endswith("every step equal to the byte")
    assert proc.stdout.count("✓") == 7  # seven steps, X to loss.backward(), each checked
