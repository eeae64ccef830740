"""Random rows of a remote dataset read only the byte ranges holding them (issue 13.5), on moto's S3 server."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lakelet import datasets
from lakelet.datasets import types
from lakelet.datasets.fragments import BATCH_ROWS_KEY, BATCH_TARGET_BYTES, serialize_array

ROWS = 200_000


@pytest.fixture
def remote(s3_server):
    bucket = s3_server.new_bucket()
    creds = s3_server.creds
    url = f"s3://{bucket}/big"
    ds = datasets.create(url, creds, schema={"n": types.Int64(), "t": types.Text()})
    n = np.arange(ROWS, dtype=np.int64)
    ds.append({"n": n, "t": [f"row-{i}" for i in range(ROWS)]})
    ds.commit("200k rows")
    return url, creds


def test_random_rows_fetch_batches_not_columns(remote) -> None:
    url, creds = remote
    ds = datasets.open_read_only(url, creds)
    picks = [0, 123_456, 199_999]
    for i in picks:
        row = ds[i]
        assert row["n"] == i and row["t"] == f"row-{i}"
    column_bytes = ROWS * 8 + sum(len(f"row-{i}") for i in range(ROWS))
    assert ds.checked_out.loader._cache == {}  # no column file was fetched whole
    # one record batch (~BATCH_TARGET_BYTES) per row and column, not the 3.5 MB of the two columns
    assert 0 < ds.checked_out.loader.ranged_bytes <= len(picks) * 2 * BATCH_TARGET_BYTES * 1.5 < column_bytes / 5
    # many scattered rows: the same values as a whole read
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(ROWS, 40, replace=False))
    assert list(ds.checked_out.read_many("n", rows)) == rows.tolist()
    assert list(ds.checked_out.read_many("t", rows)) == [f"row-{i}" for i in rows]


def test_many_rows_fall_back_to_one_whole_read(remote) -> None:
    url, creds = remote
    ds = datasets.open_read_only(url, creds)
    rows = np.arange(0, ROWS, 97)
    got = ds.checked_out.read_many("n", rows)
    assert list(got) == rows.tolist()
    assert len(ds.checked_out.loader._cache) == 1  # whole file once, then from the cache


def test_remote_files_are_batched_and_single_batch_files_still_read() -> None:
    arr = pa.array(np.arange(100_000, dtype=np.int64))
    batched = pa.ipc.open_file(pa.py_buffer(serialize_array(arr, "zstd")))
    assert batched.num_record_batches > 1
    step = int(batched.schema.metadata[BATCH_ROWS_KEY])
    assert all(batched.get_batch(k).num_rows == step for k in range(batched.num_record_batches - 1))
    whole = pa.ipc.open_file(pa.py_buffer(serialize_array(arr, None, batched=False)))
    assert whole.num_record_batches == 1
    assert whole.read_all().column(0).combine_chunks().equals(arr)
