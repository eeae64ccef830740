"""Value digests: deterministic, type-aware, fast on buffers, clear on failure."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import lakelet
from lakelet.cache.arguments import ValueHasher
from lakelet.cache.errors import UnhashableValue

H = ValueHasher()


def digest(value):
    return H.digest(value)


@dataclasses.dataclass
class Point:
    x: int
    y: float


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        ((1,), [1]),
        ("1", b"1"),
        ({1: 2}, {2: 1}),
        ({"a"}, ["a"]),
        (np.arange(3), np.arange(3).astype(np.int32)),
        (np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)),
        (pd.Series([1, 2]), pd.Series([1, 2], name="s")),
        (pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})),
        (pd.Series([1, "a"], dtype=object), pd.Series(["1", "a"], dtype=object)),
        (Point(1, 2.0), Point(1, 2.5)),
        (0.0, -0.0),
        # values that compare or hash alike elsewhere but are not the same value (issue 10)
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # dict order is observable: part of the key (documented)
        (__import__("collections").OrderedDict(a=1, b=2), __import__("collections").OrderedDict(b=2, a=1)),
        ({1, 2}, frozenset({1, 2})),
        (b"ab", bytearray(b"ab")),
        (b"ab", memoryview(b"ab")),
        (
            pd.Series(pd.Categorical(["a", "b"], categories=["a", "b"], ordered=True)),
            pd.Series(pd.Categorical(["a", "b"], categories=["b", "a"], ordered=True)),
        ),
        (
            pd.Series(pd.Categorical(["a", "b"], ordered=True)),
            pd.Series(pd.Categorical(["a", "b"], ordered=False)),
        ),
        (pd.Series(["1", 2], dtype=object), pd.Series([1, "2"], dtype=object)),
        (pd.DataFrame({"c": ["1", 2]}), pd.DataFrame({"c": [1, "2"]})),
        (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), np.ma.masked_array([1, 2, 3], mask=[0, 0, 0])),
        (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), np.array([1, 2, 3])),
        (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), np.ma.masked_array([1, 9, 3], mask=[0, 1, 0])),
        (np.arange(4).reshape(2, 2), np.asmatrix(np.arange(4).reshape(2, 2))),
    ],
)
def test_different_values_differ(a, b) -> None:
    assert digest(a) != digest(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}),
        ({3, 1, 2}, {1, 2, 3}),
        (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])),
        (pd.Series(pd.Categorical(["a", "b"], ordered=True)), pd.Series(pd.Categorical(["a", "b"], ordered=True))),
        (pd.Series(["1", 2], dtype=object), pd.Series(["1", 2], dtype=object)),
        (np.asfortranarray(np.arange(6).reshape(2, 3)), np.arange(6).reshape(2, 3)),
        (np.arange(10)[::2], np.array([0, 2, 4, 6, 8])),
        (pd.DataFrame({"a": [1, 2], "s": ["x", "y"]}), pd.DataFrame({"a": [1, 2], "s": ["x", "y"]})),
        (pa.table({"a": [1, 2]}), pa.table({"a": [1, 2]})),
        (Point(1, 2.0), Point(1, 2.0)),
    ],
)
def test_equal_values_hash_equal(a, b) -> None:
    assert digest(a) == digest(b)


def test_cycles_and_shared_references() -> None:
    a: list = [1]
    a.append(a)
    assert digest(a) == digest(a)
    shared = [1]
    assert digest([shared, shared]) == digest([shared, shared])


def test_unhashable_names_what() -> None:
    with pytest.raises(UnhashableValue, match="argument 'lock'") as info:
        H.digest({"k": threading.Lock()}, what="argument 'lock'")
    assert info.value.what == "argument 'lock'"
    assert isinstance(info.value, TypeError) and isinstance(info.value, lakelet.LakeletError)


def test_deterministic_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    code = (
        "import dataclasses\nimport numpy as np, pandas as pd\n"
        "from lakelet.cache.arguments import ValueHasher\n"
        "v = {'s': {'x', 'y', 'z'}, 'f': frozenset({'a', 'b'}), 'arr': np.arange(4.0),"
        " 'df': pd.DataFrame({'c': ['u', 'v']}), 'path': __import__('pathlib').PurePosixPath('/a/b')}\n"
        "print(ValueHasher().digest(v))\n"
    )
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1


def test_large_array_is_hashed_by_its_buffer() -> None:
    big = np.zeros(5_000_000)
    first = digest(big)
    big[-1] = 1
    assert digest(big) != first
