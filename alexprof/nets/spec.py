"""Network spec files: layers as data (TOML or JSON) -> the same :class:`Net` as the zoo's.

A spec has ``input`` (C, H, W per sample), optional ``name``, ``description`` and
``num_classes``, and ``layers``: a list of tables, each with ``type`` (a
descriptor kind such as ``Conv2d``), ``name`` and the descriptor's fields.
Input sizes may be left out (``in_channels``, ``in_features``,
``num_features``): they are taken from the shape that reaches the layer.
Composites nest: ``Sequential`` and ``Side`` take ``layers``, ``Parallel`` takes
``branches`` and ``merge``.  Every error names the file, the layer and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from alexprof import nets as L
from alexprof.errors import UsageError, closest
from alexprof.nets import Shape
from alexprof.nets.net import Net

KINDS: dict[str, type[L.Layer]] = {cls.kind: cls for cls in (
    L.Conv2d, L.Linear, L.ReLU, L.Tanh, L.MaxPool2d, L.AvgPool2d, L.AdaptiveAvgPool2d,
    L.LocalResponseNorm, L.Dropout, L.Softmax, L.BatchNorm2d, L.Flatten,
    L.Sequential, L.Parallel, L.Side,
)}
TOP_KEYS = ("name", "description", "input", "num_classes", "layers")
_INFERRED = {"in_channels": 0, "in_features": 0, "num_features": 0}  # field -> shape index
_NESTED = {"layers", "branches"}


def read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"spec file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read spec file {path}: {e}") from None
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"spec {path}: not valid JSON: {e.msg} at line {e.lineno}") from None
    else:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise UsageError(f"spec {path}: not valid TOML: {e}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"spec {path}: the top level must be a table/object")
    return doc


def load_spec(path: Path, ref: str | None = None) -> Net:
    """Read, validate and build the network a spec file describes."""
    doc = read(path)
    where = f"spec {path}"
    for key in doc:
        if key not in TOP_KEYS:
            raise UsageError(f"{where}: unknown top-level key {key!r}{closest(key, list(TOP_KEYS))}; "
                             f"valid: {', '.join(TOP_KEYS)}")
    shape = doc.get("input")
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise UsageError(f"{where}: 'input' must be [C, H, W] with positive integers, got {shape!r}")
    items = doc.get("layers")
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: 'layers' must be a non-empty list of layer tables")
    name = doc.get("name", path.stem)
    if not isinstance(name, str):
        raise UsageError(f"{where}: 'name' must be a string, got {name!r}")
    children, out = _sequence(items, tuple(shape), where, "layers")
    body = L.Sequential(_safe(name), tuple(children))
    classes = doc.get("num_classes", out[0] if len(out) == 1 else 0)
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 0:
        raise UsageError(f"{where}: 'num_classes' must be a non-negative integer, got {classes!r}")
    description = doc.get("description", f"spec {name}")
    return Net(ref or str(path), f"{name}: {description}", tuple(shape), body, classes)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned or "spec"


def _sequence(items: Any, shape: Shape, where: str, key: str) -> tuple[list[L.Layer], Shape]:
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: {key!r} must be a non-empty list of layer tables")
    out = []
    for i, item in enumerate(items):
        layer = build_layer(item, shape, f"{where}: {key}[{i}]")
        shape = layer.output_shape(shape)
        out.append(layer)
    return out, shape


def build_layer(item: Any, shape: Shape, where: str) -> L.Layer:
    """One layer table -> a descriptor, with the input sizes filled from ``shape``."""
    if not isinstance(item, dict):
        raise UsageError(f"{where}: a layer must be a table/object, got {item!r}")
    kind, name = item.get("type"), item.get("name")
    if not isinstance(kind, str) or kind not in KINDS:
        raise UsageError(f"{where}: type {kind!r}{closest(str(kind), list(KINDS))}; "
                         f"valid: {', '.join(KINDS)}")
    if not isinstance(name, str):
        raise UsageError(f"{where} ({kind}): 'name' must be a string, got {name!r}")
    where = f"{where} {name!r} ({kind})"
    cls = KINDS[kind]
    allowed = {f.name: str(f.type) for f in fields(cls) if f.name != "name"}
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key in ("type", "name"):
            continue
        if key not in allowed:
            raise UsageError(f"{where}: unknown field {key!r}{closest(key, list(allowed))}; "
                             f"valid: {', '.join(allowed)}")
        values[key] = value if key in _NESTED else _value(value, allowed[key], where, key)
    for key in _INFERRED:
        if key in allowed and key not in values and shape:
            values[key] = shape[0] if kind != "Linear" else math.prod(shape)
    if "layers" in values:
        values["layers"] = tuple(_sequence(values["layers"], shape, where, "layers")[0])
    if "branches" in values:
        values["branches"] = tuple(build_layer(b, shape, f"{where}: branches[{i}]")
                                   for i, b in enumerate(_list(values["branches"], where)))
    try:
        layer = cls(name=name, **values)
        layer.output_shape(shape)
    except UsageError as e:
        raise UsageError(f"{where}: {e}") from None
    return layer


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where}: 'branches' must be a non-empty list of layer tables")
    return value


def _value(value: Any, annotation: str, where: str, key: str) -> Any:
    """Check one field against its annotation: int, bool, float, str, a pair of ints."""
    def bad(want: str) -> UsageError:
        return UsageError(f"{where}: field {key!r} must be {want}, got {value!r}")

    if annotation == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
    elif annotation == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
    elif annotation == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad("a number")
        value = float(value)
    elif annotation == "str":
        if not isinstance(value, str):
            raise bad("a string")
    elif annotation.startswith("Pair"):
        is_int = isinstance(value, int) and not isinstance(value, bool)
        is_pair = isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not (is_int or is_pair):
            raise bad("an integer or a pair [h, w] of integers")
        value = value if is_int else tuple(value)
    return value
