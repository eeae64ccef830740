"""Issue 11.6: SQL speaks class labels by name, and results read like ``to_arrow()``/``to_pandas()``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import lakelet
from lakelet.datasets import types as T

ZONES = ["Midtown", "Upper East", "SoHo"]


@pytest.fixture
def ds(tmp_path: Path):
    ds = lakelet.create(str(tmp_path / "trips"), schema={"n": T.Int64(), "zone": T.ClassLabel(labels=ZONES)})
    for piece in (["SoHo", "Midtown"], ["Upper East", "SoHo"], ["SoHo"]):  # several pieces: pruning applies
        start = len(ds)
        ds.append({"n": list(range(start, start + len(piece))), "zone": piece})
        ds.commit("piece")
    return ds


def test_results_show_names_as_to_pandas_does(ds) -> None:
    view = ds.query("SELECT * WHERE n >= 1 ORDER BY n")
    table = view.to_arrow()
    assert pa.types.is_dictionary(table.schema.field("zone").type)
    assert table.column("zone").to_pylist() == ["Midtown", "Upper East", "SoHo", "SoHo"]
    frame = view.to_pandas()
    assert isinstance(frame["zone"].dtype, pd.CategoricalDtype)
    assert list(frame["zone"].cat.categories) == ZONES == list(ds.to_pandas()["zone"].cat.categories)


def test_where_and_group_by_take_names_and_pruning_never_drops_a_match(ds) -> None:
    assert ds.query("SELECT n WHERE zone = 'SoHo' ORDER BY n")["n"] == [0, 3, 4]
    assert ds.query("SELECT n WHERE zone IN ('Midtown', 'Upper East') ORDER BY n")["n"] == [1, 2]
    counts = ds.query("SELECT zone, count(*) AS c GROUP BY zone ORDER BY c DESC, zone").to_arrow().to_pylist()
    assert counts == [{"zone": "SoHo", "c": 3}, {"zone": "Midtown", "c": 1}, {"zone": "Upper East", "c": 1}]
    assert ds.query("SELECT n WHERE zone = 'SoHo'", prune=False)["n"] == ds.query("SELECT n WHERE zone = 'SoHo'")["n"]


def test_raw_codes_on_request(ds) -> None:
    view = ds.query("SELECT zone WHERE zone = 2 ORDER BY n", labels=False)
    assert view.to_arrow().schema.field("zone").type == pa.int32() and view["zone"] == [2, 2, 2]
    with pytest.raises(lakelet.errors.InvalidArgument, match="labels"):
        ds.query("SELECT 1", labels="yes")


def test_computed_text_stays_text_and_urls_decode_too(ds) -> None:
    assert ds.query("SELECT upper(zone) AS zone ORDER BY n")["zone"][:2] == ["SOHO", "MIDTOWN"]
    got = lakelet.query(f"SELECT zone FROM dataset('{ds.path}') WHERE zone <> 'SoHo' ORDER BY n")["zone"]
    assert got == ["Midtown", "Upper East"]


def test_a_saved_result_keeps_the_class_label_column(ds, tmp_path: Path) -> None:
    saved = ds.query("SELECT * WHERE zone <> 'Midtown' ORDER BY n").save(str(tmp_path / "saved"))
    again = lakelet.open(str(tmp_path / "saved"))
    assert again.schema["zone"].type == ds.schema["zone"].type
    assert again.to_arrow(labels=False).column("zone").to_pylist() == [2, 1, 2, 2]
    assert saved.to_pandas()["zone"].tolist() == ["SoHo", "Upper East", "SoHo", "SoHo"]
