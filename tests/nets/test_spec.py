"""Spec files: the shipped examples, and validation that names the layer and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alexprof import count, load_model
from alexprof.errors import UsageError
from alexprof.nets.spec import load_spec

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_example_toml_is_the_named_alexnet() -> None:
    spec, named = load_spec(EXAMPLES / "alexnet.toml"), load_model("alexnet")
    assert spec.body.layers == named.body.layers  # same frozen descriptors, field by field
    assert spec.input_shape == named.input_shape and spec.num_classes == 1000
    assert count(spec).rows == count(named).rows
    assert count(spec).total("params") == 50_844_008


def test_example_json_nests_an_inception_block() -> None:
    report = count(load_spec(EXAMPLES / "inception_block.json"))
    params = {r.name: r.params for r in report.rows}
    assert params["inception3a.branch1"] == 192 * 64 + 64  # 12,352
    assert params["inception3a.branch2.conv"] == 96 * 128 * 9 + 128  # 110,720
    assert params["inception3a.branch3.conv"] == 16 * 32 * 25 + 32  # 12,832 (a real 5x5)
    assert params["fc"] == 256 * 10 + 10  # 64 + 128 + 32 + 32 channels after the concat
    reduces = (192 * 96 + 96) + (192 * 16 + 16) + (192 * 32 + 32)  # branch2/3 reduce, branch4 proj
    assert report.total("params") == 12_352 + 110_720 + 12_832 + reduces + 2_570 == 166_266


def _write(tmp_path: Path, doc: dict, suffix: str = ".json") -> Path:
    path = tmp_path / f"net{suffix}"
    path.write_text(json.dumps(doc))
    return path


BASE = {"input": [3, 8, 8], "layers": [
    {"type": "Conv2d", "name": "conv1", "out_channels": 4, "kernel_size": 3},
    {"type": "Flatten", "name": "flatten"},
    {"type": "Linear", "name": "fc", "out_features": 2},
]}


def test_input_sizes_are_inferred(tmp_path: Path) -> None:
    report = count(load_spec(_write(tmp_path, BASE)))
    assert [r.params for r in report.rows] == [3 * 4 * 9 + 4, 0, 4 * 6 * 6 * 2 + 2]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["layers"][0].update(type="Conv2D"),
     "layers[0]: type 'Conv2D' (did you mean 'Conv2d'?)"),
    (lambda d: d["layers"][0].update(kernel=3),
     "layers[0] 'conv1' (Conv2d): unknown field 'kernel' (did you mean 'kernel_size'?)"),
    (lambda d: d["layers"][0].update(stride="2"),
     "layers[0] 'conv1' (Conv2d): field 'stride' must be an integer or a pair"),
    (lambda d: d["layers"][0].update(bias=1),
     "layers[0] 'conv1' (Conv2d): field 'bias' must be true or false"),
    (lambda d: d["layers"][0].update(in_channels=4),
     "layers[0] 'conv1' (Conv2d): layer 'conv1' (Conv2d) expects 4 input channels"),
    (lambda d: d["layers"][2].update(in_features=7),
     "layers[2] 'fc' (Linear): layer 'fc' (Linear) expects 7 input features, got 144"),
    (lambda d: d["layers"][0].pop("name"), "layers[0] (Conv2d): 'name' must be a string"),
    (lambda d: d["layers"][0].update(kernel_size=9), "input too small: at layer 'conv1'"),
    (lambda d: d.update(input=[3, 8]), "'input' must be [C, H, W]"),
    (lambda d: d.update(layers=[]), "'layers' must be a non-empty list"),
    (lambda d: d.update(inputs=[3, 8, 8]), "unknown top-level key 'inputs' (did you mean"),
    (lambda d: d["layers"].insert(0, {"type": "Parallel", "name": "p", "branches": [
        {"type": "Conv2d", "name": "a", "out_channels": 2, "kernel_size": 1},
        {"type": "Conv2d", "name": "b", "out_channels": 2, "kernel_size": 3}]}),
     "layers[0] 'p' (Parallel): layer 'p': branches to concatenate differ in spatial size"),
    (lambda d: d["layers"].insert(0, {"type": "Sequential", "name": "s", "layers": [
        {"type": "ReLU", "name": "r", "inplace": "yes"}]}),
     "layers[0] 's' (Sequential): layers[0] 'r' (ReLU): field 'inplace' must be true or false"),
])
def test_validation_names_layer_and_field(tmp_path: Path, change, message: str) -> None:
    doc = json.loads(json.dumps(BASE))
    change(doc)
    with pytest.raises(UsageError) as info:
        load_spec(_write(tmp_path, doc))
    assert message in str(info.value)
    assert str(info.value).startswith(f"spec {tmp_path / 'net.json'}")


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("input = [3, 8, 8\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(UsageError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")


def test_cli_spec_option_and_errors(cli, tmp_path: Path) -> None:
    r = cli("params", "--spec", str(EXAMPLES / "alexnet.toml"), "--format", "json")
    assert r.code == 0 and r.json()["totals"]["params"] == 50_844_008
    assert r.json()["model"] == str(EXAMPLES / "alexnet.toml")  # so `check` can rebuild it
    doc = json.loads(json.dumps(BASE))
    doc["layers"][0]["groups"] = 0
    r = cli("flops", "--spec", str(_write(tmp_path, doc)))
    assert r.code == 2 and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1 and "'conv1'" in r.err and "groups=0" in r.err


@pytest.mark.parametrize("golden", ["spec-alexnet.json", "user-odd.json"])
def test_goldens_of_a_spec_and_a_user_module_pass_check(cli, monkeypatch, golden: str) -> None:
    """Their `model` is the reference as typed (relative to the repository root)."""
    root = EXAMPLES.parent
    monkeypatch.chdir(root)
    r = cli("check", str(root / "tests" / "golden" / golden))
    assert r.code == 0, r.out + r.err
    assert r.out.startswith("ok:")
