"""LAKELET_CACHE_KEY: entries are HMAC-checked, and a bad one is never unpickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from lakelet.cache import CacheWarning, signing, smart_cache
from lakelet.config import config_set
from lakelet.hashstore import HashKeyStorage
from lakelet.locations.abc import Blob


class Boom:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_seal_unseal() -> None:
    sealed = signing.seal(b"payload", b"k1")
    assert signing.unseal(sealed, b"k1") == (b"payload", None)
    assert signing.unseal(sealed, b"k2")[1] == "HMAC does not match LAKELET_CACHE_KEY"
    assert signing.unseal(signing.seal(b"p", None), b"k1")[1] is not None
    assert signing.unseal(b"garbage", None)[1] == "not a lakelet cache entry"
    assert signing.key_id(None) == "" and signing.key_id(b"a") != signing.key_id(b"b")


def test_signed_entries_round_trip(lake: Path) -> None:
    with config_set(cache_key=b"secret"):
        @smart_cache(lake)
        def f(x):
            return {"x": x}

        assert f(1) == f(1) == {"x": 1}
        assert f.cache_info().hits == 1


def test_keys_use_separate_entries(lake: Path) -> None:
    @smart_cache(lake)
    def f(x):
        return x

    f(1)
    with config_set(cache_key=b"secret"):
        fresh = smart_cache(lake)(f.__wrapped__)
        fresh(1)
        assert fresh.cache_info().hits == 0  # unsigned entries are not even looked at


def test_forged_entry_is_refused_before_unpickling(tmp_path: Path, lake: Path) -> None:
    proof = tmp_path / "unpickled"
    with config_set(cache_key=b"secret"):
        @smart_cache(lake)
        def f(x):
            return x * 2

        address = f.key(3)
        storage = HashKeyStorage(lake)
        # an attacker with write access to the storage, but not the key, plants a pickle
        data = pickle.dumps(Boom(str(proof)))
        forged = b'{"components":{},"created":0,"duration":0,"extra":{},"kind":"function","name":"x",' \
            b'"outputs":[],"values":{"result":{"codec":"pickle","inline":"' + \
            __import__("base64").b64encode(data) + b'","size":1,"blobs":[]}}}'
        storage.location.write(address, Blob(data=signing.seal(forged, b"attacker-key")))
        with pytest.warns(CacheWarning, match="untrusted"):
            assert f(3) == 6
        assert not proof.exists()
        assert f(3) == 6  # the forged entry was replaced by a signed one
        assert f.cache_info().hits == 1


def test_swapped_value_blob_is_refused(lake: Path) -> None:
    import numpy as np

    with config_set(cache_key=b"secret"):
        @smart_cache(lake)
        def f(n):
            return np.arange(n)

        f(100_000)
        storage = HashKeyStorage(lake)
        entry_blob = storage.records.get(f"cache/function/{f.key(100_000)}")
        payload, problem = signing.unseal(entry_blob, b"secret")
        assert problem is None
        value_key = __import__("json").loads(payload)["values"]["result"]["blobs"][0]
        path = lake / value_key[:2] / value_key[2:]
        path.chmod(0o644)
        path.write_bytes(b"tampered")
        fresh = smart_cache(lake)(f.__wrapped__)
        with pytest.warns(CacheWarning):
            assert len(fresh(100_000)) == 100_000
