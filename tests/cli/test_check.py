"""`alexprof check`: a golden file against today's counts (exit 0 / 1 / 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

GOLDEN = Path(__file__).parents[1] / "golden" / "alexnet.json"


def test_ok_line_names_what_was_checked(cli) -> None:
    r = cli("check", str(GOLDEN))
    assert (r.code, r.err) == (0, "")
    assert r.out == (f"ok: {GOLDEN}: alexnet 21 layers match "
                     "(input 3x224x224, batch 1, convention macs)\n")


def test_drift_then_update(cli, tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    shutil.copy(GOLDEN, path)
    doc = json.loads(path.read_text())
    doc["layers"][0]["params"] += 1
    path.write_text(json.dumps(doc))
    r = cli("check", str(path))
    assert r.code == 1 and r.out.startswith("drift: conv1.params: golden ")
    assert r.err == (f"alexprof: error: {path}: 1 field(s) drifted from the golden file "
                     "(alexprof check --update rewrites it)\n")
    assert cli("check", str(path), "--update").out == f"updated {path} (1 field(s) changed)\n"
    assert cli("check", str(path)).code == 0


def test_missing_file_is_usage(cli) -> None:
    r = cli("check", "/nonexistent/golden.json")
    assert (r.code, r.err) == (2, "alexprof: error: golden file /nonexistent/golden.json does not exist\n")
