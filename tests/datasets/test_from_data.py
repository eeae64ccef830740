"""Datasets created from data (issue 11.2): from_pandas, from_arrow, create(schema=<Arrow schema or
DataFrame>) with inference and overrides, ds.extend(df) for every column type; read back in a fresh
process with the same dtypes and values."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import lakelet
import lakelet.datasets as L
from lakelet.datasets import types as T


def frame(n: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "i": np.arange(n, dtype=np.int64),
            "f": rng.random(n).astype(np.float32),
            "ni": pd.array([None if k % 2 else k for k in range(n)], dtype="Int32"),
            "b": pd.array([None if k % 3 == 0 else bool(k % 2) for k in range(n)], dtype="boolean"),
            "s": pd.Series([f"row {k}" if k % 4 else None for k in range(n)], dtype="string"),
            "cat": pd.Categorical([["low", "high"][k % 2] for k in range(n)], categories=["low", "high"]),
            "ts": pd.date_range("2024-03-30 23:00", periods=n, freq="h", tz="Europe/Paris"),
            "day": [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(n)],
            "took": pd.to_timedelta(np.arange(n), unit="s"),
            "price": [decimal.Decimal(f"{k}.25") for k in range(n)],
            "vec": [rng.random(4).astype(np.float32) for _ in range(n)],
            "tags": [[str(k)] * (k % 3) for k in range(n)],
            "meta": [{"k": k, "even": k % 2 == 0} for k in range(n)],
        }
    )


READ = """
import json, sys
import lakelet
ds = lakelet.open_read_only(sys.argv[1])
df = ds.to_pandas()
plain = df.drop(columns=["vec", "tags", "meta"])
print(json.dumps({"schema": repr(ds.schema), "dtypes": {k: str(v) for k, v in df.dtypes.items()},
                  "rows": json.loads(plain.to_json(orient="records", date_format="iso", default_handler=str)),
                  "vec": [list(map(float, v)) for v in df["vec"]], "tags": [list(v) for v in df["tags"]],
                  "meta": list(df["meta"]), "labels": ds.query("SELECT cat FROM ds").to_arrow().column(0).to_pylist(),
                  "codes": ds.query("SELECT cat FROM ds", labels=False).to_arrow().column(0).to_pylist()}))
"""


def read_fresh(path: str) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", READ, path], capture_output=True, text=True,
                                     check=True).stdout)


def expected_rows(df: pd.DataFrame) -> list:
    return json.loads(df.drop(columns=["vec", "tags", "meta"]).to_json(orient="records", date_format="iso",
                                                                       default_handler=str))


def test_from_pandas_infers_every_type_and_round_trips(tmp_path):
    df = frame()
    path = str(tmp_path / "ds")
    ds = lakelet.from_pandas(df, path)
    assert ds.schema.types() == {
        "i": T.Int64(), "f": T.Float32(), "ni": T.Int32(), "b": T.Bool(), "s": T.Text(),
        "cat": T.ClassLabel("int8", ["low", "high"]), "ts": T.Timestamp(str(df["ts"].dtype.unit), "Europe/Paris"),
        "day": T.Date(), "took": T.Duration(np.datetime_data(df["took"].dtype)[0]), "price": T.Decimal(3, 2),
        "vec": T.Embedding(4), "tags": T.Sequence(T.Text()),
        "meta": T.Struct({"k": T.Int64(), "even": T.Bool()}),
    }
    got = read_fresh(path)
    # pandas' own default text dtype comes back for its "string" extension dtype; decimals are objects
    assert got["dtypes"] == {k: str(v) for k, v in df.dtypes.items()} | {"price": "object", "s": "str"}
    assert got["rows"] == expected_rows(df)
    assert got["vec"] == [list(map(float, v)) for v in df["vec"]] and got["tags"] == list(df["tags"])
    assert got["meta"] == list(df["meta"]) and got["codes"] == [0, 1, 0, 1, 0]
    assert got["labels"] == ["low", "high", "low", "high", "low"]  # SQL results show names (issue 11.6)


def test_overrides_and_extend_with_every_type(mem_url):
    df = frame()
    ds = lakelet.from_pandas(df, mem_url, schema={"i": "int32", "s": T.ClassLabel(labels=["row 1", "row 2", "row 3"])})
    assert ds.schema["i"].type == T.Int32() and ds.schema["s"].type == T.ClassLabel(labels=["row 1", "row 2", "row 3"])
    ds.extend(frame(4))  # the same DataFrame shape again, every column type
    ds.commit("more")
    back = ds.to_pandas()
    assert len(back) == 9 and back["s"].isna().tolist()[5:] == [True, False, False, False]
    assert back["s"].tolist()[6:] == ["row 1", "row 2", "row 3"] and str(back["s"].dtype) == "category"
    assert back["ts"].tolist()[5:] == df["ts"].tolist()[:4]
    with pytest.raises(L.SchemaError, match="does not have"):
        lakelet.from_pandas(df, mem_url + "-x", schema={"nope": "int64"})
    assert not L.exists(mem_url + "-x")


def test_create_from_an_arrow_schema_a_table_and_a_dataframe(mem_url):
    schema = pa.schema({"t": pa.timestamp("ms", "UTC"), "d": pa.date32(), "x": pa.list_(pa.float32(), 3),
                        "c": pa.dictionary(pa.int16(), pa.string()), "m": pa.decimal128(12, 4)})
    ds = L.create(mem_url, schema=schema)
    assert ds.schema.types() == {"t": T.Timestamp("ms", "UTC"), "d": T.Date(), "x": T.Embedding(3),
                                 "c": T.ClassLabel("int16"), "m": T.Decimal(12, 4)}
    table = pa.table({"n": [1, 2], "c": pa.array(["a", "b"]).dictionary_encode()})
    ds2 = L.create(mem_url + "2", schema=table)
    assert ds2.schema.types() == {"n": T.Int64(), "c": T.ClassLabel("int32", ["a", "b"])}
    ds3 = L.create(mem_url + "3", schema=L.infer_schema(frame(), {"vec": T.Array("float32", dimensions=1)}))
    assert ds3.schema["vec"].type == T.Array("float32", dimensions=1)
    assert ds3.schema["cat"].type.labels == ["low", "high"]
    with pytest.raises(L.SchemaError, match=r"column 'empty' holds only nulls.*types.Text\(\)"):
        L.create(mem_url + "4", schema=pd.DataFrame({"empty": [None, None]}))


def test_from_arrow_streams_a_reader_and_batches(mem_url):
    schema = pa.schema({"n": pa.int64(), "e": pa.list_(pa.float32(), 2)})
    batches = [pa.record_batch({"n": np.arange(k * 10, k * 10 + 10),
                                "e": pa.FixedSizeListArray.from_arrays(pa.array(np.ones(20, np.float32)), 2)},
                               schema=schema) for k in range(5)]
    ds = lakelet.from_arrow(pa.RecordBatchReader.from_batches(schema, iter(batches)), mem_url)
    assert len(ds) == 50 and ds["n"][:].tolist() == list(range(50)) and ds["e"][:].shape == (50, 2)
    assert len(ds.history) == 2  # created + one import commit
    empty = lakelet.from_arrow(pa.RecordBatchReader.from_batches(schema, iter([])), mem_url + "-empty")
    assert len(empty) == 0 and empty.schema.types() == {"n": T.Int64(), "e": T.Embedding(2)}
    with pytest.raises(lakelet.InvalidArgument, match="from_arrow takes"):
        lakelet.from_arrow(42, mem_url + "-bad")


def test_a_bad_batch_publishes_nothing_and_removes_what_the_import_created(mem_url):
    good = pd.DataFrame({"n": [1, 2]})
    bad = pd.DataFrame({"n": [3.5, 4.0]})
    with pytest.raises(L.SchemaError, match=r"row 0 of column 'n'.*3\.5"):
        lakelet.from_arrow([pa.Table.from_pandas(good), pa.Table.from_pandas(bad)], mem_url, batch_rows=1)
    assert not L.exists(mem_url)
    ds = lakelet.from_pandas(good, mem_url)
    head = ds.version
    with pytest.raises(L.SchemaError):  # an existing dataset: the failed import leaves its head alone
        lakelet.from_arrow([pa.Table.from_pandas(good), pa.Table.from_pandas(bad)], mem_url)
    again = L.open(mem_url)
    assert again.version == head and again["n"][:].tolist() == [1, 2]
