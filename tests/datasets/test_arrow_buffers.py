"""``lakelet.datasets._arrow`` builds Arrow arrays without pyarrow's converters (which import pandas):
each path gives exactly what ``pa.array`` gives, or declines so that pyarrow decides."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakelet.datasets import _arrow


class Name(str):
    """A str subclass, as some libraries hand out."""


@pytest.mark.parametrize(
    "values",
    [
        [f"row {i}" for i in range(1000)],  # the ASCII fast path
        ["", "", "x"],
        [],
        ["café", "naïve", "x"],  # not ASCII: encoded one by one
        ["a", None, "b"],  # nulls
        [None, None],
        [Name("subclass"), "plain"],
        ["tab\tnew\nline\x00nul"],
    ],
)
def test_strings_match_pyarrow(values: list) -> None:
    got = _arrow.strings(values)
    assert got is not None and got.type == pa.string()
    assert got.equals(pa.array(values, pa.string()))
    assert got.to_pylist() == [None if v is None else str(v) for v in values]


@pytest.mark.parametrize("values", [["x", 1], [b"bytes"], ["x", 1.5], ["\ud800"]])
def test_strings_decline_what_pyarrow_must_judge(values: list) -> None:
    assert _arrow.strings(values) is None
