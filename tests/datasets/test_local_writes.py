"""Column files on a local disk are written into reserved blocks (``localfs.preallocate``) and cut to
their content: byte for byte what pyarrow writes without a reservation, readable in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from lakelet.datasets import localfs
from lakelet.datasets.fragments import write_array
from lakelet.datasets.storage_io import Writer


def _plain_bytes(array: pa.Array) -> bytes:
    batch = pa.record_batch([array], names=["v"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize(
    "array",
    [
        pa.array(np.arange(400_000, dtype=np.int64)),  # 3.2 MB: reserved
        pa.FixedSizeListArray.from_arrays(pa.array(np.random.default_rng(0).random(300_000 * 8, dtype=np.float32)), 8),
        pa.array([f"text {i}" for i in range(200_000)]),
        pa.array(np.arange(10, dtype=np.int8)),  # too small to reserve
    ],
)
def test_a_reserved_file_holds_exactly_its_content(tmp_path, array: pa.Array) -> None:
    writer = Writer.from_url(str(tmp_path))
    write_array(writer, "data/p/c.arrow", array, None)
    path = tmp_path / "data" / "p" / "c.arrow"
    assert path.read_bytes() == _plain_bytes(array)
    assert os.listdir(path.parent) == ["c.arrow"]  # no temporary left
    script = f"import pyarrow as pa; print(pa.ipc.open_file(pa.memory_map({str(path)!r})).read_all().num_rows)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(array)


def test_preallocate_reserves_where_the_filesystem_can(tmp_path) -> None:
    path = tmp_path / "f"
    with open(path, "wb") as f:
        reserved = localfs.preallocate(f.fileno(), 4 << 20)
        if sys.platform.startswith("linux"):
            assert reserved  # ext4/tmpfs/xfs all reserve
            assert os.fstat(f.fileno()).st_size == 4 << 20
        assert localfs.preallocate(f.fileno(), 1000) is False  # below the threshold: nothing done
