"""summary.py WORK SUMMARY_JSON DRY: what benchmarks/gpu/check.sh did, as one JSON document.

Reads WORK/steps.tsv (one step a line: name, exit code, seconds, log), WORK/env.json and the
JSON that memtrace, fit and roofline wrote under WORK, and writes SUMMARY_JSON atomically:
the environment (torch, CUDA, GPU), every step, and per memtrace run the status of each
stage with its differences, per fit run what happened against what was predicted, per
roofline the achieved fraction of the floor.  Pure Python: no torch, no alexprof.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return {"unreadable": f"{type(e).__name__}: {e}"}


def steps(work: Path) -> list[dict[str, Any]]:
    out = []
    tsv = work / "steps.tsv"
    for line in tsv.read_text().splitlines() if tsv.exists() else []:
        name, rc, seconds, log = line.split("\t")
        out.append({"step": name, "exit": int(rc) if rc.lstrip("-").isdigit() else rc,
                    "seconds": int(seconds), "log": log})
    return out


def memtrace(doc: dict[str, Any]) -> dict[str, Any]:
    runs = doc.get("runs", [doc]) if "unreadable" not in doc else []
    return {
        "torch": doc.get("torch"),
        "runs": [
            {
                "batch": r["batch"],
                "allocator": r.get("allocator"),
                "worst": _worst(s.get("status") for s in r["stages"]),
                "stages": {
                    s["stage"]: {
                        k: s.get(k) for k in ("status", "diff", "peak_diff", "peak_in_kernels",
                                              "reason") if s.get(k) is not None
                    }
                    for s in r["stages"]
                },
                "over_allocation": r.get("over_allocation"),
                "warmup_allocated": (r.get("warmup") or {}).get("allocated"),
            }
            for r in runs
        ],
        **({"unreadable": doc["unreadable"]} if "unreadable" in doc else {}),
    }


def _worst(statuses: Any) -> str | None:
    order = ["exact", "explained", "mismatch"]
    seen = [s for s in statuses if s in order]
    return max(seen, key=order.index) if seen else None


def roofline(doc: dict[str, Any]) -> dict[str, Any]:
    if "unreadable" in doc:
        return doc
    measured = doc.get("measured") or {}
    return {
        "hardware": (doc.get("hardware") or {}).get("name"),
        "dtype": doc.get("dtype"),
        "batch": doc.get("batch"),
        "device": measured.get("device"),
        "step_s": measured.get("step_s"),
        "step_fraction_of_floor": measured.get("step_fraction_of_floor"),
        "layers": {
            row["name"]: {k: row.get(k) for k in ("measured_s", "achieved_flops_per_s",
                                                  "fraction_of_floor", "bound")}
            for row in doc.get("layers", [])
        },
    }


def summarize(work: Path, dry: bool) -> dict[str, Any]:
    env = _load(work / "env.json") if (work / "env.json").exists() else None
    fit_dir = work / "fit"
    return {
        "dry": dry,
        "env": env,
        "steps": steps(work),
        "memtrace": {p.stem: memtrace(_load(p)) for p in sorted((work / "memtrace").glob("*.json"))},
        "fit": {p.stem: _load(p) for p in sorted(fit_dir.glob("*.json"))} if fit_dir.exists() else {},
        "roofline": {p.stem: roofline(_load(p)) for p in sorted((work / "roofline").glob("*.json"))},
    }


def main() -> int:
    work, target, dry = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
    doc = summarize(work, dry)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, target)  # all or nothing
    return 0


if __name__ == "__main__":
    sys.exit(main())
