"""Round-trip property (issue 11 tests): a DataFrame of every supported dtype, nulls included, written
with from_pandas and read back from its files by a new handle, has the same values and dtypes."""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
import uuid

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lakelet
import lakelet.datasets as L

ZONES = ["UTC", "Europe/Paris", "America/New_York"]
LABELS = ["red", "green", "blue"]


def _maybe(values: st.SearchStrategy, n: int) -> st.SearchStrategy:
    return st.lists(st.one_of(st.none(), values), min_size=n, max_size=n)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    ints = draw(_maybe(st.integers(-(2**62), 2**62), n))
    floats = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=n, max_size=n))
    bools = draw(_maybe(st.booleans(), n))
    texts = draw(_maybe(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), n))
    cats = draw(_maybe(st.sampled_from(LABELS), n))
    micros = draw(_maybe(st.integers(-(2**50), 2**50), n))
    days = draw(_maybe(st.integers(0, 2_900_000), n))
    cents = draw(_maybe(st.integers(-(10**12), 10**12), n))
    zone = draw(st.sampled_from(ZONES))
    stamps = pd.to_datetime(pd.Series([None if m is None else m for m in micros], dtype="Int64"), unit="us")
    return pd.DataFrame({
        "i": pd.array(ints, dtype="Int64"),
        "f": np.array(floats, dtype=np.float64),
        "b": pd.array(bools, dtype="boolean"),
        "s": pd.Series(texts, dtype=object),
        "c": pd.Categorical(cats, categories=LABELS),
        "t": stamps.dt.tz_localize("UTC").dt.tz_convert(zone),
        "d": [None if x is None else dt.date(1, 1, 1) + dt.timedelta(days=x) for x in days],
        "dur": pd.to_timedelta(pd.Series(micros, dtype="Int64"), unit="us"),
        "m": [None if c is None else decimal.Decimal(c).scaleb(-2) for c in cents],
    })


def _norm(value: object, nan_is_null: bool) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None if nan_is_null else "nan"  # pandas' text dtype shows a null as NaN
    return value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames())
def test_dataframes_round_trip_values_and_dtypes(df: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as root, lakelet.config_set(home=root):
        path = f"{root}/{uuid.uuid4().hex}"
        given = {"s": L.types.Text(), "d": L.types.Date(), "m": L.types.Decimal(16, 2)}
        # an all-null object column has no type to infer: the user names it (the others are inferred)
        lakelet.from_pandas(df, path, schema={k: v for k, v in given.items() if df[k].isna().all()})
        back = L.open_read_only(path).to_pandas()
    assert list(back.columns) == list(df.columns)
    for name in df.columns:
        text = name == "s"
        assert [_norm(v, text) for v in back[name].tolist()] == [_norm(v, text) for v in df[name].tolist()], name
    assert back["c"].dtype == df["c"].dtype and str(back["t"].dtype) == str(df["t"].dtype)
    assert str(back["dur"].dtype) == str(df["dur"].dtype) and back["f"].dtype == np.float64
    assert str(back["i"].dtype) == ("Int64" if df["i"].isna().any() else "int64")
    assert str(back["b"].dtype) == ("boolean" if df["b"].isna().any() else "bool")
