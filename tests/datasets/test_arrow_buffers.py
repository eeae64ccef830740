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


# ---------------------------------------------------------------------------- take
import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TYPES = {
    "int8": (pa.int8(), st.integers(-128, 127)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float32": (pa.float32(), st.floats(width=32)),
    "float64": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), st.text(max_size=8)),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "embedding": (pa.list_(pa.float32(), 3), st.lists(st.floats(width=32), min_size=3, max_size=3)),
    "date": (pa.date32(), st.integers(0, 20000)),  # not gathered here: pyarrow's kernel
}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), name=st.sampled_from(list(_TYPES)), nulls=st.booleans())
def test_take_matches_pyarrow(data: st.DataObject, name: str, nulls: bool) -> None:
    """Every layout, with and without nulls, sliced (an offset) or not, with repeated and unordered rows."""
    arrow, values = _TYPES[name]
    items = data.draw(st.lists(st.one_of(st.none(), values) if nulls else values, max_size=30))
    array = pa.array(items, arrow)
    start = data.draw(st.integers(0, len(array)))
    array = array.slice(start, data.draw(st.integers(0, len(array) - start)))
    rows = np.array(data.draw(st.lists(st.integers(0, max(len(array) - 1, 0)), max_size=40 if len(array) else 0)),
                    dtype=np.int64)
    got = _arrow.take(array, rows)
    expected = array.take(pa.array(rows, pa.int64()))
    assert got.type == expected.type
    assert got.null_count == expected.null_count
    assert _canonical(got.to_pylist()) == _canonical(expected.to_pylist())
    got.validate(full=True)


def _canonical(value):
    """NaN as a marker (NaN != NaN), -0.0 kept apart from 0.0, lists recursively."""
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        return "nan" if value != value else (value, str(value))
    return value


def test_take_refuses_rows_out_of_range() -> None:
    with pytest.raises(IndexError):
        _arrow.take(pa.array([1, 2, 3]), np.array([3]))
    with pytest.raises(IndexError):
        _arrow.take(pa.array(["a"]), np.array([-1]))


def test_a_first_random_read_does_not_import_pyarrow_compute(tmp_path) -> None:
    import json
    import subprocess
    import sys

    import lakelet.datasets as L

    ds = L.create(str(tmp_path / "ds"), schema={"n": L.types.Int64(), "t": L.types.Text(),
                                                 "e": L.types.Embedding(4), "b": L.types.Bool()})
    ds.append({"n": list(range(100)), "t": [f"t{i}" for i in range(100)], "e": [[float(i)] * 4 for i in range(100)],
               "b": [i % 3 == 0 for i in range(100)]})
    ds.commit("rows")
    script = (
        "import json, sys, numpy as np, lakelet.datasets as L\n"
        f"ds = L.open({str(tmp_path / 'ds')!r})\n"
        "rows = np.array([97, 3, 3, 50])\n"
        "out = {c: np.asarray(ds[c][rows]).tolist() for c in ('n', 't', 'e', 'b')}\n"
        "out['compute'] = 'pyarrow.compute' in sys.modules\n"
        "print(json.dumps(out))\n"
    )
    got = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                    check=True).stdout.strip().splitlines()[-1])
    assert got["compute"] is False
    assert got["n"] == [97, 3, 3, 50]
    assert got["t"] == ["t97", "t3", "t3", "t50"]
    assert got["e"] == [[97.0] * 4, [3.0] * 4, [3.0] * 4, [50.0] * 4]
    assert got["b"] == [False, True, True, False]
