"""``alexprof roofline`` and ``--plot`` through the CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest



def run(cli, *args):
    r = cli(*args)  # tests/conftest.py: the real entry point, output captured
    return r.code, r.out, r.err


def test_json_layers_by_hand(cli):
    code, out, _ = run(cli, "roofline", "alexnet", "--hardware", "gtx580", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    layers = {x["name"]: x for x in doc["layers"]}
    # conv1: 2 * 101,616,768 MACs; 4 * (150,528 in + 279,936 out + 34,944 params) bytes
    assert layers["conv1"]["flops"] == 203_233_536 and layers["conv1"]["bytes"] == 1_861_632
    assert layers["conv1"]["bound"] == "compute"
    assert layers["conv1"]["time_floor_s"] == pytest.approx(203_233_536 / 1581.1e9)
    # fc1 (batch 1): 2 * 6400 * 4096 = 52,428,800 FLOPs;
    # bytes 4 * (6400 in + 6400*4096 + 4096 weights and bias + 4096 out) = 104,915,968
    assert layers["fc1"]["flops"] == 2 * 6400 * 4096 == 52_428_800
    assert layers["fc1"]["bytes"] == 4 * (6400 + 6400 * 4096 + 4096 + 4096) == 104_915_968
    assert layers["fc1"]["bound"] == "memory"
    assert layers["fc1"]["time_floor_s"] == pytest.approx(104_915_968 / 192.4e9)
    assert layers["fc1"]["intensity"] == pytest.approx(52_428_800 / 104_915_968)
    assert doc["hardware"]["name"] == "gtx580" and doc["batch"] == 1 and doc["dtype"] == "float32"


def test_table_names_bounds_and_step(cli):
    code, out, _ = run(cli, "roofline", "alexnet-2012", "-H", "h100", "--batch", "64",
                       "--dtype", "bfloat16")
    assert code == 0
    assert "compute" in out and "memory" in out and "Training step floor" in out
    assert "peak 989.50 TFLOP/s" in out and "bfloat16" in out


def test_custom_device_and_list(cli):
    code, out, _ = run(cli, "roofline", "alexnet", "--peak-tflops", "0.5", "--bandwidth", "25",
                       "--format", "json")
    assert code == 0 and json.loads(out)["peak_flops"] == 0.5e12
    code, out, _ = run(cli, "roofline", "--list-hardware", "--format", "json")
    names = [d["name"] for d in json.loads(out)["hardware"]]
    assert {"gtx580", "v100", "a100-40gb", "a100-80gb", "h100", "epyc-7763"} <= set(names)


@pytest.mark.parametrize("args, message", [
    ((), "give --hardware NAME"),
    (("-H", "gtx-580"), "unknown hardware 'gtx-580' (did you mean 'gtx580'?)"),
    (("-H", "gtx580", "--dtype", "float16"), "gtx580 has no published float16 peak"),
    (("-H", "v100", "--dtype", "fp8"), "unknown dtype 'fp8'"),
    (("--peak-tflops", "-1", "--bandwidth", "3"), "--peak-tflops '-1' must be a positive number"),
    (("--peak-tflops", "1", "--bandwidth", "fast"), "--bandwidth 'fast' is not a number"),
    (("-H", "v100", "--repeats", "0"), "--repeats '0' must be a positive integer"),
    (("-H", "v100", "--threads", "two"), "--threads 'two' must be a positive integer"),
    (("-H", "v100", "--batch", "0"), "--batch 0 must be a positive integer"),
    (("-H", "v100", "--plot", "x.jpg"), "--plot x.jpg: the file must end in .png or .svg"),
    (("-H", "v100", "--format", "yaml"), "unknown format 'yaml'"),
])
def test_bad_input_is_one_line_exit_2(cli, args, message):
    code, out, err = run(cli, "roofline", "alexnet", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_measure_on_this_machine(cli):
    code, out, _ = run(cli, "roofline", "alexnet-torchvision", "--input", "3,64,64",
                       "--peak-tflops", "1000", "--bandwidth", "1000000", "--measure",
                       "--repeats", "1", "--device", "cpu", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["measured"]["step_s"] > 0 and doc["measured"]["repeats"] == 1
    for layer in doc["layers"]:
        assert layer["measured_s"] > 0
        # 1 PFLOP/s and 1 PB/s are beyond this machine: every layer takes longer than its floor
        assert layer["fraction_of_floor"] < 1


def test_plot_on_params_flops_roofline(cli, tmp_path):
    pytest.importorskip("matplotlib")
    for args in (("params", "alexnet"), ("flops", "alexnet", "--batch", "4"),
                 ("roofline", "alexnet", "-H", "a100-80gb")):
        path = tmp_path / f"{args[0]}.png"
        code, out, err = run(cli, *args, "--plot", str(path))
        assert code == 0 and out and f"wrote {path}" in err
        assert path.read_bytes().startswith(b"\x89PNG")
    code, _, err = run(cli, "params", "alexnet", "--plot", str(tmp_path / "params.png"))
    assert code == 2 and "exists; pass --force" in err


@pytest.mark.parametrize("args", [
    ["roofline", "alexnet", "-H", "gtx580", "--format", "json"],
    ["params", "alexnet", "--plot", "{tmp}/p.png"],
    ["roofline", "alexnet", "-H", "h100", "--plot", "{tmp}/r.svg"],
])
def test_roofline_and_plots_do_not_import_torch(args, tmp_path):
    if any("--plot" == a for a in args):
        pytest.importorskip("matplotlib")
    args = [a.format(tmp=tmp_path) for a in args]
    code = ("import sys; from alexprof.cli import main; "
            f"rc = main({args!r}); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
