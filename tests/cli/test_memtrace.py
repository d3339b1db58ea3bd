"""`alexprof memtrace`: the JSON contract, tables, sweeps, errors; CUDA runs when a GPU is there."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from alexprof.memory.stages import Stage

MiB = 1 << 20


def test_json_contract_measured_on_cpu(cli) -> None:
    r = cli("memtrace", "alexnet", "--device", "cpu", "--batch", "1", "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["schema"] == "alexprof/1"
    assert (doc["model"], doc["device"], doc["batch"], doc["dtype"], doc["optimizer"]) == \
        ("alexnet", "cpu", 1, "float32", "sgd-momentum")
    assert [s["stage"] for s in doc["stages"]] == list(Stage)
    for s in doc["stages"]:
        for key in ("allocated", "predicted", "peak", "peak_predicted", "peak_ops"):
            assert isinstance(s[key], int)
        assert s["allocated"] == s["predicted"] and s["peak_ops"] == s["peak_predicted"]
        assert s["peak"] == s["peak_ops"] + s["peak_in_kernels"] and s["peak_in_kernels"] >= 0
        assert s["status"] == ("exact" if s["peak_in_kernels"] == 0 else "explained")
    assert doc["stages"][0]["status"] == "exact"  # torch.rand and randint: no temporaries
    parts = doc["breakdown"]
    assert parts["parameters"] == 4 * 50_844_008  # float32 weights and biases
    assert parts["gradients"] == parts["optimizer_state"] == parts["parameters"]
    kept = parts["kept"]
    assert sum(k["bytes"] for k in kept) == parts["activations"] + parts["output"]
    assert {"layer": "pool1", "tensor": "indices"}.items() <= kept[2].items()


def test_linear_demo_table_explains_each_step(cli) -> None:
    r = cli("memtrace", "linear-demo", "--device", "cpu")
    assert r.code == 0, r.err
    assert "batch 256 (x holds 1024)" in r.out
    assert "7 of 7 stages equal to the prediction to the byte" in r.out
    assert "+4.01 MiB inputs" in r.out  # X 4 MiB + y 8 KiB
    assert "+8 MiB parameters" in r.out
    assert "+1 MiB activations, +1 MiB output" in r.out
    assert "+8 MiB gradients" in r.out


def test_predict_only_json_and_huge_batch(cli) -> None:
    doc = cli("memtrace", "alexnet", "--predict-only", "-b", "1000000", "-f", "json").json()
    assert doc["device"] == "cuda" and doc["measured"] is False
    assert all(s["allocated"] is None and isinstance(s["predicted"], int) for s in doc["stages"])
    assert doc["peak_predicted"] > 1 << 40  # over a TiB: arithmetic only


def test_sweep_csv_and_markdown(cli) -> None:
    rows = list(csv.DictReader(io.StringIO(
        cli("memtrace", "alexnet-d2l", "--predict-only", "-d", "cpu", "-b", "1,8", "-f", "csv").out)))
    assert [(r["batch"], r["stage"]) for r in rows[:2]] == [("1", "input"), ("1", "model")]
    assert len(rows) == 2 * len(Stage)
    md = cli("memtrace", "alexnet", "--predict-only", "-b", "1,32,128", "-f", "markdown").out
    assert "| batch | after forward | peak predicted | peak stage | activations kept |" in md
    doc = cli("memtrace", "alexnet", "--predict-only", "-b", "1,2", "-f", "json").json()
    assert doc["batches"] == [1, 2] and len(doc["runs"]) == 2


def test_output_file(cli, tmp_path) -> None:
    out = tmp_path / "mem.json"
    assert cli("memtrace", "--predict-only", "-f", "json", "-o", str(out)).code == 0
    assert json.loads(out.read_text())["model"] == "alexnet"
    again = cli("memtrace", "--predict-only", "-f", "json", "-o", str(out))
    assert again.code == 2 and "--force" in again.err


@pytest.mark.parametrize("args, word", [
    (["--dtype", "float64"], "--dtype"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--batch", "8,zero"], "--batch"),
    (["--batch", "-3"], "--batch"),
    (["--device", "gpu"], "--device"),
])
def test_bad_usage_is_one_line_exit_2(cli, args: list[str], word: str) -> None:
    r = cli("memtrace", "--predict-only", *args)
    assert r.code == 2
    assert r.err.count("\n") == 1 and word in r.err and "Traceback" not in r.err


def test_user_modules_and_spec_files_are_measured(cli, tmp_path) -> None:
    from pathlib import Path

    usernets = Path(__file__).parent.parent / "fixtures" / "usernets.py"
    r = cli("memtrace", f"{usernets}:tiny", "--input", "3,16,16", "--device", "cpu",
            "--batch", "2", "--format", "json")
    assert r.code == 0, r.err
    assert all(s["allocated"] == s["predicted"] for s in r.json()["stages"])
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps({"name": "tiny", "input": [3, 8, 8], "num_classes": 4, "layers": [
        {"type": "Conv2d", "name": "conv", "out_channels": 2, "kernel_size": 3},
        {"type": "Flatten", "name": "flat"}, {"type": "Linear", "name": "fc", "out_features": 4}]}))
    r = cli("memtrace", "--spec", str(spec), "--device", "cpu", "--batch", "3", "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert all(s["allocated"] == s["predicted"] for s in doc["stages"])
    # input: x 3x3x8x8 float32 + y 3 int64; conv output 3x2x6x6 kept by fc (its input, a view)
    assert doc["stages"][0]["allocated"] == 3 * 3 * 8 * 8 * 4 + 3 * 8
    assert doc["breakdown"]["activations"] == 3 * 2 * 6 * 6 * 4


def test_cuda_without_a_gpu_is_exit_2(cli) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r = cli("memtrace", "--device", "cuda")
    assert r.code == 2 and r.err.startswith("alexprof: error: --device cuda: no CUDA device")
    assert r.err.count("\n") == 1


def test_half_on_cpu_lrn_is_a_clear_error(cli) -> None:
    r = cli("memtrace", "alexnet-2012", "--device", "cpu", "--dtype", "float16")
    assert r.code == 2
    assert "not implemented for 'Half'" in r.err and "--predict-only" in r.err


# --- CUDA: only where a GPU is lent ----------------------------------------------------------

def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _run_cuda(model: str, batch: str, conf: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTORCH_CUDA_ALLOC_CONF", None)
    if conf:
        env["PYTORCH_CUDA_ALLOC_CONF"] = conf
    return subprocess.run([sys.executable, "-m", "alexprof", "memtrace", model, "--device", "cuda",
                           "--batch", batch, "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA device")
@pytest.mark.parametrize("model", ["alexnet", "alexnet-2012"])
def test_cuda_exact_with_expandable_segments(model: str) -> None:
    proc = _run_cuda(model, "2", "expandable_segments:True")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    for s in doc["stages"]:
        assert s["allocated"] == s["predicted"], s  # every block exactly the 512-rounded request
        assert s["status"] in ("exact", "explained"), s  # peaks may add in-kernel workspaces
    assert doc["warmup"]["allocated"] > 0  # the cuBLAS workspaces, reported apart


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA device")
def test_cuda_default_allocator_is_explained() -> None:
    proc = _run_cuda("alexnet", "32", None)
    assert proc.returncode == 0, proc.stderr
    for s in json.loads(proc.stdout)["stages"]:
        assert s["status"] in ("exact", "explained"), s


def test_plot_stage_timeline(cli, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "mem.png"
    r = cli("memtrace", "linear-demo", "--predict-only", "--plot", str(out))
    assert r.code == 0, r.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = cli("memtrace", "--predict-only", "-b", "1,2", "--plot", str(tmp_path / "two.png"))
    assert r.code == 2 and "--plot draws one batch size" in r.err


def test_json_names_the_torch_that_ran_and_the_rules_release(cli) -> None:
    import torch

    measured = cli("memtrace", "linear-demo", "--device", "cpu", "--format", "json")
    assert measured.code == 0, measured.err
    assert measured.json()["torch"] == {"running": torch.__version__, "rules_checked_with": "2.13"}
    sweep = cli("memtrace", "alexnet", "--predict-only", "-b", "1,2", "--format", "json").json()
    assert sweep["torch"] == {"running": None, "rules_checked_with": "2.13"}
    assert all(run["torch"]["running"] is None for run in sweep["runs"])
    text = cli("memtrace", "linear-demo", "--device", "cpu").out
    assert f"torch {torch.__version__} ran the step; the memory rules were checked against" in text
