"""The analytic memory model, against arithmetic done by hand.  No torch here."""

from __future__ import annotations

import time

import pytest

from alexprof import nets as L
from alexprof.nets.zoo import index as zoo
from alexprof.errors import UsageError
from alexprof.memory.predict import predict
from alexprof.memory.stages import Stage
from alexprof.memory.engine import storage_bytes

MiB = 1 << 20


def allocated(pred) -> dict[str, int]:
    return {s.stage: s.allocated for s in pred.stages}


def test_linear_demo_cpu_by_hand() -> None:
    """The source's demonstration, float32 on CPU (exact sizes)."""
    p = predict(zoo.get("linear-demo"), batch=256, device="cpu")
    a = allocated(p)
    x, y = 1024 * 1024 * 4, 1024 * 8  # X 4 MiB, y (1024, 1) int64 8 KiB
    assert a["input"] == x + y == 4_202_496
    assert a["model"] - a["input"] == 2 * 1024 * 1024 * 4  # two 1024x1024 weights: 8 MiB
    assert a["forward"] - a["model"] == 2 * 256 * 1024 * 4  # fc1 output (kept by fc2) + y_hat: 2 MiB
    assert a["loss"] - a["forward"] == 256 * 1024 * 4 + 4 + 4  # log-softmax, loss, total weight
    # backward: +8 MiB grads, -1 MiB log-softmax, -1 MiB fc1 output, -4 B total weight
    assert a["backward"] - a["loss"] == 8 * MiB - 2 * MiB - 4
    # peak: after fc2's node (+1 MiB grad_input +4 MiB grad_weight, -1 MiB grad, -1 MiB fc1 out)
    # fc1's node adds its 4 MiB weight gradient while its 1 MiB incoming gradient is alive:
    # loss + (1 + 4 - 1 - 1) MiB + 4 MiB = loss + 7 MiB
    assert p.stage("backward").peak == a["loss"] + 7 * MiB
    assert a["step"] - a["backward"] == 8 * MiB  # momentum buffers
    assert a["zero_grad"] == a["backward"]  # set_to_none frees exactly the gradients
    assert p.breakdown["gradients"] == p.breakdown["optimizer_state"] == 8 * MiB
    assert [k.tensor for k in p.kept] == ["output", "output"]  # fc1 output, y_hat


def test_linear_demo_cuda_rounds_every_storage_to_512() -> None:
    cpu = allocated(predict(zoo.get("linear-demo"), batch=256, device="cpu"))
    p = predict(zoo.get("linear-demo"), batch=256, device="cuda")
    cuda = allocated(p)
    assert cuda["forward"] == cpu["forward"]  # every storage here is a multiple of 512 already
    assert cuda["loss"] - cuda["forward"] == 256 * 1024 * 4 + 512 + 512  # two 4-byte scalars
    assert cuda["backward"] - cuda["loss"] == 8 * MiB - 2 * MiB - 512
    assert p.stage("backward").peak == cuda["loss"] + 7 * MiB


def test_storage_bytes() -> None:
    assert storage_bytes(1, "float32", "cpu") == 4
    assert storage_bytes(1, "float32", "cuda") == 512
    assert storage_bytes(129, "float32", "cuda") == 1024  # 516 B -> two 512 B units
    assert storage_bytes(0, "float32", "cuda") == 0
    assert storage_bytes(3, "bool", "cuda") == 512


def test_alexnet_parameters_gradients_and_state() -> None:
    net = zoo.get("alexnet")
    params = 50_844_008  # the core's total (MISSION.md)
    sgd = predict(net, batch=2, optimizer="sgd-momentum", device="cpu")
    adam = predict(net, batch=2, optimizer="adam", device="cpu")
    assert sgd.breakdown["parameters"] == sgd.breakdown["gradients"] == 4 * params
    assert sgd.breakdown["optimizer_state"] == 4 * params  # one momentum buffer
    assert adam.breakdown["optimizer_state"] == 8 * params + 16 * 4  # 2 moments + 16 float32 steps
    on_gpu = predict(net, batch=2, optimizer="adam", device="cuda")
    assert any("step counters" in n for n in on_gpu.notes)  # the steps stay on the host
    none = allocated(predict(net, batch=2, optimizer="none", device="cpu"))
    assert none["step"] == none["backward"]


def test_alexnet_kept_tensors_by_hand() -> None:
    p = predict(zoo.get("alexnet"), batch=2, device="cpu")
    kept = {(k.layer, k.tensor): k for k in p.kept}
    assert kept["conv1", "output"].bytes == 2 * 96 * 54 * 54 * 4  # relu1 in place: one storage
    assert kept["pool1", "indices"].dtype == "int64"
    assert kept["pool1", "indices"].bytes == 2 * 96 * 26 * 26 * 8
    assert kept["drop6", "mask"].dtype == "float32"  # CPU dropout keeps a float mask
    assert ("flatten", "output") not in kept  # a view: no storage of its own
    assert any("relu1" in who for who in kept["conv1", "output"].kept_by)
    assert sum(k.bytes for k in p.kept) == p.breakdown["activations"] + p.breakdown["output"]
    cuda = {(k.layer, k.tensor): k for k in predict(zoo.get("alexnet"), batch=2, device="cuda").kept}
    assert cuda["drop6", "mask"].dtype == "bool"
    assert cuda["drop6", "mask"].bytes == storage_bytes(2 * 4096, "bool", "cuda") == 8192


def test_lrn_keeps_its_intermediates() -> None:
    p = predict(zoo.get("alexnet-2012"), batch=1, device="cpu")
    lrn1 = {k.tensor: k.bytes for k in p.kept if k.layer == "lrn1"}
    assert lrn1["padded squares"] == (96 + 4) * 55 * 55 * 4  # size 5: two channels each side
    assert lrn1["k+alpha*avg"] == lrn1["(k+alpha*avg)**beta"] == lrn1["output"] == 96 * 55 * 55 * 4


def test_stages_in_order_and_deltas_sum() -> None:
    p = predict(zoo.get("alexnet-torchvision"), batch=3, optimizer="adam", device="cuda")
    assert tuple(s.stage for s in p.stages) == tuple(Stage)
    assert sum(s.delta for s in p.stages) == p.stages[-1].allocated
    assert all(s.peak >= s.allocated for s in p.stages)
    assert p.peak == max(s.peak for s in p.stages)


def test_huge_batch_is_pure_arithmetic() -> None:
    net = zoo.get("alexnet")
    start = time.perf_counter()
    big = predict(net, batch=100_000, device="cpu")
    assert time.perf_counter() - start < 5
    one = predict(net, batch=1, device="cpu")
    # on CPU every activation is proportional to the batch
    assert big.breakdown["activations"] == 100_000 * one.breakdown["activations"]
    assert big.peak > 100 * (1 << 30)  # far beyond this machine


def test_parallel_branches_are_modelled() -> None:
    body = L.Sequential("toy", (
        L.Conv2d("stem", 3, 8, 3, padding=1),
        L.Parallel("mix", (L.Conv2d("a", 8, 4, 1), L.Conv2d("b", 8, 4, 1))),
        L.Flatten("flatten"), L.Linear("fc", 8 * 8 * 8, 10),
    ))
    p = predict(zoo.Net("toy", "", (3, 8, 8), body, 10), batch=1, device="cpu")
    kept = {(k.layer, k.tensor) for k in p.kept}
    assert ("mix", "output") in kept  # torch.cat makes a new storage; fc keeps it
    assert ("stem", "output") in kept  # both branches keep it: listed once


@pytest.mark.parametrize("kwargs, word", [
    ({"dtype": "float64"}, "--dtype"),
    ({"optimizer": "rmsprop"}, "--optimizer"),
    ({"device": "tpu"}, "--device"),
    ({"batch": 0}, "--batch"),
])
def test_bad_arguments_name_the_value(kwargs: dict, word: str) -> None:
    with pytest.raises(UsageError, match=word):
        predict(zoo.get("alexnet"), **kwargs)
