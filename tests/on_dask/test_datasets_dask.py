"""Datasets as Dask collections on a real LocalCluster (two worker processes), on local disk and on S3 (moto).

Each read is checked against ``to_arrow``/DuckDB on the client; each write by reopening the dataset in a
fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import dask  # noqa: E402
from dask.base import tokenize  # noqa: E402
from distributed import Client  # noqa: E402

from lakelet import datasets  # noqa: E402
from lakelet.datasets import types  # noqa: E402
from lakelet.errors import InvalidArgument  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    """A Client of a LocalCluster with two worker processes, run in a process of its own."""
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_serve_cluster.py"))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        address = server.stdout.readline().strip()  # type: ignore[union-attr]
        assert address.startswith("tcp://"), f"the cluster did not start (exit code {server.poll()})"
        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
            yield c
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(params=["local", "s3"])
def place(request, tmp_path):
    if request.param == "local":
        return lambda name: (str(tmp_path / name), None)
    server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    creds = server.creds
    return lambda name: (f"s3://{bucket}/{name}", creds)


def _filled(url, creds, pieces: int = 4, rows: int = 500):
    ds = datasets.create(url, creds, schema={"n": types.Int64(), "x": types.Float32(), "label": types.Text()})
    for p in range(pieces):  # one commit per batch: one piece each, with disjoint ranges of n
        n = np.arange(p * rows, (p + 1) * rows)
        ds.append({"n": n.tolist(), "x": (n / 7).astype("float32").tolist(), "label": [f"l{v % 3}" for v in n]})
        ds.commit(f"batch {p}")
    return ds


def _frame(table) -> pd.DataFrame:
    return table.to_pandas().sort_values("n").reset_index(drop=True)


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same values, same numeric dtypes (text follows Dask's own ``dataframe.convert-string`` setting)."""
    got = got.sort_values("n").reset_index(drop=True)
    expected = expected.sort_values("n").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    for name in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[name]):
            assert got[name].dtype == expected[name].dtype, name


def test_to_dask_equals_to_arrow_for_columns_and_filters(client, place) -> None:
    url, creds = place(f"ds-{uuid.uuid4().hex[:6]}")
    ds = _filled(url, creds)
    whole = ds.to_dask()
    assert whole.npartitions == 4  # one partition per piece
    assert_same(whole.compute(), _frame(ds.to_arrow()))

    only = ds.to_dask(columns=["n", "label"])
    assert list(only.columns) == ["n", "label"]
    assert_same(only.compute(), _frame(ds.to_arrow(["n", "label"])))

    for where in ["n >= 1200 AND n < 1300", "label = 'l1' AND x > 100", "n IN (3, 999, 1500)", "n < 0"]:
        lazy = ds.to_dask(filter=where)
        expected = ds.query(f"SELECT * WHERE {where}").to_pandas()
        got = lazy.compute()
        assert_same(got, expected)
        assert len(got) == len(expected) and (where == "n < 0" or len(got) > 0)
    # pruning: a filter on one piece's range schedules one partition, not four
    assert ds.to_dask(filter="n >= 1200 AND n < 1300").npartitions == 1
    assert ds.to_dask(filter="n >= 0").npartitions == 4


def test_to_dask_sum_runs_on_the_workers(client, tmp_path) -> None:
    ds = _filled(str(tmp_path / "sum"), None)
    total = ds.to_dask(columns=["n"])["n"].sum().compute()
    assert total == sum(range(2000))


def test_dataset_token_is_its_commit(tmp_path) -> None:
    ds = _filled(str(tmp_path / "tok"), None, pieces=1, rows=10)
    same = datasets.open(str(tmp_path / "tok"))
    assert tokenize(ds) == tokenize(same)
    ds.append({"n": [1], "x": [1.0], "label": ["a"]})
    assert tokenize(ds) != tokenize(ds)  # uncommitted rows: never taken for a known value
    ds.commit("more")
    assert tokenize(ds) != tokenize(same)
    same.refresh()
    assert tokenize(ds) == tokenize(same)
    # the same read of the same version is the same graph
    assert ds.to_dask(columns=["n"])._name == same.to_dask(columns=["n"])._name


def test_to_dask_refuses_what_it_cannot_do(tmp_path) -> None:
    ds = _filled(str(tmp_path / "bad"), None, pieces=1, rows=5)
    with pytest.raises(InvalidArgument, match="no column 'nope'"):
        ds.to_dask(columns=["nope"])
    with pytest.raises(InvalidArgument, match="filter"):
        ds.to_dask(filter="nope > 1")
    with pytest.raises(InvalidArgument, match="filter"):
        ds.to_dask(filter="1=1; DROP TABLE ds")
    ds.append({"n": [1], "x": [1.0], "label": ["a"]})
    with pytest.raises(InvalidArgument, match="uncommitted"):
        ds.to_dask()


def _reopen(url: str, creds) -> dict:
    code = (
        "import json, sys; from lakelet import datasets\n"
        "url, creds = sys.argv[1], json.loads(sys.argv[2])\n"
        "ds = datasets.open_read_only(url, creds)\n"
        "t = ds.to_arrow()\n"
        "print(json.dumps({'rows': len(ds), 'n': sorted(t.column('n').to_pylist()),"
        " 'labels': sorted(set(t.column('label').to_pylist())), 'log': [v.message for v in ds.history]}))"
    )
    proc = subprocess.run([sys.executable, "-c", code, url, json.dumps(creds)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_extend_from_dask_writes_on_workers_and_commits_once(client, place) -> None:
    url, creds = place(f"out-{uuid.uuid4().hex[:6]}")
    ds = datasets.create(url, creds, schema={"n": types.Int64(), "label": types.Text()})
    frame = pd.DataFrame({"n": np.arange(3000, dtype="int64"), "label": [f"k{i % 5}" for i in range(3000)]})
    ddf = dd.from_pandas(frame, npartitions=6)
    head = ds.version
    ds.extend(ddf)
    assert ds.has_changes and len(ds) == 3000
    assert datasets.open_read_only(url, creds).version == head  # nothing published before commit
    ds.commit("from dask")
    seen = _reopen(url, creds)
    assert seen["rows"] == 3000 and seen["n"] == list(range(3000))
    assert seen["labels"] == [f"k{i}" for i in range(5)]
    assert seen["log"][0] == "from dask" and len(seen["log"]) == 2  # created + one commit
    # the pieces were written by the workers, one per partition
    assert len(ds.checked_out.state.pieces) == 6


def test_from_dask_creates_and_a_failing_partition_publishes_nothing(client, tmp_path) -> None:
    url = str(tmp_path / "fresh")
    frame = pd.DataFrame({"n": np.arange(100, dtype="int64"), "label": ["a"] * 100})
    schema = {"n": types.Int64(), "label": types.Text()}
    ds = datasets.from_dask(dd.from_pandas(frame, npartitions=4), url, schema=schema, message="first")
    assert _reopen(url, None)["n"] == list(range(100))
    head = ds.version

    def poison(part):
        if part["n"].iloc[0] >= 150:
            part = part.assign(n="not a number")  # not an Int64: refused on that worker, after others wrote
        return part

    bad = dd.from_pandas(pd.DataFrame({"n": np.arange(100, 200, dtype="int64"), "label": ["b"] * 100}),
                         npartitions=4).map_partitions(poison, meta={"n": "object", "label": "object"})
    with pytest.raises(datasets.SchemaError, match="n"):  # the worker's error, re-raised by Dask
        datasets.from_dask(bad, url)
    again = datasets.open_read_only(url)
    assert again.version == head and len(again) == 100


def test_read_partitions_are_lazy_and_independent(client, tmp_path) -> None:
    ds = _filled(str(tmp_path / "lazy"), None)
    parts = ds.to_dask(columns=["n"]).to_delayed()
    assert len(parts) == 4
    first, last = dask.compute(parts[0], parts[-1])
    assert first["n"].min() == 0 and last["n"].max() == 1999


def test_from_dask_infers_the_schema_and_to_dask_gives_to_pandas_dtypes(client, place) -> None:
    url, creds = place(f"typed-{uuid.uuid4().hex[:6]}")
    frame = pd.DataFrame({
        "n": np.arange(120, dtype="int64"),
        "when": pd.date_range("2024-01-01", periods=120, freq="h", tz="UTC"),
        "zone": pd.Categorical(["Midtown", "Harlem", "SoHo"] * 40),
        "x": np.linspace(0, 1, 120, dtype="float32"),
    })
    ds = datasets.from_dask(dd.from_pandas(frame, npartitions=3), url, creds)
    expected = datasets.open_read_only(url, creds).to_pandas()
    got = ds.to_dask().compute().sort_values("n").reset_index(drop=True)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(got, expected)
    assert expected["when"].tolist() == frame["when"].tolist()
    assert expected["zone"].astype(str).tolist() == frame["zone"].astype(str).tolist()
