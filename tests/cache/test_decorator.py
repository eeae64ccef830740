"""@smart_cache: hits, misses, keys by parameter name, options and housekeeping."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakelet.cache import CacheWarning, UnhashableValue, smart_cache
from lakelet.errors import InvalidArgument
from lakelet.hashstore import HashKeyStorage
from lakelet.registry import open_location


class Counter:
    """Counts calls without being a global the cached functions read (that would change their key)."""

    def __init__(self) -> None:
        self.n = 0


def make(storage, counter, **options):
    @smart_cache(storage, **options)
    def f(a, b=0, *, scale=1):
        counter.n += 1
        return (a + b) * scale

    return f


def test_hit_and_miss(lake: Path) -> None:
    calls = Counter()
    f = make(lake, calls, ignore=["counter"])
    assert f(1, 2) == 3
    assert f(1, 2) == 3
    assert calls.n == 1
    info = f.cache_info()
    assert (info.hits, info.misses, info.entries) == (1, 1, 1)
    assert info.bytes > 0


def test_arguments_are_bound_by_name_after_defaults(lake: Path) -> None:
    calls = Counter()
    f = make(lake, calls, ignore=["counter"])
    f(1)
    f(1, 0)
    f(a=1)
    f(1, b=0, scale=1)
    assert calls.n == 1  # all the same call once defaults are applied

    @smart_cache(lake)
    def g(a=0, b=0):
        return (a, b)

    assert g(a=5) == (5, 0)
    assert g(b=5) == (0, 5)  # same value, other parameter: another entry


def test_a_new_process_instance_reads_the_stored_entry(lake: Path) -> None:
    calls = Counter()
    make(lake, calls, ignore=["counter"])(2, 3)
    again = make(lake, calls, ignore=["counter"])
    assert again(2, 3) == 5
    assert calls.n == 1
    assert again.cache_info().hits == 1


@pytest.mark.parametrize("kind", ["path", "str", "location", "storage", "url"])
def test_storage_forms(tmp_path: Path, home: Path, kind: str) -> None:
    folder = tmp_path / "lake"
    storage = {
        "path": folder,
        "str": str(folder),
        "location": open_location(folder),
        "storage": HashKeyStorage(folder),
        "url": "memory://",
    }[kind]
    calls = Counter()
    f = make(storage, calls, ignore=["counter"])
    assert f(1) == f(1) == 1
    assert calls.n == 1


def test_default_storage_is_the_configured_lake(home: Path) -> None:
    @smart_cache
    def f(x):
        return x * 2

    assert f(21) == 42 and f(21) == 42
    assert f.cache_info().hits == 1
    assert (home / "lake").is_dir()


def test_force_recompute_and_clear(lake: Path) -> None:
    calls = Counter()
    f = make(lake, calls, ignore=["counter"])
    f(1)
    f.recompute(1)
    assert calls.n == 2
    forced = make(lake, calls, ignore=["counter"], force=True)
    forced(1)
    assert calls.n == 3
    assert f.cache_clear() == 1
    assert f.cache_info().entries == 0
    f(1)
    assert calls.n == 4


def test_global_state_is_part_of_the_key(lake: Path) -> None:
    """A mutable global a function reads is hashed: when it changes, the entry does too."""
    seen = []

    @smart_cache(lake)
    def f(x):
        seen.append(x)
        return len(seen)

    assert f(1) == 1
    assert f(1) == 2  # `seen` (a closure value) changed, so this is another entry
    ignoring = smart_cache(lake, ignore=["seen"])(f.__wrapped__)
    ignoring(7)
    ignoring(7)
    assert seen == [1, 1, 7]


def test_ignored_parameter(lake: Path) -> None:
    @smart_cache(lake, ignore=["verbose"])
    def f(x, verbose=False):
        return x

    f(1, verbose=False)
    assert f(1, verbose=True) == 1
    assert f.cache_info().hits == 1


def test_unhashable_argument_names_the_parameter(lake: Path) -> None:
    @smart_cache(lake)
    def f(x, handle):
        return x

    with open(os.devnull) as handle:
        with pytest.raises(UnhashableValue, match="'handle'"):
            f(1, handle)
        ignoring = smart_cache(lake, ignore=["handle"])(f.__wrapped__)
        assert ignoring(1, handle) == 1


def test_ignore_must_be_a_list(lake: Path) -> None:
    with pytest.raises(InvalidArgument):
        smart_cache(lake, ignore="x")(lambda x: x)


def test_wrong_call_raises_like_the_function(lake: Path) -> None:
    f = make(lake, Counter(), ignore=["counter"])
    with pytest.raises(TypeError, match="f\\(\\)"):
        f(1, 2, 3)
    with pytest.raises(TypeError):
        f(1, c=2)


def test_numpy_and_pandas_results_round_trip(lake: Path) -> None:
    @smart_cache(lake)
    def arrays(n):
        return np.arange(n, dtype=np.float64), pd.DataFrame({"a": np.arange(n), "b": np.arange(n) * 0.5})

    @smart_cache(lake)
    def big(n):
        return np.ones((n, 8))

    @smart_cache(lake)
    def frame(n):
        return pd.DataFrame({"a": np.arange(n), "s": [str(i) for i in range(n)]})

    for func, arg in [(arrays, 10), (arrays, 200_000), (big, 50_000), (frame, 20_000)]:
        first = func(arg)
        second = func(arg)
        assert func.cache_info().hits >= 1
        if isinstance(first, tuple):
            np.testing.assert_array_equal(first[0], second[0])
            pd.testing.assert_frame_equal(first[1], second[1])
        elif isinstance(first, pd.DataFrame):
            pd.testing.assert_frame_equal(first, second)
        else:
            np.testing.assert_array_equal(first, second)
            assert type(second) is np.ndarray
            second[0, 0] = 5  # restored arrays are writable (copy-on-write), the cache is untouched
            assert func(arg)[0, 0] == 1


def test_results_are_fresh_objects(lake: Path) -> None:
    @smart_cache(lake)
    def f():
        return [1, 2]

    f().append(3)
    first = f()
    first.append(3)
    assert f() == [1, 2]


def test_why_names_what_changed(lake: Path) -> None:
    @smart_cache(lake)
    def f(x, y=1):
        return x + y

    assert "nothing was cached" in str(f.why(1))
    f(1)
    assert f.why(1).hit
    explanation = f.why(2)
    assert not explanation.hit
    assert explanation.changes == ["changed: argument x"]


def test_methods_are_cached_with_the_instance_as_argument(lake: Path) -> None:
    class Model:
        def __init__(self, k):
            self.k = k

        @smart_cache(lake)
        def predict(self, x):
            return self.k * x

    assert Model(2).predict(3) == 6
    assert Model(2).predict(3) == 6
    assert Model(3).predict(3) == 9
    assert Model.predict.cache_info().hits == 1


def test_unpicklable_result_warns_and_returns(lake: Path) -> None:
    @smart_cache(lake)
    def f():
        return (x for x in range(3))  # a generator cannot be stored

    with pytest.warns(CacheWarning, match="not cached"):
        assert list(f()) == [0, 1, 2]


def test_evicted_value_is_recomputed(lake: Path) -> None:
    calls = Counter()

    @smart_cache(lake, ignore=["calls"])
    def f(n):
        calls.n += 1
        return np.arange(n)

    f(100_000)
    storage = f.storage
    for key in list(storage.keys()):
        with storage.read(key) as value:
            if not value.read_bytes().startswith(b"LKLTIDX1"):
                storage.remove(key)
    fresh = smart_cache(lake, ignore=["calls"])(f.__wrapped__)
    with pytest.warns(CacheWarning, match="incomplete"):
        assert len(fresh(100_000)) == 100_000
    assert calls.n == 2
    assert len(fresh(100_000)) == 100_000  # rewritten, now a clean hit
    assert calls.n == 2


def _count_calls(folder: str, marker_dir: str) -> int:
    @smart_cache(folder)
    def slow(x):
        import time

        Path(marker_dir, f"{os.getpid()}-{time.monotonic_ns()}").touch()
        time.sleep(0.5)
        return x * 2

    return slow(21)


def test_concurrent_processes_compute_once(tmp_path: Path, home: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        results = pool.starmap(_count_calls, [(str(tmp_path / "lake"), str(markers))] * 3)
    assert results == [42, 42, 42]
    assert len(list(markers.iterdir())) == 1


def test_why_names_the_changed_file(lake: Path, tmp_path: Path) -> None:
    from lakelet import File

    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")

    @smart_cache(lake)
    def rows(path):
        return len(pd.read_csv(path))

    assert rows(File(data)) == 1
    assert rows(File(data)) == 1 and rows.cache_info().hits == 1
    data.write_text("a\n1\n2\n")
    explanation = rows.why(File(data))
    assert f"changed: content of file {data}" in explanation.changes
    assert rows(File(data)) == 2
    assert rows.cache_info().misses == 2


def test_file_refuses_a_folder_and_non_paths(lake: Path, tmp_path: Path) -> None:
    from lakelet import File

    with pytest.raises(InvalidArgument, match="takes a path"):
        File(3)  # type: ignore[arg-type]

    @smart_cache(lake)
    def f(path):
        return 1

    with pytest.raises(InvalidArgument, match="not a regular file"):
        f(File(tmp_path))
