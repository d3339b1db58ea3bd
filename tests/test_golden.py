"""Committed goldens: `alexprof check` passes on each, detects drift, and the
golden numbers themselves agree with torch (so a golden is never just a copy
of alexprof's own output)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from alexprof import zoo
from alexprof.measure import measure_params

from .conftest import GOLDEN

NAMED = zoo.names()


@pytest.mark.parametrize("model", NAMED)
def test_every_named_network_has_a_golden_that_passes(cli, model: str) -> None:
    path = GOLDEN / f"{model}.json"
    assert path.exists(), f"no golden for {model}: alexprof flops {model} --format json -o {path}"
    result = cli("check", str(path))
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("ok:")


@pytest.mark.parametrize("model", NAMED)
def test_golden_params_equal_torch_numel(model: str) -> None:
    doc = json.loads((GOLDEN / f"{model}.json").read_text())
    measured = measure_params(zoo.get(model).body).per_layer
    for layer in doc["layers"]:
        assert measured[layer["name"]]["weights"] == layer["weights"], layer["name"]
        assert measured[layer["name"]]["bias"] == layer["bias"], layer["name"]


def test_drift_is_reported_per_layer_and_exits_1(cli, tmp_path: Path) -> None:
    doc = json.loads((GOLDEN / "alexnet.json").read_text())
    doc["layers"][0]["macs"] += 1  # conv1
    doc["layers"] = [entry for entry in doc["layers"] if entry["name"] != "fc3"]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    result = cli("check", str(path))
    assert result.code == 1
    assert "drift: conv1.macs: golden 101616769 -> now 101616768" in result.out
    assert "drift: fc3.(layer): golden 'absent' -> now 'new'" in result.out
    assert "drifted from the golden file" in result.err
    assert "Traceback" not in result.err


def test_update_rewrites_on_purpose(cli, tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    shutil.copy(GOLDEN / "alexnet.json", path)
    doc = json.loads(path.read_text())
    doc["layers"][0]["params"] = 0
    path.write_text(json.dumps(doc))
    assert cli("check", str(path), "--update").code == 0
    assert cli("check", str(path)).code == 0
    assert json.loads(path.read_text())["layers"][0]["params"] == 34_944  # 11*11*3*96 + 96


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ('{"schema": "other/9"}', "schema 'other/9'; expected 'alexprof/1'"),
    ('{"schema": "alexprof/1", "model": "alexnet"}', "field 'input_shape' missing"),
    ('[1, 2]', "schema 'list'"),
])
def test_malformed_golden_exits_2(cli, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = cli("check", str(path))
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_golden_for_unknown_model_exits_2(cli, tmp_path: Path) -> None:
    doc = json.loads((GOLDEN / "alexnet.json").read_text())
    doc["model"] = "alexnet-9000"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    result = cli("check", str(path))
    assert result.code == 2 and "unknown model 'alexnet-9000'" in result.err


def test_rendered_params_table_golden(cli, update_goldens: bool) -> None:
    """The README's table: compare the rendered text with tests/golden/alexnet_params.txt."""
    out = cli("params", "alexnet", "--format", "markdown").out
    path = GOLDEN / "alexnet_params.md"
    if update_goldens:
        path.write_text(out)
    assert path.exists(), "run pytest --update-goldens to create it"
    assert out == path.read_text()
