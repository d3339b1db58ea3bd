"""Every vocabulary reads as its value: in str(), f-strings, JSON and CSV.  No torch."""

from __future__ import annotations

import csv
import io
import json

import pytest

from alexprof.errors import UsageError, choose
from alexprof.memory.stages import Stage
from alexprof.memory.vocab import Category, Holder
from alexprof.report.status import CheckStatus, StageStatus

VOCABULARIES = (Category, Holder, Stage, CheckStatus, StageStatus)
MEMBERS = [m for vocab in VOCABULARIES for m in vocab]


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_a_member_prints_as_its_value(member) -> None:
    value = member.value
    assert isinstance(member, str) and member == value and hash(member) == hash(value)
    assert str(member) == f"{member}" == "%s" % member == format(member) == value
    assert f"{member:>12}" == f"{value:>12}"  # table padding works as for the plain word
    assert json.dumps(member) == json.dumps(value)
    assert json.dumps({member: [member]}, indent=2) == json.dumps({value: [value]}, indent=2)
    buf = io.StringIO()
    csv.writer(buf).writerow([member])
    assert buf.getvalue().strip() == value
    assert type(member)(value) is member  # read back from a document: the same member


@pytest.mark.parametrize("vocab", VOCABULARIES, ids=lambda v: v.__name__)
def test_each_member_is_documented_once_in_its_class(vocab) -> None:
    doc = vocab.__doc__ or ""
    for member in vocab:
        assert doc.count(f"- {member.name}:") == 1, member


def test_choose_names_an_option_or_a_kind() -> None:
    assert choose(("cpu", "cuda"), "cuda", "--device", option=True) == "cuda"
    assert choose({"a": 1}, "a", "letter") == 1
    with pytest.raises(UsageError) as e:
        choose(("float32", "float16", "bfloat16"), "floa32", "--dtype", option=True)
    assert str(e.value) == ("--dtype 'floa32' (did you mean 'float32'?); "
                            "valid: float32, float16, bfloat16")
    with pytest.raises(UsageError) as e:
        choose(("none", "sgd"), "rmsprop", "--optimizer", option=True)
    assert str(e.value) == "--optimizer 'rmsprop'; valid: none, sgd"
    with pytest.raises(UsageError) as e:
        choose({"alexnet": 1}, "alexnt", "model", " (or a spec file)")
    assert str(e.value) == "unknown model 'alexnt' (did you mean 'alexnet'?); valid: alexnet (or a spec file)"
