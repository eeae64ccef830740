"""Fixtures of the widget tests: a private LAKELET_HOME, a volume, a small dataset, a tiny PNG."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet.config import config_set


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with config_set(home=tmp_path / "home"):
        yield tmp_path / "home"


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A valid RGB PNG of one colour, written by hand (no Pillow needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def volume(home: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakelet.primitives import Volume

    vol = Volume.from_name("files", create_if_missing=True)
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(100)), "name": [f"n{i}" for i in range(100)]}), buf)
    files = {
        "readme.txt": b"hello <world>\n",
        "data/config.json": b'{"a": 1, "b": [1, 2]}',
        "data/table.csv": b"x,y\n1,2\n3,4\n",
        "data/table.parquet": buf.getvalue(),
        "data/img/red.png": png(4, 3),
        "data/blob.bin": bytes(range(256)) * 4,
    }
    with vol.batch_upload() as batch:
        for path, data in files.items():
            batch.put_file(io.BytesIO(data), path)
    return vol


@pytest.fixture
def dataset(home: Path):
    from lakelet import datasets
    from lakelet.datasets import types as T

    ds = datasets.create(str(home / "ds"))
    ds.add_column("n", T.Int64())
    ds.add_column("x", T.Float64())
    ds.add_column("label", T.ClassLabel(labels=["cat", "dog"]))
    ds.add_column("text", T.Text())
    ds.add_column("image", T.Image())
    ds.append([
        {"n": i, "x": i / 10, "label": "cat" if i % 3 else "dog", "text": f"row <{i}>", "image": png(2, 2, (i, 0, 0))}
        for i in range(30)
    ])
    ds.commit("thirty rows")
    return ds
