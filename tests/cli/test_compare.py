from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

USERNETS = Path(__file__).parent.parent / "fixtures" / "usernets.py"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"


def test_json_columns(cli) -> None:
    r = cli("compare", "lenet5", "alexnet", "vgg16", "googlenet", "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["schema"] == "alexprof/1" and doc["batch"] == 32 and doc["convention"] == "macs"
    by = {e["model"]: e for e in doc["models"]}
    assert by["vgg16"]["params"] == 138_357_544 and by["vgg16"]["macs"] == 15_470_264_320
    assert by["googlenet"]["params"] == 6_624_904 and by["alexnet"]["params"] == 50_844_008
    assert by["alexnet"]["largest_layer"] == "fc1"
    assert by["alexnet"]["largest_layer_params"] == 6400 * 4096 + 4096
    assert by["vgg16"]["largest_layer"] == "fc6" and by["vgg16"]["heaviest_layer"] == "conv1_2"
    for e in doc["models"]:
        assert e["params_per_mac"] == e["params"] / e["macs"]
        assert isinstance(e["activation_bytes"], int) and isinstance(e["flops_train"], int)
    # what autograd keeps in lenet5, batch 32, float32: tanh1's output (also s2's input)
    # 6x28x28, s2's output (c3's input) 6x14x14, tanh3's output 16x10x10, s4's output
    # 16x5x5, tanh5's output 120 (flatten is a view, f6's input), tanh6's output 84 (the
    # output layer's input); conv outputs are freed (tanh keeps its output, not its input)
    kept = (6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + 120 + 84) * 32 * 4
    assert by["lenet5"]["activation_bytes"] == kept == 1_034_752  # each a multiple of 512
    # training FLOPs = forward + backward of `alexprof flops`
    flops = cli("flops", "lenet5", "--format", "json").json()["totals"]
    assert by["lenet5"]["flops_train"] == flops["flops"] + flops["flops_backward"]


def test_table_and_csv(cli) -> None:
    r = cli("compare", "alexnet", "googlenet-aux", "--batch", "8")
    assert r.code == 0
    assert "activations @8" in r.out and "googlenet-aux" in r.out and "aux1.fc1" in r.out
    assert "Fewest parameters per MAC: googlenet-aux" in r.out
    rows = list(csv.DictReader(io.StringIO(cli("compare", "alexnet", "--format", "csv").out)))
    assert rows[0]["model"] == "alexnet" and rows[0]["params"] == "50844008"


def test_user_module_and_spec(cli) -> None:
    r = cli("compare", "--model", f"{USERNETS}:tiny", "--spec", str(EXAMPLES / "alexnet.toml"),
            "--input", "3,16,16", "--format", "json")
    assert r.code == 2 and "input too small" in r.err  # --input applies to every network
    r = cli("compare", "--model", f"{USERNETS}:tiny", "--input", "3,16,16", "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["models"][0]["params"] == 224 + 16 + 5130  # conv, BN, fc
    r = cli("compare", "alexnet", "--spec", str(EXAMPLES / "alexnet.toml"), "--format", "json")
    a, b = r.json()["models"]
    assert {**a, "model": ""} == {**b, "model": ""}


@pytest.mark.parametrize("args, message", [
    ((), "name at least one network"),
    (("alexnte",), "unknown model 'alexnte' (did you mean 'alexnet'?)"),
    (("alexnet", "--batch", "0"), "--batch 0 must be a positive integer"),
    (("alexnet", "--convention", "flop"), "unknown convention 'flop'"),
    (("--model", f"{USERNETS}:tiny"), "--input C,H,W is required"),
])
def test_errors(cli, args: tuple[str, ...], message: str) -> None:
    r = cli("compare", *args)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1


def test_output_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "cmp.md"
    assert cli("compare", "lenet5", "vgg11", "-f", "markdown", "-o", str(out)).code == 0
    assert "| vgg11 | 3x224x224 | 132,863,336 |" in out.read_text()


def test_compare_and_spec_import_no_torch() -> None:
    probe = ("import sys\nfrom alexprof.cli import main\n"
             f"assert main(['compare', 'lenet5', 'googlenet-aux']) == 0\n"
             f"assert main(['flops', '--spec', {str(EXAMPLES / 'alexnet.toml')!r}]) == 0\n"
             "print('IMPORTED:' + ','.join(m for m in ('torch', 'ptflops') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"
