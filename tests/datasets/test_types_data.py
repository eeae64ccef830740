"""Types a data scientist has (issue 11.1, 15.12): DataFrames, numpy, Arrow and lists in; the same
dtypes and values out of to_pandas / to_arrow / DuckDB, checked in a fresh process."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import lakelet.datasets as L
from lakelet.datasets import types as T

SCHEMA = {
    "ts": T.Timestamp("ns", "Europe/Paris"),
    "naive": T.Timestamp("ms"),
    "day": T.Date(),
    "took": T.Duration("ms"),
    "price": T.Decimal(10, 2),
    "area": T.ClassLabel(labels=["Upper East", "Harlem", "Soho"]),
    "n": T.Int64(),
    "ok": T.Bool(),
    "tags": T.Sequence(T.Text()),
    "point": T.Struct({"x": T.Int32(), "y": T.Text()}),
    "vec": T.Embedding(3),
}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-01-01 10:00:00.123456789", None, "2024-03-31 02:30:00"], format="ISO8601")
            .tz_localize("Europe/Paris", nonexistent="shift_forward"),
            "naive": pd.to_datetime(["2001-02-03 04:05:06.007", "1969-12-31", None], format="ISO8601").astype(
                "datetime64[ms]"
            ),
            "day": [dt.date(2024, 1, 1), None, dt.date(2020, 2, 29)],
            "took": pd.to_timedelta([1.5, None, 3600], unit="s").astype("timedelta64[ms]"),
            "price": [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")],
            "area": pd.Categorical(["Upper East", "Soho", None], categories=["Upper East", "Harlem", "Soho"]),
            "n": pd.array([1, None, -(2**62)], dtype="Int64"),
            "ok": pd.array([True, None, False], dtype="boolean"),
            "tags": [["a", "b"], [], None],
            "point": [{"x": 1, "y": "q"}, None, {"x": 3, "y": None}],
            "vec": [np.ones(3, np.float32), np.arange(3, dtype=np.float32), None],
        }
    )


READ_BACK = """
import json, sys
import lakelet.datasets as L
ds = L.open_read_only(sys.argv[1])
assert "pandas" not in sys.modules, "opening a dataset imported pandas"
df = ds.to_pandas()
arrow = ds.to_arrow(labels=True)
sql = ds.query("SELECT ts, naive, day, took, price, area, n, ok FROM ds").to_arrow()
print(json.dumps({
    "dtypes": {k: str(v) for k, v in df.dtypes.items()},
    "arrow": {f.name: str(f.type) for f in arrow.schema},
    "sql": {f.name: str(f.type) for f in sql.schema},
    "csv": df.drop(columns=["vec", "tags"]).to_csv(index=False),
    "tags": [None if v is None else list(v) for v in df["tags"]],
    "vec": [None if v is None else [float(x) for x in v] for v in df["vec"]],
    "sql_rows": [[str(x) for x in r.values()] for r in sql.to_pylist()],
}))
"""


def read_fresh(path: str) -> dict:
    out = subprocess.run([sys.executable, "-c", READ_BACK, path], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_dataframe_round_trip_in_a_fresh_process(tmp_path):
    df = frame()
    path = str(tmp_path / "ds")
    ds = L.create(path, schema=SCHEMA)
    ds.append(df)  # the normal pandas path, ClassLabel column included (issue 11)
    ds.commit("frame")
    got = read_fresh(path)
    assert got["dtypes"] == {
        "ts": "datetime64[ns, Europe/Paris]", "naive": "datetime64[ms]", "day": "object", "took": "timedelta64[ms]",
        "price": "object", "area": "category", "n": "Int64", "ok": "boolean", "tags": "object", "point": "object",
        "vec": "object",
    }
    assert got["arrow"]["ts"] == "timestamp[ns, tz=Europe/Paris]" and got["arrow"]["price"] == "decimal128(10, 2)"
    assert got["arrow"]["area"] == "dictionary<values=string, indices=int32, ordered=0>"
    assert got["sql"]["day"] == "date32[day]" and got["sql"]["ts"].startswith("timestamp[ns, tz=")
    assert got["sql"]["price"] == "decimal128(10, 2)" and got["sql"]["n"] == "int64"
    expected = df.drop(columns=["vec", "tags"]).to_csv(index=False)
    assert got["tags"] == [["a", "b"], [], None]
    assert got["csv"] == expected  # every value, nulls included, as pandas prints them
    assert got["vec"] == [[1.0, 1.0, 1.0], [0.0, 1.0, 2.0], None]
    assert got["sql_rows"][0][:3] == ["2024-01-01 09:00:00.123456789+00:00", "2001-02-03 04:05:06.007000", "2024-01-01"]
    assert got["sql_rows"][2][4] == "-3.50"


def test_same_values_from_numpy_arrow_and_lists(mem_url):
    ds = L.create(mem_url, schema={"area": SCHEMA["area"], "ts": T.Timestamp("us", "UTC"), "day": T.Date()})
    stamps = np.array(["2024-05-01T12:00:00.5", "2024-05-02T00:00:00"], dtype="datetime64[us]")
    ds.append({"area": np.array(["Harlem", "Soho"]), "ts": pa.array(stamps).cast(pa.timestamp("us", "UTC")),
               "day": np.array(["2024-05-01", "2024-05-02"], dtype="datetime64[D]")})
    ds.append({"area": pa.array(["Soho", "Upper East"]).dictionary_encode(),
               "ts": ["2024-05-03T00:00:00Z", dt.datetime(2024, 5, 4, tzinfo=dt.UTC)],
               "day": ["2024-05-03", dt.date(2024, 5, 4)]})
    ds.append({"area": pa.table({"a": ["Harlem", None]}).column("a"), "ts": [None, None], "day": [None, None]})
    ds.append([{"area": "Upper East"}, {"area": 1}])
    assert ds["area"][:5].tolist() == [1, 2, 2, 0, 1] and ds["area"][5] is None
    assert ds.to_pandas()["area"].tolist()[:4] == ["Harlem", "Soho", "Soho", "Upper East"]
    assert ds.to_pandas()["area"].tolist()[6:] == ["Upper East", "Harlem"]
    assert ds["ts"][:3].astype("datetime64[us]").tolist() == [
        dt.datetime(2024, 5, 1, 12, 0, 0, 500000), dt.datetime(2024, 5, 2), dt.datetime(2024, 5, 3)]
    assert ds["ts"][3] == dt.datetime(2024, 5, 4, tzinfo=dt.UTC)
    assert ds["day"][:4].tolist() == [dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 5, 3),
                                      dt.date(2024, 5, 4)]


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("n", [1, 1.5], r"row 1 of column 'n'.*1\.5 is not an integer"),
        ("n", np.array([1.0, 2.5]), r"row 1 of column 'n'.*2\.5"),
        ("n", pa.array([1.0, float("nan")]), r"row 1 of column 'n'.*nan"),
        ("n", pd.Series([1.0, 0.25]).to_frame("n"), r"row 1 of column 'n'.*0\.25"),
        ("vec", [[[1], [2], [3]]], r"row 0 of column 'vec'.*shape \(3, 1\), expected \(3,\)"),
        ("vec", [[1, 2]], r"row 0 of column 'vec'.*shape \(2,\)"),
        ("area", ["Harlem", "Bronx"], r"row 1 of column 'area'.*unknown label 'Bronx'"),
        ("area", [0, 3], r"row 1 of column 'area'.*code 3 is not a label index"),
        ("ts", [dt.datetime(2024, 1, 1)], r"row 0 of column 'ts'.*no time zone"),
        ("naive", np.array(["2024-01-01T00:00:00.0000001"], dtype="datetime64[ns]"), r"row 0 of column 'naive'.*lose"),
        ("price", [decimal.Decimal("1.234")], r"row 0 of column 'price'"),
        ("price", [0.1], r"row 0 of column 'price'.*float"),
        ("ok", [True, 0.5], r"row 1 of column 'ok'"),
    ],
)
def test_lossy_values_are_refused_naming_column_row_and_value(mem_url, column, value, match):
    ds = L.create(mem_url, schema=SCHEMA)
    data = value if isinstance(value, pd.DataFrame) else {column: value}
    with pytest.raises(L.SchemaError, match=match):
        ds.append(data)
    assert len(ds) == 0 and not ds.has_changes


def test_names_differing_only_in_case_are_refused(mem_url):
    ds = L.create(mem_url, schema={"n": T.Int64()})
    with pytest.raises(L.SchemaError, match="only in case"):
        ds.add_column("N", T.Int64())
    with pytest.raises(L.SchemaError, match="only in case"):
        L.create(mem_url + "2", schema={"a": T.Int64(), "A": T.Text()})
    ds.add_column("m", T.Text())
    with pytest.raises(L.SchemaError, match="only in case"):
        ds.rename_column("m", "N")
    ds.rename_column("n", "N")  # the column itself may change case
    assert ds.schema.names == ["N", "m"]


def test_images_from_numpy_and_pil_with_chosen_compression(mem_url):
    from PIL import Image as PIL

    ds = L.create(mem_url, schema={"png": T.Image(), "jpg": T.Image(sample_compression="jpeg")})
    rgb = np.random.default_rng(1).integers(0, 255, (6, 7, 3), dtype=np.uint8)
    gray = np.arange(20, dtype=np.uint8).reshape(4, 5)
    ds.append({"png": rgb, "jpg": rgb})  # one image each: a single row
    ds.append({"png": [gray, PIL.fromarray(rgb)], "jpg": np.stack([rgb, rgb])})  # a list, a 4-D batch
    ds.append(pd.DataFrame({"png": [rgb, None], "jpg": [PIL.fromarray(rgb), None]}))
    ds.commit()
    assert len(ds) == 5
    png = [PIL.open(io.BytesIO(b)) for b in ds["png"][:4]]
    assert [p.format for p in png] == ["PNG"] * 4 and ds["png"][4] is None
    assert np.array_equal(np.asarray(png[0]), rgb) and np.array_equal(np.asarray(png[1]), gray)
    assert np.array_equal(np.asarray(png[2]), rgb)  # PNG is lossless
    jpg = PIL.open(io.BytesIO(ds["jpg"][1]))
    assert jpg.format == "JPEG" and jpg.size == (7, 6)
    with pytest.raises(L.SchemaError, match=r"row 0 of column 'png'.*float64"):
        ds.append({"png": [np.zeros((3, 3))]})
    with pytest.raises(L.SchemaError, match="unknown image compression"):
        T.Image(sample_compression="gif2")


def test_class_label_column_appended_from_a_dataframe(mem_url):
    """The issue's example: 'Upper East' in a str column of a DataFrame."""
    ds = L.create(mem_url, schema={"area": SCHEMA["area"], "rent": T.Float32()})
    ds.append(pd.DataFrame({"area": ["Upper East", "Harlem"], "rent": [3.5, 2.0]}))
    ds.append(pd.DataFrame({"area": pd.Series(["Soho", None], dtype="string"), "rent": [1.0, 2.0]}))
    ds.append(pa.table({"area": ["Harlem"], "rent": pa.array([1.0], pa.float64())}))
    assert ds["area"][:3].tolist() == [0, 1, 2] and ds["area"][3] is None and ds.to_pandas()["area"].isna()[3]
    assert str(ds.to_pandas(labels=False)["area"].dtype) == "Int32"  # the codes, with a null


def test_class_label_takes_its_names_first_and_refuses_a_bad_dtype_clearly():
    assert T.ClassLabel(["cat", "dog"]).to_json() == T.ClassLabel("int32", labels=["cat", "dog"]).to_json()
    with pytest.raises(L.SchemaError, match="unknown numeric dtype"):
        T.ClassLabel([1, 2])  # not names, not a dtype: a lakelet error, not numpy's TypeError


def test_types_persist_their_parameters(tmp_path):
    path = str(tmp_path / "ds")
    L.create(path, schema=SCHEMA).commit("schema only")
    code = f"import lakelet.datasets as L; print(repr(L.open({path!r}).schema))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ts: Timestamp(unit='ns', tz='Europe/Paris')" in out and "price: Decimal(precision=10, scale=2)" in out
    assert "took: Duration(unit='ms')" in out


def test_ingest_from_numpy_imports_no_pandas(tmp_path):
    code = textwrap.dedent(f"""
        import sys, numpy as np
        import lakelet.datasets as L
        ds = L.create({str(tmp_path / 'ds')!r}, schema={{"i": L.types.Int64(), "f": L.types.Float32(),
                       "t": L.types.Text(), "e": L.types.Embedding(8)}})
        ds.append({{"i": np.arange(10), "f": np.ones(10, np.float32), "t": [str(i) for i in range(10)],
                   "e": np.zeros((10, 8), np.float32)}})
        ds.commit()
        print(len(ds.query("SELECT * WHERE i > 4")), "pandas" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["5", "False"]


def test_annotation_types_round_trip_in_a_fresh_process(tmp_path):
    path = str(tmp_path / "ann")
    ds = L.create(path, schema={
        "boxes": T.BoundingBox(format="ltwh", bbox_type="pixel"), "keypoints": T.Point(3), "outline": T.Polygon(),
        "mask": T.BinaryMask(), "segments": T.SegmentMask(labels=["bg", "cat"]),
    })
    eye = np.eye(3, dtype=bool)
    ds.append({"boxes": np.array([[1, 2, 3, 4.5]]), "keypoints": [[1, 2, 3], [4, 5, 6]],
               "outline": [[[0, 0], [1, 0], [1, 1]], [[5, 5], [6, 6], [5, 6], [4, 4]]], "mask": eye,
               "segments": np.array([[0, 1], [1, 0]], np.uint8)})
    ds.append({"boxes": [np.zeros((0, 4)), None], "keypoints": [None, np.ones((1, 3))], "outline": [[], None],
               "mask": [None, np.zeros((2, 2, 2), bool)], "segments": [None, None]})
    ds.commit()
    code = textwrap.dedent(f"""
        import json, lakelet
        ds = lakelet.open({path!r})
        rows = [{{k: (None if v is None else [x.tolist() for x in v] if isinstance(v, list) else v.tolist())
                 for k, v in ds[i].to_dict().items()}} for i in range(len(ds))]
        print(json.dumps({{"schema": repr(ds.schema), "rows": rows}}))
    """)
    got = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert "boxes: BoundingBox(dtype='float32', format='ltwh', bbox_type='pixel')" in got["schema"]
    assert "segments: SegmentMask(dtype='uint8', labels=['bg', 'cat'])" in got["schema"]
    first, second, third = got["rows"]
    assert first["boxes"] == [[1, 2, 3, 4.5]] and first["keypoints"] == [[1, 2, 3], [4, 5, 6]]
    assert first["outline"] == [[[0, 0], [1, 0], [1, 1]], [[5, 5], [6, 6], [5, 6], [4, 4]]]
    assert first["mask"] == eye.tolist() and first["segments"] == [[0, 1], [1, 0]]
    assert second["boxes"] == [] and second["keypoints"] is None and second["outline"] == []
    assert third["mask"] == np.zeros((2, 2, 2), bool).tolist() and third["keypoints"] == [[1, 1, 1]]
    for bad, match in (({"boxes": [[1, 2, 3]]}, r"row 0 of column 'boxes'.*k x 4"),
                       ({"mask": np.array([[0, 2]])}, r"row 0 of column 'mask'.*lossy"),
                       ({"segments": np.array([[300]])}, r"row 0 of column 'segments'.*lossy"),
                       ({"keypoints": [[1, 2]]}, r"row 0 of column 'keypoints'.*k x 3")):
        with pytest.raises(L.SchemaError, match=match):
            ds.append(bad)
