from __future__ import annotations

import csv
import io
import os
from pathlib import Path


def test_table_names_fc1_and_both_totals(cli) -> None:
    r = cli("params")
    assert r.code == 0
    assert "Most parameters: fc1 (26,218,496, 51.6% of all)" in r.out  # 26218496/50844008
    assert "Total 50,844,008 parameters" in r.out
    assert "(conv without bias, FC with bias): 50,842,632" in r.out
    assert "4,097,000" in r.out


def test_json_contract(cli) -> None:
    doc = cli("params", "alexnet", "--format", "json").json()
    assert doc["schema"] == "alexprof/1"
    assert doc["model"] == "alexnet" and doc["input_shape"] == [3, 224, 224] and doc["batch"] == 1
    layer = doc["layers"][0]
    assert layer["name"] == "conv1" and layer["type"] == "Conv2d"
    assert layer["output_shape"] == [96, 54, 54]
    for key in ("weights", "bias", "params", "macs", "flops", "flops_backward"):
        assert isinstance(layer[key], int)
        # invariant: every total is the column sum
        assert doc["totals"][key] == sum(entry[key] for entry in doc["layers"])
    assert doc["totals"]["params"] == 50_844_008
    assert doc["totals"]["params_table_rule"] == 50_842_632


def test_csv_and_markdown(cli) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("params", "--format", "csv").out)))
    assert rows[0]["name"] == "conv1" and rows[0]["output_shape"] == "96x54x54"
    assert sum(int(r["params"]) for r in rows) == 50_844_008
    md = cli("params", "--format", "markdown").out
    assert "| fc1 | Linear | 4096 | 26,214,400 | 4,096 | 26,218,496 | 51.6% |" in md


def test_custom_input_changes_fc1_width_error(cli) -> None:
    # 3x227x227 through the d2l layout gives 5x5 after pool5? conv1: (227+2-11)//4+1 = 55,
    # pools: 27, 13, 6 -> 6*6*256 = 9216 features, but fc1 expects 6400
    r = cli("params", "--input", "3,227,227")
    assert r.code == 2
    assert "layer 'fc1' (Linear) expects 6400 input features, got 9216" in r.err


def test_output_file_is_written_atomically_and_never_clobbered(cli, tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    assert cli("params", "-f", "json", "-o", str(target)).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    first = target.read_text()
    target.write_text("user data")
    r = cli("params", "-f", "json", "-o", str(target))
    assert r.code == 2 and "exists; pass --force" in r.err
    assert target.read_text() == "user data"
    assert cli("params", "-f", "json", "-o", str(target), "--force").code == 0
    assert target.read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]  # no temp files left


def test_verify_params(cli) -> None:
    r = cli("params", "alexnet-2012", "--verify")
    assert r.code == 0, r.err
    assert "Verification: " in r.out and "UNEXPLAINED" not in r.out
