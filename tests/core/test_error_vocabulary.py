"""One error vocabulary: each idea has one shared base, catchable by the builtin a caller would use,
with Modal's and Deep Lake's spellings kept (issue 14)."""

from __future__ import annotations

import pickle

import pytest

import lakelet
from lakelet import errors
from lakelet.cache import errors as cache_errors
from lakelet.datasets import errors as dataset_errors
from lakelet.primitives import errors as primitive_errors
from lakelet.primitives.entries import PathNotFound

MODULES = (errors, cache_errors, dataset_errors, primitive_errors)
ERRORS = sorted(
    {obj for m in MODULES for obj in vars(m).values()
     if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning)
     and obj.__module__.startswith("lakelet")}
    | {PathNotFound},
    key=lambda c: (c.__module__, c.__name__),
)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_error_is_a_lakelet_error_and_pickles(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.LakeletError)
    try:
        error = cls("x")  # type: ignore[call-arg]
    except TypeError:
        pytest.skip(f"{cls.__name__} takes other arguments")
    again = pickle.loads(pickle.dumps(error))  # errors cross processes (Dask workers, Queue consumers)
    assert type(again) is cls and str(again) == str(error)


@pytest.mark.parametrize(
    ("idea", "members", "builtin"),
    [
        (errors.NotFound, [errors.StorageKeyNotFound, primitive_errors.NotFoundError, PathNotFound,
                           dataset_errors.DatasetNotFound, dataset_errors.VersionNotFound], LookupError),
        (errors.AlreadyExists, [primitive_errors.AlreadyExistsError, dataset_errors.DatasetExists], FileExistsError),
        (errors.ReadOnly, [errors.ReadOnlyLocation, dataset_errors.DatasetReadOnly], PermissionError),
        (errors.CommitConflict, [primitive_errors.ConflictError, dataset_errors.CommitConflict],
         errors.PreconditionFailed),
    ],
    ids=["not found", "already exists", "read-only", "commit conflict"],
)
def test_one_base_per_idea(idea: type, members: list[type], builtin: type) -> None:
    assert issubclass(idea, builtin)
    for cls in members:
        assert issubclass(cls, idea) and issubclass(cls, builtin), cls


def test_mapping_and_path_flavours() -> None:
    for cls in (errors.StorageKeyNotFound, dataset_errors.VersionNotFound):
        assert issubclass(cls, KeyError)
    for cls in (PathNotFound, dataset_errors.DatasetNotFound):
        assert issubclass(cls, FileNotFoundError)


def test_the_top_level_names_are_the_shared_ones() -> None:
    assert lakelet.NotFoundError is primitive_errors.NotFoundError  # Modal's spelling
    assert lakelet.CommitConflict is dataset_errors.CommitConflict  # Deep Lake's spelling
    with pytest.raises(errors.NotFound):
        lakelet.Dict.from_name("no-such-dict-anywhere")


def test_errors_pickle_where_tblib_is_installed() -> None:
    """Dask installs tblib's exception pickling; a worker's error must still reach the client."""
    import subprocess
    import sys

    pytest.importorskip("tblib")
    code = (
        "import pickle; from tblib import pickling_support; pickling_support.install()\n"
        "from lakelet.primitives.entries import PathNotFound\n"
        "from lakelet.primitives.errors import ConflictError\n"
        "from lakelet.datasets.errors import DatasetNotFound\n"
        "from lakelet.errors import StorageKeyNotFound\n"
        "for e in (PathNotFound('no /x'), ConflictError('lost', paths=['a']), DatasetNotFound('s3://b/d'),"
        " StorageKeyNotFound('gone', key='k')):\n"
        "    again = pickle.loads(pickle.dumps(e))\n"
        "    assert type(again) is type(e) and str(again) == str(e), (e, again)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"
