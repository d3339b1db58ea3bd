"""Network spec files: layers as data (TOML or JSON) -> the same :class:`Net` as the zoo's.

A spec has ``input`` (C, H, W per sample), optional ``name``, ``description`` and
``num_classes``, and ``layers``: a list of tables, each with ``type`` (a
descriptor kind such as ``Conv2d``), ``name`` and the descriptor's fields.
Input sizes may be left out (``in_channels``, ``in_features``,
``num_features``): they are taken from the shape that reaches the layer.
Composites nest: ``Sequential`` and ``Side`` take ``layers``, ``Parallel`` takes
``branches`` and ``merge``.  The kinds are :data:`alexprof.nets.kinds.KINDS`.  Every
error names the file, the layer and the field.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alexprof import nets as L
from alexprof.errors import UsageError, closest
from alexprof.nets import Shape
from alexprof.nets.kinds import KINDS
from alexprof.nets.net import Net
from alexprof.nets.walk import Exit, Form, form_of, traverse_tree

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
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # Python 3.10
            import tomli as tomllib
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
            raise UsageError(
                f"{where}: unknown top-level key {key!r}{closest(key, list(TOP_KEYS))}; "
                f"valid: {', '.join(TOP_KEYS)}"
            )
    shape = doc.get("input")
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise UsageError(
            f"{where}: 'input' must be [C, H, W] with positive integers, got {shape!r}"
        )
    items = doc.get("layers")
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: 'layers' must be a non-empty list of layer tables")
    name = doc.get("name", path.stem)
    if not isinstance(name, str):
        raise UsageError(f"{where}: 'name' must be a string, got {name!r}")
    body, out = build(_safe(name), items, tuple(shape), where)
    classes = doc.get("num_classes", out[0] if len(out) == 1 else 0)
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 0:
        raise UsageError(f"{where}: 'num_classes' must be a non-negative integer, got {classes!r}")
    description = doc.get("description", f"spec {name}")
    return Net(ref or str(path), f"{name}: {description}", tuple(shape), body, classes)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned or "spec"


def build(name: str, items: list[Any], shape: Shape, where: str) -> tuple[L.Sequential, Shape]:
    """The body a spec's ``layers`` describe, and its output shape: the one walk of
    :mod:`alexprof.nets.walk` over the tables, each built when the walk reaches it."""
    root = _Item({"type": "Sequential", "name": name, "layers": items}, where, root=True)
    *_, last = traverse_tree(root, shape, _Tables())  # the root's exit comes last
    assert isinstance(last, Exit) and isinstance(last.layer, L.Sequential)
    return last.layer, last.out_shape


@dataclass
class _Item:
    """One layer table and where it is in the file; its checked fields once opened."""

    table: Any
    where: str
    root: bool = False
    kind: type[L.Layer] = L.Layer
    values: dict[str, Any] = field(default_factory=dict)


class _Tables:
    """Spec tables as a tree the walk reads: fields checked when a table is opened,
    input sizes inferred and the descriptor built when the walk reaches it."""

    def open(self, item: _Item) -> tuple[Form, str, Sequence[_Item]]:
        if item.root:
            item.kind = L.Sequential
            return Form.SEQUENTIAL, item.table["name"], _children(item, "layers")
        table, where = item.table, item.where
        if not isinstance(table, dict):
            raise UsageError(f"{where}: a layer must be a table/object, got {table!r}")
        kind, name = table.get("type"), table.get("name")
        if not isinstance(kind, str) or kind not in KINDS:
            raise UsageError(
                f"{where}: type {kind!r}{closest(str(kind), list(KINDS))}; "
                f"valid: {', '.join(KINDS)}"
            )
        if not isinstance(name, str):
            raise UsageError(f"{where} ({kind}): 'name' must be a string, got {name!r}")
        item.where = where = f"{where} {name!r} ({kind})"
        item.kind = cls = KINDS[kind]
        allowed = {f.name: str(f.type) for f in fields(cls) if f.name != "name"}
        for key, value in table.items():
            if key in ("type", "name"):
                continue
            if key not in allowed:
                raise UsageError(
                    f"{where}: unknown field {key!r}{closest(key, list(allowed))}; "
                    f"valid: {', '.join(allowed)}"
                )
            item.values[key] = value if key in _NESTED else _value(value, allowed[key], where, key)
        nested = next((key for key in _NESTED if key in item.values), None)
        return form_of(cls), name, _children(item, nested) if nested else ()

    def leaf(self, item: _Item, shape: Shape) -> L.Layer:
        values = dict(item.values)
        for key in _INFERRED:
            if key in {f.name for f in fields(item.kind)} and key not in values and shape:
                values[key] = shape[0] if item.kind is not L.Linear else math.prod(shape)
        return _make(item, values, shape)

    def close(self, item: _Item, children: tuple[L.Layer, ...], shape: Shape) -> L.Layer:
        if item.root:  # the body itself: its errors are the descriptor's own
            return L.Sequential(item.table["name"], children)
        key = "branches" if item.kind is L.Parallel else "layers"
        return _make(item, {**item.values, key: children}, shape)


def _children(item: _Item, key: str) -> list[_Item]:
    items = item.table[key] if item.root else item.values[key]
    if not isinstance(items, list) or not items:
        raise UsageError(f"{item.where}: {key!r} must be a non-empty list of layer tables")
    return [_Item(child, f"{item.where}: {key}[{i}]") for i, child in enumerate(items)]


def _make(item: _Item, values: dict[str, Any], shape: Shape) -> L.Layer:
    try:
        layer = item.kind(name=item.table["name"], **values)
        layer.output_shape(shape)
    except UsageError as e:
        raise UsageError(f"{item.where}: {e}") from None
    return layer


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
        is_pair = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        if not (is_int or is_pair):
            raise bad("an integer or a pair [h, w] of integers")
        value = value if is_int else tuple(value)
    return value
