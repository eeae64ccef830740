"""One progress mechanism across layers (``lakelet._progress``): ``progress`` True shows a tqdm bar, False
none, None one only for long work, and a callable (where offered) is told ``(done, total)``."""

from __future__ import annotations

import numpy as np
import pytest

from lakelet import datasets
from lakelet.datasets import types as T
from lakelet.datasets.errors import DatasetExists


def _dataset(url: str) -> datasets.Dataset:
    ds = datasets.create(url, schema={"n": T.Int64(), "emb": T.Embedding(4)})
    ds.append({"n": np.arange(50), "emb": np.ones((50, 4), dtype=np.float32)})
    ds.commit("data")
    return ds


def test_progress_means_the_same_for_copy_import_index_and_volume(tmp_path, capsys: pytest.CaptureFixture) -> None:
    _dataset(str(tmp_path / "a"))
    calls: list[tuple[int, int]] = []
    datasets.copy(str(tmp_path / "a"), str(tmp_path / "b"), progress=lambda done, total: calls.append((done, total)))
    total = calls[-1][1]
    assert [c[0] for c in calls] == list(range(1, total + 1)) and {c[1] for c in calls} == {total}

    capsys.readouterr()
    datasets.copy(str(tmp_path / "a"), str(tmp_path / "c"), progress=False)
    datasets.copy(str(tmp_path / "a"), str(tmp_path / "d"))  # None: quick, so no bar
    assert capsys.readouterr().err == ""
    datasets.copy(str(tmp_path / "a"), str(tmp_path / "e"), progress=True)
    err = capsys.readouterr().err
    assert "copy: 100%" in err and f"{total}/{total} [" in err

    ds = datasets.open(str(tmp_path / "a"))
    pytest.importorskip("usearch")
    ds["emb"].create_index("embedding", progress=True)
    assert "index emb: 100%" in capsys.readouterr().err
    ds["emb"].create_index("embedding")  # None: quick, quiet
    assert capsys.readouterr().err == ""

    with pytest.raises(DatasetExists):
        datasets.copy(str(tmp_path / "a"), str(tmp_path / "a"), progress=True)  # bad input: no bar, no write
    assert "copy" not in capsys.readouterr().err
