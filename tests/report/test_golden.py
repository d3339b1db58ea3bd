"""Committed goldens: `alexprof check` passes on each, detects drift, and every
golden number of every named network agrees with what torch measures at the
golden's own input and batch (so a golden is never just a copy of alexprof's
own output)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from torch import nn

from alexprof.nets.zoo import index as zoo
from alexprof.report.verify import TOTAL, verify
from alexprof.torchside.measure import measure_all
from alexprof.torchside.bridge import leaf_modules, module_of

from tests.conftest import GOLDEN

NAMED = zoo.names()


@pytest.mark.parametrize("model", NAMED)
def test_every_named_network_has_a_golden_that_passes(cli, model: str) -> None:
    path = GOLDEN / f"{model}.json"
    assert path.exists(), f"no golden for {model}: alexprof flops {model} --format json -o {path}"
    result = cli("check", str(path))
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("ok:")


@pytest.mark.parametrize("model", NAMED)
def test_golden_numbers_equal_what_torch_measures(model: str) -> None:
    """Each golden field against torch at the golden's own input and batch: numel for
    weights/bias/params, FlopCounterMode for flops/flops_backward (a difference only where
    a named quirk predicts it exactly).  Together with `check` passing, the golden is
    torch's numbers, not a copy of alexprof's."""
    doc = json.loads((GOLDEN / f"{model}.json").read_text())
    shape, batch = tuple(doc["input_shape"]), doc["batch"]
    net = zoo.get(model)
    checks = verify(net, shape, batch, measure_all(net, shape, batch, ("torch", "flopcounter"))).checks
    golden = {entry["name"]: entry for entry in doc["layers"]}
    # the same layers as torch; an empty nn.Sequential (a residual block's identity
    # shortcut, a dense layer's carried-on features) has no children but is no layer
    leaves = {n for n, m in leaf_modules(module_of(net, "meta")).items()
              if not (isinstance(m, nn.Sequential) and len(m) == 0)}
    assert set(golden) == leaves
    compared = 0
    for c in checks:
        if c.layer == TOTAL:
            continue
        assert c.status in ("match", "explained"), c
        assert golden[c.layer][c.field] == c.analytic, (c.layer, c.field)
        compared += 1
    assert compared == len(golden) * 5  # weights, bias, params, flops, flops_backward
    total = next(c for c in checks if c.layer == TOTAL and c.source == "torch")
    assert doc["totals"]["params"] == total.measured


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


def test_a_trimmed_golden_is_drift_not_a_pass(cli, tmp_path: Path) -> None:
    doc = json.loads((GOLDEN / "alexnet.json").read_text())
    doc["layers"] = [{"name": entry["name"]} for entry in doc["layers"]]  # no counts at all
    del doc["totals"]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    result = cli("check", str(path))
    assert result.code == 1
    assert "drift: conv1.params: golden '(missing)' -> now 34944" in result.out  # 11*11*3*96 + 96
    assert "drift: (total).params: golden '(missing)' -> now 50844008" in result.out


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
    """The README's table: compare the rendered text with tests/golden/alexnet_params.md."""
    out = cli("params", "alexnet", "--format", "markdown").out
    path = GOLDEN / "alexnet_params.md"
    if update_goldens:
        path.write_text(out)
        pytest.skip("golden rewritten (--update-goldens): nothing compared")
    assert path.exists(), "run pytest --update-goldens to create it"
    assert out == path.read_text()
