from __future__ import annotations


def test_table_names_conv2_and_caption_states_convention(cli) -> None:
    r = cli("flops")
    assert r.code == 0
    assert "Most arithmetic: conv2 (415,334,400 MACs" in r.out  # 26*26*5*5*96*256
    assert "convention 'macs'" in r.out
    assert "FLOPs = 2 x MACs" in r.out


def test_batch_and_convention_in_json(cli) -> None:
    doc = cli("flops", "alexnet", "--batch", "4", "--convention", "ptflops", "-f", "json").json()
    assert doc["batch"] == 4 and doc["convention"] == "ptflops"
    relu1 = next(x for x in doc["layers"] if x["name"] == "relu1")
    assert relu1["macs"] == 4 * 96 * 54 * 54  # ptflops: ReLU counts its output elements
    assert relu1["flops"] == 2 * relu1["macs"]


def test_convention_changes_caption(cli) -> None:
    assert "convention 'aten'" in cli("flops", "--convention", "aten").out


def test_verify_all_sources_on_grouped_network(cli) -> None:
    r = cli("flops", "alexnet-2012", "--verify", "--batch", "2")
    assert r.code == 0, r.err
    assert "FlopCounterMode (torch 2.13) ignores groups" in r.out
    assert "counts ReLU, pooling and softmax twice" in r.out
    assert "UNEXPLAINED" not in r.out


def test_verify_json_lists_every_check(cli) -> None:
    doc = cli("flops", "alexnet-d2l", "--verify", "-f", "json").json()
    checks = doc["verification"]["checks"]
    assert doc["verification"]["passed"] is True
    assert {c["source"] for c in checks} == {"torch", "flopcounter", "ptflops", "aten"}
    assert all(c["status"] in ("match", "explained") for c in checks)


def test_markdown_columns_sum_to_the_printed_totals(cli) -> None:
    """torchinfo-style invariant: every numeric column of the rendered table adds up."""
    md = cli("flops", "alexnet-2012", "--batch", "3", "-f", "markdown").out
    lines = [line for line in md.splitlines() if line.startswith("| ")][1:]  # skip header
    body, total = lines[:-1], lines[-1]
    as_int = lambda cell: int(cell.strip().strip("*").replace(",", ""))  # noqa: E731
    for col in (3, 4, 5):  # MACs, FLOPs, backward FLOPs
        column = [as_int(line.split("|")[col + 1]) for line in body]
        assert sum(column) == as_int(total.split("|")[col + 1])
