"""The roofline model against hand-derived numbers (no torch)."""

from __future__ import annotations

import math

import pytest

from alexprof.speed import devices as hardware
from alexprof.nets.zoo import index as zoo
from alexprof.errors import UsageError
from alexprof.speed.devices import Device
from alexprof.nets import Conv2d, Flatten, Linear, ReLU, Sequential
from alexprof.speed.roofline import roofline
from alexprof.nets.net import Net

# input 1x6x6 -> conv1 (1->2, 3x3) 2x4x4 -> relu1 -> flatten 32 -> fc1 (32->3)
TINY = Net("tiny", "test net", (1, 6, 6), Sequential("tiny", (
    Conv2d("conv1", 1, 2, 3), ReLU("relu1"), Flatten("flatten"), Linear("fc1", 32, 3),
)), 3)

# 1000 FLOP/s and 1000 B/s: floors in seconds are FLOPs/1000 and bytes/1000
SLOW = Device("slow", "a test device", "custom", {"float32": 1000.0, "float16": 2000.0},
              1000.0, 0, "made up for tests")


def rows(result):
    return {r.name: r for r in result.rows}


def test_tiny_forward_by_hand():
    r = rows(roofline(TINY, SLOW, batch=2))
    # conv1: 4*4 positions * 3*3*1*2 weights = 288 MACs/sample; batch 2: 2*288*2 = 1152 FLOPs
    # bytes: 4 * (2*(36 input + 32 output) + 18 weights + 2 bias) = 4 * 156 = 624
    assert (r["conv1"].forward.flops, r["conv1"].forward.bytes) == (1152, 624)
    assert r["conv1"].forward.floor_s == pytest.approx(1.152)  # compute 1.152 s > memory 0.624 s
    assert r["conv1"].forward.bound == "compute"
    # relu1: no FLOPs; 4 * 2*(32 + 32) = 512 bytes -> memory bound, 0.512 s
    assert (r["relu1"].forward.flops, r["relu1"].forward.bytes) == (0, 512)
    assert r["relu1"].forward.bound == "memory" and r["relu1"].forward.floor_s == pytest.approx(0.512)
    # flatten is a view: moves nothing
    assert (r["flatten"].forward.bytes, r["flatten"].forward.floor_s) == (0, 0.0)
    assert r["flatten"].forward.intensity is None
    # fc1: 2*32*3*2 = 384 FLOPs; 4 * (2*(32 + 3) + 96 + 3) = 676 bytes -> memory bound
    assert (r["fc1"].forward.flops, r["fc1"].forward.bytes) == (384, 676)
    assert r["fc1"].forward.bound == "memory"
    assert r["fc1"].forward.intensity == pytest.approx(384 / 676)


def test_tiny_backward_and_update_by_hand():
    result = roofline(TINY, SLOW, batch=2)
    r = rows(result)
    # conv1's input needs no gradient: grad_output 64 + saved input 72 + weight grads 20 = 156 el.
    # FLOPs: weight gradient only, 2 * 288 * 2 = 1152
    assert (r["conv1"].backward.flops, r["conv1"].backward.bytes) == (1152, 4 * 156)
    # relu1: grad_output 64 + saved input 64 + grad_input 64 = 192 elements
    assert (r["relu1"].backward.flops, r["relu1"].backward.bytes) == (0, 4 * 192)
    # fc1: grad_out 6 + input 64 + grad_input 64 + weights read 99 + grads written 99 = 332
    # FLOPs: grad-input and grad-weight, 2 * (96 + 96) * 2 = 768
    assert (r["fc1"].backward.flops, r["fc1"].backward.bytes) == (768, 4 * 332)
    # SGD on 20 + 99 = 119 parameters: 238 FLOPs, 3 * 119 * 4 = 1428 bytes
    assert (result.update.flops, result.update.bytes) == (238, 1428)


def test_step_floor_is_the_sum_of_its_parts():
    result = roofline(TINY, SLOW, batch=2)
    parts = sum(r.forward.floor_s + r.backward.floor_s for r in result.rows) + result.update.floor_s
    assert result.step().floor_s == pytest.approx(parts)
    # 1.152 + 0.512 + 0.676 fwd; 1.152 + 0.768 + 1.328 bwd; 1.428 update
    assert parts == pytest.approx(1.152 + 0.512 + 0.676 + 1.152 + 0.768 + 1.328 + 1.428)


def test_dtype_sets_bytes_and_peak():
    r = rows(roofline(TINY, SLOW, batch=2, dtype="float16"))
    assert r["conv1"].forward.bytes == 2 * 156  # 2-byte elements
    assert r["conv1"].forward.compute_s == pytest.approx(1152 / 2000)  # the float16 peak


def test_flops_are_the_analytic_reports():
    from alexprof.counting.analysis import count

    net = zoo.get("alexnet-2012")
    report = count(net, batch=4)
    result = roofline(net, hardware.get("v100"), batch=4)
    assert [r.forward.flops for r in result.rows] == [r.flops for r in report.rows]
    assert [r.backward.flops for r in result.rows] == [r.flops_backward for r in report.rows]


def test_alexnet_on_gtx580_by_hand():
    r = rows(roofline(zoo.get("alexnet"), hardware.get("gtx580"), batch=1))
    conv1, fc1 = r["conv1"].forward, r["fc1"].forward
    # conv1: 54*54 * 11*11*3*96 = 101,616,768 MACs -> 203,233,536 FLOPs
    # bytes 4 * (3*224*224 + 96*54*54 + 34,848 + 96) = 4 * 465,408 = 1,861,632
    assert (conv1.flops, conv1.bytes) == (203_233_536, 1_861_632)
    assert conv1.floor_s == pytest.approx(203_233_536 / 1581.1e9) and conv1.bound == "compute"
    # fc1 at batch 1 reads 26,218,496 parameters for 2*6400*4096 FLOPs: about 0.5 FLOP/B
    assert fc1.bytes == 4 * (6400 + 4096 + 6400 * 4096 + 4096)
    assert fc1.floor_s == pytest.approx(fc1.bytes / 192.4e9) and fc1.bound == "memory"


def test_larger_batch_raises_intensity_of_fc_layers():
    small = rows(roofline(zoo.get("alexnet"), hardware.get("a100-40gb"), batch=1))["fc1"]
    big = rows(roofline(zoo.get("alexnet"), hardware.get("a100-40gb"), batch=512))["fc1"]
    assert small.forward.bound == "memory" and big.forward.bound == "compute"
    # ridge of the A100 in float32: 19.5e12 / 1555e9 = 12.54 FLOP/B
    assert roofline(zoo.get("alexnet"), hardware.get("a100-40gb")).ridge == pytest.approx(12.5402, rel=1e-4)


def test_json_document():
    doc = roofline(TINY, SLOW, batch=2).to_json()
    assert doc["schema"] == "alexprof/1" and doc["convention"] == "macs"
    layer = doc["layers"][0]
    for key in ("name", "flops", "bytes", "intensity", "time_floor_s", "bound",
                "flops_backward", "bytes_backward", "time_floor_backward_s", "bound_backward"):
        assert key in layer
    assert isinstance(layer["flops"], int) and isinstance(layer["bytes"], int)
    assert {x["bound"] for x in doc["layers"]} <= {"compute", "memory"}
    totals = doc["totals"]
    assert totals["step"]["time_floor_s"] == pytest.approx(
        totals["forward"]["time_floor_s"] + totals["backward"]["time_floor_s"]
        + totals["update"]["time_floor_s"])
    assert totals["forward"]["flops"] == sum(x["flops"] for x in doc["layers"])


def test_published_figures_and_their_derivations():
    assert 512 * 1.544e9 * 2 == pytest.approx(hardware.get("gtx580").peak("float32"), rel=1e-4)
    assert 8 * 2.9e9 * 16 == pytest.approx(hardware.get("xeon-e5-2690").peak("float32"))
    assert 64 * 2.45e9 * 32 == pytest.approx(hardware.get("epyc-7763").peak("float32"))
    assert hardware.get("a100-40gb").peak("float16") == 312e12
    assert hardware.get("h100").peak("bfloat16") == 1979e12 / 2  # dense = half the sparse figure
    h200 = hardware.get("h200")  # the H100's arithmetic, the datasheet's memory and bandwidth
    assert h200.peak_flops == hardware.get("h100").peak_flops
    assert (h200.peak("tf32"), h200.peak("float16")) == (989e12 / 2, 1979e12 / 2)
    assert (h200.bandwidth, h200.memory) == (4.8e12, 141 * 10**9)
    assert "H200" in h200.source and "with sparsity" in h200.source
    assert (hardware.get("a100-40gb").bandwidth, hardware.get("a100-80gb").bandwidth) == (1555e9, 2039e9)
    assert hardware.get("gtx580").memory == 3 * 2**30
    for device in hardware.DEVICES.values():
        assert device.source and device.bandwidth > 0 and device.peak_flops


def test_bad_dtype_and_hardware():
    with pytest.raises(UsageError, match="no published float16 peak"):
        hardware.get("gtx580").peak("float16")
    with pytest.raises(UsageError, match="unknown dtype 'half'"):
        hardware.check_dtype("half")
    with pytest.raises(UsageError, match="did you mean 'v100'"):
        hardware.get("v10")


def test_resolve_builtin_custom_and_override():
    assert hardware.resolve("h100", None, None, "float32") is hardware.DEVICES["h100"]
    custom = hardware.resolve(None, 2.0, 100.0, "float32")
    assert (custom.peak("float32"), custom.bandwidth) == (2e12, 100e9)
    over = hardware.resolve("gtx580", None, 300.0, "float32")
    assert over.peak("float32") == 1581.1e9 and over.bandwidth == 300e9
    with pytest.raises(UsageError, match="--peak-tflops and --bandwidth"):
        hardware.resolve(None, 2.0, None, "float32")


def test_layer_floor_is_the_larger_bound():
    for row in roofline(zoo.get("alexnet-torchvision"), hardware.get("h100"), batch=8).rows:
        for b in (row.forward, row.backward):
            assert b.floor_s == max(b.compute_s, b.memory_s)
            assert math.isclose(b.compute_s, b.flops / 67e12)
