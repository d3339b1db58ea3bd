"""Golden files: a committed ``alexprof flops --format json`` document, re-checked in CI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexprof.counting.analysis import count
from alexprof.counting.rows import COUNT_FIELDS, SCHEMA, Report
from alexprof.errors import UsageError


@dataclass(frozen=True)
class Drift:
    layer: str
    field: str
    expected: Any
    actual: Any


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"golden file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read golden file {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise UsageError(
            f"golden file {path} is not valid JSON: {e.msg} at line {e.lineno}"
        ) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise UsageError(f"golden file {path}: schema {found!r}; expected {SCHEMA!r}")
    for key, kind in (
        ("model", str),
        ("input_shape", list),
        ("batch", int),
        ("layers", list),
        ("convention", str),
    ):
        if not isinstance(doc.get(key), kind):
            raise UsageError(f"golden file {path}: field {key!r} missing or not a {kind.__name__}")
    if not all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in doc["layers"]):
        raise UsageError(f"golden file {path}: every entry of 'layers' needs a 'name'")
    return doc


def recompute(doc: dict[str, Any], resolve) -> Report:  # resolve: (model, input shape) -> Net
    shape = tuple(doc["input_shape"])
    if not all(isinstance(s, int) for s in shape):
        raise UsageError(f"golden input_shape {doc['input_shape']!r} must be integers")
    net = resolve(doc["model"], shape)  # a user module is rebuilt at the golden's shape
    return count(net, shape, doc["batch"], doc["convention"])


def diff(doc: dict[str, Any], report: Report) -> list[Drift]:
    """Field-by-field differences, plus layers added or removed."""
    want = {entry["name"]: entry for entry in doc["layers"]}
    have = {row.name: row.to_json() for row in report.rows}
    drifts: list[Drift] = []
    for name, entry in want.items():
        if name not in have:
            drifts.append(Drift(name, "(layer)", "present", "missing"))
            continue
        for key in ("type", "output_shape", *COUNT_FIELDS):  # a missing field is drift too:
            expected = entry.get(key, MISSING)  # a trimmed golden must not pass unchecked
            if expected != have[name][key]:
                drifts.append(Drift(name, key, expected, have[name][key]))
    drifts += [Drift(name, "(layer)", "absent", "new") for name in have if name not in want]
    totals = doc.get("totals", {})
    current = report.to_json()["totals"]
    drifts += [
        Drift("(total)", k, totals.get(k, MISSING), v)
        for k, v in current.items()
        if totals.get(k, MISSING) != v
    ]
    return drifts


MISSING = "(missing)"
