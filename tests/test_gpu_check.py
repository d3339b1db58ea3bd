"""benchmarks/gpu/check.sh, the prepared GPU check, in its dry mode: every step on CPU.

The GPU run itself needs a GPU machine; this makes sure the script that will run there
installs, runs each step and writes the JSON it promises.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dry_run_writes_every_json(tmp_path: Path) -> None:
    import torch

    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), PYTHON=sys.executable)
    env.pop("PYTORCH_CUDA_ALLOC_CONF", None)
    proc = subprocess.run(["bash", str(ROOT / "benchmarks/gpu/check.sh"), "--dry"],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["check.log", "results.tar.gz",
                                                     "summary.json"]  # the device returns 8

    summary = json.loads((out / "summary.json").read_text())
    assert summary["dry"] is True
    assert summary["env"]["torch"] == torch.__version__ and summary["env"]["cuda_available"] is False
    steps = {s["step"]: s for s in summary["steps"]}
    assert list(steps)[:3] == ["env", "install", "pytest-cuda"]
    failed = {name: s for name, s in steps.items() if s["exit"] not in (0, "skipped")}
    assert not failed, failed
    assert steps["suite"]["exit"] == "skipped"  # here the suite is the ordinary test run

    names = {f"{alloc}-{net}" for alloc in ("expandable", "default")
             for net in ("alexnet", "linear-demo")}
    assert set(summary["memtrace"]) == names
    for name, doc in summary["memtrace"].items():
        assert doc["torch"] == {"running": torch.__version__, "rules_checked_with": "2.13"}
        assert [r["batch"] for r in doc["runs"]] == ([256] if "linear" in name else [1, 2])
        for run in doc["runs"]:
            assert run["worst"] in ("exact", "explained"), (name, run)
            assert all(s["diff"] == 0 for s in run["stages"].values()), (name, run)  # CPU: exact

    fit = summary["fit"]
    b = fit["fit"]["batch"]
    assert b >= 1 and set(fit) == {"fit", f"run-{b}", f"run-{b + 1}", f"run-{b}-device"}
    assert fit[f"run-{b}"]["ran"] and fit[f"run-{b}"]["predicted_fits"]
    assert fit[f"run-{b + 1}"]["predicted_fits"] is False
    assert fit[f"run-{b + 1}"]["predicted_oom_stage"] in ("forward", "backward", "step")
    assert all(run.get("cap") is None and run.get("as_predicted") is None
               for key, run in fit.items() if key != "fit")  # nothing is capped on CPU

    roof = summary["roofline"]["alexnet-float32"]
    assert roof["hardware"] == "epyc-7763" and roof["step_s"] > 0
    assert all(layer["measured_s"] > 0 for layer in roof["layers"].values())

    with tarfile.open(out / "results.tar.gz") as tar:
        members = {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}
        assert {"env.json", "steps.tsv", "fit/fit.json", "logs/install.log"} <= members
        for name in names:
            doc = json.load(tar.extractfile(f"./memtrace/{name}.json"))  # type: ignore[arg-type]
            assert doc["schema"] == "alexprof/1"
