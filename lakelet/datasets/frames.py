"""Arrow tables of a dataset as pandas DataFrames with the dtypes a data scientist started from.

``pa.Table.to_pandas`` turns an integer or bool column with nulls into float64/object; here such
a column becomes pandas' nullable ``Int64``/``boolean`` instead, so a DataFrame with missing ints
round-trips as ints. Columns without nulls keep plain numpy dtypes (zero copy where Arrow allows).
Class labels arrive as Arrow dictionaries and become ``Categorical``; zoned timestamps keep their zone.
pandas is imported here only, when a caller asks for a DataFrame.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def _nullable(arrow: pa.DataType) -> Any:
    import pandas as pd

    if pa.types.is_boolean(arrow):
        return pd.BooleanDtype()
    if pa.types.is_integer(arrow):
        return {
            "int8": pd.Int8Dtype(), "int16": pd.Int16Dtype(), "int32": pd.Int32Dtype(), "int64": pd.Int64Dtype(),
            "uint8": pd.UInt8Dtype(), "uint16": pd.UInt16Dtype(), "uint32": pd.UInt32Dtype(),
            "uint64": pd.UInt64Dtype(),
        }[str(arrow)]
    return None


def to_pandas(table: pa.Table) -> Any:
    """``table`` as a DataFrame; int/bool columns with nulls as pandas nullable dtypes."""
    frame = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and _nullable(column.type) is not None:
            frame[name] = column.to_pandas(types_mapper=_nullable)
    return frame
