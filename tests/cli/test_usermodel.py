"""`--model file.py:factory` on params, flops, --verify and check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"
USERNETS = FIXTURES / "usernets.py"
GOLDEN = Path(__file__).parent.parent / "golden"


def test_params_and_flops_verify(cli) -> None:
    r = cli("params", "--model", f"{USERNETS}:tiny", "--input", "3,16,16", "--verify")
    assert r.code == 0, r.err
    assert "Total 5,370 parameters" in r.out  # 224 + 16 + 5,130
    r = cli("flops", "--model", f"{USERNETS}:odd", "-i", "3,8,8", "--verify", "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["verification"]["passed"]
    # every row is modelled: the block's `out + x`, the root's `@ self.proj` and
    # `* self.scale`; ptflops' second count of the GELU through F.gelu is explained
    assert {c["status"] for c in doc["verification"]["checks"]} == {"match", "explained"}
    types = {row["name"]: row["type"] for row in doc["layers"]}
    assert (types["act"], types["block.add"], types["matmul"], types["mul"]) == (
        "GELU", "Add", "MatMul", "LayerScale")
    assert not any(t.startswith("unsupported") for t in types.values())


def test_positional_reference_works_too(cli) -> None:
    r = cli("flops", f"{USERNETS}:tiny", "-i", "3,16,16", "-f", "json")
    assert r.code == 0 and r.json()["totals"]["macs"] == 55_296 + 5_120


def test_check_rebuilds_a_user_module_golden(cli, tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "user-odd.json").read_text())
    assert golden["model"] == "tests/fixtures/usernets.py:odd"  # relative to the repo root
    golden["model"] = f"{USERNETS}:odd"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(golden))
    r = cli("check", str(path))
    assert r.code == 0 and r.out.startswith("ok:")
    golden["layers"][0]["macs"] += 1
    path.write_text(json.dumps(golden))
    assert cli("check", str(path)).code == 1


@pytest.mark.parametrize("args, message", [
    (("--model", f"{USERNETS}:raises", "-i", "3,8,8"), "the factory raised RuntimeError"),
    (("--model", f"{USERNETS}:not_a_module", "-i", "3,8,8"), "returned int, not a torch.nn"),
    (("--model", f"{USERNETS}:bad_forward", "-i", "1,8,8"), "forward (and backward) on a meta"),
    (("--model", f"{FIXTURES / 'broken_import.py'}:net", "-i", "1,8,8"),
     "failed: ModuleNotFoundError: No module named 'no_such_package_for_alexprof'"),
    (("--model", f"{USERNETS}:tiny"), "--input C,H,W is required"),
    (("--model", "alexnet"), "expected path/to/file.py:factory"),
    (("--model", f"{USERNETS}:tiny", "--spec", "x.toml"), "give --model or --spec, not both"),
])
def test_errors_are_one_line_exit_2(cli, args: tuple[str, ...], message: str) -> None:
    r = cli("params", *args)
    assert r.code == 2
    assert message in r.err and len(r.err.strip().splitlines()) == 1
    assert "Traceback" not in r.err


def test_unmodelled_rows_say_where_their_numbers_come_from(cli) -> None:
    from pathlib import Path

    mixed = str(Path(__file__).parents[1] / "fixtures" / "usernets.py") + ":mixed_layers"
    out = cli("flops", "--model", mixed, "--input", "3,8,8").out  # nn.AdaptiveAvgPool1d
    assert "Not modelled by alexprof (9)" in out and "FlopCounterMode" in out
    tiny = str(Path(__file__).parents[1] / "fixtures" / "usernets.py") + ":tiny"
    assert "Not modelled" not in cli("flops", "--model", tiny, "--input", "3,16,16").out
