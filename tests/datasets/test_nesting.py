"""Issue 15.4: a dataset is never created inside another dataset's folder, nor around one, so a
gc() or delete() of one can never remove the other's files."""

from __future__ import annotations

import pytest

from lakelet import datasets
from lakelet.datasets.errors import NestedDataset
from lakelet.errors import InvalidPath


def _filled(url, creds):
    ds = datasets.create(url, creds=creds, schema={"n": "int64"})
    ds.append({"n": [1, 2, 3]})
    ds.commit("rows")
    return ds


@pytest.mark.parametrize("place", ["local", "memory", "s3"], indirect=True)
def test_no_dataset_inside_or_around_another(place):
    outer_url, creds = place("outer")
    _filled(outer_url, creds)
    for inner in ("outer/data/inner", "outer/sub/inner", "outer/versions"):
        url, _ = place(inner)
        with pytest.raises(NestedDataset, match="inside the dataset"):
            datasets.create(url, creds=creds)
        assert not datasets.exists(url, creds=creds)
    with pytest.raises(NestedDataset, match="inside the dataset"):
        datasets.copy(outer_url, place("outer/copy")[0], creds, creds)
    # around: a dataset whose folder already holds a dataset below it
    around_inner, _ = place("around/deep/inner")
    _filled(around_inner, creds)
    with pytest.raises(NestedDataset, match="would hold the dataset"):
        datasets.create(place("around")[0], creds=creds)
    assert not datasets.exists(place("around")[0], creds=creds)
    assert isinstance(NestedDataset("x"), InvalidPath)
    # both datasets are intact after the refusals and a gc of the outer one
    ds = datasets.open(outer_url, creds=creds)
    ds.gc(grace_period=0)
    assert datasets.open(outer_url, creds=creds).query("SELECT sum(n) AS s FROM ds")["s"][0] == 6
    assert len(datasets.open(around_inner, creds=creds)) == 3
    # siblings with a common name prefix are fine
    _filled(place("outer2")[0], creds)


def test_delete_refuses_a_dataset_that_holds_another(tmp_path):
    import shutil

    outer, elsewhere = tmp_path / "outer", tmp_path / "elsewhere"
    _filled(str(outer), None)
    _filled(str(elsewhere), None)
    shutil.copytree(elsewhere, outer / "sub" / "inner")  # nested by hand (e.g. before lakelet refused it)
    with pytest.raises(NestedDataset, match="sub/inner"):
        datasets.delete(str(outer))
    assert len(datasets.open(str(outer))) == 3 and len(datasets.open(str(outer / "sub" / "inner"))) == 3
