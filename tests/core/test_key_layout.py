"""The one blob layout (``ab/<62 hex>``) is spelled once, in ``lakelet._hashing``, and every location and
a dataset's media agree on it: a key written by one is found, listed and parsed by the others."""

from __future__ import annotations

import hashlib

from lakelet._hashing import is_key, is_key_folder, is_key_name, key_of_path, key_path
from lakelet.datasets.media import blob_path, key_of
from lakelet.locations.disk import Disk

KEY = hashlib.sha256(b"x").hexdigest()


def test_the_layout_round_trips_and_refuses_lookalikes() -> None:
    assert key_path(KEY) == f"{KEY[:2]}/{KEY[2:]}" and key_of_path(key_path(KEY)) == KEY
    assert is_key(KEY) and is_key_folder(KEY[:2]) and is_key_name(KEY[2:])
    for bad in (KEY.upper(), KEY[:-1], KEY + "0", 64, None, f"{KEY[:2]}/{KEY}"):
        assert not is_key(bad) or bad == KEY
    for bad in (f"{KEY[:2]}/{KEY}", f"{KEY[:3]}/{KEY[3:]}", f"{KEY[:2]}/{KEY[2:]}/x", KEY, f"zz/{KEY[2:]}"):
        assert key_of_path(bad) is None
    assert blob_path(KEY) == f"media/{key_path(KEY)}" and key_of(blob_path(KEY)) == KEY


def test_disk_stores_at_the_layout_and_lists_only_it(tmp_path) -> None:
    disk = Disk(str(tmp_path))
    assert not disk.contains(KEY)
    (tmp_path / KEY[:2]).mkdir()
    (tmp_path / KEY[:2] / KEY[2:]).write_bytes(b"x")
    (tmp_path / KEY[:2] / (KEY[2:] + ".tmp")).write_bytes(b"half")  # not a blob name
    (tmp_path / "zz").mkdir()
    assert list(disk.keys()) == [KEY] and disk.contains(KEY) and disk.read_bytes(KEY) == b"x"
