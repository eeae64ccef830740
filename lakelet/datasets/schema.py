"""A dataset's schema: ordered columns, each with a name, a stable physical id, a type and a default.

Column files are keyed by the physical id, so renaming a column only changes the
schema, and a column removed then re-added under the same name never resurrects
old data. Rows written before a column existed read as the column's default.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from ..errors import InvalidName
from . import types as T
from .errors import SchemaError

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def validate_column_name(name: object) -> str:
    """Return ``name`` if it is a valid column name (identifier-like, not starting with ``_lakelet``)."""
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None or name == "_rowid":
        raise InvalidName(
            f"bad column name {name!r}: use letters, digits and '_' (max 128, not starting with a digit),"
            " and not '_rowid'"
        )
    return name


@dataclass(frozen=True)
class Column:
    """One column of a schema."""

    name: str
    id: str
    type: T.DataType
    default: Any = None  # physical (stored) value used for rows written before the column existed

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id, "type": self.type.to_json(), "default": self.default}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        return cls(data["name"], data["id"], T.from_json(data["type"]), data.get("default"))

    def default_array(self, rows: int) -> pa.Array:
        """``rows`` copies of the default, as the column's Arrow type."""
        if self.default is None:
            return pa.nulls(rows, self.type.arrow)
        one = pa.array([self.default], type=self.type.arrow)
        return one.take(pa.array([0] * rows, type=pa.int32())) if rows else one.slice(0, 0)


class Schema:
    """Ordered, name-unique columns."""

    def present(self, table: pa.Table) -> pa.Table:
        """``table`` with the columns named after this schema's class labels as their names, not
        codes (other columns, such as row ids, as they are)."""
        for i, name in enumerate(table.column_names):
            if name not in self:
                continue
            shown = self[name].type.present(table.column(i))
            if shown is not table.column(i):
                table = table.set_column(i, name, shown)
        return table

    def __init__(self, columns: list[Column] | None = None) -> None:
        self.columns: list[Column] = list(columns or [])
        self._by_name = {c.name: c for c in self.columns}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Column:
        try:
            return self._by_name[name]
        except KeyError:
            raise SchemaError(f"no column {name!r}; columns: {self.names}", column=name) from None

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name}: {c.type!r}" for c in self.columns)
        return f"Schema({inner})"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def types(self) -> dict[str, T.DataType]:
        """Column name -> type (Deep Lake's ``ds.schema`` view)."""
        return {c.name: c.type for c in self.columns}

    def by_id(self, column_id: str) -> Column | None:
        for c in self.columns:
            if c.id == column_id:
                return c
        return None

    def added(self, name: str, dtype: T.DataType, default: Any) -> Schema:
        validate_column_name(name)
        if name in self:
            raise SchemaError(f"column {name!r} already exists ({self[name].type!r})", column=name)
        self._refuse_case_twin(name)
        return Schema([*self.columns, Column(name, "c" + uuid.uuid4().hex[:12], dtype, default)])

    def _refuse_case_twin(self, name: str, but: str | None = None) -> None:
        """SQL (DuckDB) matches names case-insensitively, so ``n`` and ``N`` would be one column there."""
        for other in self.names:
            if other != but and other.lower() == name.lower():
                raise SchemaError(
                    f"column {name!r} differs from the existing column {other!r} only in case; SQL could not "
                    "tell them apart: choose another name",
                    column=name,
                )

    def removed(self, name: str) -> Schema:
        self[name]
        return Schema([c for c in self.columns if c.name != name])

    def renamed(self, old: str, new: str) -> Schema:
        self[old]
        validate_column_name(new)
        if new in self:
            raise SchemaError(f"cannot rename {old!r} to {new!r}: that column exists", column=new)
        self._refuse_case_twin(new, but=old)
        return Schema([replace(c, name=new) if c.name == old else c for c in self.columns])

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.columns]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> Schema:
        return cls([Column.from_json(c) for c in data])

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type.arrow) for c in self.columns])
