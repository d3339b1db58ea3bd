"""`alexprof models`: every network known by name."""

from __future__ import annotations

import csv
import io


def test_models_lists_all_four(cli) -> None:
    doc = cli("models", "-f", "json").json()
    by_name = {m["name"]: m for m in doc["models"]}
    assert by_name["alexnet-2012"]["params"] == 60_965_224  # derived in test_counting
    assert by_name["alexnet-torchvision"]["macs"] == 714_188_480  # derived in test_counting
    assert "alexnet-d2l" in cli("models").out


def test_every_format_lists_every_name(cli) -> None:
    names = [m["name"] for m in cli("models", "-f", "json").json()["models"]]
    assert len(names) == 17 and names[0] == "alexnet"
    rows = list(csv.DictReader(io.StringIO(cli("models", "-f", "csv").out)))
    assert [r["name"] for r in rows] == names
    table, md = cli("models").out, cli("models", "-f", "markdown").out
    assert all(name in table and f"| {name} |" in md for name in names)
