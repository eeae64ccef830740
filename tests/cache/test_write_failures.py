"""Issue 15.17: a value that cannot be stored (its ``__reduce__`` raises) never fails the user's code:
the cell or function ran, so it reports "not cached" and carries on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet.cache import CacheWarning, smart_cache

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402


class Refuses:
    """A value whose pickling raises something other than a PicklingError/TypeError."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("this object refuses to be pickled")


@pytest.fixture
def shell(home: Path, tmp_path: Path) -> Iterator[InteractiveShell]:
    sh = InteractiveShell.instance()
    sh.reset()
    sh.run_cell("%load_ext lakelet", store_history=False)
    yield sh
    sh.reset()


def test_cell_with_a_value_whose_reduce_raises_still_succeeds(shell: InteractiveShell, tmp_path: Path) -> None:
    shell.user_ns["Refuses"] = Refuses
    text = f"%%lake_cache refuses --storage {tmp_path / 'lake'}\nbad = Refuses()\ngood = 41 + 1\n"
    with capture_output() as out:
        result = shell.run_cell(text)
    assert result.success, result.error_in_exec
    assert shell.user_ns["good"] == 42 and isinstance(shell.user_ns["bad"], Refuses)
    assert "NOT cached" in out.stdout and "refuses to be pickled" in out.stdout and "--ignore bad" in out.stdout


def test_function_whose_result_reduce_raises_warns_and_returns(lake: Path) -> None:
    calls = []

    @smart_cache(lake)
    def make(n: int) -> Refuses:
        calls.append(n)
        return Refuses()

    with pytest.warns(CacheWarning, match="refuses to be pickled"):
        assert isinstance(make(1), Refuses)
    with pytest.warns(CacheWarning):
        make(1)
    assert calls == [1, 1]  # nothing was stored, so it ran again
