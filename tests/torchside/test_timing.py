"""--measure's timer, run for real on CPU (and on CUDA when there is one)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from alexprof.nets.zoo import index as zoo  # noqa: E402
from alexprof.errors import UsageError  # noqa: E402
from alexprof.speed.devices import Device  # noqa: E402
from alexprof.nets import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential  # noqa: E402
from alexprof.speed.roofline import roofline  # noqa: E402
from alexprof.torchside.timing import (  # noqa: E402
    cpu_threads, median_seconds, pick_device, tf32, time_layers,
)
from alexprof.nets.net import Net  # noqa: E402

SMALL = Net("small", "test net", (3, 32, 32), Sequential("small", (
    Conv2d("conv1", 3, 16, 3, padding=1), ReLU("relu1", inplace=True), MaxPool2d("pool1", 2),
    Flatten("flatten"), Linear("fc1", 16 * 16 * 16, 10),
)), 10)

# Far beyond any CPU or GPU: 1 EFLOP/s and 1 PB/s.  Nothing real can run under these floors.
IMPOSSIBLE = Device("impossible", "faster than anything", "custom", {"float32": 1e18}, 1e15, 0, "tests")


def test_every_layer_and_the_step_are_timed_on_cpu():
    timing = time_layers(SMALL, SMALL.input_shape, 2, "float32", "cpu", warmup=1, repeats=3)
    assert list(timing.per_layer) == ["conv1", "relu1", "pool1", "flatten", "fc1"]
    assert all(s > 0 for s in timing.per_layer.values())
    assert timing.step_s is not None and timing.step_s > 0
    assert (timing.warmup, timing.repeats) == (1, 3)
    # a training step runs every layer forward and backward: it cannot be faster than conv1 alone
    assert timing.step_s > timing.per_layer["conv1"]


def test_no_measured_layer_beats_an_impossible_floor():
    result = roofline(SMALL, IMPOSSIBLE, batch=2).with_timing(
        time_layers(SMALL, SMALL.input_shape, 2, "float32", "cpu", warmup=1, repeats=3))
    for row in result.rows:
        got = result.measured(row)
        assert got is not None
        assert got.fraction < 1.0, row.name
        assert got.flops_per_s == pytest.approx(row.forward.flops / got.seconds)
    doc = result.to_json()
    assert doc["measured"]["step_s"] > 0 and "fraction_of_floor" in doc["layers"][0]


def test_median_is_the_middle_repeat():
    calls = []
    median_seconds(lambda: calls.append(1), "cpu", warmup=2, repeats=5)
    assert len(calls) == 7  # 2 warm-up + 5 timed


def test_tf32_setting_is_restored():
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with tf32(not before[0]):
        assert torch.backends.cudnn.allow_tf32 is (not before[0])
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before


def test_threads_are_set_for_the_run_and_restored():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    timing = time_layers(SMALL, SMALL.input_shape, 1, "float32", "cpu", warmup=0, repeats=1,
                         threads=1)
    assert "1 CPU thread" in timing.device and torch.get_num_threads() == before


def test_bad_device_and_repeats():
    with pytest.raises(UsageError, match="valid: auto, cpu, cuda"):
        pick_device("tpu")
    with pytest.raises(UsageError, match="--repeats 0"):
        time_layers(SMALL, SMALL.input_shape, 1, "float32", "cpu", repeats=0)
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA device"):
            pick_device("cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_events_time_every_layer():
    net = zoo.get("alexnet")
    timing = time_layers(net, net.input_shape, 8, "float32", "cuda", warmup=2, repeats=5)
    assert all(s > 0 for s in timing.per_layer.values()) and timing.step_s
    name = torch.cuda.get_device_name()
    assert name in timing.device
    # the published figures of any device we list are far below 1 EFLOP/s
    result = roofline(net, IMPOSSIBLE, batch=8).with_timing(timing)
    assert all(result.measured(r).fraction < 1.0 for r in result.rows if r.forward.flops)
